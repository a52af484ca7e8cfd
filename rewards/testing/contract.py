"""The reward contract, checked as trainers call rewards: ``check_reward(fn)`` on an adversarial corpus and, with
``examples=``, on Hypothesis batches. It must never hide a failure: every broken rule is reported with its input."""

from __future__ import annotations

import asyncio
import functools
import inspect
import math
import numbers
import pickle
import re
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rewards.testing.strategies import ADVERSARIAL, GOLDS, batches, require_hypothesis

# A name TRL can log as rewards/<name>/mean: no spaces, no "/" (it would nest the metric), not "<lambda>".
_READABLE_NAME = re.compile(r"[A-Za-z_][\w.+:-]*")


class RewardContractError(AssertionError):
    """A reward function broke the reward contract; the message lists every broken rule."""


class SlowRewardWarning(UserWarning):
    """``check_reward`` measured a reward slower per completion than ``slow_per_completion``."""


@dataclass
class CheckReport:
    """What ``check_reward`` ran: the reward's name, how many calls, the slowest call, the time per completion
    (its fastest full-batch call over the batch size), any problems, and notes (what holds in-process but
    may bite elsewhere, and slowness)."""

    name: str
    calls: int = 0
    slowest_s: float = 0.0
    per_completion_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    batch_seconds: list[float] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        head = f"reward {self.name!r}: {self.calls} calls, slowest {self.slowest_s:.2f}s"
        if not self.problems:
            text = head + ", contract holds"
        else:
            text = head + f", {len(self.problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in self.problems)
        return text + "".join(f"\n  note: {note}" for note in self.notes)


def check_reward(
    fn: Callable[..., Any],
    *,
    completions: Sequence[str] | None = None,
    columns: dict[str, Any] | None = None,
    time_limit: float = 60.0,
    examples: int = 0,
    process_safe: bool = False,
    slow_per_completion: float = 0.1,
) -> CheckReport:
    """Check ``fn(completions, **kwargs)`` against the reward contract and return a ``CheckReport``;
    raise ``RewardContractError`` listing every problem found.

    Rules, as TRL runs rewards: it has a readable ``__name__`` (no spaces or ``/``; ``combine``'s
    ``format+accuracy`` is fine); it takes the batch as ``completions=`` (TRL) and positionally
    (ms-swift); it returns one finite number (or ``None``; bools count as 0/1, as TRL's tensor does) per
    completion, for string and conversational completions alike and for an empty batch; it never raises;
    it gives the same values twice, for both completion forms, and after a pickle round trip; it ignores
    unknown keyword arguments; every call returns within ``time_limit`` seconds from a worker thread.
    An async reward is awaited (TRL and ms-swift await those concurrently): an ``async def`` function, a
    ``functools.partial`` of one, or an object with ``async def __call__``; one that returns an awaitable
    without being any of these is a problem, since no trainer awaits it.

    Notes, not problems: an object with ``async def __call__`` is awaited by current TRL and ms-swift,
    but TRL releases that test ``inspect.iscoroutinefunction(reward)`` call it synchronously. A reward
    that does not pickle (a closure) works in-process (TRL, grpo-train) but breaks process-based
    trainers; ``process_safe=True`` makes that a problem. A reward whose
    fastest full-batch call takes more than ``slow_per_completion`` seconds per completion gets a note
    with the measured time and a ``SlowRewardWarning``.

    ``completions`` defaults to ``ADVERSARIAL``; ``columns`` are extra dataset columns (a per-sample
    list, or one value for all); by default a ``solution`` column (also under a built-in reward's own
    ``gold_key``), two prompt groups and ``completion_ids`` are passed. ``examples > 0`` also runs that
    many Hypothesis-generated batches (needs ``hypothesis``, from the ``dev`` extra), shrinking the
    first failure to a minimal input.

    >>> def shouty(completions, **kwargs):
    ...     return [float(c.isupper()) for c in completions]
    >>> check_reward(shouty)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rewards.testing.RewardContractError: reward 'shouty': ...
    """
    if examples > 0:
        require_hypothesis(f"check_reward(examples={examples})")
    report = CheckReport(name=str(getattr(fn, "__name__", type(fn).__name__)))
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not _READABLE_NAME.fullmatch(name):
        report.problems.append(f"__name__ is {name!r}; TRL logs rewards/<__name__>/mean, so give it a readable name")
    if _is_async(fn) and not inspect.iscoroutinefunction(fn):
        report.notes.append("async __call__ on an object: awaited by TRL's is_async_callable and by ms-swift, but "
                            "TRL releases that test inspect.iscoroutinefunction(reward) never await it; an async "
                            "def function works with every release")
    texts = list(ADVERSARIAL if completions is None else completions)
    kwargs = _default_columns(texts, _gold_key(fn)) | _broadcast(columns or {}, len(texts))
    _check_batch(fn, texts, kwargs, report, time_limit, reference=True, process_safe=process_safe)
    _note_speed(report, len(texts), slow_per_completion)
    if not report.problems and examples > 0:
        _check_examples(fn, report, time_limit, examples, columns or {})
    if report.problems:
        raise RewardContractError(str(report))
    return report


