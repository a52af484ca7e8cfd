"""Counts what the answer engine did in this process (checks per status, cache hits, timeouts, worker events)
and reports degradation through ``logging``. It must never flood a training log: repeats are rate-limited."""

from __future__ import annotations

import collections
import logging
import os
import threading

KEYS = (
    "checks",  # pairs graded
    "equal", "not_equal", "no_answer", "gold_unparsable", "timeout", "error",  # pairs, by outcome status
    "cache_hits",  # distinct answer pairs answered from the verdict cache
    "real_timeouts",  # checks that ran past their budget in a worker or thread (timeout_count())
    "queue_expiries",  # checks that got no worker before their caller's deadline (status timeout, path queue)
    "thread_fallbacks",  # checks run in bounded threads because no worker process was available
    "worker_starts", "worker_failed_starts", "worker_deaths", "worker_kills", "worker_self_check_failures",
    "worker_retries",  # checks whose worker died under them, queued once more for a fresh worker
    "pool_disabled",  # times the worker pool was switched off for a while after failed starts
    "worker_notes",  # a worker's faster LaTeX reading switched off (a version or probe mismatch, or a bug in it)
)
FIRST_LOGGED = 5  # of each kind of repeated message, the first few are logged ...
LOG_EVERY = 100  # ... then every 100th, with its count

_lock = threading.Lock()
_counts: collections.Counter = collections.Counter()
_reported: collections.Counter = collections.Counter()


def stats() -> dict[str, int]:
    """This process's counters, every key present (see docs/verify.md, "Outcomes, counters and logging").

    >>> sorted(stats())[:3]
    ['cache_hits', 'checks', 'equal']
    """
    with _lock:
        return {key: _counts[key] for key in KEYS}


def timeout_count() -> int:
    """How many checks have run past their budget in this process (each counted as not equal)."""
    with _lock:
        return _counts["real_timeouts"]


def count(key: str, n: int = 1) -> None:
    """Add ``n`` to counter ``key`` (one of ``KEYS``)."""
    if key not in KEYS:
        raise KeyError(f"unknown counter {key!r}")
    with _lock:
        _counts[key] += n


def report(logger: logging.Logger, level: int, kind: str, message: str, *args) -> None:
    """Log ``message % args`` for the first ``FIRST_LOGGED`` events of ``kind``, then every ``LOG_EVERY``-th,
    saying how many there were."""
    with _lock:
        _reported[kind] += 1
        seen = _reported[kind]
    if seen <= FIRST_LOGGED or seen % LOG_EVERY == 0:
        suffix = f" [{kind} #{seen}; after {FIRST_LOGGED}, every {LOG_EVERY}th is logged]" if seen > 1 else ""
        logger.log(level, (message % args if args else message) + suffix)


def abbreviate(text, limit: int = 80) -> str:
    """``repr`` of ``text`` cut to about ``limit`` characters (its start and end kept).

    >>> abbreviate("x" * 100, limit=20)
    "'xxxxxxxxxxxx…xxxxx'"
    """
    shown = repr(text)
    if len(shown) <= limit:
        return shown
    head = (limit * 2) // 3
    return shown[:head] + "…" + shown[head - limit + 1:]


def _after_fork_in_child() -> None:
    """Counters are per process; the lock may have been held by another thread at fork time."""
    global _lock
    _lock = threading.Lock()
    _counts.clear()
    _reported.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
