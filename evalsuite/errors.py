"""The one error type evalsuite shows users: a single line naming the file, the line and the problem.
It must never carry a traceback's worth of text; anything else escaping is a bug, not bad input."""

from __future__ import annotations


class EvalError(ValueError):
    """Bad input or a refused operation; ``str(err)`` is one line fit to print as is."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def locate(source: str | None, where: str | None, problem: str) -> str:
    """``"data.jsonl, line 3: problem"``; parts that are unknown are left out."""
    head = ", ".join(part for part in (source, where) if part)
    return f"{head}: {problem}" if head else problem


class DataError(EvalError):
    """A data file or row that cannot be used; the message is one line naming file, line and problem."""
