"""TRL's reward hooks for our rewards: the columns a reward adds to GRPOTrainer's completions table (``log_extra``),
the counts it logs (``log_metric``), and the async form TRL awaits concurrently. A hook must never fail a training
step: one that raises is logged once and skipped; the reward's values are returned either way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

_log = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()
# outcome statuses worth a count per batch: the grader's failures, and completions that commit to no answer
COUNTED_STATUSES = ("no_answer", "timeout", "error", "gold_unparsable")


def report(name: str, rows: Sequence[dict[str, Any]], columns: Sequence[str], kwargs: dict[str, Any]) -> None:
    """Send ``rows`` to the trainer's hooks, when it passes them: each of ``columns`` as the table column
    ``<name>/<column>`` (one value per completion), and, for rewards that grade answers, the number of
    completions per counted status as the metric ``rewards/<name>/<status>``.

    >>> table, metrics = {}, {}
    >>> rows = [{"answer": "4", "status": "equal", "value": 1.0}, {"answer": None, "status": "no_answer", "value": 0.0}]
    >>> report("accuracy", rows, ("answer", "status"), {"log_extra": table.__setitem__, "log_metric": metrics.__setitem__})
    >>> table["accuracy/answer"], table["accuracy/status"], metrics["rewards/accuracy/no_answer"]
    (['4', None], ['equal', 'no_answer'], 1.0)
    """
    log_extra, log_metric = kwargs.get("log_extra"), kwargs.get("log_metric")
    if callable(log_extra):
        for column in columns:
            _call(name, "log_extra", log_extra, f"{name}/{column}", [_cell(row.get(column)) for row in rows])
    if callable(log_metric) and rows and "status" in rows[0]:
        for status in COUNTED_STATUSES:
            count = sum(row.get("status") == status for row in rows)
            _call(name, "log_metric", log_metric, f"rewards/{name}/{status}", float(count))


def _cell(value: Any) -> Any:
    """A table cell: numbers, booleans, text and None as they are; anything else as its text."""
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def _call(name: str, hook: str, fn: Callable, *args: Any) -> None:
    try:
        fn(*args)
    except Exception:  # a logging hook must never cost a training step; say so once per reward and hook
        if (name, hook) not in _warned:
            _warned.add((name, hook))
            _log.warning("reward %s: the trainer's %s hook raised; its values are not logged", name, hook,
                         exc_info=True)


class AsyncReward:
    """``reward`` as a coroutine TRL awaits beside its other async rewards: each call runs the reward in a
    worker thread (``asyncio.to_thread``), so a batch waiting on verify's worker processes does not hold the
    others up. Picklable, with the reward's ``__name__`` (TRL logs ``rewards/<name>/mean``).

    >>> import rewards
    >>> fn = AsyncReward(rewards.get("accuracy"))
    >>> fn.__name__, asyncio.run(fn(["<answer>4</answer>"], solution=["4"]))
    ('accuracy', [1.0])
    """

    def __init__(self, reward: Callable[..., list]):
        self.reward = reward
        self.__name__ = getattr(reward, "__name__", type(reward).__name__)

    async def __call__(self, completions, **kwargs) -> list:
        return await asyncio.to_thread(self.reward, completions, **kwargs)

    def __repr__(self) -> str:
        return f"AsyncReward({self.reward!r})"
