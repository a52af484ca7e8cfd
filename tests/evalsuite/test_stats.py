"""Error bars and tests: the standard error's closed form, Wilson intervals at 0 and 1, the bootstrap against its exact
law, exact paired tests (sign test, permutation) and their size by simulation, Holm, pooled seeds, intervals in the
summary, and the refusal to summarize prompts with too few samples."""

from __future__ import annotations

import json
from math import comb, sqrt

import numpy as np
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
    "a,b,delta,p_value,test",
    [
        ({"p": 0.5, "q": 1.0}, {"p": 0.5, "q": 1.0}, 0.0, 1.0, "paired permutation (exact)"),
        # two prompts that both flipped one way: p = 2 x 1/4, nowhere near a difference (the bootstrap said yes)
        ({"p": 0.0, "q": 0.0}, {"p": 1.0, "q": 1.0}, 1.0, 0.5, "sign test (McNemar exact)"),
        ({"p": 1.0, "q": 1.0}, {"p": 0.0, "q": 0.0}, -1.0, 0.5, "sign test (McNemar exact)"),
        ({"p": 0.0, "q": 0.0, "r": 1.0}, {"p": 1.0, "q": 1.0, "r": 1.0}, 2 / 3, 0.5, "sign test (McNemar exact)"),
        # only shared ids are paired; "x" is in A alone; differences 0.5, 0.5: flips give 1, 0, 0, -1
        ({"p": 0.0, "q": 0.5, "x": 1.0}, {"p": 0.5, "q": 1.0}, 0.5, 0.5, "paired permutation (exact)"),
    ],
)
def test_paired_difference(a, b, delta, p_value, test):
    d = stats.paired_difference(a, b)
    assert d.delta == pytest.approx(delta) and d.p_value == pytest.approx(p_value) and d.test == test
    assert d.significant is False and d.ci95[0] <= 0 <= d.ci95[1]
    assert d.prompts == len(set(a) & set(b))


def test_four_of_twenty_flipping_one_way_is_not_a_difference():
    """The issue's case: the percentile bootstrap called it beyond noise; the exact sign test gives 1/8."""
    a = dict.fromkeys(range(20), 0.0)
    b = {i: 1.0 if i < 4 else 0.0 for i in range(20)}
    boot = stats.bootstrap_interval([b[i] - a[i] for i in a])
    assert boot[0] > 0  # what compare used to say
    d = stats.paired_difference(a, b)
    assert (d.gained, d.lost, d.p_value, d.significant) == (4, 0, 0.125, False)
    assert d.ci95[0] < 0 < d.ci95[1]


@pytest.mark.parametrize("flips", range(0, 41))
def test_the_right_wrong_interval_leaves_out_zero_exactly_when_the_sign_test_rejects(flips):
    for gained in range(flips + 1):
        a = dict.fromkeys(range(60), 0.0) | {i: 1.0 for i in range(gained, flips)}
        b = dict.fromkeys(range(60), 0.0) | {i: 1.0 for i in range(gained)}
        d = stats.paired_difference(a, b)
        assert d.p_value == pytest.approx(stats.sign_test(gained, flips - gained), rel=1e-9, abs=1e-12)
        assert d.significant == (d.ci95[0] > 0 or d.ci95[1] < 0), (gained, flips, d)


def test_pairing_separates_what_two_independent_intervals_cannot():
    """B is right on 6 more prompts out of 40 and never worse: the two runs' own intervals overlap, the
    paired test finds the difference (6 flips, all one way: p = 2/64)."""
    a = {i: 1.0 if i < 20 else 0.0 for i in range(40)}
    b = {i: 1.0 if i < 26 else 0.0 for i in range(40)}
    ia, ib = stats.proportion_interval(list(a.values())), stats.proportion_interval(list(b.values()))
    assert ia[1] > ib[0]  # overlapping
    d = stats.paired_difference(a, b)
    assert d.delta == pytest.approx(0.15) and d.p_value == 2 / 64 and d.significant and d.ci95[0] > 0


def _binomial_law(n):
    return [comb(n, i) / 2**n for i in range(n + 1)]


def test_sign_test_is_the_exact_binomial_tail():
    for d in range(0, 30):
        law = _binomial_law(d)
        for g in range(d + 1):
            tail = sum(law[i] for i in range(d + 1) if law[i] <= law[g] + 1e-15)  # as or less likely
            assert stats.sign_test(g, d - g) == pytest.approx(min(1.0, tail), abs=1e-12)
    assert stats.sign_test(2000, 1500) < 1e-15  # big counts: integers, no overflow


