"""Runs SymPy comparisons in persistent worker processes, each task under a hard deadline.
It must never block a caller past its deadline, never use signals in the caller, and never leave orphaned workers."""

from __future__ import annotations

import atexit
import collections
import os
import pickle
import selectors
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

_HEADER = struct.Struct(">I")
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The worker imports the engine's modules without running rewards/__init__ or rewards/answers/__init__
# (which load every reward family and the pool itself).
_BOOT = (
    "import sys, types\n"
    "for name in ('rewards', 'rewards.answers'):\n"
    "    pkg = types.ModuleType(name); pkg.__path__ = [sys.argv[1] + '/' + name.replace('.', '/')]\n"
    "    sys.modules[name] = pkg\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from rewards.answers.worker import main; main(int(sys.argv[2]), int(sys.argv[3]))"
)


def _default_workers() -> int:
    configured = os.environ.get("GRPOKIT_VERIFY_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return min(int(configured), 64)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)
    return max(1, min(4, cores))


@dataclass(frozen=True)
class PoolConfig:
    """``workers`` processes (env ``GRPOKIT_VERIFY_WORKERS``, default min(4, cores)); a task overrunning its budget by ``grace`` s kills its worker; a worker not
    ready within ``start_timeout`` s is replaced; workers are recycled after ``max_tasks`` tasks."""

    workers: int = field(default_factory=lambda: _default_workers())
    grace: float = 0.3
    start_timeout: float = 30.0
    max_tasks: int = 5000
    memory_mb: int = 3072


class _Worker:
    """One child process speaking length-prefixed pickles over its stdin/stdout."""

    def __init__(self, config: PoolConfig):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, _ROOT, str(os.getpid()), str(config.memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            close_fds=True, start_new_session=True,
        )
        self.fd = self.proc.stdout.fileno()
        self.buffer = bytearray()
        self.ready = False
        self.born = time.monotonic()
        self.tasks = 0

    def send(self, message) -> bool:
        try:
            data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.write(_HEADER.pack(len(data)) + data)
            self.proc.stdin.flush()
            self.tasks += 1
            return True
        except (OSError, ValueError):
            return False

    def receive(self) -> list | None:
        """Frames now readable; ``None`` when the worker has died (end of file)."""
        try:
            chunk = os.read(self.fd, 1 << 16)
        except OSError:
            return None
        if not chunk:
            return None
        self.buffer += chunk
        frames = []
        while len(self.buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) < _HEADER.size + size:
                break
            frames.append(pickle.loads(bytes(self.buffer[_HEADER.size: _HEADER.size + size])))
            del self.buffer[: _HEADER.size + size]
        return frames

    def kill(self) -> None:
        for action in (self.proc.kill, self.proc.stdin.close, self.proc.stdout.close):
            try:
                action()
            except (OSError, ValueError):
                pass
        try:
            self.proc.wait(timeout=1.0)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def abandon(self) -> None:
        """In a forked child: drop the parent's pipes without touching the parent's worker."""
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


class WorkerPool:
    """A fixed-size set of lazily spawned workers shared by every thread of this process.

    ``run(tasks, timeout)`` returns one ``(status, verdict)`` per task: status ``"ok"``, ``"timeout"``
    (overran ``timeout``; the worker was interrupted or killed), ``"error"`` (the comparison raised) or
    ``"died"`` (the worker process ended).
    """

    def __init__(self, config: PoolConfig | None = None):
        self.config = config or PoolConfig()
        self.pid = os.getpid()
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._count = 0
        self._all: set[_Worker] = set()
        self._failed_starts = 0

    def warm(self) -> None:
        """Start every worker now (in the background) so the first hard check does not wait."""
        with self._cond:
            while self._count < self.config.workers:
                self._idle.append(self._spawn())

    def _spawn(self) -> _Worker:
        worker = _Worker(self.config)
        self._count += 1
        self._all.add(worker)
        return worker

    def _note_start(self, started: bool) -> None:
        """Count workers that died before they were ready; after 3 in a row this pool is broken (e.g.
        ``sys.executable`` lacks SymPy) and ``run`` raises OSError so callers use their fallback."""
        with self._cond:
            self._failed_starts = 0 if started else self._failed_starts + 1

    def _acquire(self, wait: float) -> _Worker | None:
        if self._failed_starts >= 3:
            raise OSError("verify workers die before they start; see docs/verify.md")
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                if self._idle:
                    return self._idle.pop()
                if self._count < self.config.workers:
                    return self._spawn()
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def _release(self, worker: _Worker, healthy: bool) -> None:
        if not healthy or worker.tasks >= self.config.max_tasks:
            worker.kill()
            with self._cond:
                self._all.discard(worker)
                self._count -= 1
                self._cond.notify()
            return
        with self._cond:
            self._idle.append(worker)
            self._cond.notify()

    def run(self, tasks: list, timeout: float) -> list[tuple[str, bool]]:
        """Run ``tasks`` in parallel, each under ``timeout`` seconds of worker time."""
        return _Dispatch(self, tasks, timeout).run()

    def close(self) -> None:
        with self._cond:
            workers, self._idle, self._all, self._count = list(self._all), [], set(), 0
        for worker in workers:
            worker.kill()

    def abandon(self) -> None:
        for worker in list(self._all):
            worker.abandon()


class _Dispatch:
    """One caller's batch: hand tasks to free workers, wait on their pipes, kill overrunning ones."""

    def __init__(self, pool: WorkerPool, tasks: list, timeout: float):
        self.pool, self.tasks, self.timeout = pool, tasks, timeout
        self.results: list = [None] * len(tasks)
        self.pending = collections.deque(range(len(tasks)))
        self.active: dict[int, list] = {}  # fd -> [worker, task index, started_at or None]
        self.give_up = time.monotonic() + pool.config.start_timeout + (timeout + pool.config.grace) * (
            1 + len(tasks) // max(1, pool.config.workers))

    def run(self) -> list[tuple[str, bool]]:
        try:
            while self.pending or self.active:
                self._fill()
                if not self.active:
                    self._expire_pending()
                    break
                self._wait()
            return self.results
        finally:  # interrupted (KeyboardInterrupt, a bug): never leak a busy worker
            for fd in list(self.active):
                self._finish(fd, ("died", False), healthy=False)

    def _fill(self) -> None:
        while self.pending:
            wait = 0.0 if self.active else max(0.0, self.give_up - time.monotonic())
            worker = self.pool._acquire(wait)
            if worker is None:
                return
            index = self.pending.popleft()
            pred, gold = self.tasks[index]
            if not worker.send((index, pred, gold, self.timeout)):
                self.pool._note_start(worker.ready)
                self.results[index] = ("died", False)
                self.pool._release(worker, healthy=False)
                continue
            self.active[worker.fd] = [worker, index, time.monotonic() if worker.ready else None]

    def _expire_pending(self) -> None:
        for index in self.pending:
            self.results[index] = ("timeout", False)
        self.pending.clear()

    def _deadline(self, entry: list) -> float:
        worker, _, started = entry
        if started is None:
            return worker.born + self.pool.config.start_timeout
        return started + self.timeout + self.pool.config.grace

    def _wait(self) -> None:
        nearest = min(self._deadline(entry) for entry in self.active.values())
        for fd in _readable(list(self.active), max(0.0, nearest - time.monotonic())):
            self._read(fd)
        now = time.monotonic()
        for fd, entry in list(self.active.items()):
            if now >= self._deadline(entry):
                self._finish(fd, ("timeout", False), healthy=False)

    def _read(self, fd: int) -> None:
        worker, index, _ = self.active[fd]
        frames = worker.receive()
        if frames is None:
            self.pool._note_start(worker.ready)
            self._finish(fd, ("died", False), healthy=False)
            return
        for frame in frames:
            if frame == "ready":
                self.pool._note_start(True)
                worker.ready = True
                self.active[fd][2] = time.monotonic()
            elif isinstance(frame, tuple) and frame[0] == index:
                self._finish(fd, frame[1], healthy=True)
                return

    def _finish(self, fd: int, result: tuple[str, bool], healthy: bool) -> None:
        worker, index, _ = self.active.pop(fd)
        self.results[index] = result
        self.pool._release(worker, healthy)


def _readable(fds: list[int], wait: float) -> list[int]:
    """The fds ready to read within ``wait`` s (epoll/poll: no FD_SETSIZE limit in processes with many files)."""
    with selectors.DefaultSelector() as selector:
        for fd in fds:
            selector.register(fd, selectors.EVENT_READ)
        return [key.fd for key, _ in selector.select(wait)]


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> WorkerPool:
    """This process's pool (a forked child gets a fresh one; it never uses its parent's workers)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL.pid != os.getpid():
            _POOL = WorkerPool()
        return _POOL


def _after_fork_in_child() -> None:
    global _POOL, _POOL_LOCK
    _POOL_LOCK = threading.Lock()
    if _POOL is not None:
        _POOL.abandon()
    _POOL = None


def _at_exit() -> None:
    if _POOL is not None and _POOL.pid == os.getpid():
        _POOL.close()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)
