"""Runs SymPy comparisons in persistent worker processes: callers are served in turn, each task under a hard deadline.
It must never block a caller past its deadline, never use signals in the caller, and never leave orphaned workers."""

from __future__ import annotations

import atexit
import collections
import itertools
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from rewards.answers import counters
from rewards.answers.worker import SELF_CHECK

_log = logging.getLogger(__name__)
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
    "from rewards.answers.worker import main; main(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))"
)
_HOUSEKEEPING = 1.0  # the dispatcher wakes at least this often (seconds) to reap exited workers


def _default_workers() -> int:
    configured = os.environ.get("GRPOKIT_VERIFY_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return min(int(configured), 64)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)
    return max(1, min(4, cores))


@dataclass(frozen=True)
class PoolConfig:
    """``workers`` processes (env ``GRPOKIT_VERIFY_WORKERS``, default min(4, cores)); a task overrunning its
    budget by ``grace`` s kills its worker, whose CPU limit sits ``cpu_margin`` s above the budget; a worker not
    ready within ``start_timeout`` s is replaced; workers are recycled after ``max_tasks`` tasks; after
    ``failed_starts`` failed starts in a row the pool is off for ``disable_for`` s, then retried."""

    workers: int = field(default_factory=lambda: _default_workers())
    grace: float = 0.3
    start_timeout: float = 30.0
    max_tasks: int = 5000
    memory_mb: int = 3072
    cpu_margin: float = 2.0
    failed_starts: int = 3
    disable_for: float = 60.0


def _frame(message) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


class _Batch:
    """One caller's tasks; the dispatcher thread settles each (under the pool lock) and sets ``done``."""

    def __init__(self, tasks: list, timeout: float, queue_wait: float, cutoff: float | None = None,
                 cancelled: threading.Event | None = None):
        self.tasks, self.timeout, self.queue_wait = tasks, timeout, queue_wait
        self.created = time.monotonic()
        self.cutoff, self.cancelled = cutoff, cancelled  # the caller's own deadline (monotonic) and cancel flag
        self.queue_deadline = self._bounded(self.created + queue_wait)
        self.pending = collections.deque(range(len(tasks)))
        self.results: list = [None] * len(tasks)
        self.retried: set[int] = set()  # tasks whose first worker died under them (each is retried once)
        self.left = len(tasks)
        self.done = threading.Event()

    def is_cancelled(self) -> bool:
        return self.cancelled is not None and self.cancelled.is_set()

    def _bounded(self, deadline: float) -> float:
        return deadline if self.cutoff is None else min(deadline, self.cutoff)

    def add(self, tasks: list, queue_wait: float) -> range:
        """More tasks for this caller (pool lock held): they queue behind its earlier ones, and the caller's
        deadline for getting a worker grows to ``queue_wait`` from the batch's creation."""
        new = range(len(self.tasks), len(self.tasks) + len(tasks))
        self.tasks.extend(tasks)
        self.results.extend([None] * len(tasks))
        self.pending.extend(new)
        self.left += len(tasks)
        self.done.clear()
        self.queue_wait = queue_wait
        self.queue_deadline = self._bounded(self.created + queue_wait)
        return new

    def settle(self, index: int, result: tuple[str, str]) -> None:
        if self.results[index] is None:
            self.results[index] = result
            self.left -= 1
            if not self.left:
                self.done.set()


@dataclass
class _Task:
    batch: _Batch
    index: int
    nonce: int
    deadline: float


class _Worker:
    """One child process speaking length-prefixed pickles over two raw pipe fds (no buffered file objects, so a
    forked child can close them with ``os.close`` without flushing them or taking their locks)."""

    def __init__(self, config: PoolConfig):
        to_child, self.write_fd = os.pipe()
        try:
            self.read_fd, from_child = os.pipe()
        except OSError:
            os.close(to_child)
            self.close_fds()
            raise
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, _ROOT, str(os.getpid()), str(config.memory_mb), str(config.cpu_margin)],
                stdin=to_child, stdout=from_child, stderr=subprocess.DEVNULL, close_fds=True, start_new_session=True,
            )
        except BaseException:
            self.close_fds()
            raise
        finally:
            os.close(to_child)
            os.close(from_child)
        self.buffer = bytearray()
        self.ready = False
        self.born = time.monotonic()
        self.tasks = 0
        self.task: _Task | None = None
        self.note = ""  # why it failed to start, if it said so

    def send(self, frame: bytes) -> bool:
        view = memoryview(frame)
        try:
            while view:
                view = view[os.write(self.write_fd, view):]
        except OSError:
            return False
        return True

    def receive(self) -> list | None:
        """Frames now readable; ``None`` when the worker has died (end of file) or sent garbage."""
        try:
            chunk = os.read(self.read_fd, 1 << 16)
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
            try:
                frames.append(pickle.loads(bytes(self.buffer[_HEADER.size: _HEADER.size + size])))
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError):
                return None
            del self.buffer[: _HEADER.size + size]
        return frames

    def exit_code(self, wait: float) -> int | None:
        try:
            return self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        self.close_fds()

    def close_fds(self) -> None:
        for name in ("write_fd", "read_fd"):
            fd = getattr(self, name, -1)
            setattr(self, name, -1)  # never close a number twice: another thread may own it by then
            if fd >= 0:
                os.close(fd)


