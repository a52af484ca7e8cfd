"""TRL's reward hooks: the completions-table columns (``log_extra``) and counts (``log_metric``) our rewards send
when a trainer passes them, a hook that raises never costing the step, and the async form TRL awaits."""

import asyncio
import logging
import pickle
from collections import defaultdict

import pytest

import rewards
from rewards.adapters import trl as hooks

COMPLETIONS = ["<think>a</think><answer>4</answer>", "<answer>5</answer>", "<think>no end", "Either 3 or 4."]
GOLD = ["4", "4", "4", "4"]


class Trainer:
    """What GRPOTrainer hands a reward: ``log_extra(column, values)`` and ``log_metric(name, value)``."""

    def __init__(self):
        self.columns, self.metrics = defaultdict(list), defaultdict(list)

    def kwargs(self):
        return {"log_extra": lambda c, v: self.columns[c].extend(v), "log_metric": lambda n, v: self.metrics[n].append(v)}


@pytest.mark.parametrize("name,params", [("accuracy", {}), ("length", {}), ("cosine", {"max_len": 50})])
def test_graded_rewards_log_the_answer_the_verdict_and_the_counts(name, params):
    trainer = Trainer()
    values = rewards.get(name, **params)(COMPLETIONS, solution=GOLD, **trainer.kwargs())
    assert values == rewards.get(name, **params)(COMPLETIONS, solution=GOLD)  # the hooks change no value
    assert trainer.columns[f"{name}/answer"] == ["4", "5", None, None]
    assert trainer.columns[f"{name}/status"] == ["equal", "not_equal", "no_answer", "no_answer"]
    assert trainer.metrics[f"rewards/{name}/no_answer"] == [2.0]
    assert trainer.metrics[f"rewards/{name}/timeout"] == trainer.metrics[f"rewards/{name}/error"] == [0.0]


@pytest.mark.parametrize("name,params,column,expected", [
    ("format", {}, "format/problem", [None, "<think> occurs 0 times (expected once)", "</think> occurs 0 times (expected once)",
                                      "<think> occurs 0 times (expected once)"]),
    ("exact_match", {}, "exact_match/answer", ["4", "5", None, None]),
    ("reasoning_steps", {}, "reasoning_steps/steps", [0, 0, 0, 0]),
])
def test_other_rewards_log_what_explains_their_value(name, params, column, expected):
    trainer = Trainer()
    rewards.get(name, **params)(COMPLETIONS, solution=GOLD, **trainer.kwargs())
    assert trainer.columns[column] == expected
    assert not trainer.metrics  # no graded answers, no counts


def test_every_column_has_one_value_per_completion():
    trainer = Trainer()
    for name in rewards.names():
        params = {"max_len": 10, "cache_len": 2} if name == "soft_overlong" else {}
        rewards.get(name, **params)(COMPLETIONS, solution=GOLD, **trainer.kwargs())
    assert trainer.columns and all(len(values) == len(COMPLETIONS) for values in trainer.columns.values())


def test_a_hook_that_raises_costs_no_value_and_warns_once(caplog):
    def broken(*args):
        raise RuntimeError("table full")

    hooks._warned.clear()
    fn = rewards.get("accuracy")
    with caplog.at_level(logging.WARNING, logger="rewards"):
        first = fn(COMPLETIONS, solution=GOLD, log_extra=broken, log_metric=broken)
        second = fn(COMPLETIONS, solution=GOLD, log_extra=broken, log_metric=broken)
    assert first == second == [1.0, 0.0, 0.0, 0.0]
    warnings = [r.getMessage() for r in caplog.records if "hook raised" in r.getMessage()]
    assert warnings == ["reward accuracy: the trainer's log_extra hook raised; its values are not logged",
                        "reward accuracy: the trainer's log_metric hook raised; its values are not logged"]


def test_the_async_form_is_what_trl_awaits_and_it_pickles():
    trl_utils = pytest.importorskip("trl.trainer.utils")
    fn = rewards.get("accuracy", asynchronous=True)
    assert fn.__name__ == "accuracy" and trl_utils.is_async_callable(fn) and trl_utils.get_callable_name(fn) == "accuracy"
    assert asyncio.run(fn(COMPLETIONS, solution=GOLD)) == [1.0, 0.0, 0.0, 0.0]
    again = pickle.loads(pickle.dumps(fn))
    assert again.__name__ == "accuracy" and asyncio.run(again(COMPLETIONS, solution=GOLD)) == [1.0, 0.0, 0.0, 0.0]


def test_async_rewards_run_concurrently(monkeypatch):
    import threading

    from rewards import registry

    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))  # the test's reward stays the test's

    barrier = threading.Barrier(4, timeout=30)

    def meets_the_others(completions, **kwargs):  # returns only once all four calls are running at once
        barrier.wait()
        return [1.0] * len(completions)

    rewards.register("meets_the_others", meets_the_others, overwrite=True)
    fns = [rewards.get("meets_the_others", asynchronous=True) for _ in range(4)]

    async def together():
        return await asyncio.gather(*(fn(["a"]) for fn in fns))

    assert asyncio.run(together()) == [[1.0]] * 4  # run one after another, the barrier would break
