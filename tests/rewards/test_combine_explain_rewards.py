"""combine (weighted, None-aware, picklable) and explain (what a reward saw)."""

import pickle

import pytest

import rewards
from rewards.testing import check_reward

GOOD = "<think>2+2</think><answer>4</answer>"


def test_combine_weighted_sum_and_name():
    fn = rewards.combine({"format": 0.5, "accuracy": 2.0})
    assert fn.__name__ == "format+accuracy"
    assert fn([GOOD, "<answer>5</answer>"], solution="4") == [2.5, 0.0]


def test_combine_none_aware():
    fn = rewards.combine([("accuracy", 1.0), (rewards.get("exact_match"), 1.0)], name="acc")
    assert fn([GOOD, GOOD], solution=["4", ""]) == [2.0, None]  # all parts None -> None
    mixed = rewards.combine({"accuracy": 1.0, "format": 0.25})
    assert mixed([GOOD], solution=[""]) == [0.25]  # a None part adds nothing


def test_combine_is_picklable_and_passes_the_checker():
    fn = rewards.combine({rewards.get("cosine", max_len=50): 1.0, "repetition": 0.5}, name="cosine_rep")
    assert pickle.loads(pickle.dumps(fn))([GOOD], solution="4") == fn([GOOD], solution="4")
    assert check_reward(fn).problems == []


@pytest.mark.parametrize(
    "weights,message",
    [
        ({}, "at least one"),
        ({"nope": 1.0}, "unknown reward 'nope'"),
        ({"format": "high"}, "invalid weight 'high'"),
        ({"format": float("nan")}, "invalid weight nan"),
        ({3: 1.0}, "neither a reward name nor a callable"),
    ],
)
def test_combine_rejects_bad_input(weights, message):
    with pytest.raises(ValueError, match=message):
        rewards.combine(weights)


def test_combine_reports_a_part_with_the_wrong_length():
    fn = rewards.combine({rewards.format(): 1.0, _two: 1.0})
    with pytest.raises(ValueError, match="reward '_two' returned 2 values for 1 completions"):
        fn(["x"])


def _two(completions, **kwargs):
    return [0.0, 0.0]


def test_explain_builtin_reward():
    info = rewards.explain("cosine", [{"role": "assistant", "content": GOOD}], solution="4", completion_ids=[1] * 100)
    assert info["reward"] == "cosine" and info["text"] == GOOD
    assert info["length"] == 100 and info["length_unit"] == "tokens"
    assert info["answer"] == "4" and info["gold"] == "4" and info["gold_answer"] == "4"
    assert info["details"] == {"length": 100, "correct": True, "progress": 0.1, "answer": "4", "status": "equal"}
    assert info["value"] == rewards.cosine()([GOOD], solution="4", completion_ids=[[1] * 100])[0]
    assert info["outcome"]["status"] == "equal" and info["outcome"]["answer"] == "4"


@pytest.mark.parametrize("completion,gold,status,path,answer", [
    (GOOD, "4", "equal", "string", "4"),
    (r"<answer>\sin 2x</answer>", r"2\sin x\cos x", "equal", "sympy", r"\sin 2x"),
    ("<answer>5</answer>", "4", "not_equal", "numbers", "5"),
    ("I do not know.", "4", "no_answer", "extraction", None),
    ("<answer>4</answer>", r"\frac{1}{", "gold_unparsable", "sympy", "4"),
])
def test_explain_shows_the_outcome_of_an_accuracy_check(completion, gold, status, path, answer):
    from rewards.answers.engine import clear_cache

    clear_cache()
    info = rewards.explain("accuracy", completion, solution=gold)
    assert {key: info["outcome"][key] for key in ("status", "path", "answer")} == {
        "status": status, "path": path, "answer": answer}
    assert info["details"]["status"] == status
    assert "outcome" not in rewards.explain("format", completion)  # no answer check, no outcome


def test_explain_group_reward_and_format_reason():
    info = rewards.explain("length", "<answer>4</answer>", group=["<answer>4</answer> and more", "4"], solution="4")
    assert info["group_lengths"] == [18, 27, 1]
    assert info["details"]["group_min"] == 1 and info["details"]["group_max"] == 27
    assert info["value"] == pytest.approx(0.5 - 17 / 26)
    reason = rewards.explain("format", "<think>a</think><answer>4</answer> tail")["details"]["problem"]
    assert reason == "text after the last tag block"


def test_explain_group_with_token_ids_per_completion():
    info = rewards.explain("length", "<answer>4</answer>", group=["<answer>4</answer>"], solution="4",
                           completion_ids=[[1] * 10, [1] * 30])
    assert info["length_unit"] == "tokens" and info["group_lengths"] == [10, 30] and info["value"] == 0.5


def test_explain_combined_and_user_function():
    info = rewards.explain(rewards.combine({"format": 1.0, "accuracy": 2.0}), "<answer>4</answer>", solution="4")
    assert info["value"] == 2.0
    assert info["details"]["parts"]["accuracy"] == {"weight": 2.0, "value": 1.0, "gold": "4", "answer": "4",
                                                    "correct": True, "status": "equal"}
    assert info["outcome"]["status"] == "equal"
    assert info["details"]["parts"]["format"]["value"] == 0.0

    def mine(completions, **kwargs):
        return [7.0 for _ in completions]

    assert rewards.explain(mine, "x")["value"] == 7.0 and rewards.explain(mine, "x")["details"] == {}