class WorkerPool:
    """A fixed number of worker processes shared by every thread of this process, driven by one dispatcher thread.

    ``run(tasks, timeout)`` returns one ``(status, detail)`` per ``(pred, gold)`` task: a worker's verdict
    (``equal``, ``not_equal``, ``undecided``, ``gold_unparsable``), ``timeout`` (it overran ``timeout``: the
    worker interrupted itself or was killed), ``error`` (the comparison raised), ``died`` (the worker ended
    mid-task twice: a task whose worker dies is retried once, on a worker that has run nothing yet), ``queue`` (no worker was free before the caller's deadline) or ``unavailable`` (no worker can
    start now: the caller uses its fallback). Waiting callers are served in turn, one task each, in order of
    arrival, so a single check never waits behind a whole batch of another thread's.
    """

    def __init__(self, config: PoolConfig | None = None):
        self.config = config or PoolConfig()
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: collections.deque[_Batch] = collections.deque()  # batches with tasks waiting for a worker
        self._retries: collections.deque[tuple[_Batch, int]] = collections.deque()  # for fresh workers only
        self._workers: list[_Worker] = []  # only the dispatcher thread changes this list
        self._exited: list[_Worker] = []  # killed or retired, not yet reaped
        self._ready = 0
        self._wanted = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None
        self._nonces = itertools.count(1)
        self._failed_starts = 0
        self._disabled_until: float | None = None
        self._last_failure = ""

    # ---- callers -------------------------------------------------------------------------------------

    def run(self, tasks: list, timeout: float) -> list[tuple[str, str]]:
        """Run ``tasks`` in parallel, each under ``timeout`` seconds of worker time."""
        if not tasks:
            return []
        return self.collect(self.submit(tasks, timeout))

    def submit(self, tasks: list, timeout: float, cutoff: float | None = None,
               cancelled: threading.Event | None = None) -> _Batch:
        """Queue ``tasks`` now and return at once; ``extend`` adds more to the same turn in the queue, ``collect``
        waits for the results (so a caller can keep preparing tasks while the workers start on the first ones).
        ``cutoff`` (a ``time.monotonic()`` time) is the caller's own deadline: no task waits for a worker past it;
        ``cancelled`` set ends ``collect`` at once, dropping the tasks not yet started."""
        batch = _Batch([], timeout, 0.0, cutoff, cancelled)
        self.extend(batch, tasks)
        return batch

    def extend(self, batch: _Batch, tasks: list) -> None:
        """Add ``tasks`` to a submitted batch; where no worker can run now they are settled ``unavailable``."""
        if not tasks:
            return
        workers = self.config.workers
        with self._lock:
            starting = 0.0 if self._ready >= workers else self.config.start_timeout
            new = batch.add(list(tasks), starting + (batch.timeout + self.config.grace) *
                            (1 + (len(batch.tasks) + len(tasks)) // workers))
            reason = self._unavailable()
            if not reason:
                if batch not in self._queue:
                    self._queue.append(batch)
                self._wanted = True
                reason = self._start_dispatcher()
            if reason:
                for index in reversed(new):
                    batch.pending.pop()
                    batch.settle(index, ("unavailable", reason))
                if not batch.pending and batch in self._queue:
                    self._queue.remove(batch)
        if not reason:
            self._poke()

    def collect(self, batch: _Batch) -> list[tuple[str, str]]:
        """Wait until every task of ``batch`` is settled and return one ``(status, detail)`` per task, in order."""
        slack = batch.timeout + self.config.grace + 5.0  # the dispatcher settles all well before
        backstop = batch.queue_wait + slack
        try:
            while not batch.done.wait(0.05 if batch.cancelled is not None else 0.5):
                if batch.cancelled is not None and batch.cancelled.is_set():
                    break
                if time.monotonic() >= batch.queue_deadline + slack:  # grows when a died task is retried
                    break
        finally:  # done, cancelled, interrupted, or the dispatcher is stuck: whatever is left is settled now
            with self._lock:
                if batch in self._queue:
                    self._queue.remove(batch)
                for retry in [r for r in self._retries if r[0] is batch]:
                    self._retries.remove(retry)
                batch.pending.clear()
                unsettled = [i for i, result in enumerate(batch.results) if result is None]
                cancelled = batch.cancelled is not None and batch.cancelled.is_set()
                for index in unsettled:
                    batch.settle(index, ("queue", "cancelled by the caller") if cancelled else
                                 ("error", "the worker pool did not answer"))
        if unsettled and not cancelled:
            _log.error("verify worker pool: %d checks got no answer within %.0f s", len(unsettled), backstop)
        return batch.results

    def warm(self) -> None:
        """Start every worker now (in the background) so the first hard check does not wait."""
        with self._lock:
            if self._unavailable():
                return
            self._wanted = True
            self._start_dispatcher()
        self._poke()

    def wait_ready(self, timeout: float) -> bool:
        """Start the workers and wait (at most ``timeout`` s) until all are ready; False if they are not."""
        self.warm()
        with self._changed:
            self._changed.wait_for(
                lambda: self._ready >= self.config.workers or self._disabled_until is not None or self._closed,
                timeout)
            return self._ready >= self.config.workers

    def close(self) -> None:
        """Stop the dispatcher and kill every worker (at exit)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._fail_queue("unavailable", "the worker pool is closed")
        self._poke()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)
        for worker in self._workers + self._exited:
            worker.kill()
            if worker.task is not None:
                with self._lock:
                    worker.task.batch.settle(worker.task.index, ("unavailable", "the worker pool is closed"))
        for worker in self._workers + self._exited:
            worker.exit_code(0.2)
        self._workers, self._exited = [], []  # the wake-up pipe stays open: a late caller may still poke it

    def abandon(self) -> None:
        """In a forked child: close the parent's pipe fds by number, touching no lock, buffer or worker."""
        self._closed = True
        fds = [fd for worker in self._workers + self._exited for fd in (worker.write_fd, worker.read_fd)]
        for fd in [*fds, *(self._wake or ())]:
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _unavailable(self) -> str:
        """Why no task can be run now ("" if they can); a disabled pool is retried once its time is up."""
        if self._closed:
            return "the worker pool is closed"
        if self._disabled_until is None:
            return ""
        left = self._disabled_until - time.monotonic()
        if left > 0:
            return f"worker pool disabled after failed starts ({self._last_failure}); retried in {left:.0f} s"
        self._disabled_until, self._failed_starts = None, 0
        _log.warning("verify worker pool: retrying worker processes after %.0f s disabled", self.config.disable_for)
        return ""

    def _start_dispatcher(self) -> str:
        if self._thread is not None and self._thread.is_alive():
            return ""
        if not hasattr(select, "poll"):
            return "worker processes need select.poll (POSIX)"
        try:
            if self._wake is None:
                self._wake = os.pipe()
                for fd in self._wake:
                    os.set_blocking(fd, False)
            self._thread = threading.Thread(target=self._serve, name="rewards-verify-pool", daemon=True)
            self._thread.start()
        except (OSError, RuntimeError) as exc:
            self._thread = None
            return f"cannot start the worker pool's thread: {exc}"
        return ""

    def _poke(self) -> None:
        wake = self._wake
        if wake is None:
            return
        try:
            os.write(wake[1], b"!")
        except OSError:  # full (a wake-up is already pending) or closed (the pool is closing)
            pass

    # ---- the dispatcher thread -----------------------------------------------------------------------

    def _serve(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._closed:
                        return
                    self._expire_queue()
                    staff = self._wanted and self._disabled_until is None
                if staff:
                    self._staff()
                self._assign()
                self._wait_for_events()
                self._enforce_deadlines()
                self._reap()
        except BaseException as exc:  # a bug here must not hang callers: fail their tasks, restart on next run
            _log.exception("verify worker pool: the dispatcher thread failed; its checks are errors")
            self._fail_everything(f"dispatcher failed: {type(exc).__name__}: {exc}")

    def _staff(self) -> None:
        while len(self._workers) < self.config.workers and self._disabled_until is None:
            try:
                self._workers.append(_Worker(self.config))
            except (OSError, ValueError, subprocess.SubprocessError) as exc:
                self._failed_start(f"cannot start {sys.executable!r}: {exc}")

    def _assign(self) -> None:
        """Idle ready workers take the next task of the batch at the head of the queue, which then queues
        again behind the others (round robin in order of arrival)."""
        for worker in list(self._workers):
            if not worker.ready or worker.task is not None:
                continue
            with self._lock:
                if self._retries and worker.tasks == 0:  # a retried task goes to a worker that has run nothing
                    batch, index = self._retries.popleft()
                elif self._queue:
                    batch = self._queue.popleft()
                    index = batch.pending.popleft()
                    if batch.pending:
                        self._queue.append(batch)
                else:
                    continue
                nonce = next(self._nonces)
            try:
                frame = _frame((nonce, batch.timeout, pickle.dumps(batch.tasks[index], pickle.HIGHEST_PROTOCOL)))
            except Exception as exc:  # this task cannot be sent: an error for it alone
                with self._lock:
                    batch.settle(index, ("error", f"task cannot be pickled: {type(exc).__name__}: {exc}"))
                continue
            worker.task = _Task(batch, index, nonce, time.monotonic() + batch.timeout + self.config.grace)
            if not worker.send(frame):  # it died meanwhile: the task goes back to the head of the queue
                worker.task = None
                with self._lock:
                    if index in batch.retried:
                        self._retries.appendleft((batch, index))
                    else:
                        batch.pending.appendleft(index)
                        if batch not in self._queue:
                            self._queue.appendleft(batch)
                self._lost(worker)

    def _wait_for_events(self) -> None:
        now = time.monotonic()
        deadlines = [now + _HOUSEKEEPING]
        deadlines += [w.task.deadline for w in self._workers if w.task is not None]
        deadlines += [w.born + self.config.start_timeout for w in self._workers if not w.ready]
        with self._lock:
            deadlines += [batch.queue_deadline for batch in self._queue]
            deadlines += [batch.queue_deadline for batch, _ in self._retries]
        poller = select.poll()
        poller.register(self._wake[0], select.POLLIN)
        by_fd = {worker.read_fd: worker for worker in self._workers}
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        wait_ms = max(0, int((min(deadlines) - now) * 1000) + 1)
        for fd, _ in poller.poll(wait_ms):
            if fd == self._wake[0]:
                _drain(fd)
            elif fd in by_fd and by_fd[fd] in self._workers:  # not removed by an earlier event of this round
                self._read(by_fd[fd])

    def _read(self, worker: _Worker) -> None:
        frames = worker.receive()
        if frames is None:
            self._lost(worker)
            return
        for frame in frames:
            if frame[0] == "ready":
                self._on_ready(worker, ok=frame[1], detail=frame[2], notes=frame[3])
            elif frame[0] == "failed":
                worker.note = frame[1]
            elif frame[0] == "done":
                self._on_done(worker, nonce=frame[1], result=(frame[2], frame[3]))
                self._on_notes(worker, frame[4])

    def _on_ready(self, worker: _Worker, ok: bool, detail: str, notes: tuple[str, ...]) -> None:
        worker.ready = True
        self._failed_starts = 0
        counters.count("worker_starts")
        with self._lock:
            self._ready += 1
            self._changed.notify_all()
        self._on_notes(worker, notes)
        if not ok:
            counters.count("worker_self_check_failures")
            counters.report(_log, logging.ERROR, "self_check",
                         "verify worker %d: the SymPy self-check %r vs %r did not come back equal (%s): symbolic "
                         "answers will be graded as errors; do sympy and latex2sympy2_extended work in %s?",
                         worker.proc.pid, *SELF_CHECK, detail, sys.executable)

    def _on_notes(self, worker: _Worker, notes: tuple[str, ...]) -> None:
        """A worker's faster LaTeX reading switched off (verdicts unchanged, checks slower): logged and counted."""
        for note in notes:
            counters.count("worker_notes")
            counters.report(_log, logging.WARNING, "worker_note", "verify worker %d: %s", worker.proc.pid, note)

    def _on_done(self, worker: _Worker, nonce: int, result: tuple[str, str]) -> None:
        task = worker.task
        if task is None or task.nonce != nonce:  # a stale reply to a task already settled: ignore it
            return
        worker.task = None
        worker.tasks += 1
        with self._lock:
            task.batch.settle(task.index, result)
        if worker.tasks >= self.config.max_tasks or not self._wanted:
            self._remove(worker)
            worker.kill()

    def _lost(self, worker: _Worker) -> None:
        """The worker ended by itself (end of file, or a failed write)."""
        self._remove(worker)
        worker.close_fds()
        code = worker.exit_code(0.5)
        if not worker.ready:
            self._failed_start(worker.note or f"exited with code {code} before it was ready")
            return
        counters.count("worker_deaths")
        counters.report(_log, logging.WARNING, "worker_death", "verify worker %d died (exit code %s); a replacement starts",
                     worker.proc.pid, code)
        if worker.task is not None:
            task, status = worker.task, "timeout" if code == -getattr(signal, "SIGXCPU", 0) else "died"
            with self._lock:
                if status == "died" and task.index not in task.batch.retried and not self._closed:
                    self._retry(task)  # once, on a fresh worker: the death may not be this check's doing
                else:
                    task.batch.settle(task.index, (status, f"worker died (exit code {code})"
                                                          + (", twice" if task.index in task.batch.retried else "")))

    def _retry(self, task: _Task) -> None:
        """Queue a task whose worker died under it again, first in line for a worker that has run nothing yet
        (lock held); its caller's wait grows by one worker start and one task."""
        batch = task.batch
        batch.retried.add(task.index)
        counters.count("worker_retries")
        batch.queue_deadline = batch._bounded(max(batch.queue_deadline, time.monotonic() + self.config.start_timeout
                                                  + batch.timeout + self.config.grace))
        self._retries.append((batch, task.index))

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            task = worker.task
            if worker not in self._workers:  # removed meanwhile (the pool was just disabled)
                continue
            if task is not None and now >= task.deadline:
                self._remove(worker)
                worker.kill()
                counters.count("worker_kills")
                with self._lock:
                    task.batch.settle(task.index, ("timeout", f"worker killed at {task.batch.timeout:.1f} s + grace"))
            elif not worker.ready and now >= worker.born + self.config.start_timeout:
                self._remove(worker)
                worker.kill()
                self._failed_start(f"not ready within {self.config.start_timeout:.0f} s")

    def _failed_start(self, note: str) -> None:
        counters.count("worker_failed_starts")
        self._failed_starts += 1
        self._last_failure = note
        counters.report(_log, logging.WARNING, "failed_start", "verify worker failed to start: %s", note)
        if self._failed_starts >= self.config.failed_starts and self._disabled_until is None:
            self._disable()

    def _disable(self) -> None:
        counters.count("pool_disabled")
        reason = f"{self._failed_starts} failed worker starts in a row (last: {self._last_failure})"
        _log.warning("verify worker pool disabled for %.0f s after %s; symbolic checks run in bounded threads "
                     "meanwhile, then worker processes are retried", self.config.disable_for, reason)
        with self._lock:  # logged first: a caller told "unavailable" finds the reason already in the log
            self._disabled_until = time.monotonic() + self.config.disable_for
            self._wanted = False
            self._fail_queue("unavailable", reason)
            self._changed.notify_all()
        for worker in list(self._workers):
            if worker.task is None:  # busy ones finish their task first
                self._remove(worker)
                worker.kill()

    def _expire_queue(self) -> None:
        """Tasks whose caller's deadline passed before any worker was free (lock held)."""
        now = time.monotonic()
        for batch in [b for b in self._queue if now >= b.queue_deadline or b.is_cancelled()]:
            self._queue.remove(batch)
            for index in batch.pending:
                batch.settle(index, ("queue", f"no worker was free within {batch.queue_wait:.1f} s"))
            batch.pending.clear()
        for batch, index in [r for r in self._retries if now >= r[0].queue_deadline or r[0].is_cancelled()]:
            self._retries.remove((batch, index))
            batch.settle(index, ("died", "worker died, and no fresh worker took the retry in time"))

    def _fail_queue(self, status: str, detail: str) -> None:
        """Settle every queued task (lock held)."""
        for batch in self._queue:
            for index in batch.pending:
                batch.settle(index, (status, detail))
            batch.pending.clear()
        self._queue.clear()
        for batch, index in self._retries:
            batch.settle(index, (status, detail))
        self._retries.clear()

    def _fail_everything(self, detail: str) -> None:
        for worker in list(self._workers):
            self._remove(worker)
            worker.kill()
            if worker.task is not None:
                with self._lock:
                    worker.task.batch.settle(worker.task.index, ("error", detail))
        with self._lock:
            self._fail_queue("error", detail)
            self._thread = None

    def _remove(self, worker: _Worker) -> None:
        if worker in self._workers:
            self._workers.remove(worker)
            self._exited.append(worker)
            if worker.ready:
                with self._lock:
                    self._ready -= 1

    def _reap(self) -> None:
        self._exited = [worker for worker in self._exited if worker.proc.poll() is None]


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> WorkerPool:
    """This process's pool (a forked child gets a fresh one; it never uses its parent's workers)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL.pid != os.getpid():
            _POOL = WorkerPool()
        return _POOL


def restart() -> None:
    """Close this process's workers; the next symbolic check starts fresh ones, with nothing parsed or cached
    (benchmarks use it, so a measured batch never reuses what the workers learned from earlier batches)."""
    global _POOL
    with _POOL_LOCK:
        old, _POOL = _POOL, None
    if old is not None and old.pid == os.getpid():
        old.close()


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
