"""What rewards read from trainer input: completion text in every shape, columns, lengths, groups."""

import pytest

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
