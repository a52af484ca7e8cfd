"""Outcomes, counters and logging: every status with the step that decided it; timeouts, queue expiries and errors
counted apart, logged, never cached; one bad pair never costs the others; a broken SymPy fails loudly."""

import collections
import logging
import os
import subprocess
import sys
import threading
import time

import pytest
from pool_helpers import Sleep

import rewards
from rewards.answers import counters, engine
from rewards.answers.normalize import Answer, normalize
from rewards.answers.outcome import Outcome, Status
from rewards.answers.pool import PoolConfig, WorkerPool

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYMBOLIC = (r"\boxed{\tan x \cos x}", r"\sin x")


@pytest.fixture(autouse=True)
def cold_cache_and_fresh_log_limits(monkeypatch):
    engine.clear_cache()
    monkeypatch.setattr(counters, "_reported", collections.Counter())  # earlier tests used up the first few logs


def _delta(before: dict) -> dict:
    return {key: value - before[key] for key, value in rewards.stats().items() if value != before[key]}


@pytest.mark.parametrize("pred,gold,status,path,answer,gold_read", [
    ("<answer>4</answer>", "4", Status.EQUAL, "string", "4", "4"),
    ("<answer>0.5</answer>", r"$\frac12$", Status.EQUAL, "numbers", "0.5", r"\frac12"),
    ("<answer>5</answer>", "4", Status.NOT_EQUAL, "numbers", "5", "4"),
    (r"so $\boxed{2\sin x\cos x}$", r"\sin 2x", Status.EQUAL, "sympy", r"2\sin x\cos x", r"\sin 2x"),
    (r"so $\boxed{\sin 3x}$", r"\cos x", Status.NOT_EQUAL, "sympy", r"\sin 3x", r"\cos x"),
    ("I have no idea.", "4", Status.NO_ANSWER, "extraction", None, "4"),
    (None, "4", Status.NO_ANSWER, "input", None, None),
    (b"4", "4", Status.NO_ANSWER, "input", None, None),
    ("<answer>4</answer>", None, Status.GOLD_UNPARSABLE, "input", None, None),
    ("<answer>4</answer>", "", Status.GOLD_UNPARSABLE, "extraction", "4", None),
    ("<answer>4</answer>", r"\frac{1}{", Status.GOLD_UNPARSABLE, "sympy", "4", r"\frac{1}{"),
])
def test_each_status_with_the_step_that_decided(pred, gold, status, path, answer, gold_read):
    outcome = rewards.grade(pred, gold)
    assert (outcome.status, outcome.path, outcome.answer, outcome.gold) == (status, path, answer, gold_read)
    assert outcome.equal is (status is Status.EQUAL) is rewards.verify(pred, gold)
    assert outcome.decided is (status in (Status.EQUAL, Status.NOT_EQUAL, Status.NO_ANSWER))


def test_a_malformed_pair_is_an_input_error():
    assert [o.status for o in rewards.grade_batch([None, ("1",), ("1", "1")])] == [Status.ERROR, Status.ERROR,
                                                                                  Status.EQUAL]


def test_repeated_checks_come_from_the_cache_and_say_what_decided_them():
    assert rewards.grade(*SYMBOLIC).path == "sympy"
    again = rewards.grade(*SYMBOLIC)
    assert (again.status, again.path, again.detail) == (Status.EQUAL, "cache", "by sympy")


def test_counters_count_each_pair_once_by_status():
    before = rewards.stats()
    rewards.grade_batch([("<answer>4</answer>", "4"), ("<answer>4</answer>", "4"), ("5", "4"), (None, "4"),
                         ("4", "")])
    assert _delta(before) == {"checks": 5, "equal": 2, "not_equal": 1, "no_answer": 1, "gold_unparsable": 1}


class SlowAnswer(Answer):
    """An answer whose copy in the worker takes 30 s to unpickle: a check that must run into its budget."""

    def __reduce__(self):
        return Sleep(30).__reduce__()


def test_a_timeout_is_counted_logged_and_not_cached(monkeypatch, caplog):
    real = engine.read_pair
    monkeypatch.setattr(engine, "read_pair", lambda answer, target: (SlowAnswer(r"\sin 7x"), normalize(target))
                        if answer == "slow" else real(answer, target))
    before, timeouts = rewards.stats(), rewards.timeout_count()
    outcome = rewards.grade(r"\boxed{slow}", "1", timeout=0.5)
    assert (outcome.status, outcome.path) == (Status.TIMEOUT, "sympy") and not outcome.equal
    assert rewards.timeout_count() == timeouts + 1 and _delta(before)["real_timeouts"] == 1
    assert any(r.levelno == logging.WARNING and "budget" in r.getMessage() for r in caplog.records)
    assert rewards.grade(r"\boxed{slow}", "1", timeout=0.5).path == "sympy"  # not from the cache
    assert rewards.grade(*SYMBOLIC).equal  # the worker serves the next check


