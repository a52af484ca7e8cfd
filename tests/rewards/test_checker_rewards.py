"""check_reward catches each way a user's reward can break the contract, passes a good one, and agrees with TRL
on what TRL runs fine (async rewards, closures in-process, combine's names, bools), with notes for slowness."""

import asyncio
import builtins
import functools
import inspect
import math
import random
import sys
import time
import warnings

import pytest

import rewards
from rewards import testing
from rewards.completions import completion_texts
from rewards.testing import ADVERSARIAL, RewardContractError, SlowRewardWarning, check_reward


def good(completions, **kwargs):
    return [float(len(t) % 3) for t in completion_texts(completions)]


def strings_only(completions, **kwargs):  # the "conversational-only" anchor bug, mirrored
    return [float(c.startswith("<think>")) for c in completions]


def wrong_length(completions, **kwargs):
    return [0.0] * (len(completions) + 1)


def nan_on_empty(completions, **kwargs):
    return [math.nan if not t else 1.0 for t in completion_texts(completions)]


def returns_bools(completions, **kwargs):
    return [True for _ in completions]


def flaky(completions, **kwargs):
    return [random.random() for _ in completions]


def needs_solution_list(completions, solution, **kwargs):
    return [float(str(s) in t) for t, s in zip(completion_texts(completions), solution, strict=True)]


def slow(completions, **kwargs):
    time.sleep(2)
    return [0.0 for _ in completions]


def rejects_unknown(completions, solution=None, prompts=None, completion_ids=None):
    return [0.0 for _ in completions]


def test_good_reward_passes_and_reports():
    report = check_reward(good)
    assert report.name == "good" and report.calls == 5 and report.problems == []
    assert "contract holds" in str(report)


@pytest.mark.parametrize(
    "fn,message",
    [
        (strings_only, "conversational completions: raised"),
        (wrong_length, f"returned list with {len(ADVERSARIAL) + 1} values for {len(ADVERSARIAL)} completions"),
        (nan_on_empty, "not finite numbers or None, first nan for completion ''"),
        (flaky, "not deterministic"),
        (lambda completions, **kw: [0.0] * len(completions), "__name__ is '<lambda>'"),
        (rewards.combine({"format": 1.0}, name="format and more"), "__name__ is 'format and more'"),
        (rewards.combine({"format": 1.0}, name="rewards/format"), "__name__ is 'rewards/format'"),
        (rejects_unknown, "unexpected keyword argument"),
    ],
)
def test_broken_rewards_are_reported(fn, message):
    with pytest.raises(RewardContractError) as info:
        check_reward(fn)
    assert message in str(info.value), str(info.value)


def make_closure(bonus):
    def closure_reward(completions, **kwargs):
        return [bonus] * len(completions)

    return closure_reward


def test_closure_factory_is_a_note_in_process_and_a_problem_when_process_safety_is_asked():
    report = check_reward(make_closure(0.5))
    assert report.problems == [] and len(report.notes) == 1
    assert report.notes[0].startswith("not picklable: fine in-process (TRL, grpo-train), breaks process-based trainers")
    assert "note: not picklable" in str(report)
    with pytest.raises(RewardContractError, match="not picklable: fine in-process"):
        check_reward(make_closure(0.5), process_safe=True)


def test_picklable_reward_has_no_pickling_note():
    assert check_reward(good, process_safe=True).notes == []


@pytest.mark.parametrize("fn", [returns_bools, rewards.combine({"format": 0.5, "accuracy": 1.0}),
                                rewards.combine({"format": 1.0}, name="my.format-v2")])
def test_what_trl_runs_fine_passes(fn):
    assert check_reward(fn).problems == []


async def async_reward(completions, **kwargs):
    await asyncio.sleep(0)
    return [float(len(t) % 2) for t in completion_texts(completions)]


async def async_broken(completions, **kwargs):
    return [math.inf for _ in completions]


class AsyncCallable:
    """An object with async __call__: current TRL (is_async_callable) and ms-swift await it; TRL releases that
    test inspect.iscoroutinefunction(reward) do not."""

    __name__ = "async_callable"

    async def __call__(self, completions, **kwargs):
        return [0.0 for _ in completions]


