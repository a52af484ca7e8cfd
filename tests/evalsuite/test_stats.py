"""Error bars: the standard error's closed form, the bootstrap interval against the exact bootstrap distribution,
paired differences, intervals in the summary, and the refusal to summarize prompts with too few samples."""

from __future__ import annotations

import json
from math import comb, sqrt

import pytest

from evalsuite import score, stats
from evalsuite.cli import main
from evalsuite.errors import EvalError
from evalsuite.metrics import prompt_scores, summarize_with_intervals


@pytest.mark.parametrize(
    "values,expected",
    [
        ([0.0, 1.0], 0.5),
        ([1.0, 1.0, 1.0], 0.0),
        ([0.0, 0.0, 1.0], 1 / 3),  # mean 1/3, s^2 = (1/9 + 1/9 + 4/9) / 2 = 1/3, se = sqrt(1/3 / 3)
        ([0.25, 0.5, 0.75, 1.0], sqrt(0.3125 / 3 / 4)),
        ([1.0], None),  # one prompt: no spread to estimate
        ([], None),
    ],
)
def test_standard_error(values, expected):
    assert stats.standard_error(values) == (None if expected is None else pytest.approx(expected, abs=1e-12))


def _exact_bootstrap_percentiles(m: int, ones: int) -> list[float]:
    """For 0/1 values the resampled mean is Binomial(m, ones/m)/m: the 2.5% and 97.5% points of that law."""
    p, cdf, points = ones / m, 0.0, []
    for x in range(m + 1):
        cdf += comb(m, x) * p**x * (1 - p) ** (m - x)
        points.append((x / m, cdf))
    return [next(v for v, c in points if c >= q) for q in (0.025, 0.975)]


@pytest.mark.parametrize("m,ones", [(2, 1), (4, 1), (5, 1), (6, 3), (10, 1), (10, 5), (10, 9)])
def test_bootstrap_interval_is_the_exact_bootstrap_percentile(m, ones):
    values = [1.0] * ones + [0.0] * (m - ones)
    assert stats.bootstrap_interval(values) == pytest.approx(_exact_bootstrap_percentiles(m, ones), abs=1e-9)


@pytest.mark.parametrize(
    "values,expected",
    [
        ([0.5, 0.5, 0.5], [0.5, 0.5]),  # no spread, no width
        ([0.25, 0.75], [0.25, 0.75]),  # two prompts: the resampled mean is a, (a+b)/2 or b
        ([0.7], None),
        ([], None),
    ],
)
def test_bootstrap_interval_small_cases(values, expected):
    assert stats.bootstrap_interval(values) == expected


def test_bootstrap_interval_is_seeded_and_order_free_in_law():
    values = [0.0, 0.25, 1.0, 1.0, 0.5, 0.0, 0.75]
    assert stats.bootstrap_interval(values) == stats.bootstrap_interval(list(values))
    low, high = stats.bootstrap_interval(values)
    assert low <= sum(values) / len(values) <= high


@pytest.mark.parametrize(
    "a,b,delta,ci95,significant",
    [
        ({"p": 0.5, "q": 1.0}, {"p": 0.5, "q": 1.0}, 0.0, [0.0, 0.0], False),
        ({"p": 0.0, "q": 0.0}, {"p": 1.0, "q": 1.0}, 1.0, [1.0, 1.0], True),
        ({"p": 1.0, "q": 1.0}, {"p": 0.0, "q": 0.0}, -1.0, [-1.0, -1.0], True),
        # differences 1, 1, 0: the resampled mean is 0 with chance 1/27 > 2.5%, so the interval reaches 0
        ({"p": 0.0, "q": 0.0, "r": 1.0}, {"p": 1.0, "q": 1.0, "r": 1.0}, 2 / 3, [0.0, 1.0], False),
        # only shared ids are paired; "x" is in A alone
        ({"p": 0.0, "q": 0.5, "x": 1.0}, {"p": 0.5, "q": 1.0}, 0.5, [0.5, 0.5], True),
    ],
)
def test_paired_difference(a, b, delta, ci95, significant):
    d = stats.paired_difference(a, b)
    assert d.delta == pytest.approx(delta) and d.ci95 == ci95 and d.significant is significant
    assert d.prompts == len(set(a) & set(b))


