"""Decides whether a completion's final answer equals a gold answer, as an Outcome: exact paths in-process, SymPy in workers.
It must never raise on any pair, never run longer than its timeout per check, and prefers a false "not equal" over a false "equal"."""

from __future__ import annotations

import collections
import contextlib
import contextvars
import logging
import math
import os
import sys
import threading
import time
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from rewards.answers import counters, numbers
from rewards.answers.config import DEFAULT, VerifyConfig
from rewards.answers.counters import abbreviate, timeout_count
from rewards.answers.extract import extract_answer, gold_answer
from rewards.answers.normalize import Answer, normalize
from rewards.answers.outcome import Outcome, Status
from rewards.answers.pairing import read_pair
from rewards.answers.pool import pool
from rewards.answers.worker import SELF_CHECK, judge

__all__ = ["bounded", "clear_cache", "grade", "grade_batch", "recorded_outcomes", "timeout_count", "verify",
           "verify_batch", "warm_up"]

_log = logging.getLogger(__name__)
_CACHED = (Status.EQUAL, Status.NOT_EQUAL, Status.GOLD_UNPARSABLE)  # never timeouts, errors or dead workers
_RECORDERS: contextvars.ContextVar[tuple[list, ...]] = contextvars.ContextVar("rewards_verify_recorders", default=())
_BOUNDS: contextvars.ContextVar[tuple[float, threading.Event | None] | None] = contextvars.ContextVar(
    "rewards_verify_bounds", default=None)


class _Verdict(NamedTuple):
    status: Status
    path: str
    detail: str = ""


class _Read(NamedTuple):
    answer: str
    gold: str
    key: tuple[Answer, Answer]


def verify(pred, gold, timeout: float | None = None, config: VerifyConfig | None = None) -> bool:
    r"""Is the final answer in ``pred`` (a whole completion or a bare answer) equal to ``gold``?
    ``timeout`` (seconds per check) defaults to ``config.timeout`` (5 s); this is ``grade(...).equal``.

    >>> verify("<think>so x = 1/2</think><answer>0.5</answer>", r"\frac12")
    True
    >>> verify(r"... the area is $\boxed{3\text{ cm}}$", r"3\text{ m}")
    False
    """
    return grade(pred, gold, timeout, config).equal


def verify_batch(pairs, timeout: float | None = None, config: VerifyConfig | None = None) -> list[bool]:
    """``verify`` over ``(pred, gold)`` pairs, one verdict each (see ``grade_batch``).

    >>> verify_batch([("<answer>4</answer>", "4"), ("5", "4"), ("<answer>4</answer>", "4")])
    [True, False, True]
    """
    return [outcome.equal for outcome in grade_batch(pairs, timeout, config)]


def grade(pred, gold, timeout: float | None = None, config: VerifyConfig | None = None) -> Outcome:
    r"""How the check of ``pred`` against ``gold`` ended, with the answer read and the step that decided.

    >>> grade("<answer>7</answer>", "7").status, grade("I am not sure.", "7").status
    (<Status.EQUAL: 'equal'>, <Status.NO_ANSWER: 'no_answer'>)
    """
    return grade_batch([(pred, gold)], timeout, config)[0]


def grade_batch(pairs, timeout: float | None = None, config: VerifyConfig | None = None) -> list[Outcome]:
    """``grade`` over ``(pred, gold)`` pairs: identical answer pairs are checked once, verdicts are cached,
    exact cases are settled in-process and the rest run in parallel worker processes. A pair that breaks
    a step gets an ``error`` outcome (logged, counted); the other pairs keep their verdicts.

    >>> [o.status.value for o in grade_batch([("<answer>4</answer>", "4"), ("5", "4"), (None, "4")])]
    ['equal', 'not_equal', 'no_answer']
    """
    if config is None:
        config = DEFAULT
    elif not isinstance(config, VerifyConfig):
        raise TypeError(f"config must be a VerifyConfig, not {type(config).__name__}")
    try:
        pairs = list(pairs)
    except TypeError:
        counters.report(_log, logging.ERROR, "bad_pairs", "verify_batch: %s is not an iterable of pairs",
                        abbreviate(pairs))
        return []
    reads, verdicts, hard = [], {}, _HardChecks(_budget(timeout, config))
    for pair in pairs:  # a hard check goes to the workers as soon as it is found, while the rest is being read
        read = _read(pair, config)
        reads.append(read)
        if isinstance(read, _Read) and read.key not in verdicts:
            verdicts[read.key] = _decide_here(read.key, config)
            if verdicts[read.key] is None:
                hard.send(read.key)
    verdicts.update(hard.verdicts(config))
    outcomes = [read if isinstance(read, Outcome) else Outcome(verdicts[read.key].status, read.answer, read.gold,
                                                               *verdicts[read.key][1:]) for read in reads]
    _account(pairs, outcomes)
    return outcomes


