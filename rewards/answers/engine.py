"""Decides whether a completion's final answer equals a gold answer: exact paths in-process, SymPy in workers.
It must never raise, never run longer than its timeout per check, and prefers a false "not equal" over a false "equal"."""

from __future__ import annotations

import collections
import math
import os
import threading
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from rewards.answers import numbers
from rewards.answers.extract import extract_answer, gold_answer, sole_number
from rewards.answers.normalize import Answer, normalize
from rewards.answers.pool import pool


@dataclass(frozen=True)
class VerifyConfig:
    """``cache_size`` verdicts kept (LRU, keyed by normalized answer pair); answers longer than
    ``max_answer_chars`` after extraction are not compared (False)."""

    cache_size: int = 200_000
    max_answer_chars: int = 1000


CONFIG = VerifyConfig()
_lock = threading.Lock()
_cache: collections.OrderedDict = collections.OrderedDict()
_timeouts = 0


def verify(pred: str, gold: str, timeout: float = 5.0) -> bool:
    r"""Is the final answer in ``pred`` (a whole completion or a bare answer) equal to ``gold``?

    >>> verify("<think>so x = 1/2</think><answer>0.5</answer>", r"\frac12")
    True
    >>> verify(r"... the area is $\boxed{3\text{ cm}}$", r"3\text{ m}")
    False
    """
    return verify_batch([(pred, gold)], timeout)[0]


def verify_batch(pairs, timeout: float = 5.0) -> list[bool]:
    """``verify`` over ``(pred, gold)`` pairs, one verdict each: identical pairs are checked once, verdicts
    are cached, exact cases are settled in-process, and the rest run in parallel worker processes.

    >>> verify_batch([("<answer>4</answer>", "4"), ("5", "4"), ("<answer>4</answer>", "4")])
    [True, False, True]
    """
    try:
        pairs = list(pairs)
        keys = [_key(pair) for pair in pairs]
        verdicts = _settle(keys, float(timeout) if timeout and timeout > 0 else 5.0)
        return [verdicts.get(key, False) for key in keys]
    except Exception:  # a bug here must cost one reward, never a training run; see docs/verify.md
        return [False] * len(pairs) if isinstance(pairs, list) else []


def timeout_count() -> int:
    """How many checks have timed out in this process so far (each counted as not equal)."""
    return _timeouts


def clear_cache() -> None:
    """Forget cached verdicts (benchmarks use it to measure cold throughput)."""
    with _lock:
        _cache.clear()


def warm_up(wait: bool = False) -> None:
    """Start the worker processes now, so the first symbolic check does not wait for them (~2 s);
    with ``wait=True``, return once every worker has answered a trivial check (bounded by 60 s)."""
    try:
        workers = pool()
        workers.warm()
        if wait:
            probe = (Answer(r"\sin x"), Answer(r"\cos x"))
            workers.run([probe] * workers.config.workers, timeout=30.0)
    except OSError:
        pass


def _key(pair) -> tuple[Answer, Answer] | None:
    try:
        pred, gold = pair
    except (TypeError, ValueError):
        return None
    pred, gold = _as_text(pred), _as_text(gold)
    if pred is None or gold is None:
        return None
    answer, target = extract_answer(pred), gold_answer(gold)
    if not answer or not target or len(answer) > CONFIG.max_answer_chars:
        return None
    return normalize(sole_number(answer)), normalize(sole_number(target))


def _as_text(value) -> str | None:
    """A string as is; a number (int, Fraction, Decimal, finite float; not bool) as its text; else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Fraction, Decimal)) and not isinstance(value, bool):
        return str(value) if math.isfinite(value) else None
    return None


def _settle(keys: list, timeout: float) -> dict:
    verdicts: dict = {None: False}
    hard = []
    for key in dict.fromkeys(k for k in keys if k is not None):
        cached = _cache_get(key)
        if cached is not None:
            verdicts[key] = cached
            continue
        decided = numbers.decide(*key)
        if decided is None:
            hard.append(key)
        else:
            verdicts[key] = _cache_put(key, decided)
    if hard:
        for key, (status, verdict) in zip(hard, _run_hard(hard, timeout), strict=True):
            verdicts[key] = status == "ok" and bool(verdict)
            if status in ("ok", "error"):  # a timeout or a dead worker is not cached: a rerun may finish
                _cache_put(key, verdicts[key])
            elif status == "timeout":
                _count_timeout()
    return verdicts


def _run_hard(keys: list, timeout: float) -> list[tuple[str, bool]]:
    try:
        return pool().run(keys, timeout)
    except OSError:  # no way to start a process here: bounded threads instead (see docs/verify.md)
        return [_in_thread(key, timeout) for key in keys]


def _in_thread(key: tuple[Answer, Answer], timeout: float) -> tuple[str, bool]:
    from rewards.answers.sympy_compare import compare

    box: list = []

    def work():
        try:
            box.append(("ok", bool(compare(*key))))
        except BaseException:
            box.append(("error", False))

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout)
    return box[0] if box else ("timeout", False)


def _reset_lock_after_fork() -> None:
    global _lock
    _lock = threading.Lock()  # another thread may have held it at fork time


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_after_fork)


def _count_timeout() -> None:
    global _timeouts
    with _lock:
        _timeouts += 1


def _cache_get(key):
    with _lock:
        verdict = _cache.get(key)
        if verdict is not None:
            _cache.move_to_end(key)
        return verdict


def _cache_put(key, verdict: bool) -> bool:
    with _lock:
        _cache[key] = verdict
        if len(_cache) > CONFIG.cache_size:
            _cache.popitem(last=False)
    return verdict
