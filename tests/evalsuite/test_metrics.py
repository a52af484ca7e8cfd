"""Metric formulas checked against closed-form values: pass@k for n = 1..16, maj@k ties, the summary."""

from __future__ import annotations

from math import comb

import pytest

import rewards
from evalsuite.errors import EvalError
from evalsuite.metrics import maj_at_k, majority_index, majority_indices, pass_at_k, same_answer, summarize


def _closed_form(n: int, c: int, k: int) -> float:
    return 1.0 - comb(n - c, k) / comb(n, k)


@pytest.mark.parametrize("n", range(1, 17))
def test_pass_at_k_matches_binomial_form(n):
    for c in range(0, n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(_closed_form(n, c, k), abs=1e-12), (n, c, k)


@pytest.mark.parametrize(
    "n,c,k,expected",
    [
        (1, 0, 1, 0.0),
        (1, 1, 1, 1.0),
        (2, 1, 1, 0.5),
        (2, 1, 2, 1.0),
        (4, 1, 2, 0.5),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (8, 3, 4, 13 / 14),  # 1 - C(5,4)/C(8,4) = 1 - 5/70
        (10, 0, 5, 0.0),
        (10, 10, 1, 1.0),
        (16, 1, 1, 1 / 16),
        (16, 1, 16, 1.0),
        (16, 4, 8, 1 - 495 / 12870),  # C(12,8)/C(16,8)
    ],
)
def test_pass_at_k_table(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_large_n_is_stable():
    assert pass_at_k(10_000, 1, 1) == pytest.approx(1e-4)
    assert 0.0 <= pass_at_k(10_000, 5000, 100) <= 1.0


@pytest.mark.parametrize("n,c,k", [(4, 1, 5), (1, 0, 2), (3, 4, 1), (3, -1, 1), (3, 1, 0)])
def test_pass_at_k_rejects_undefined(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


@pytest.mark.parametrize(
    "answers,expected",
    [
        (["1", "2", "2"], 1),  # clear majority
        (["1", "2", "2", "1"], 0),  # 2-2 tie: earliest group first
        (["2", "1", "1", "2"], 0),
        (["3", "1", "2"], 0),  # all distinct: first
        ([None, "2", None], 1),  # no-answer samples never vote
        ([None, None], None),
        ([], None),
        (["0.5", "1/2", "7"], 0),  # verify-equivalent answers vote together
        (["7", "0.5", "1/2"], 1),
    ],
)
def test_majority_index(answers, expected):
    assert majority_index(answers, same_answer) == expected


ANSWER_LISTS = [
    ["1", "2", "2"],
    ["1", "2", "2", "1"],
    ["0.5", "1/2", "7"],
    ["7", "0.5", "1/2", "7", "\\frac{1}{2}"],  # 1/2 three ways against 7 twice
    [" 3", "3 ", None, "x+1", "1+x"],  # whitespace-equal answers never reach verify
    ["2", "3", "4", "5", "6"],
    [None, None],
    [],
    ["a", "b", "c", "b", "a", "b"],
]


def test_majority_indices_equal_one_by_one_grouping():
    assert majority_indices(ANSWER_LISTS) == [majority_index(a, same_answer) for a in ANSWER_LISTS]


def test_majority_voting_batches_its_verify_calls(monkeypatch):
    """Every prompt's comparisons go in at most two verify_batch calls (forward, then the reverse of the
    pairs found equal); the one-pair verify is never used."""
    batches = []
    real = rewards.verify_batch

    def counting(pairs, timeout=5.0):
        batches.append(list(pairs))
        return real(pairs, timeout=timeout)

    def single(*args, **kwargs):
        raise AssertionError("majority voting called rewards.verify one pair at a time")

    monkeypatch.setattr(rewards, "verify_batch", counting)
    monkeypatch.setattr(rewards, "verify", single)
    texts = [[f"<answer>{a}</answer>" for a in answers] for answers in ([str(i % 5) for i in range(64)], ["0.5", "1/2"])]
    from evalsuite.metrics import majority_scores

    assert majority_scores([(t, [True] * len(t)) for t in texts]) == [1.0, 1.0]
    assert len(batches) == 2
    assert ("0.5", "1/2") in batches[0] and ("1/2", "0.5") in batches[1]
    assert len(batches[0]) == 10 + 1  # 5 distinct answers -> 10 pairs, plus the 0.5 / 1/2 pair


@pytest.mark.parametrize(
    "texts,correct,k,expected",
    [
        (["<answer>4</answer>"], [True], 1, 1.0),
        (["<answer>4</answer>", "<answer>5</answer>", "<answer>5</answer>"], [True, False, False], 3, 0.0),
        (["<answer>4</answer>", "<answer>5</answer>", "<answer>5</answer>"], [True, False, False], 1, 1.0),
        # tie 1-1 between "4" (right) and "5" (wrong): earliest answer wins
        (["<answer>4</answer>", "<answer>5</answer>"], [True, False], 2, 1.0),
        (["<answer>5</answer>", "<answer>4</answer>"], [False, True], 2, 0.0),
        (["no answer here", "nothing"], [False, False], 2, 0.0),
        (["<answer>4</answer>"], [None], 1, None),
    ],
)
def test_maj_at_k(texts, correct, k, expected):
    assert maj_at_k(texts, correct, k) == expected


def _record(correct, fmt=None, lengths=None, truncated=None, extra=None, row_id=0):
    n = len(correct)
    texts = [f"<answer>{'4' if c else i}</answer>" for i, c in enumerate(correct)]
    rewards = {"accuracy": [None if c is None else float(c) for c in correct]}
    rewards["format"] = fmt if fmt is not None else [1.0] * n
    rewards.update(extra or {})
    return {
        "id": row_id,
        "solution": "4",
        "completions": texts,
        "rewards": rewards,
        "lengths": lengths or [10] * n,
        "truncated": truncated or [False] * n,
    }


def test_summarize_closed_form():
    records = [
        _record([True, False, False, False], fmt=[1.0, 0.0, 1.0, 0.0], lengths=[1, 2, 3, 10], truncated=[True, False, False, False]),
        _record([True, True, False, False], lengths=[4, 4, 4, 4], extra={"cosine": [0.5, None, 1.0, 0.0]}, row_id=1),
        _record([False, False, False, False], lengths=[6, 6, 6, 6], row_id=2),
    ]
    m = summarize(records, k=(1, 2, 4, 8), reward_names=["accuracy", "cosine"])
    assert list(m) == [
        "accuracy", "avg@4", "pass@1", "pass@2", "pass@4", "pass@8", "maj@4", "format_rate", "truncation_rate",
        "mean_length", "median_length", "reward/accuracy", "reward/cosine",
    ]
    assert m["accuracy"] == pytest.approx((1 / 4 + 2 / 4 + 0) / 3) == m["avg@4"]
    assert m["pass@1"] == pytest.approx(m["accuracy"])
    assert m["pass@2"] == pytest.approx((0.5 + (1 - 1 / 6) + 0) / 3)
    assert m["pass@4"] == pytest.approx(2 / 3)
    assert m["pass@8"] is None  # k > n for every prompt
    # maj@4: record 1 answers 4,1,2,3 -> all distinct -> first (right); record 2: 4,4,2,3 -> 4 (right); record 3 wrong
    assert m["maj@4"] == pytest.approx(2 / 3)
    assert m["format_rate"] == pytest.approx(10 / 12)
    assert m["truncation_rate"] == pytest.approx(1 / 12)
    assert m["mean_length"] == pytest.approx((16 + 16 + 24) / 12)
    assert m["median_length"] == pytest.approx(4.0)  # 1 2 3 4 4 4 | 4 6 6 6 6 10
    assert m["reward/accuracy"] == pytest.approx(3 / 12)
    assert m["reward/cosine"] == pytest.approx(0.5)  # None excluded


def test_summarize_leaves_out_prompts_without_gold():
    records = [_record([None, None]), _record([True, False], row_id=1)]
    m = summarize(records, k=(1,), reward_names=[])
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["maj@2"] == pytest.approx(1.0)


def test_summarize_empty():
    m = summarize([], k=(1,), reward_names=["accuracy"], n=4)
    assert m["accuracy"] is None and m["mean_length"] is None and m["maj@4"] is None


def test_summarize_refuses_duplicate_ids():
    with pytest.raises(EvalError, match=r"cannot summarize: prompt id 0 appears twice"):
        summarize([_record([True]), _record([False])], k=(1,), reward_names=[])