def clear_cache() -> None:
    """Forget cached verdicts (benchmarks use it to measure cold throughput)."""
    _cache.clear()


def warm_up(wait: bool = False, timeout: float = 60.0) -> None:
    r"""Start the worker processes now, so the first symbolic check does not wait for them (~2 s).

    With ``wait=True``, wait (at most ``timeout`` s) until every worker is ready, then prove the SymPy path:
    ``\sin^2 x+\cos^2 x`` vs ``1`` must come back equal from a worker (or from the thread fallback when no
    worker can start), else ``RuntimeError``. Without waiting, each worker runs that self-check as it starts
    and a failure is logged at ERROR on the ``rewards`` logger.
    """
    workers = pool()
    if not wait:
        workers.warm()
        return
    workers.wait_ready(timeout)
    key = (normalize(SELF_CHECK[0]), normalize(SELF_CHECK[1]))
    [(status, detail)] = workers.run([key], timeout=min(30.0, timeout))
    where = "a worker process"
    if status == "unavailable":
        _log.warning("verify warm-up: no worker process available (%s); checking SymPy in a bounded thread", detail)
        (status, detail), where = _in_thread(key, min(30.0, timeout)), "a bounded thread"
    if status != "equal":
        raise RuntimeError(
            f"rewards.verify self-check failed: {SELF_CHECK[0]!r} vs {SELF_CHECK[1]!r} came back {status!r} from "
            f"{where} ({detail}); every symbolic answer would be graded as wrong. Check that sympy and "
            f"latex2sympy2_extended import and work in {sys.executable} (see docs/verify.md).")


@contextlib.contextmanager
def recorded_outcomes():
    """Within the block, every check graded in this thread or task is appended to the yielded list as
    ``((pred, gold), Outcome)`` (``explain`` uses it to show what a reward's own checks concluded)."""
    seen: list = []
    token = _RECORDERS.set((*_RECORDERS.get(), seen))
    try:
        yield seen
    finally:
        _RECORDERS.reset(token)


@contextlib.contextmanager
def bounded(cutoff: float, cancelled: threading.Event | None = None):
    """Within the block (this thread or task), symbolic checks end by ``cutoff`` (a ``time.monotonic()`` time):
    each check's budget is at most the time left, none waits for a worker past it, and setting ``cancelled``
    drops the checks not yet started; the checks cut short are ``timeout`` outcomes. The reward server bounds
    each request's computing by its deadline with it."""
    token = _BOUNDS.set((cutoff, cancelled))
    try:
        yield
    finally:
        _BOUNDS.reset(token)


