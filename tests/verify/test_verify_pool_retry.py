"""A check whose verify worker dies under it is retried once, on a worker that has run nothing yet, so one dead
worker never turns a right answer into a silent 0; a second death is an ``error`` outcome. Real worker processes,
killed with SIGKILL mid-check."""

import operator
import os
import signal
import threading
import time

import pytest
from pool_helpers import Sleep, busy_worker_pid

from rewards.answers import counters, engine
from rewards.answers.normalize import normalize
from rewards.answers.outcome import Status
from rewards.answers.pool import PoolConfig, WorkerPool

SYMBOLIC = (normalize(r"\sin 2x"), normalize(r"2\sin x\cos x"))


class Pair:
    """A ``(pred, gold)`` task that unpickles, inside the worker, to ``pair`` after sleeping ``seconds`` (only
    standard-library calls, so the worker imports nothing of the tests): a check that holds its worker long
    enough to be killed mid-check, then comes back with the pair's own verdict."""

    def __init__(self, pair: tuple, seconds: float = 1.5):
        self.pair, self.seconds = pair, seconds

    def __reduce__(self):
        return operator.getitem, ((Sleep(self.seconds), self.pair), 1)


@pytest.fixture(scope="module")
def workers():
    pool = WorkerPool(PoolConfig(workers=1))
    assert pool.wait_ready(120), "workers did not start"
    yield pool
    pool.close()


def test_a_check_whose_worker_is_killed_is_retried_on_a_fresh_worker_and_keeps_its_verdict(workers):
    before = counters.stats()
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("r", workers.run([Pair(SYMBOLIC)], timeout=30.0)))
    thread.start()
    killed = busy_worker_pid(workers)
    time.sleep(0.3)  # mid-check: the task is sleeping inside the worker
    os.kill(killed, signal.SIGKILL)
    thread.join(120)
    assert box["r"] == [("equal", "")]
    after = counters.stats()
    assert after["worker_deaths"] == before["worker_deaths"] + 1
    assert after["worker_retries"] == before["worker_retries"] + 1


def test_the_retry_goes_to_a_worker_that_has_run_nothing(workers):
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("r", workers.run([Pair(SYMBOLIC)], timeout=30.0)))
    thread.start()
    killed = busy_worker_pid(workers)
    os.kill(killed, signal.SIGKILL)
    retried_on = busy_worker_pid(workers, other_than=killed)
    assert next(w for w in workers._workers if w.proc.pid == retried_on).tasks == 0
    thread.join(120)
    assert box["r"] == [("equal", "")]


def test_grade_batch_keeps_a_right_answer_when_its_worker_dies_once(monkeypatch, workers):
    """Through the engine (the accuracy reward's path): the killed check comes back equal, not a 0."""
    monkeypatch.setattr(engine, "pool", lambda: workers)
    engine.clear_cache()
    original = workers.extend

    def slow_extend(batch, tasks):  # each check holds its worker ~1.5 s first, so it can be killed mid-check
        original(batch, [Pair(SYMBOLIC) for _ in tasks])

    monkeypatch.setattr(workers, "extend", slow_extend)
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("r", engine.grade_batch([(r"$\sin 2x$", r"2\sin x\cos x")])))
    thread.start()
    os.kill(busy_worker_pid(workers), signal.SIGKILL)
    thread.join(120)
    [outcome] = box["r"]
    assert outcome.status is Status.EQUAL and outcome.path == "sympy"
    engine.clear_cache()
