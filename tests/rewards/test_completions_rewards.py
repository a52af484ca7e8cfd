"""What rewards read from trainer input: completion text in every shape, columns, lengths, groups, and the loud missing gold."""

import pytest

import rewards
from rewards.completions import (
    column,
    completion_lengths,
    completion_text,
    completion_texts,
    gold_texts,
    group_ids,
    token_ids,
)


@pytest.mark.parametrize(
    "completion,expected",
    [
        ("plain", "plain"),
        ([{"role": "assistant", "content": "a"}], "a"),
        ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "tool", "content": "t"}], "a"),
        ([{"role": "user", "content": "only"}], "only"),  # no assistant message: the last one
        ([{"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "image"}, "b"]}], "ab"),
        ({"role": "assistant", "content": "single message"}, "single message"),
        ([{"role": "assistant"}], ""),
        ([{"role": "assistant", "content": None}], ""),
        ([], ""),
        (None, ""),
        (42, ""),
        (b"bytes", ""),
    ],
)
def test_completion_text(completion, expected):
    assert completion_text(completion) == expected


def test_completion_texts_batches():
    assert completion_texts(("a", "b")) == ["a", "b"]
    assert completion_texts(iter(["a"])) == ["a"]
    assert completion_texts("not a batch") == [] and completion_texts(None) == []


def test_columns_broadcast_pad_and_gold_text():
    assert column({"solution": "4"}, "solution", 3) == ["4", "4", "4"]
    assert column({"solution": ["1"]}, "solution", 2) == ["1", None]
    assert column({}, "solution", 2) == [None, None]
    assert gold_texts({"solution": [" 4 ", 0.5, ["1", "2"], {"answer": 3}, None]}, "solution", 5) == ["4", "0.5", "1, 2", "3", ""]


def test_lengths_and_token_ids():
    assert completion_lengths(["abc", "d"], [[1, 2], [3, 4, 5]]) == [2, 3]
    assert completion_lengths(["abc", "d"], [[1, 2]]) == [3, 1]  # not one id list per completion: characters
    assert completion_lengths(["abc", "d"], [[1, 2], None]) == [3, 1]
    assert token_ids([[1, 2], (3,)], 2) == [[1, 2], [3]]
    assert token_ids(["ab", "c"], 2) is None


def test_group_ids():
    chat_a, chat_b = [{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]
    assert group_ids([chat_a, chat_b, chat_a], 3) == [0, 1, 0]
    assert group_ids(["x", "y"], 3) == [0, 0, 0]  # wrong length: one group
    assert group_ids(None, 2) == [0, 0]


@pytest.mark.parametrize(
    "kwargs,key,message",
    [
        ({}, "solution", "no gold column 'solution' (gold_key='solution'); received columns: (none); pass the gold"),
        ({"solution": None}, "solution", "received columns: (none)"),
        ({"question": ["q"], "answer": ["4"]}, "solution", "received columns: answer, question; the gold answers look "
                                                          "like they are in 'answer': pass gold_key='answer'"),
        ({"solution": ["4"]}, "answer", "no gold column 'answer' (gold_key='answer'); received columns: solution; the "
                                        "gold answers look like they are in 'solution'"),
        ({"prompts": ["p"], "trainer_state": object(), "log_extra": print, "log_metric": print}, "solution",
         "received columns: prompts; pass"),  # trainer extras are not columns
        ({"ground_truth": ["4"], "label": ["4"]}, "solution", "look like they are in 'ground_truth'"),
    ],
)
def test_a_gold_column_missing_altogether_is_a_loud_error(kwargs, key, message):
    with pytest.raises(ValueError) as info:
        gold_texts(kwargs, key, 1)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "kwargs,n,expected",
    [
        ({}, 0, []),  # an empty batch needs no gold
        ({"solution": [None, "", " 4 "]}, 3, ["", "", "4"]),  # an empty value for one sample stays empty
        ({"solution": []}, 2, ["", ""]),
        ({"solution": "4"}, 2, ["4", "4"]),
    ],
)
def test_present_gold_columns_with_empty_values(kwargs, n, expected):
    assert gold_texts(kwargs, "solution", n) == expected


@pytest.mark.parametrize("name", ["accuracy", "exact_match", "iou", "length", "cosine"])
def test_gold_based_rewards_and_explain_name_the_missing_column(name):
    fn = rewards.get(name, gold_key="answer")
    with pytest.raises(ValueError, match=r"no gold column 'answer' \(gold_key='answer'\); received columns: solution"):
        fn(["<answer>4</answer>"], solution=["4"])
    with pytest.raises(ValueError, match="gold_key='solution'"):
        rewards.explain(name, "<answer>4</answer>", question="2+2?")
    assert fn(["<answer>4</answer>"], answer=[""]) == [None]


def test_rewards_without_gold_need_no_column():
    assert rewards.format()(["<think>a</think><answer>4</answer>"]) == [1.0]
