"""Exact values of the length family: Kimi length (per group), cosine, soft_overlong, length_penalty."""

import math

import pytest

import rewards

RIGHT, WRONG = "<answer>4</answer>", "<answer>5</answer>"


def ids(n):
    return list(range(n))


@pytest.mark.parametrize(
    "texts,lengths,expected",
    [
        # Lmin = 10, Lmax = 30: lambda = 0.5, 0, -0.5
        ([RIGHT, RIGHT, RIGHT], [10, 20, 30], [0.5, 0.0, -0.5]),
        ([WRONG, WRONG, WRONG], [10, 20, 30], [0.0, 0.0, -0.5]),
        ([RIGHT, WRONG, WRONG, RIGHT], [10, 15, 30, 25], [0.5, 0.0, -0.5, -0.25]),
        ([RIGHT, WRONG], [7, 7], [0.0, 0.0]),  # Lmax = Lmin: all 0
        ([RIGHT], [3], [0.0]),
    ],
)
def test_length_kimi(texts, lengths, expected):
    out = rewards.length()(texts, solution="4", completion_ids=[ids(n) for n in lengths])
    assert out == pytest.approx(expected)


def test_length_is_per_prompt_group_not_per_batch():
    texts = [RIGHT, RIGHT, RIGHT, RIGHT]
    lengths = [10, 20, 100, 300]
    out = rewards.length()(texts, prompts=["p", "p", "q", "q"], solution="4", completion_ids=[ids(n) for n in lengths])
    assert out == pytest.approx([0.5, -0.5, 0.5, -0.5])
    batch = rewards.length()(texts, solution="4", completion_ids=[ids(n) for n in lengths])  # one group
    assert batch == pytest.approx([0.5, 0.5 - 10 / 290, 0.5 - 90 / 290, -0.5])


def test_length_conversational_prompts_and_none_gold():
    prompt_a = [{"role": "user", "content": "a"}]
    prompt_b = [{"role": "user", "content": "b"}]
    out = rewards.length()(
        [RIGHT, RIGHT + "  ", WRONG, WRONG + "xx"],
        prompts=[prompt_a, prompt_a, prompt_b, prompt_b],
        solution=["4", "4", "", ""],
    )
    assert out == [0.5, -0.5, None, None]


def test_length_uses_characters_without_completion_ids():
    assert rewards.length()([RIGHT, RIGHT + "xx"], solution="4") == [0.5, -0.5]


def cosine_value(L, max_len, lo, hi):
    return lo + 0.5 * (hi - lo) * (1 + math.cos(math.pi * min(L / max_len, 1)))


@pytest.mark.parametrize(
    "text,L,expected",
    [
        (RIGHT, 0, 1.0),
        (RIGHT, 50, 0.75),
        (RIGHT, 100, 0.5),  # L = max_len
        (RIGHT, 250, 0.5),  # progress clamped at 1
        (WRONG, 0, -1.0),
        (WRONG, 50, -0.75),
        (WRONG, 100, -0.5),
        (WRONG, 1000, -0.5),
        (RIGHT, 25, cosine_value(25, 100, 0.5, 1.0)),
        (WRONG, 25, cosine_value(25, 100, -0.5, -1.0)),
    ],
)
def test_cosine(text, L, expected):
    assert rewards.cosine(max_len=100)([text], solution="4", completion_ids=[ids(L)]) == [pytest.approx(expected)]


def test_cosine_custom_values_and_none():
    fn = rewards.cosine(max_len=10, min_value_wrong=-2.0, max_value_wrong=0.0, min_value_correct=0.0,
                        max_value_correct=2.0)
    out = fn([RIGHT, WRONG, RIGHT], solution=["4", "4", ""], completion_ids=[ids(0), ids(5), ids(5)])
    assert out == [pytest.approx(2.0), pytest.approx(-1.0), None]


@pytest.mark.parametrize(
    "L,expected",
    [(0, 0.0), (80, 0.0), (81, -0.05), (90, -0.5), (99, -0.95), (100, -1.0), (101, -1.0), (10_000, -1.0)],
)
def test_soft_overlong(L, expected):
    fn = rewards.soft_overlong(max_len=100, cache_len=20)
    assert fn(["x"], completion_ids=[ids(L)]) == [pytest.approx(expected)]
    assert fn(["x" * L]) == [pytest.approx(expected)]


def test_soft_overlong_zero_cache_is_a_hard_cut():
    assert rewards.soft_overlong(max_len=5, cache_len=0)(["x" * 5, "x" * 6]) == [0.0, -1.0]


@pytest.mark.parametrize("L,expected", [(0, 0.0), (25, -0.25), (100, -1.0), (400, -1.0)])
def test_length_penalty(L, expected):
    assert rewards.length_penalty(max_len=100)(["x" * L]) == [pytest.approx(expected)]
    assert rewards.length_penalty(max_len=100, max_penalty=-0.5)(["x" * L]) == [pytest.approx(expected / 2)]
