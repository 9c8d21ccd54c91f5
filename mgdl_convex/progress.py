"""Progress of long work: the libraries report it on loggers, the command line draws it.

The libraries never print.  A long loop says where it is with :func:`emit`: a log record of
level ``PROGRESS`` (5, below DEBUG) on the logger ``mgdl_convex.progress``; proofs_check's
searches do the same on ``proofs_check.progress`` (:mod:`proofs_check.progress`).  No usual
logging configuration lets records of that level through, so logs stay quiet, and while
nobody listens an ``emit`` costs one level check.  ``stage=True`` marks the start of a unit of
work (a grade, a check); the records after it are its details (a working-set round, a box
count).

:func:`show_progress` is what the command line wraps a command in: on a terminal, and unless
``--quiet``, it draws those records as one line updated in place (the stage, its latest
detail, the seconds it has run), once a stage has run for ``delay`` seconds; the line is
cleared before anything else is written to stdout or stderr.  Elsewhere (a pipe, a log file)
it draws nothing: the one line per grade that ``verbose`` prints is all the progress there is.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from contextlib import contextmanager

__all__ = ["PROGRESS", "emit", "StatusLine", "show_progress"]

PROGRESS = 5
logging.addLevelName(PROGRESS, "PROGRESS")
LOGGERS = ("mgdl_convex.progress", "proofs_check.progress")

_logger = logging.getLogger(LOGGERS[0])


def emit(message: str, *args, stage: bool = False) -> None:
    """Report progress (``message % args``); ``stage=True`` starts a new unit of work."""
    if _logger.isEnabledFor(PROGRESS):
        _logger.log(PROGRESS, message, *args, extra={"stage": stage})


class StatusLine(logging.Handler):
    """One line on a terminal, rewritten in place: ``[seconds] stage | detail``, cut to the terminal's width."""

    def __init__(self, stream, delay: float = 1.0, interval: float = 0.1, clock=time.monotonic):
        super().__init__(PROGRESS)
        self.stream, self.delay, self.interval, self.clock = stream, delay, interval, clock
        self.stage, self.detail = "", ""
        self.started = clock()
        self.drawn = -float("inf")
        self.shown = False

    def emit(self, record: logging.LogRecord) -> None:
        now = self.clock()
        text = record.getMessage()
        if getattr(record, "stage", False):
            self.clear()
            self.stage, self.detail, self.started = text, "", now
        else:
            self.detail = text
        if now - self.started >= self.delay and now - self.drawn >= self.interval:
            self.draw(now)

    def draw(self, now: float) -> None:
        line = f"[{now - self.started:.0f} s] " + " | ".join(part for part in (self.stage, self.detail) if part)
        width = shutil.get_terminal_size().columns - 1
        self.stream.write("\r\033[K" + line[:width])
        self.stream.flush()
        self.shown, self.drawn = True, now

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


class _ClearingStream:
    """A stream that clears the status line before every write (so output never lands on it)."""

    def __init__(self, stream, status: StatusLine):
        self._stream, self._status = stream, status

    def write(self, text: str) -> int:
        self._status.clear()
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextmanager
def show_progress(enabled: bool = True, stream=None, delay: float = 1.0):
    """Draw the progress records on ``stream`` (stderr) while in the block, if it is a terminal."""
    stream = stream if stream is not None else sys.stderr
    if not enabled or not stream.isatty():
        yield None
        return
    status = StatusLine(stream, delay=delay)
    loggers = [logging.getLogger(name) for name in LOGGERS]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(status)
        lg.setLevel(PROGRESS)
        lg.propagate = False  # progress is drawn here, never written to a log
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ClearingStream(out, status), _ClearingStream(err, status)
    try:
        yield status
    finally:
        sys.stdout, sys.stderr = out, err
        status.clear()
        for lg, (level, propagate) in zip(loggers, saved):
            lg.removeHandler(status)
            lg.setLevel(level)
            lg.propagate = propagate
