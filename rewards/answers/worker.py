"""The worker process loop: reads (nonce, budget, task) frames and answers ("done", nonce, status, detail).
It must never outlive its parent, never write anything but frames to its pipe, never overrun a budget unreported."""

from __future__ import annotations

import logging
import math
import os
import pickle
import signal
import struct
import sys
import threading
import time

_HEADER = struct.Struct(">I")
_log = logging.getLogger(__name__)
_IN_WORKER = [False]  # set by ``main``: a worker sends its LaTeX reader's notes to the parent with each reply
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# A known-true symbolic pair no in-process path can settle: it must come back "equal" or SymPy is broken.
SELF_CHECK = (r"\sin^2 x+\cos^2 x", "1")

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


def judge(pred, gold) -> tuple[str, str]:
    """One SymPy comparison as ``(status, detail)``: ``equal``, ``not_equal``, ``undecided``, ``gold_unparsable``
    (the gold does not parse), or ``error`` with the exception (a broken dependency must not read as "not equal").
    Outside a worker (the thread fallback) the LaTeX reader's notes are logged and counted here, as the pool does
    with a worker's."""
    result = _judge(pred, gold)
    if not _IN_WORKER[0]:
        _log_reader_notes()
    return result


def _judge(pred, gold) -> tuple[str, str]:
    try:
        from rewards.answers import sympy_compare

        verdict = sympy_compare.compare(pred, gold)
        if verdict is None:
            return ("undecided", "") if sympy_compare.parses(gold.text) else ("gold_unparsable", "")
        return ("equal" if verdict else "not_equal"), ""
    except Exception as exc:  # reported per task as an error verdict, never cached, logged by the caller
        return "error", f"{type(exc).__name__}: {exc}"[:300]


def main(parent_pid: int, memory_mb: int, cpu_margin: float) -> None:
    """Serve tasks until the parent closes our stdin or dies."""
    _IN_WORKER[0] = True
    _die_with_parent(parent_pid)
    out = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    source = os.fdopen(os.dup(0), "rb", buffering=0)
    _limit_memory(memory_mb)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.setrecursionlimit(10_000)
    try:
        from rewards.answers.normalize import normalize
    except Exception as exc:  # e.g. sys.executable lacks a dependency: say why before exiting
        _send(out, ("failed", f"{type(exc).__name__}: {exc}"[:300]))
        os._exit(1)
    notes = _reader_notes()
    for pred, gold in _WARM_UP:  # ANTLR builds its parsing tables lazily: pay that before the first task
        _run_one(pickle.dumps((normalize(pred), normalize(gold))), 5.0, cpu_margin)
    status, detail = _run_one(pickle.dumps(tuple(normalize(side) for side in SELF_CHECK)), 30.0, cpu_margin)
    _send(out, ("ready", status == "equal", detail or status, notes))
    while True:
        frame = _receive(source)
        if frame is None:
            os._exit(0)
        nonce, budget, task = frame
        _send(out, ("done", nonce, *_run_one(task, budget, cpu_margin), _reader_failures()))


def _reader_notes() -> tuple[str, ...]:
    """Why a faster LaTeX reading is off in this worker (``latex_reader.self_check``, the gate run before any
    reading), for the parent to log; a reader that cannot even be checked is left to the SymPy self-check, which
    then fails loudly."""
    try:
        from rewards.answers import latex_reader

        return tuple(latex_reader.self_check())
    except Exception as exc:  # e.g. latex2sympy2_extended does not import: the self-check reports it
        return (f"the LaTeX reader cannot be checked: {type(exc).__name__}: {exc}"[:300],)


def _reader_failures() -> tuple[str, ...]:
    """Why a faster LaTeX reading switched itself off during the task just run (usually nothing)."""
    from rewards.answers import latex_reader

    return tuple(latex_reader.take_notes())


def _log_reader_notes() -> None:
    """In the parent's thread fallback: why a faster LaTeX reading is off here (the reader's gate, which runs before
    its first reading in this process, or a failure since), logged at WARNING and counted as ``worker_notes``."""
    latex_reader = sys.modules.get("rewards.answers.latex_reader")
    if latex_reader is None:  # nothing was read with LaTeX in this process
        return
    from rewards.answers import counters

    for note in latex_reader.take_notes():
        counters.count("worker_notes")
        counters.report(_log, logging.WARNING, "worker_note", "verify (thread fallback, pid %d): %s", os.getpid(), note)


def _run_one(task: bytes, budget: float, cpu_margin: float) -> tuple[str, str]:
    """Decode and judge one task under our own alarm at ``budget`` s and a CPU limit a little above it."""
    _limit_cpu(budget + cpu_margin)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, max(0.01, budget))
            pred, gold = pickle.loads(task)
            return judge(pred, gold)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Overrun:
        return "timeout", f"interrupted at {budget:.1f} s"
    except Exception as exc:  # a task that does not decode: an error for this task only
        return "error", f"{type(exc).__name__}: {exc}"[:300]


def _send(out: int, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(out, view):]


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


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL us when the parent dies (even inside a long C call, which no Python thread can
    interrupt); the parent may already be gone by now, then exit at once."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (ImportError, OSError, AttributeError):  # no prctl here: the parent-pid watch below remains
            pass
    if os.getppid() != parent_pid:
        os._exit(0)


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(0)


def _limit_memory(memory_mb: int) -> None:
    """At most ``memory_mb`` of address space (a runaway SymPy call raises MemoryError), and no core files
    (a CPU-limit kill must not write one)."""
    try:
        import resource
    except ImportError:
        return
    for limit, value in ((resource.RLIMIT_AS, memory_mb * 1024 * 1024), (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):  # a lower hard limit is already in place
            pass


def _limit_cpu(seconds: float) -> None:
    """Soft RLIMIT_CPU at the CPU time used so far plus ``seconds``: the kernel then ends this process with
    SIGXCPU, even inside a C call, if the parent is not there to kill it. Raised again before every task."""
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    except (ImportError, ValueError, OSError):
        pass
