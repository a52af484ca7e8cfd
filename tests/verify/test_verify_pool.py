"""The worker pool under load: callers served in turn, hard deadlines (alarm, kill, CPU limit), replies matched by
nonce, queue expiries apart from timeouts, failed starts that disable the pool only for a while, no orphans.
Tasks are crafted: payloads that unpickle, inside the worker, to ``time.sleep`` (interruptible), ``pbkdf2_hmac`` (a C
call no alarm interrupts) or a bigint ``pow`` (holds the GIL, so no Python thread of the worker runs), so durations do
not depend on SymPy. Bounds are generous hang and fairness guards, not speed tests."""

import hashlib
import logging
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time

import pytest
from pool_helpers import Sleep, busy_worker_pid

from rewards.answers import counters
from rewards.answers import pool as pool_module
from rewards.answers.normalize import normalize
from rewards.answers.pool import PoolConfig, WorkerPool, _Batch, _Task, _Worker

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYMBOLIC = (normalize(r"\sin 2x"), normalize(r"2\sin x\cos x"))


class Hash:
    """Unpickles to a ~minute-long ``pbkdf2_hmac``: one C call that checks no signals (the worker's alarm waits)."""

    def __reduce__(self):
        return hashlib.pbkdf2_hmac, ("sha256", b"x", b"y", 10**8)


class Power:
    """Unpickles to ``9 ** 10**9``: a bigint power that holds the GIL, so the worker's parent-pid watch never runs."""

    def __reduce__(self):
        return pow, (9, 10**9)


@pytest.fixture(scope="module")
def pools():
    """One private pool per size, shared by this module's tests (each leaves it able to serve)."""
    started: dict[int, WorkerPool] = {}
    yield started
    for workers in started.values():
        workers.close()


@pytest.fixture
def start_pool(pools):
    def start(workers: int) -> WorkerPool:
        if workers not in pools:
            pools[workers] = WorkerPool(PoolConfig(workers=workers))
        assert pools[workers].wait_ready(120), "workers did not start"
        return pools[workers]

    return start