def test_a_queue_expiry_is_counted_apart_from_timeouts(monkeypatch):
    busy_pool = WorkerPool(PoolConfig(workers=1))
    try:
        assert busy_pool.wait_ready(120)
        monkeypatch.setattr(engine, "pool", lambda: busy_pool)
        blocker = threading.Thread(target=busy_pool.run, args=([(Sleep(4), None)], 10.0))
        blocker.start()
        time.sleep(0.5)
        before, timeouts = rewards.stats(), rewards.timeout_count()
        outcome = rewards.grade(*SYMBOLIC, timeout=0.2)
        assert (outcome.status, outcome.path) == (Status.TIMEOUT, "queue")
        assert rewards.timeout_count() == timeouts and _delta(before)["queue_expiries"] == 1
        blocker.join(60)
        assert rewards.grade(*SYMBOLIC, timeout=10.0).path == "sympy"  # the expiry was not cached
    finally:
        busy_pool.close()


class StubPool:
    """Answers every task with one fixed pool result (the engine submits, extends, then collects a batch)."""

    def __init__(self, result):
        self.result = result

    def submit(self, tasks, timeout):
        return list(tasks)

    def extend(self, batch, tasks):
        batch.extend(tasks)

    def collect(self, batch):
        return [self.result] * len(batch)


@pytest.mark.parametrize("result,status,path,cached", [
    (("equal", ""), Status.EQUAL, "sympy", True),
    (("undecided", ""), Status.NOT_EQUAL, "sympy", True),
    (("gold_unparsable", ""), Status.GOLD_UNPARSABLE, "sympy", True),
    (("error", "ImportError: broken"), Status.ERROR, "sympy", False),
    (("died", "worker died (exit code -9)"), Status.ERROR, "worker", False),
    (("timeout", "worker killed"), Status.TIMEOUT, "sympy", False),
    (("queue", "no worker was free"), Status.TIMEOUT, "queue", False),
])
def test_pool_results_map_to_outcomes_and_only_verdicts_are_cached(monkeypatch, result, status, path, cached):
    monkeypatch.setattr(engine, "pool", lambda: StubPool(result))
    outcome = rewards.grade(*SYMBOLIC)
    assert (outcome.status, outcome.path, outcome.detail) == (status, path, "undecided" if result[0] == "undecided"
                                                             else result[1])
    assert (rewards.grade(*SYMBOLIC).path == "cache") is cached


def test_unavailable_workers_fall_back_to_a_bounded_thread(monkeypatch):
    monkeypatch.setattr(engine, "pool", lambda: StubPool(("unavailable", "no workers here")))
    before = rewards.stats()
    outcome = rewards.grade(*SYMBOLIC)
    assert (outcome.status, outcome.path) == (Status.EQUAL, "thread")
    assert _delta(before)["thread_fallbacks"] == 1


@pytest.mark.parametrize("target,step", [("read_pair", "normalization"), ("extract_answer", "extraction"),
                                         ("gold_answer", "extraction")])
def test_one_pair_that_breaks_a_step_is_an_error_and_the_others_keep_their_verdicts(monkeypatch, caplog, target,
                                                                                     step):
    real = getattr(engine, target)

    def broken(text, *args):
        if "13" in text:
            raise ValueError("broken on purpose")
        return real(text, *args)

    monkeypatch.setattr(engine, target, broken)
    before = rewards.stats()
    pairs = [("<answer>12</answer>", "12"), ("<answer>13</answer>", "13"), (r"\boxed{\sin 2x}", r"2\sin x\cos x"),
             ("<answer>14</answer>", "15")]
    outcomes = rewards.grade_batch(pairs)
    assert [o.status for o in outcomes] == [Status.EQUAL, Status.ERROR, Status.EQUAL, Status.NOT_EQUAL]
    assert outcomes[1].path == step and "broken on purpose" in outcomes[1].detail
    assert _delta(before)["error"] == 1
    assert any(r.levelno == logging.ERROR and "broken on purpose" in r.getMessage() for r in caplog.records)


def test_a_comparison_that_raises_in_process_is_an_error_for_that_pair_only(monkeypatch):
    real = engine.numbers.decide
    monkeypatch.setattr(engine.numbers, "decide",
                        lambda p, g: 1 / 0 if p.text == "13" else real(p, g))
    outcomes = rewards.grade_batch([("<answer>13</answer>", "13"), ("<answer>12</answer>", "12")])
    assert [(o.status, o.path) for o in outcomes] == [(Status.ERROR, "numbers"), (Status.EQUAL, "string")]
    assert "ZeroDivisionError" in outcomes[0].detail
    monkeypatch.undo()
    assert rewards.grade("<answer>13</answer>", "13").path == "string"  # the error was not cached