def _read(pair, config: VerifyConfig) -> _Read | Outcome:
    """Extract and normalize one pair; what cannot be compared ends here as an Outcome."""
    try:
        pred, gold = pair
    except (TypeError, ValueError):
        counters.report(_log, logging.WARNING, "bad_pair", "verify: %s is not a (completion, gold) pair",
                        abbreviate(pair))
        return Outcome(Status.ERROR, path="input", detail="not a (completion, gold) pair")
    pred, gold = _as_text(pred), _as_text(gold)
    if gold is None:
        return Outcome(Status.GOLD_UNPARSABLE, path="input", detail="the gold is neither text nor a number")
    if pred is None:
        return Outcome(Status.NO_ANSWER, path="input", detail="the completion is neither text nor a number")
    answer = target = None
    step = "extraction"
    try:
        answer, target = extract_answer(pred, config.extraction), gold_answer(gold)
        if not target:
            return Outcome(Status.GOLD_UNPARSABLE, answer, path=step, detail="no answer found in the gold")
        if not answer:
            return Outcome(Status.NO_ANSWER, gold=target, path=step)
        if len(answer) > config.max_answer_chars:
            return Outcome(Status.NO_ANSWER, gold=target, path=step,
                           detail=f"answer longer than {config.max_answer_chars} characters")
        step = "normalization"
        return _Read(answer, target, read_pair(answer, target))
    except Exception as exc:  # this pair's bug costs this pair only: an error outcome, logged and counted
        return Outcome(Status.ERROR, answer, target, step, _failure(step, exc, pred, gold))


def _decide_here(key: tuple[Answer, Answer], config: VerifyConfig) -> _Verdict | None:
    """A verdict from the cache or the in-process exact paths; ``None`` when the workers must decide."""
    cached = _cache.get(key)
    if cached is not None:
        counters.count("cache_hits")
        return _Verdict(cached.status, "cache", ": ".join(filter(None, [f"by {cached.path}", cached.detail])))
    try:
        decided = numbers.decide(*key)
    except Exception as exc:  # this pair only: an error outcome, logged and counted
        return _Verdict(Status.ERROR, "numbers", _failure("numbers", exc, key[0].text, key[1].text))
    if decided is None:
        return None
    path = "string" if (key[0].text, key[0].percent) == (key[1].text, key[1].percent) else "numbers"
    return _cache.put(key, _Verdict(Status.EQUAL if decided else Status.NOT_EQUAL, path), config.cache_size)


class _HardChecks:
    """The checks of one batch that need SymPy: each is queued on the worker pool as it is found (one turn in the
    pool's queue for the whole batch), then collected; where no worker can run, each runs in a bounded thread."""

    def __init__(self, budget: float):
        self.budget, self.keys, self.workers, self.batch, self.failure = budget, [], None, None, None
        self.cutoff, self.cancelled = _BOUNDS.get() or (None, None)
        if self.cutoff is not None:  # the caller's deadline (``bounded``) caps each check's budget
            self.budget = max(0.01, min(budget, self.cutoff - time.monotonic()))

    def send(self, key: tuple[Answer, Answer]) -> None:
        self.keys.append(key)
        if self.failure is not None:
            return
        try:
            if self.batch is None:
                self.workers = pool()
                bound = () if self.cutoff is None else (self.cutoff, self.cancelled)
                self.batch = self.workers.submit([key], self.budget, *bound)
            else:
                self.workers.extend(self.batch, [key])
        except Exception as exc:  # a pool bug costs its checks (errors), never the batch's in-process verdicts
            _log.exception("verify: the worker pool failed to take a check")
            self.failure = ("error", f"worker pool: {type(exc).__name__}: {exc}")

    def verdicts(self, config: VerifyConfig) -> dict:
        if not self.keys:
            return {}
        results = []
        if self.batch is not None:
            try:
                results = self.workers.collect(self.batch)
            except Exception as exc:  # as above
                _log.exception("verify: the worker pool failed on %d checks", len(self.keys))
                self.failure = ("error", f"worker pool: {type(exc).__name__}: {exc}")
                results = []
        results = results + [self.failure or ("error", "the worker pool lost the check")] * (len(self.keys) - len(results))
        verdicts = {}
        for key, result in zip(self.keys, results, strict=True):
            path = "sympy"
            if result[0] == "unavailable":
                counters.count("thread_fallbacks")
                counters.report(_log, logging.WARNING, "thread_fallback", "verify: no worker process available (%s); "
                                "symbolic checks run in bounded threads", result[1])
                result, path = _in_thread(key, self.budget), "thread"
            verdicts[key] = _from_result(result, path, key, self.budget)
            if verdicts[key].status in _CACHED:
                _cache.put(key, verdicts[key], config.cache_size)
        return verdicts


