"""Exact values of accuracy and exact_match: None only for a missing gold, both completion forms."""

import pytest

import rewards


@pytest.mark.parametrize(
    "text,gold,expected",
    [
        ("<think>2+2</think><answer>4</answer>", "4", 1.0),
        ("<answer>5</answer>", "4", 0.0),
        ("The answer is \\boxed{12}.", "12", 1.0),
        ("<answer>12</answer>", "$12$", 1.0),
        ("", "4", 0.0),
        ("<answer>4</answer>", "", None),
        ("<answer>4</answer>", None, None),
        ("<answer>4</answer>", 4, 1.0),
        ("<answer>4</answer>", "   ", None),
    ],
)
def test_accuracy(text, gold, expected):
    fn = rewards.accuracy()
    assert fn([text], solution=[gold]) == [expected]
    assert fn([[{"role": "user", "content": "q"}, {"role": "assistant", "content": text}]], solution=[gold]) == [expected]


def test_accuracy_gold_key_scalar_and_missing_column():
    fn = rewards.accuracy(gold_key="answer")
    assert fn(["<answer>7</answer>", "<answer>8</answer>"], answer="7") == [1.0, 0.0]
    assert fn(["<answer>7</answer>"], solution=["7"]) == [None]  # the column it reads is absent


@pytest.mark.parametrize(
    "tag,text,gold,expected",
    [
        ("latex", "<latex>x^{2}</latex>", "x^{2}", 1.0),
        ("latex", "<latex> x^{2}\n</latex>", "x^{2} ", 1.0),
        ("latex", "<latex>x ^{2}</latex>", "x^{2}", 0.0),
        ("latex", "<latex>x</latex><latex>y</latex>", "y", 1.0),  # last block counts
        ("latex", "x^{2}", "x^{2}", 0.0),  # no block, no answer
        ("latex", "<latex>x</latex>", "", None),
        (None, "<answer>Paris  France</answer>", "Paris France", 1.0),
        (None, "<answer>paris</answer>", "Paris", 0.0),
        (None, "no answer here", "Paris", 0.0),
    ],
)
def test_exact_match(tag, text, gold, expected):
    assert rewards.exact_match(tag=tag)([text], solution=gold) == [expected]