def test_pairing_separates_what_two_independent_intervals_cannot():
    """B is right on 6 more prompts out of 40 and never worse: the two runs' own intervals overlap, the
    paired difference is clearly positive."""
    a = {i: 1.0 if i < 20 else 0.0 for i in range(40)}
    b = {i: 1.0 if i < 26 else 0.0 for i in range(40)}
    ia, ib = stats.bootstrap_interval(list(a.values())), stats.bootstrap_interval(list(b.values()))
    assert ia[1] > ib[0]  # overlapping
    d = stats.paired_difference(a, b)
    assert d.delta == pytest.approx(0.15) and d.significant and d.ci95[0] > 0


def _record(row_id, correct, answers=None):
    answers = answers or [("4" if c else str(10 + j)) for j, c in enumerate(correct)]
    return {
        "id": row_id,
        "solution": "4",
        "completions": [f"<answer>{a}</answer>" for a in answers],
        "rewards": {"accuracy": [float(c) for c in correct], "format": [1.0] * len(correct)},
    }


def test_prompt_scores_and_summary_intervals():
    records = [_record("a", [1, 0, 0, 0]), _record("b", [1, 1, 0, 0]), _record("c", [0, 0, 0, 0])]
    scores = prompt_scores(records, k=(1, 2), n=4)
    assert scores["accuracy"] == {"a": 0.25, "b": 0.5, "c": 0.0} == scores["avg@4"]
    assert scores["pass@2"] == pytest.approx({"a": 0.5, "b": 1 - 1 / 6, "c": 0.0})
    assert scores["maj@4"] == {"a": 1.0, "b": 1.0, "c": 0.0}  # a: all distinct, first wins; b: 4,4,12,13
    out = summarize_with_intervals(records, k=(1, 2), reward_names=[], n=4)
    assert set(out["stderr"]) == set(out["ci95"]) == {"accuracy", "avg@4", "pass@1", "pass@2", "maj@4"}
    assert out["stderr"]["accuracy"] == pytest.approx(stats.standard_error([0.25, 0.5, 0.0]))
    assert out["stderr"]["maj@4"] == pytest.approx(1 / 3)  # values 1, 1, 0
    assert out["ci95"]["maj@4"] == [0.0, 1.0]
    assert out["metrics"]["avg@4"] == out["metrics"]["accuracy"] == pytest.approx(0.25)


@pytest.mark.parametrize(
    "counts,n,message",
    [
        ([4, 2, 4], 4, "cannot summarize: 1 prompt(s) have fewer than n=4 samples: 1 (2); "
                       "rerun the same command to generate the missing samples"),
        ([1, 3, 2], 3, "cannot summarize: 2 prompt(s) have fewer than n=3 samples: 0 (1), 2 (2); "
                       "rerun the same command to generate the missing samples"),
        ([2, 2], None, None),  # n defaults to the most any record has
        ([3, 3], 2, None),  # more than n is fine: maj@2 looks at the first two
    ],
)
def test_summarize_refuses_prompts_with_fewer_samples_than_n(counts, n, message):
    records = [_record(i, [1] * c) for i, c in enumerate(counts)]
    if message is None:
        summarize_with_intervals(records, k=(1,), reward_names=[], n=n)
        return
    with pytest.raises(EvalError) as err:
        summarize_with_intervals(records, k=(1,), reward_names=[], n=n)
    assert str(err.value) == message


def test_score_writes_intervals_and_refuses_short_records(tmp_path, capsys):
    lines = [json.dumps({"id": f"q{i}", "solution": str(i), "completions": [f"<answer>{i if i % 2 else 'x'}</answer>"] * 2})
             for i in range(6)]
    f = tmp_path / "run" / "samples.jsonl"
    f.parent.mkdir()
    f.write_text("\n".join(lines) + "\n")
    summary = score(f, k=(1, 2))
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["stderr"] == summary["stderr"] and saved["ci95"] == summary["ci95"]
    assert saved["metrics"]["accuracy"] == pytest.approx(0.5)
    assert saved["stderr"]["accuracy"] == pytest.approx(stats.standard_error([0, 1, 0, 1, 0, 1]))
    assert saved["ci95"]["accuracy"] == stats.bootstrap_interval([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    assert main(["score", str(f)]) == 0
    out = capsys.readouterr().out
    assert "± stderr" in out and "95% CI" in out and f"± {saved['stderr']['accuracy']:.4f}" in out
    before = f.read_text()
    assert main(["score", str(f), "--n", "3"]) == 2
    assert capsys.readouterr().err.strip() == (
        "evalsuite: error: cannot summarize: 6 prompt(s) have fewer than n=3 samples: 'q0' (2), 'q1' (2), "
        "'q2' (2), 'q3' (2), 'q4' (2), 'q5' (2); score with a smaller --n, or generate the missing samples"
    )
    assert f.read_text() == before  # refused before anything was rewritten
