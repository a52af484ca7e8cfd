"""Decides whether a completion's final answer equals a gold answer: exact paths in-process, SymPy in workers.
It must never raise, never run longer than its timeout per check, and prefers a false "not equal" over a false "equal"."""

from __future__ import annotations

import collections
import math
import os
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from rewards.answers import numbers
from rewards.answers.extract import _last_boxed, extract_answer, is_prose
from rewards.answers.normalize import Answer, normalize, unwrap_math
from rewards.answers.pool import pool


@dataclass(frozen=True)
class VerifyConfig:
    """``cache_size`` verdicts kept (LRU, keyed by normalized answer pair); answers longer than
    ``max_answer_chars`` after extraction are not compared (False)."""

    cache_size: int = 200_000
    max_answer_chars: int = 1000


CONFIG = VerifyConfig()
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:/\d+)?")
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
    return normalize(_sole_number(answer)), normalize(_sole_number(target))


def _as_text(value) -> str | None:
    """A string as is; a number (int, Fraction, Decimal, finite float; not bool) as its text; else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Fraction, Decimal)) and not isinstance(value, bool):
        return str(value) if math.isfinite(value) else None
    return None


def gold_answer(gold: str) -> str | None:
    r"""The answer inside a gold string: bare, ``$...$``-wrapped, ``\boxed{}``, an ``<answer>`` block, or a worked
    solution (``#### 72`` as in GSM8K, else read like a completion).

    >>> gold_answer(r"$\boxed{\frac{\sqrt3}{2}}$")
    '\\frac{\\sqrt3}{2}'
    """
    if "####" in gold:  # a GSM8K solution kept whole: the answer follows the last ####
        return gold.rsplit("####", 1)[1].strip() or None
    if "<answer>" in gold or "\\boxed" in gold or "\\fbox" in gold:
        inner = _last_boxed(gold) if "<answer>" not in gold else extract_answer(gold)
        return inner.strip() if inner else None
    if "\n" in gold.strip() or (len(gold) > 80 and is_prose(gold)):  # a worked solution: read it like a completion
        return extract_answer(gold)
    return unwrap_math(gold) or None


def _sole_number(answer: str) -> str:
    """Prose like "The total is 42 apples." reads as its only number; prose with several numbers stays."""
    if not is_prose(answer):
        return answer
    numbers = _NUMBER.findall(answer)
    return numbers[0] if len(numbers) == 1 else answer


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