def test_permutation_test_exact_paths_agree_with_enumeration():
    """The lattice convolution, the enumeration of sign patterns and the seeded Monte Carlo agree."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        d = rng.integers(-4, 5, size=12) / 4
        signs = np.array([[1 if (code >> j) & 1 else -1 for j in range(12)] for code in range(2**12)])
        brute = float(np.mean(np.abs(signs @ d) >= abs(d.sum()) - 1e-9))
        p, how = stats.permutation_test(d)
        assert how == "exact" and p == pytest.approx(brute, abs=1e-12)
    irrational = rng.uniform(-1, 1, size=14) * np.sqrt(2)  # no lattice: every pattern enumerated
    assert stats.permutation_test(irrational)[1] == "exact"
    wide = rng.uniform(-1, 1, size=40) * np.sqrt(2)
    p, how = stats.permutation_test(wide)
    assert how == "monte carlo" and p == stats.permutation_test(wide)[0]  # seeded


def test_holm_adjustment():
    assert stats.holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    assert stats.holm([0.5, None, 0.001, 0.9]) == [1.0, None, 0.003, 1.0]
    assert stats.holm([]) == []


@pytest.mark.parametrize("successes,trials", [(0, 1), (0, 20), (20, 20), (7, 20), (150, 300)])
def test_wilson_interval_keeps_width_at_the_ends(successes, trials):
    low, high = stats.wilson_interval(successes, trials)
    assert 0 <= low <= successes / trials <= high <= 1 and high - low > 0


def test_run_intervals_behave_at_zero_and_one():
    assert stats.proportion_interval([0.0] * 20) == pytest.approx([0.0, 0.1611], abs=1e-4)
    assert stats.proportion_interval([1.0] * 20) == pytest.approx([0.8389, 1.0], abs=1e-4)
    # avg@4 with every prompt half right: no prompt spread, so the width of 20 prompts (not 80 samples)
    assert stats.proportion_interval([0.5] * 20) == stats.wilson_interval(10, 20)
    low, high = stats.proportion_interval([0.25, 0.75, 0.5, 1.0, 0.0] * 8)
    assert low < 0.5 < high


def test_pooled_seeds_and_their_spread():
    pooled = stats.pool_seeds([{"p": 1.0, "q": 0.0, "r": 1.0}, {"p": 0.0, "q": 0.0, "r": 1.0}, {"p": 1.0, "q": 1.0}])
    assert pooled.scores == {"p": pytest.approx(2 / 3), "q": pytest.approx(1 / 3)}  # r: not graded by every seed
    assert pooled.per_seed == [0.5, 0.0, 1.0] and pooled.spread == pytest.approx(0.5)
    assert stats.pool_seeds([{"p": 1.0}]).spread is None


def _sign_test_size(flips: int) -> float:
    """Chance that the sign test rejects at 5% when each of ``flips`` flips goes either way with chance 1/2."""
    law = _binomial_law(flips)
    return sum(w for g, w in enumerate(law) if stats.sign_test(g, flips - g) < 0.05)


def _permutation_size(d) -> float:
    """Chance over sign flips that the permutation test of ``d`` rejects at 5% (d on the 1/4 lattice)."""
    steps = [int(round(abs(x) * 4)) for x in d if x]
    total = sum(steps)
    law = np.zeros(total + 1)
    law[0] = 1.0
    for step in steps:
        law = 0.5 * law + 0.5 * np.concatenate([np.zeros(step), law[: law.size - step]])
    by_sum: dict[int, float] = {}
    for t, w in enumerate(law):
        by_sum[abs(2 * t - total)] = by_sum.get(abs(2 * t - total), 0.0) + w
    size, tail = 0.0, 0.0
    for s in sorted(by_sum, reverse=True):  # p(s) = P(|S| >= s): reject while that tail is below 5%
        tail += by_sum[s]
        if tail >= 0.05 - 1e-12:
            break
        size = tail
    return size


@pytest.mark.parametrize("prompts", [12, 30, 100, 300])
def test_two_runs_from_the_same_rates_are_called_different_at_most_5_percent_of_the_time(prompts):
    """Two runs drawn from the same per-prompt rates: each test's rejection rate over 1000 (right/wrong) and
    400 (avg@4) simulated pairs matches its exact size, averaged over the same draws, within a 3-sigma binomial
    band, and that size is at most 5%. Exact tests on discrete data reject less than 5% where few prompts
    differ (12 prompts: about 0-1%) and near 5% as they grow (300: about 4%). Seeded; about 3 s in all."""
    rng = np.random.default_rng(prompts)
    for n, sims in ((1, 1000), (4, 400)):
        hits, size = 0, 0.0
        for _ in range(sims):
            rates = rng.uniform(size=prompts)
            a, b = rng.binomial(n, rates) / n, rng.binomial(n, rates) / n
            d = b - a
            if n == 1:
                gained, lost = int((d > 0).sum()), int((d < 0).sum())
                hits += stats.sign_test(gained, lost) < 0.05
                size += _sign_test_size(gained + lost)
            else:
                hits += stats.permutation_test(d)[0] < 0.05
                size += _permutation_size(d)
        rate, size = hits / sims, size / sims
        band = 3 * sqrt(max(size * (1 - size), 0.01 * 0.99) / sims)
        assert abs(rate - size) <= band, (n, rate, size)
        assert size <= 0.05 and rate <= 0.05 + 3 * sqrt(0.05 * 0.95 / sims), (n, rate, size)
        if prompts >= 100:
            assert size >= 0.03, (n, size)  # an exact test, not a timid one: most of the 5% is used


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
    assert out["ci95"]["maj@4"] == stats.wilson_interval(2, 3)
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
    assert saved["ci95"]["accuracy"] == stats.proportion_interval([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
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


@pytest.mark.parametrize("module", ["evalsuite.stats", "evalsuite.report"])
def test_docstring_examples(module):
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0