def returns_a_coroutine(completions, **kwargs):  # a sync function handing back an unawaited coroutine
    return async_reward(completions, **kwargs)


def test_async_reward_is_awaited_and_checked():
    report = check_reward(async_reward)
    assert report.problems == [] and report.calls == 5 and report.notes == []
    named_partial = functools.partial(async_reward)
    named_partial.__name__ = "async_partial"
    assert check_reward(named_partial).problems == []
    with pytest.raises(RewardContractError, match="not finite numbers or None, first inf"):
        check_reward(async_broken)


def test_async_call_method_is_awaited_with_a_note_about_older_trl():
    assert not inspect.iscoroutinefunction(AsyncCallable())
    report = check_reward(AsyncCallable())
    assert report.problems == [] and len(report.notes) == 1 and "inspect.iscoroutinefunction" in report.notes[0]


def test_a_coroutine_from_a_sync_reward_is_a_problem_without_never_awaited_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a "coroutine was never awaited" RuntimeWarning would fail here
        with pytest.raises(RewardContractError, match="neither it nor its __call__ is an async function"):
            check_reward(returns_a_coroutine)


def per_completion_sleep(completions, **kwargs):
    time.sleep(0.02 * len(completions))
    return [0.0 for _ in completions]


def test_slow_reward_gets_a_note_and_a_warning_with_the_measured_time():
    with pytest.warns(SlowRewardWarning, match=r"slow: \d\.\d{3}s per completion \(3 completions in \d"):
        report = check_reward(per_completion_sleep, completions=["a", "b", "c"], slow_per_completion=0.01)
    assert report.problems == [] and report.per_completion_s >= 0.02
    assert any(note.startswith("slow: ") for note in report.notes)


def test_fast_reward_gets_no_slow_note():
    with warnings.catch_warnings():
        warnings.simplefilter("error", SlowRewardWarning)
        report = check_reward(good)
    assert report.notes == [] and report.per_completion_s < 0.1


def test_builtin_gold_key_gets_the_default_gold_column():
    assert check_reward(rewards.get("exact_match", gold_key="answer")).problems == []


@pytest.fixture
def no_hypothesis(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "hypothesis" or name.startswith("hypothesis."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    for module in [m for m in sys.modules if m == "hypothesis" or m.startswith("hypothesis.")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_hypothesis_is_needed_only_for_generated_examples(no_hypothesis):
    assert check_reward(good).problems == []
    with pytest.raises(ModuleNotFoundError, match=r"^check_reward\(examples=5\) needs hypothesis, which the 'dev' extra"):
        check_reward(good, examples=5)
    with pytest.raises(ModuleNotFoundError, match=r"rewards.testing.batches\(\) needs hypothesis.*grpokit\[dev\]"):
        testing.batches()


def test_time_limit_is_enforced_from_a_worker_thread():
    start = time.perf_counter()
    with pytest.raises(RewardContractError, match="still running after 0.5s from a worker thread"):
        check_reward(slow, time_limit=0.5)
    assert time.perf_counter() - start < 2


def test_user_columns_and_completions():
    assert check_reward(needs_solution_list, completions=["4", "x"], columns={"solution": ["4", "5"]}).calls == 5


def test_every_problem_is_listed_with_its_input():
    with pytest.raises(RewardContractError) as info:
        check_reward(strings_only, completions=list(ADVERSARIAL[:3]))
    text = str(info.value)
    assert "reward 'strings_only'" in text and "AttributeError" in text and "on input" in text


def breaks_on_answer_tag(completions, **kwargs):
    return [math.inf if "</answer>" in t and len(completions) > 1 else 0.0 for t in completion_texts(completions)]


def test_hypothesis_examples_find_and_shrink_a_failure():
    assert check_reward(breaks_on_answer_tag, completions=["x"]).problems == []
    with pytest.raises(RewardContractError, match="on a generated batch"):
        check_reward(breaks_on_answer_tag, completions=["x"], examples=300)


def differently_named(comps, **kwargs):
    return [0.0 for _ in comps]


def test_first_parameter_must_be_called_completions():
    with pytest.raises(RewardContractError, match="by keyword, as TRL passes them"):
        check_reward(differently_named)
