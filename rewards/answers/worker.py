"""The worker process loop: reads (index, pred, gold, budget) tasks and answers (index, (status, verdict)).
It must never outlive its parent, never write anything but frames to its pipe, never overrun a budget unreported."""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import threading
import time

_HEADER = struct.Struct(">I")


_WARM_UP = [
    ("x+1", "1+x"), (r"x \geq 2", r"[2,\infty)"), (r"\sin 2x", r"2\sin x\cos x"), (r"\frac{\sqrt{3}}{2}", r"\sqrt{3}/2"),
    (r"(-\infty,1)\cup(2,\infty)", r"x<1"), (r"y=2x+1", r"2x-y+1=0"), (r"\{1,2\}", "1,2"), (r"\log_2 8", r"\ln 3"),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"), (r"1<x\le 5", "(1,5]"),
    (r"|x| \le 2", "[-2,2]"), (r"e^{i\pi}", "-1"), (r"\binom{5}{2}", "10"), (r"\tan^{2} x + 1", r"\sec^2 x"),
]


class _Overrun(BaseException):
    """Raised by the worker's own alarm; a BaseException so library ``except Exception`` cannot eat it."""


def _on_alarm(signum, frame):
    raise _Overrun()


def main(parent_pid: int, memory_mb: int) -> None:
    """Serve tasks until the parent closes our stdin or dies."""
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    source = os.fdopen(os.dup(0), "rb", buffering=0)
    _limit_memory(memory_mb)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.setrecursionlimit(10_000)
    from rewards.answers.normalize import normalize
    from rewards.answers.sympy_compare import compare

    for pred, gold in _WARM_UP:  # ANTLR builds its parsing tables lazily: pay that before the first task
        _run_one(compare, normalize(pred), normalize(gold), 5.0)
    _send(out, "ready")
    while True:
        task = _receive(source)
        if task is None:
            os._exit(0)
        index, pred, gold, budget = task
        _send(out, (index, _run_one(compare, pred, gold, budget)))


def _run_one(compare, pred, gold, budget: float) -> tuple[str, bool]:
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, max(0.01, budget))
            return "ok", bool(compare(pred, gold))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Overrun:
        return "timeout", False
    except BaseException:
        return "error", False


def _send(out, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEADER.pack(len(data)) + data)


def _receive(source):
    header = _read_exactly(source, _HEADER.size)
    if header is None:
        return None
    body = _read_exactly(source, _HEADER.unpack(header)[0])
    return None if body is None else pickle.loads(body)


def _read_exactly(source, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = source.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(0)


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
