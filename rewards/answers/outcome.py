"""Names what one check concluded: equal, not equal, no answer, unparsable gold, timeout or error, and which step decided.
It must never turn a grader's failure (timeout, error, unreadable gold) into a verdict about the completion."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Status(str, Enum):
    """How a check ended. ``equal``/``not_equal``/``no_answer`` judge the completion; ``gold_unparsable``,
    ``timeout`` and ``error`` say the grader could not judge it (``accuracy(skip_undecided=True)`` gives None)."""

    EQUAL = "equal"
    NOT_EQUAL = "not_equal"
    NO_ANSWER = "no_answer"
    GOLD_UNPARSABLE = "gold_unparsable"
    TIMEOUT = "timeout"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Outcome:
    r"""One check: ``status``; ``answer``, the completion's extracted answer as written (None if none);
    ``gold``, the gold answer read; ``path``, the step that decided (``input``, ``extraction``,
    ``normalization``, ``cache``, ``string``, ``numbers``, ``sympy``, ``thread``, ``worker``, ``queue``,
    ``pool``); ``detail``, a short reason (the error, "undecided", ...).

    >>> from rewards.answers.engine import grade
    >>> outcome = grade(r"so the answer is $\boxed{0.375}$", r"\frac38")
    >>> outcome.status, outcome.answer, outcome.gold, outcome.path, outcome.equal
    (<Status.EQUAL: 'equal'>, '0.375', '\\frac38', 'numbers', True)
    """

    status: Status
    answer: str | None = None
    gold: str | None = None
    path: str = ""
    detail: str = ""

    @property
    def equal(self) -> bool:
        """The verdict ``verify`` returns: True only for ``equal``."""
        return self.status is Status.EQUAL

    @property
    def decided(self) -> bool:
        """Whether this judges the completion (equal, not equal, no answer) rather than the grader's failure."""
        return self.status in (Status.EQUAL, Status.NOT_EQUAL, Status.NO_ANSWER)