def _run_in_thread(workers: WorkerPool, tasks: list, timeout: float) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def work():
        start = time.monotonic()
        box["results"] = workers.run(tasks, timeout)
        box["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=work)
    thread.start()
    return thread, box


def test_a_single_check_waits_about_one_task_behind_another_threads_batch(start_pool):
    workers = start_pool(workers=2)
    batch, box = _run_in_thread(workers, [(Sleep(0.6), None)] * 30, timeout=5.0)  # 30 x 0.6 s on 2 workers: ~9 s
    time.sleep(0.5)
    start = time.monotonic()
    assert workers.run([SYMBOLIC], timeout=5.0) == [("equal", "")]
    waited = time.monotonic() - start
    batch.join(60)
    assert box["seconds"] > 8.0  # the batch really was long ...
    assert waited < 3.0  # ... and the single check was served after about one of its tasks, not after all of them


def test_callers_are_served_in_turn_one_task_each(start_pool):
    workers = start_pool(workers=1)
    first, first_box = _run_in_thread(workers, [(Sleep(0.3), None)] * 6, timeout=5.0)
    time.sleep(0.4)
    second, second_box = _run_in_thread(workers, [(Sleep(0.3), None)] * 2, timeout=5.0)
    first.join(60)
    second.join(60)
    assert second_box["seconds"] < first_box["seconds"] - 0.5  # the later, smaller batch finished first


def test_python_overrun_is_interrupted_and_c_overrun_is_killed(start_pool):
    workers = start_pool(workers=1)
    before = counters.stats()
    start = time.monotonic()
    [(status, detail)] = workers.run([(Sleep(30), None)], timeout=0.5)
    assert status == "timeout" and "interrupted" in detail and time.monotonic() - start < 5
    [(status, detail)] = workers.run([(Hash(), None)], timeout=0.5)
    assert status == "timeout" and "killed" in detail and time.monotonic() - start < 10
    assert counters.stats()["worker_kills"] == before["worker_kills"] + 1
    assert workers.run([SYMBOLIC], timeout=30.0) == [("equal", "")]  # a replacement serves the next task


def test_queue_expiry_is_reported_apart_from_a_timeout(start_pool):
    workers = start_pool(workers=1)
    busy, _ = _run_in_thread(workers, [(Sleep(4), None)], timeout=10.0)
    time.sleep(0.5)
    start = time.monotonic()
    [(status, detail)] = workers.run([SYMBOLIC], timeout=0.2)
    assert status == "queue" and "no worker" in detail
    assert time.monotonic() - start < 3.0
    busy.join(60)


def test_a_worker_dying_mid_task_twice_reports_died_and_is_replaced(start_pool):
    workers = start_pool(workers=1)
    before = counters.stats()
    busy, box = _run_in_thread(workers, [(Sleep(10), None)], timeout=20.0)
    first = busy_worker_pid(workers)
    os.kill(first, signal.SIGKILL)
    os.kill(busy_worker_pid(workers, other_than=first), signal.SIGKILL)  # the retry, on a fresh worker
    busy.join(60)
    [(status, detail)] = box["results"]
    assert status == "died" and "exit code -9" in detail and "twice" in detail
    after = counters.stats()
    assert after["worker_deaths"] == before["worker_deaths"] + 2
    assert after["worker_retries"] == before["worker_retries"] + 1
    assert workers.run([SYMBOLIC], timeout=30.0) == [("equal", "")]


def test_replies_are_matched_by_nonce_and_stale_ones_ignored():
    workers = WorkerPool(PoolConfig(workers=1))
    workers._wanted = True
    batch = _Batch([SYMBOLIC], timeout=1.0, queue_wait=1.0)

    class Busy:
        task = _Task(batch, index=0, nonce=7, deadline=time.monotonic() + 10)
        tasks = 0

    worker = Busy()
    workers._on_done(worker, nonce=6, result=("equal", ""))  # a late reply to an earlier task
    assert batch.results == [None] and worker.task is not None
    workers._on_done(worker, nonce=7, result=("not_equal", ""))
    assert batch.results == [("not_equal", "")] and worker.task is None


def test_failed_starts_disable_the_pool_for_a_while_then_it_retries(monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="rewards")
    monkeypatch.setattr(pool_module, "_BOOT", "raise SystemExit(3)")
    workers = WorkerPool(PoolConfig(workers=2, failed_starts=3, disable_for=2.0))
    try:
        [(status, detail)] = workers.run([SYMBOLIC], timeout=5.0)
        assert status == "unavailable" and "exited with code 3" in detail
        assert workers.run([SYMBOLIC], timeout=5.0)[0][0] == "unavailable"  # still off: no new start
        assert any("disabled for 2 s" in r.getMessage() for r in caplog.records)
        monkeypatch.undo()
        time.sleep(2.2)
        assert workers.run([SYMBOLIC], timeout=60.0) == [("equal", "")]
        assert any("retrying" in r.getMessage() for r in caplog.records)
    finally:
        workers.close()


def test_cpu_limit_ends_a_worker_stuck_in_c_when_nobody_kills_it():
    worker = _Worker(PoolConfig(cpu_margin=0.5))
    try:
        _wait_for_frame(worker, "ready", within=120)
        payload = pickle.dumps((Hash(), None))
        assert worker.send(pool_module._frame((1, 0.5, payload)))
        code = worker.exit_code(60)  # the parent never kills it; its own RLIMIT_CPU does
        assert code == -signal.SIGXCPU
    finally:
        worker.kill()


def test_no_worker_outlives_a_sigkilled_parent_even_inside_a_long_c_call():
    code = (
        "import sys, threading, time\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from rewards.answers.pool import PoolConfig, WorkerPool\n"
        "class Power:\n"
        "    def __reduce__(self):\n"
        "        return pow, (9, 10**9)\n"
        "workers = WorkerPool(PoolConfig(workers=2))\n"
        "assert workers.wait_ready(120)\n"
        "threading.Thread(target=workers.run, args=([(Power(), None)] * 2, 600.0), daemon=True).start()\n"
        "time.sleep(1.0)\n"
        "print(' '.join(str(w.proc.pid) for w in workers._workers), flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code, ROOT], stdout=subprocess.PIPE, text=True)
    pids = []
    try:
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
        assert all(_cpu_seconds(pid) >= 0 for pid in pids)
        parent.kill()
        parent.wait(10)
        time.sleep(3.0)
        assert [pid for pid in pids if _alive(pid)] == []
    finally:
        parent.kill()
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_forked_child_closes_the_parents_worker_pipes():
    workers = pool_module.pool()
    assert workers.wait_ready(120)
    fds = [fd for worker in workers._workers for fd in (worker.write_fd, worker.read_fd)]
    assert fds and all(_is_open(fd) for fd in fds)
    child = os.fork()
    if child == 0:
        os._exit(0 if not any(_is_open(fd) for fd in fds) else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert all(_is_open(fd) for fd in fds)  # the parent's own are untouched


def _wait_for_frame(worker: _Worker, kind: str, within: float) -> tuple:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        ready, _, _ = select.select([worker.read_fd], [], [], 1.0)
        if ready:
            frames = worker.receive()
            assert frames is not None, "the worker died"
            for frame in frames:
                if frame[0] == kind:
                    return frame
    raise AssertionError(f"no {kind!r} frame within {within} s")


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return False


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False