def _is_async(fn: Any) -> bool:
    """Whether calling ``fn`` returns a coroutine a trainer awaits, as TRL's ``is_async_callable`` decides:
    an async function, a partial of one, or an object whose ``__call__`` is async."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or (callable(fn) and inspect.iscoroutinefunction(type(fn).__call__))


def _gold_key(fn: Any) -> str:
    params = getattr(fn, "params", None)
    key = params.get("gold_key") if isinstance(params, dict) else None
    return key if isinstance(key, str) and key else "solution"


def _note_speed(report: CheckReport, n: int, slow_per_completion: float) -> None:
    """Time per completion from the fastest full-batch call (warm caches and worker pools, as in training)."""
    if not report.batch_seconds or n == 0:
        return
    report.per_completion_s = min(report.batch_seconds) / n
    if report.per_completion_s > slow_per_completion:
        note = (f"slow: {report.per_completion_s:.3f}s per completion ({n} completions in "
                f"{min(report.batch_seconds):.2f}s at best); a GRPO step of 512 completions would spend "
                f"{512 * report.per_completion_s:.0f}s in this reward")
        report.notes.append(note)
        warnings.warn(f"reward {report.name!r}: {note}", SlowRewardWarning, stacklevel=3)




def _default_columns(texts: list[str], gold_key: str = "solution") -> dict[str, Any]:
    n = len(texts)
    golds = [GOLDS[i % len(GOLDS)] for i in range(n)]
    return {
        "solution": golds,
        gold_key: golds,
        "prompts": [f"prompt {i % 2}" for i in range(n)],
        "completion_ids": [list(range(len(t) // 4)) for t in texts],
        "trainer_state": None,
        "log_extra": lambda *args, **kwargs: None,
        "log_metric": lambda *args, **kwargs: None,
        "an_unknown_column": list(range(n)),
    }


def _broadcast(columns: dict[str, Any], n: int) -> dict[str, Any]:
    return {k: v if isinstance(v, (list, tuple)) and len(v) == n else [v] * n for k, v in columns.items()}


def _conversational(texts: Sequence[str]) -> list[list[dict[str, str]]]:
    return [[{"role": "assistant", "content": t}] for t in texts]


def _check_batch(fn, texts, kwargs, report: CheckReport, time_limit: float, reference: bool,
                 process_safe: bool = True) -> None:
    """Run every per-batch rule; append what breaks to ``report.problems`` (and notes to ``report.notes``)."""
    plain = _call(fn, texts, kwargs, report, time_limit, "string completions (by keyword, as TRL passes them)",
                  timed=reference)
    if plain is None:
        return
    again = _call(fn, texts, kwargs, report, time_limit, "the same call again (positional, as ms-swift passes them)",
                  positional=True, timed=reference)
    if again is not None and not _same(plain, again):
        report.problems.append(f"not deterministic: two identical calls gave {_diff(plain, again, texts)}")
    chat = _call(fn, _conversational(texts), kwargs, report, time_limit, "conversational completions", timed=reference)
    if chat is not None and not _same(plain, chat):
        report.problems.append(f"string and conversational forms of the same text score differently: {_diff(plain, chat, texts)}")
    if not reference:
        return
    _call(fn, [], {k: [] if isinstance(v, list) else v for k, v in kwargs.items()}, report, time_limit, "an empty batch")
    try:
        clone = pickle.loads(pickle.dumps(fn))
    except Exception as exc:  # any pickling failure is the finding itself
        finding = (f"not picklable: fine in-process (TRL, grpo-train), breaks process-based trainers "
                   f"({type(exc).__name__}: {exc})")
        (report.problems if process_safe else report.notes).append(finding)
        return
    unpickled = _call(clone, texts, kwargs, report, time_limit, "the unpickled copy")
    if unpickled is not None and not _same(plain, unpickled):
        report.problems.append(f"the unpickled copy scores differently: {_diff(plain, unpickled, texts)}")


def _call(fn, completions, kwargs, report: CheckReport, time_limit: float, what: str,
          positional: bool = False, timed: bool = False) -> list | None:
    """Call ``fn`` from a worker thread (awaiting an ``async def`` reward there); return its values if they
    are valid, else record why and return None."""
    outcome: dict[str, Any] = {}
    is_async = _is_async(fn)

    def work() -> None:
        start = time.perf_counter()
        try:
            values = fn(completions, **kwargs) if positional else fn(completions=completions, **kwargs)
            if inspect.isawaitable(values) and is_async:
                values = asyncio.run(_awaited(values))
            elif inspect.isawaitable(values):
                if inspect.iscoroutine(values):
                    values.close()  # never awaited, by design: say why instead of warning
                outcome["not_async"] = True
            outcome["values"] = values
        except BaseException:  # the checker reports every exception, including the odd SystemExit
            outcome["error"] = traceback.format_exc(limit=-3)
        outcome["seconds"] = time.perf_counter() - start

    worker = threading.Thread(target=work, daemon=True, name=f"check_reward:{report.name}")
    worker.start()
    worker.join(time_limit)
    report.calls += 1
    if worker.is_alive():
        report.problems.append(f"{what}: still running after {time_limit:g}s from a worker thread "
                               f"({len(completions)} completions)")
        return None
    report.slowest_s = max(report.slowest_s, outcome["seconds"])
    if timed:
        report.batch_seconds.append(outcome["seconds"])
    if "error" in outcome:
        report.problems.append(f"{what}: raised\n{_indent(outcome['error'])}\n    on input {short(completions)}")
        return None
    if outcome.get("not_async"):
        report.problems.append(
            f"{what}: returned an awaitable, but neither it nor its __call__ is an async function, so trainers "
            f"call it as a sync reward and get a coroutine instead of values; make it an async def function")
        return None
    values = outcome["values"]
    if not isinstance(values, (list, tuple)) or len(values) != len(completions):
        size = len(values) if hasattr(values, "__len__") else "no"
        report.problems.append(f"{what}: returned {type(values).__name__} with {size} values for "
                               f"{len(completions)} completions (need a list, one value each)")
        return None
    bad = [(i, v) for i, v in enumerate(values) if not _valid(v)]
    if bad:
        i, v = bad[0]
        report.problems.append(f"{what}: {len(bad)} value(s) are not finite numbers or None, first {v!r} "
                               f"for completion {short(completions[i])}")
        return None
    return list(values)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _valid(value: Any) -> bool:
    """None, or a finite real number; a bool counts (TRL's ``torch.tensor`` reads it as 0 or 1)."""
    return value is None or (isinstance(value, numbers.Real) and math.isfinite(value))


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x == y or (x is None and y is None) for x, y in zip(a, b, strict=True))


def _diff(a: list, b: list, texts: Sequence[Any]) -> str:
    i = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
    return f"{a[i]!r} vs {b[i]!r} for completion {short(texts[i])}"


def short(value: Any, limit: int = 120) -> str:
    """``repr(value)``, cut at ``limit`` characters with the full length said."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


def _check_examples(fn, report: CheckReport, time_limit: float, examples: int, columns: dict[str, Any]) -> None:
    """Run ``examples`` Hypothesis batches through the per-batch rules; report the shrunk first failure."""
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(batches(conversational=False))
    def run(batch):
        texts, kwargs = batch
        trial = CheckReport(name=report.name)
        _check_batch(fn, texts, kwargs | _broadcast(columns, len(texts)), trial, time_limit, reference=False)
        report.calls += trial.calls
        report.slowest_s = max(report.slowest_s, trial.slowest_s)
        if trial.problems:
            raise RewardContractError("\n".join(trial.problems))

    try:
        run()
    except RewardContractError as exc:
        report.problems.append(f"on a generated batch: {exc}")

