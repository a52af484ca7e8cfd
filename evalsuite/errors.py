"""The one error type evalsuite shows users: a single line naming the file, the line and the problem (a missing column: the columns found).
It must never carry a traceback's worth of text; anything else escaping is a bug, not bad input."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

SHOWN_COLUMNS = 20  # a wider row lists this many columns, then how many more it has


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


def missing_column(names: str | Sequence[str], found: Iterable, *, what: str, flag: str | None = None,
                   usual: Sequence[str] = (), more: str = "", noun: str = "column") -> str:
    """The problem of a row without the column ``names`` (or any of them): what it holds, the columns the
    row has (in its order, the first ``SHOWN_COLUMNS``), and, with ``flag``, the flag that names another
    with the closest column as its example (see :func:`closest_column`); ``more``: other ways out.

    >>> missing_column("solution", ["question", "answer"], what="gold answer", flag="--solution-key",
    ...                usual=("answer", "gold"))
    "missing column 'solution' (the gold answer); columns found: question, answer; choose it with --solution-key (e.g. --solution-key answer)"
    >>> missing_column(("problem", "Problem"), ["question"], what="question")
    "missing column 'problem' or 'Problem' (the question); columns found: question"
    """
    names = [names] if isinstance(names, str) else list(names)
    found = [str(c) for c in found]
    message = f"missing {noun} {' or '.join(map(repr, names))} (the {what}); {noun}s found: {list_columns(found)}"
    if flag:
        guess = closest_column(names[0], found, usual)
        message += f"; choose it with {flag}" + (f" (e.g. {flag} {guess})" if guess else "")
    if more:
        message += f", {more}" if flag else f"; {more}"
    return message


def list_columns(found: Iterable) -> str:
    """The columns of a row in its order, the first ``SHOWN_COLUMNS`` of them.

    >>> list_columns(["question", "answer"]), list_columns([]), list_columns(range(22))
    ('question, answer', '(none)', '0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 and 2 more')
    """
    found = [str(c) for c in found]
    shown = ", ".join(found[:SHOWN_COLUMNS]) or "(none)"
    return shown + (f" and {len(found) - SHOWN_COLUMNS} more" if len(found) > SHOWN_COLUMNS else "")


def closest_column(column: str, found: Sequence[str], usual: Sequence[str] = ()) -> str | None:
    """The column of ``found`` most likely meant for ``column``: a near spelling (case aside), else the
    first of the ``usual`` names that is present, else None.

    >>> closest_column("solution", ["Solution", "answer"]), closest_column("solution", ["question", "answer"], ("answer",))
    ('Solution', 'answer')
    """
    lowered = {c.lower(): c for c in found}
    near = difflib.get_close_matches(column.lower(), list(lowered), n=1, cutoff=0.8)
    if near:
        return lowered[near[0]]
    return next((c for name in usual for c in found if c.lower() == name), None)