def test_repeated_messages_are_rate_limited_with_their_count(caplog):
    log = logging.getLogger("rewards.test")
    caplog.set_level(logging.WARNING, logger="rewards")
    for i in range(250):
        counters.report(log, logging.WARNING, "test_repeats", "event %d", i)
    messages = [r.getMessage() for r in caplog.records if r.name == "rewards.test"]
    assert len(messages) == counters.FIRST_LOGGED + 2  # the first five, the 100th and the 200th
    assert messages[0] == "event 0" and messages[-2].startswith("event 99 [test_repeats #100;")


def test_warm_up_proves_the_symbolic_path():
    before = rewards.stats()
    assert rewards.warm_up(wait=True) is None
    assert rewards.stats()["worker_self_check_failures"] == before["worker_self_check_failures"]


def test_a_broken_latex2sympy2_extended_fails_loudly(tmp_path):
    fake = tmp_path / "latex2sympy2_extended"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('latex2sympy2_extended is broken on purpose')\n")
    code = (
        "import logging, rewards\n"
        "records = []\n"
        "handler = logging.Handler(); handler.emit = records.append\n"
        "logging.getLogger('rewards').addHandler(handler)\n"
        "try:\n"
        "    rewards.warm_up(wait=True)\n"
        "    raise SystemExit('warm_up(wait=True) did not raise')\n"
        "except RuntimeError as exc:\n"
        "    assert 'self-check failed' in str(exc) and 'broken on purpose' in str(exc), exc\n"
        f"first, again = rewards.grade(*{SYMBOLIC!r}), rewards.grade(*{SYMBOLIC!r})\n"
        "for outcome in (first, again):  # an error, not a 'not equal', and never cached\n"
        "    assert (outcome.status, outcome.path) == ('error', 'sympy'), outcome\n"
        "    assert 'broken on purpose' in outcome.detail, outcome\n"
        "counted = rewards.stats()\n"
        "assert counted['error'] == 2 and counted['worker_self_check_failures'] >= 1, counted\n"
        "assert any(r.levelno >= logging.WARNING and 'self-check' in r.getMessage() for r in records), records\n"
        "assert any(r.levelno >= logging.WARNING and 'broken on purpose' in r.getMessage() for r in records)\n"
        "assert rewards.verify('<answer>4</answer>', '4') is True  # the in-process paths still work\n"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=180, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), ROOT])})
    assert done.returncode == 0, done.stderr[-3000:]


def test_a_failing_direct_latex_reader_in_a_worker_is_logged_counted_and_leaves_the_verdict(tmp_path):
    """Break the workers' direct LaTeX reader (a sitecustomize every worker runs): on texts with ``w`` (no start-up
    probe or warm-up text has one) it raises. The check still gets the library's verdict, the worker switches the reader off,
    and the parent logs a WARNING and counts ``worker_notes``."""
    (tmp_path / "sitecustomize.py").write_text(
        "from rewards.answers import latex_direct\n"
        "original = latex_direct.read\n"
        "def broken(latex):\n"
        "    if 'w' in latex:\n"
        "        raise TypeError('the direct reader is broken on purpose')\n"
        "    return original(latex)\n"
        "latex_direct.read = broken\n")
    code = (
        "import logging, rewards\n"
        "records = []\n"
        "handler = logging.Handler(); handler.emit = records.append\n"
        "logging.getLogger('rewards').addHandler(handler)\n"
        "rewards.warm_up(wait=True)\n"
        "assert rewards.stats()['worker_notes'] == 0, rewards.stats()  # the probes still read alike\n"
        "outcome = rewards.grade(r'\\boxed{\\sin^2 w+\\cos^2 w}', '1')\n"
        "assert (outcome.status, outcome.path) == ('equal', 'sympy'), outcome\n"
        "assert rewards.stats()['worker_notes'] == 1, rewards.stats()\n"
        "assert any(r.levelno == logging.WARNING and 'broken on purpose' in r.getMessage()\n"
        "           and 'direct LaTeX reader is off' in r.getMessage() for r in records), records\n"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=180, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), ROOT]),
                               "GRPOKIT_VERIFY_WORKERS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]


def test_outcome_fields_and_values():
    outcome = Outcome(Status.TIMEOUT, "x", "y", "queue", "no worker")
    assert (outcome.equal, outcome.decided, str(outcome.status)) == (False, False, "timeout")
    assert Status("gold_unparsable") is Status.GOLD_UNPARSABLE and Status.EQUAL == "equal"
