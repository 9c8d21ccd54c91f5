"""Progress: the libraries report on loggers (never print), the command line draws one line on a terminal."""

import io
import logging

import numpy as np

from mgdl_convex import MultigradeRegressor, get_target
from mgdl_convex.cli import main
from mgdl_convex.progress import PROGRESS, StatusLine, emit, show_progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _record(message, stage=False):
    record = logging.LogRecord("mgdl_convex.progress", PROGRESS, __file__, 0, message, (), None)
    record.stage = stage
    return record


def test_status_line_waits_then_rewrites_one_line_and_clears_it():
    term, clock = _Terminal(), _Clock()
    line = StatusLine(term, delay=1.0, interval=0.1, clock=clock)
    line.emit(_record("grade 1 of 2", stage=True))
    clock.now = 0.5
    line.emit(_record("working set: round 1"))
    assert term.getvalue() == ""  # a short stage draws nothing
    clock.now = 2.0
    line.emit(_record("working set: round 2"))
    clock.now = 2.05
    line.emit(_record("working set: round 3"))  # within the refresh interval: not drawn
    assert term.getvalue() == "\r\x1b[K[2 s] grade 1 of 2 | working set: round 2"
    line.clear()
    line.clear()  # once only
    assert term.getvalue().endswith("round 2\r\x1b[K") and term.getvalue().count("\r") == 2
    clock.now = 3.0
    line.emit(_record("grade 2 of 2", stage=True))  # a new stage starts its own delay
    line.emit(_record("working set: round 1"))
    assert "grade 2" not in term.getvalue()


def test_show_progress_clears_the_line_before_other_output(capsys):
    term = _Terminal()
    with show_progress(stream=term, delay=0.0):
        emit("grade %d of %d", 1, 2, stage=True)
        assert term.getvalue().endswith("grade 1 of 2")
        print("grade 1: done")
    out = capsys.readouterr().out
    assert out == "grade 1: done\n" and term.getvalue().endswith("grade 1 of 2\r\x1b[K")
    assert not logging.getLogger("mgdl_convex.progress").handlers  # removed on exit
    emit("after the block")  # nobody listens: nothing drawn
    assert "after" not in term.getvalue()


def test_nothing_is_drawn_off_a_terminal_or_with_quiet():
    pipe = io.StringIO()
    with show_progress(stream=pipe, delay=0.0) as status:
        emit("grade 1 of 1", stage=True)
    assert status is None and pipe.getvalue() == ""
    term = _Terminal()
    with show_progress(enabled=False, stream=term, delay=0.0) as status:
        emit("grade 1 of 1", stage=True)
    assert status is None and term.getvalue() == ""


def test_a_grade_and_a_check_report_rounds_and_boxes_but_logs_stay_quiet(caplog):
    from proofs_check import check_scheme, scheme_from_model

    target = get_target("fangxu1")
    with caplog.at_level(logging.DEBUG):  # an ordinary debug log: progress records stay out of it
        m = MultigradeRegressor(n_grades=1, width=8, random_state=0).fit_target(target, samples=64)
    assert not [r for r in caplog.records if r.levelno == PROGRESS]
    caplog.clear()
    with caplog.at_level(PROGRESS, logger="mgdl_convex.progress"), caplog.at_level(
        PROGRESS, logger="proofs_check.progress"
    ):
        m.fit_target(target, samples=64)
        check_scheme(scheme_from_model(m, target), target)
    messages = [r.getMessage() for r in caplog.records if r.levelno == PROGRESS]
    assert messages[0] == "grade 1 of 1: 64 samples"
    rounds = [s for s in messages if s.startswith("working set: round")]
    assert rounds and all("blocks" in s and "rows" in s and "obj" in s for s in rounds)
    assert [s for s in messages if s.startswith("sup |e|:") and s.endswith("boxes")]
    objectives = [float(s.rsplit(" ", 1)[1]) for s in rounds]
    assert np.all(np.isfinite(objectives)) and min(objectives) > 0


def test_the_command_line_draws_nothing_into_a_pipe(tmp_path, capsys):
    argv = ["fit", "--target", "fangxu1", "--grades", "1", "--width", "5", "--samples", "40", "--out", str(tmp_path)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "\x1b[K" not in captured.out + captured.err and "grade 1:" in captured.out
