"""Exact values of repetition (n-gram penalty) and iou (item-set overlap, exact and fuzzy)."""

import pytest

import rewards


@pytest.mark.parametrize(
    "text,n,expected",
    [
        ("a b c d", 3, 0.0),  # 2 n-grams, both unique
        ("a b a b a b", 2, -(1 - 2 / 5)),
        ("the cat the cat the cat", 3, -(1 - 2 / 4)),
        ("A b a B", 2, -(1 - 2 / 3)),  # lowercased
        ("word word word word", 1, -(1 - 1 / 4)),
        ("a b", 3, 0.0),  # fewer words than ngram_size
        ("a b c", 3, 0.0),  # exactly one n-gram
        ("", 3, 0.0),
        ("a b c", 50, 0.0),  # ngram_size larger than the text
        ("x\ny\tx\ny", 2, -(1 - 2 / 3)),  # any whitespace splits
    ],
)
def test_repetition(text, n, expected):
    assert rewards.repetition(ngram_size=n)([text]) == [pytest.approx(expected)]
    assert rewards.repetition(ngram_size=n, max_penalty=-0.5)([text]) == [pytest.approx(expected / 2)]


def test_repetition_tokens_unit():
    fn = rewards.repetition(ngram_size=2, unit="tokens")
    assert fn(["unrelated text", "x"], completion_ids=[[1, 2, 1, 2, 1, 2], [7]]) == [pytest.approx(-0.6), 0.0]
    assert fn(["a b a b a b"]) == [pytest.approx(-0.6)]  # no completion_ids: falls back to words


GOLD = "(1) pick up the cup (2) open the door (3) wave"


@pytest.mark.parametrize(
    "text,gold,expected",
    [
        ("<answer>(1) pick up the cup (2) open the door (3) wave</answer>", GOLD, 1.0),
        ("<answer>(1) Wave! (2) Open the  door. (3) pick up the cup</answer>", GOLD, 1.0),
        ("pick up the cup; open the door", GOLD, 2 / 3),
        ("pick up the cup\nopen the window", GOLD, 1 / 4),
        ("<answer>x</answer> (1) pick up the cup", GOLD, 0.0),  # the answer block wins over the text
        ("<answer>a</answer><answer>wave</answer>", GOLD, 1 / 3),  # last block
        ("<answer></answer>", GOLD, 0.0),
        ("", GOLD, 0.0),
        ("...", GOLD, 0.0),
        ("1. pick up the cup\n2. open the door\n3. wave", GOLD, 1.0),
        ("red, green, blue", "<answer>blue; green; red</answer>", 1.0),
        ("red, red, green", "red, green", 1.0),  # sets: duplicates count once
        ("anything", "", None),
        ("anything", "!!", None),
    ],
)
def test_iou(text, gold, expected):
    assert rewards.iou()([text], solution=gold) == [pytest.approx(expected) if expected is not None else None]


@pytest.mark.parametrize(
    "text,gold,fuzzy,expected",
    [
        ("pick up cups, open door", "pick up cup, open door", 0.9, 1.0),
        ("pick up cups, open door", "pick up cup, open door", None, 1 / 3),
        ("pick up cup", "pick up cup, pick up cups", 0.9, 1 / 2),  # each item matches at most once
        ("cat", "dog", 0.5, 0.0),
        ("abcd", "abce", 0.75, 1.0),  # ratio 75 >= 75
        ("abcd", "abce", 0.76, 0.0),
    ],
)
def test_iou_fuzzy(text, gold, fuzzy, expected):
    assert rewards.iou(fuzzy=fuzzy)([text], solution=gold) == [pytest.approx(expected)]
