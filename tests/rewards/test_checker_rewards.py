"""check_reward catches each way a user's reward can break the contract, and passes a good one."""

import math
import random
import time

import pytest

from rewards.completions import completion_texts
from rewards.testing import ADVERSARIAL, RewardContractError, check_reward


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
        (nan_on_empty, "not finite floats or None, first nan for completion ''"),
        (returns_bools, "first True"),
        (flaky, "not deterministic"),
        (lambda completions, **kw: [0.0] * len(completions), "__name__ is '<lambda>'"),
        (rejects_unknown, "unexpected keyword argument"),
    ],
)
def test_broken_rewards_are_reported(fn, message):
    with pytest.raises(RewardContractError) as info:
        check_reward(fn)
    assert message in str(info.value), str(info.value)


def test_unpicklable_reward_is_reported():
    def local(completions, **kwargs):
        return [0.0] * len(completions)

    with pytest.raises(RewardContractError, match="not picklable"):
        check_reward(local)


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
