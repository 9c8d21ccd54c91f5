"""Progress of the searches (box counts), reported on the logger ``proofs_check.progress``.

The same convention as ``mgdl_convex.progress`` (proofs_check imports nothing from it): records
of level 5, below DEBUG, that no usual logging configuration shows; a front end that wants them
(the command line, on a terminal) attaches a handler to this logger.  While nobody listens an
:func:`emit` costs one level check.
"""

from __future__ import annotations

import logging

__all__ = ["PROGRESS", "emit"]

PROGRESS = 5
_logger = logging.getLogger(__name__)


def emit(message: str, *args, stage: bool = False) -> None:
    """Report progress (``message % args``); ``stage=True`` starts a new unit of work."""
    if _logger.isEnabledFor(PROGRESS):
        _logger.log(PROGRESS, message, *args, extra={"stage": stage})