def _in_thread(key: tuple[Answer, Answer], budget: float) -> tuple[str, str]:
    """The fallback without worker processes: ``judge`` in a daemon thread abandoned after ``budget`` s."""
    box: list = []
    thread = threading.Thread(target=lambda: box.append(judge(*key)), daemon=True, name="rewards-verify-check")
    try:
        thread.start()
    except RuntimeError as exc:
        return "error", f"cannot start a thread: {exc}"
    thread.join(budget)
    if box:
        return box[0]
    return ("timeout", f"abandoned at {budget:.1f} s") if thread.is_alive() else ("error", "the check's thread died")


def _from_result(result: tuple[str, str], path: str, key: tuple[Answer, Answer], budget: float) -> _Verdict:
    """A worker's or thread's ``(status, detail)`` as a verdict; timeouts, expiries and errors are counted and logged."""
    status, detail = result
    pair = f"{abbreviate(key[0].text)} vs {abbreviate(key[1].text)}"
    if status in ("equal", "not_equal", "gold_unparsable"):
        return _Verdict(Status(status), path, detail)
    if status == "undecided":
        return _Verdict(Status.NOT_EQUAL, path, "undecided")
    if status == "timeout":
        counters.count("real_timeouts")
        counters.report(_log, logging.WARNING, "timeout",
                        "verify: a check ran past its %.1f s budget (%s) and counts as not equal: %s", budget, detail,
                        pair)
        return _Verdict(Status.TIMEOUT, path, detail)
    if status == "queue":
        counters.count("queue_expiries")
        counters.report(_log, logging.WARNING, "queue",
                        "verify: a check waited for a worker past its caller's deadline (%s); counted as a queue "
                        "expiry, not a timeout: %s", detail, pair)
        return _Verdict(Status.TIMEOUT, "queue", detail)
    where = "worker" if status == "died" else path
    counters.report(_log, logging.ERROR, "error", "verify: %s failed (%s) on %s; graded as an error, not cached",
                    where, detail, pair)
    return _Verdict(Status.ERROR, where, detail)


def _failure(step: str, exc: Exception, pred, gold) -> str:
    detail = f"{type(exc).__name__}: {exc}"[:300]
    counters.report(_log, logging.ERROR, "error", "verify: %s failed (%s) on %s vs %s; graded as an error", step,
                    detail, abbreviate(pred), abbreviate(gold))
    return detail


def _account(pairs: list, outcomes: list[Outcome]) -> None:
    counters.count("checks", len(outcomes))
    for status, n in collections.Counter(outcome.status.value for outcome in outcomes).items():
        counters.count(status, n)
    for seen in _RECORDERS.get():
        seen.extend(zip(pairs, outcomes, strict=True))


def _budget(timeout, config: VerifyConfig) -> float:
    """``timeout`` as positive finite seconds, else the config's."""
    try:
        seconds = float(config.timeout if timeout is None else timeout)
    except (TypeError, ValueError):
        return config.timeout
    return seconds if math.isfinite(seconds) and seconds > 0 else config.timeout


def _as_text(value) -> str | None:
    """A string as is; a number (int, Fraction, Decimal, finite float; not bool) as its text; else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Fraction, Decimal)) and not isinstance(value, bool):
        return str(value) if math.isfinite(value) else None
    return None


class _VerdictCache:
    """Decided verdicts (LRU) keyed by the normalized answer pair, shared by this process's threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: collections.OrderedDict = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key) -> bool:
        return key in self._items

    def get(self, key) -> _Verdict | None:
        with self._lock:
            verdict = self._items.get(key)
            if verdict is not None:
                self._items.move_to_end(key)
            return verdict

    def put(self, key, verdict: _Verdict, size: int) -> _Verdict:
        """Keep ``verdict``, then drop the least recently used entries beyond ``size``."""
        with self._lock:
            self._items[key] = verdict
            self._items.move_to_end(key)
            while len(self._items) > max(0, size):
                self._items.popitem(last=False)
        return verdict

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def after_fork(self) -> None:
        self._lock = threading.Lock()  # another thread may have held it at fork time


_cache = _VerdictCache()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_cache.after_fork)
