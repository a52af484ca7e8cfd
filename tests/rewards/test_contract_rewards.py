"""The reward contract on every registered reward: check_reward from the main thread, a thread, a process
and asyncio, plus 1,000 Hypothesis batches per reward (length, range, None rule, order and form independence)."""

import asyncio
import math
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis_profiles import examples

import rewards
from rewards.completions import completion_text, gold_text
from rewards.testing import batches, check_reward

PARAMS = {"soft_overlong": {"max_len": 200, "cache_len": 50}, "accuracy": {"timeout": 2.0},
          "length": {"timeout": 2.0}, "cosine": {"max_len": 200, "timeout": 2.0}}
NAMES = rewards.names()
GOLD_BASED = {"accuracy", "exact_match", "iou", "length", "cosine"}
IN_RANGE = {
    "format": lambda v: v in (0.0, 1.0),
    "format_partial": lambda v: 0.0 <= v <= 1.0 + 1e-12,
    "tag_count": lambda v: v in (0.0, 0.25, 0.5, 0.75, 1.0),
    "accuracy": lambda v: v in (0.0, 1.0),
    "exact_match": lambda v: v in (0.0, 1.0),
    "iou": lambda v: 0.0 <= v <= 1.0,
    "length": lambda v: -0.5 <= v <= 0.5,
    "cosine": lambda v: -1.0 <= v <= 1.0,
    "repetition": lambda v: -1.0 <= v <= 0.0,
    "soft_overlong": lambda v: -1.0 <= v <= 0.0,
    "length_penalty": lambda v: -1.0 <= v <= 0.0,
    "reasoning_steps": lambda v: 0.0 <= v <= 1.0,
}


def build(name):
    return rewards.get(name, **PARAMS.get(name, {}))


def test_every_builtin_has_a_range_rule():
    assert set(IN_RANGE) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_check_reward_main_thread(name):
    report = check_reward(build(name), time_limit=60)
    assert report.calls == 5 and not report.problems


def test_check_reward_from_a_thread():
    failures = []

    def work():
        for name in NAMES:
            try:
                check_reward(build(name), time_limit=60)
            except AssertionError as exc:
                failures.append(str(exc))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(300)
    assert not worker.is_alive() and failures == []


def test_check_reward_in_a_spawned_process_on_pickled_rewards():
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        reports = list(pool.map(check_reward, [build(name) for name in NAMES]))
    assert [r.name for r in reports] == NAMES and all(not r.problems for r in reports)


def test_rewards_run_under_asyncio():
    batch = ["<think>a</think><answer>4</answer>", [{"role": "assistant", "content": "<answer>5</answer>"}]]

    async def main():
        fns = [build(name) for name in NAMES]
        threaded = await asyncio.gather(*(asyncio.to_thread(fn, batch, solution="4") for fn in fns))
        inline = [fn(batch, solution="4") for fn in fns]
        return threaded, inline

    threaded, inline = asyncio.run(main())
    assert threaded == inline


def _strategy(name):
    # verify-backed rewards get cheap golds and no SymPy bombs so 1,000 examples stay fast.
    return batches(max_size=4, malformed=True, latex_bombs=name not in GOLD_BASED)


def _reverse(completions, kwargs):
    flipped = {k: list(reversed(v)) if isinstance(v, list) else v for k, v in kwargs.items()}
    return list(reversed(completions)), flipped


@pytest.mark.hypothesis  # its @given is inside: marked so that `make fuzz` (-m hypothesis) runs it
@pytest.mark.parametrize("name", NAMES)
def test_property_1000_batches(name):
    fn = build(name)

    @settings(max_examples=examples(1000), suppress_health_check=list(HealthCheck))
    @given(_strategy(name))
    def run(batch):
        completions, kwargs = batch
        values = fn(completions, **kwargs)
        assert len(values) == len(completions)
        for value, gold in zip(values, kwargs["solution"], strict=True):
            if name in GOLD_BASED:
                assert (value is None) == (gold_text(gold).strip() == "")
            else:
                assert value is not None
            assert value is None or (type(value) is float and math.isfinite(value) and IN_RANGE[name](value))
        texts = [completion_text(c) for c in completions]
        assert fn(texts, **kwargs) == values  # conversational and string forms agree
        flipped, flipped_kwargs = _reverse(completions, kwargs)
        assert fn(flipped, **flipped_kwargs) == values[::-1]  # order never matters, groups stay groups

    run()
