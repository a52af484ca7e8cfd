"""How sure a metric is: intervals over prompts, exact paired tests between two runs, Holm's adjustment, seed pooling.
It must never call a difference real on an approximation when an exact test exists, nor draw from an unseeded generator:
one set of runs always gives one verdict."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

RESAMPLES = 2000  # bootstrap resamples
SEED = 0
LEVEL = 0.95
ALPHA = 0.05
FLIPS = 20_000  # random sign flips of the permutation test when no exact form is cheap
EXACT_FLIPS = 16  # up to this many non-zero differences: every sign pattern is enumerated
EXACT_INTERVAL = 12  # up to this many prompts the permutation interval enumerates every sign pattern too
_LATTICE_MAX = 2048  # differences that are multiples of 1/L for an L up to this are tested exactly by convolution
_LATTICE_WORK = 20_000_000  # ... when (sum of |L d|) x (non-zero differences) stays below this
_CHUNK = 1_000_000  # resampled values held in memory at once
_TOL = 1e-9


# ----------------------------------------------------------------------------------------------- one run


def standard_error(values: Sequence[float]) -> float | None:
    r"""Standard error of the mean over prompts, :math:`s/\sqrt{m}` with the sample standard deviation
    :math:`s` (ddof = 1), the form lm-evaluation-harness and lighteval report. None for fewer than 2 prompts.

    >>> standard_error([0.0, 1.0])
    0.5
    >>> standard_error([1.0]) is None
    True
    """
    m = len(values)
    if m < 2:
        return None
    mean = math.fsum(values) / m
    variance = math.fsum((v - mean) ** 2 for v in values) / (m - 1)
    return math.sqrt(variance / m)


def wilson_interval(successes: float, trials: float, *, level: float = LEVEL) -> list[float] | None:
    r"""Wilson's score interval for a proportion: the :math:`p` with :math:`|\hat p - p| \le z\sqrt{p(1-p)/m}`,

    .. math:: \frac{\hat p + z^2/2m \pm z\sqrt{\hat p(1-\hat p)/m + z^2/4m^2}}{1 + z^2/m}

    It stays inside [0, 1] and keeps its width at 0 and 1 (0 of 20 is [0, 0.161], not [0, 0]).
    ``successes`` may be fractional (an effective count). None without trials.

    >>> [round(x, 4) for x in wilson_interval(0, 20)]
    [0.0, 0.1611]
    >>> [round(x, 4) for x in wilson_interval(20, 20)]
    [0.8389, 1.0]
    """
    if trials <= 0:
        return None
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = min(max(successes / trials, 0.0), 1.0)
    z2m = z * z / trials
    centre = (p + z2m / 2) / (1 + z2m)
    half = z * math.sqrt(p * (1 - p) / trials + z2m / (4 * trials)) / (1 + z2m)
    return [_clean(max(0.0, centre - half)), _clean(min(1.0, centre + half))]


def proportion_interval(values: Sequence[float], *, level: float = LEVEL) -> list[float] | None:
    r"""95% interval of a mean over prompts of per-prompt values in [0, 1] (accuracy, avg@n, pass@k, maj@n).

    Right/wrong values (every value 0 or 1): Wilson's interval of the count over the m prompts. Fractional
    values (c/n of n samples): Wilson's interval at the effective size
    :math:`m_\mathrm{eff} = m\,\hat p(1-\hat p)/s^2` (Kish's design effect: the prompts' own spread),
    held within [m, m·n]. A run that got everything wrong or right falls in the first case, so its interval
    keeps the width of m prompts. None for fewer than 2 prompts.

    >>> proportion_interval([0.0] * 20) == wilson_interval(0, 20)
    True
    >>> proportion_interval([1.0])
    """
    m = len(values)
    if m < 2:
        return None
    mean = math.fsum(values) / m
    if all(v in (0.0, 1.0) for v in values):
        return wilson_interval(mean * m, m, level=level)
    variance = math.fsum((v - mean) ** 2 for v in values) / (m - 1)
    samples = _lattice([abs(v) for v in values])  # n: values are multiples of 1/n
    effective = m if variance <= 0 else m * mean * (1 - mean) / variance
    effective = min(max(effective, m), m * samples if samples else math.inf)
    return wilson_interval(mean * effective, effective, level=level)


def bootstrap_interval(
    values: Sequence[float], *, level: float = LEVEL, resamples: int = RESAMPLES, seed: int = SEED
) -> list[float] | None:
    """Percentile bootstrap interval of the mean over prompts: ``resamples`` draws of m prompts with
    replacement from a generator seeded with ``seed``; the bounds are the smallest resampled means whose
    empirical CDF reaches (1 - level)/2 and (1 + level)/2. None for fewer than 2 prompts. (Kept for
    callers; the summary's intervals are :func:`proportion_interval`, which does not collapse at 0 and 1.)

    >>> bootstrap_interval([0.0, 1.0])
    [0.0, 1.0]
    >>> bootstrap_interval([0.5, 0.5, 0.5])
    [0.5, 0.5]
    """
    import numpy as np

    m = len(values)
    if m < 2:
        return None
    data = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    rows = max(1, _CHUNK // m)
    means = []
    for start in range(0, resamples, rows):
        size = min(rows, resamples - start)
        means.append(data[rng.integers(0, m, size=(size, m))].mean(axis=1))
    tail = (1.0 - level) / 2
    low, high = np.quantile(np.concatenate(means), [tail, 1.0 - tail], method="inverted_cdf")
    return [_clean(float(low)), _clean(float(high))]


def intervals(scores: Mapping[str, Mapping[Any, float]]) -> tuple[dict[str, float | None], dict[str, list | None]]:
    """``(stderr, ci95)`` for each metric of ``scores`` (``{metric: {prompt id: value}}``): the standard
    error :math:`s/\\sqrt m` and :func:`proportion_interval`."""
    stderr: dict[str, float | None] = {}
    ci95: dict[str, list | None] = {}
    for metric, per_prompt in scores.items():
        values = list(per_prompt.values())
        stderr[metric] = standard_error(values)
        ci95[metric] = proportion_interval(values)
    return stderr, ci95


# ----------------------------------------------------------------------------------------------- exact tests


def sign_test(gained: int, lost: int) -> float:
    r"""Exact two-sided sign test (McNemar's exact test) of ``gained`` prompts right only in B against
    ``lost`` right only in A: under no difference each of the :math:`d` = gained + lost discordant prompts
    goes either way with chance 1/2, and

    .. math:: p = \min\Bigl(1,\ 2\sum_{i \le \min(g, l)} \binom{d}{i} 2^{-d}\Bigr)

    computed in integers. Four prompts flipping one way of twenty is p = 0.125, not a difference.

    >>> sign_test(4, 0), sign_test(10, 0), sign_test(3, 3)
    (0.125, 0.001953125, 1.0)
    """
    gained, lost = int(gained), int(lost)
    d = gained + lost
    if d == 0:
        return 1.0
    tail = sum(math.comb(d, i) for i in range(min(gained, lost) + 1))
    return min(1.0, 2 * tail / 2**d)


def permutation_test(diffs: Sequence[float], *, resamples: int = FLIPS, seed: int = SEED) -> tuple[float, str]:
    r"""Paired permutation (sign-flip) test of per-prompt differences :math:`d_i = b_i - a_i`: under no
    difference each :math:`d_i` is as likely as :math:`-d_i`, and
    :math:`p = P(|\sum \pm d_i| \ge |\sum d_i|)`. Returns ``(p, how)``, ``how`` being

    - ``"exact"``: the differences are multiples of 1/L (avg@n: 1/n; pass@k: 1/C(n, k); pooled seeds: 1/(S n)),
      and the law of the sum is convolved exactly; or at most 16 differences are non-zero and every sign
      pattern is enumerated. With right/wrong values this is the sign test.
    - ``"monte carlo"``: ``resamples`` sign patterns from a generator seeded with ``seed``,
      :math:`p = (1 + \#\{|S^*| \ge |S|\}) / (1 + R)`.

    >>> permutation_test([1, 1, 1, 1, 0, 0])
    (0.125, 'exact')
    >>> permutation_test([0.25, 0.5, -0.25, 0.0])[0]
    0.75
    """
    import numpy as np

    d = np.asarray([x for x in diffs if abs(x) > _TOL], dtype=np.float64)
    if d.size == 0:
        return 1.0, "exact"
    observed = abs(math.fsum(d))
    scale = _lattice(np.abs(d))
    if scale:
        steps = np.rint(np.abs(d) * scale).astype(np.int64)
        total = int(steps.sum())
        if total * d.size <= _LATTICE_WORK:
            law = np.zeros(total + 1)  # law of T = the sum of the steps whose sign stays +
            law[0] = 1.0
            for step in steps:
                law[step:] = 0.5 * law[step:] + 0.5 * law[: law.size - step].copy()
                law[:step] *= 0.5
            target = round(observed * scale)
            sums = np.abs(2 * np.arange(total + 1) - total)
            return _clip(float(law[sums >= target].sum())), "exact"
    if d.size <= EXACT_FLIPS:
        signs = _all_signs(d.size)
        return _clip(float(np.mean(np.abs(signs @ d) >= observed - _TOL))), "exact"
    rng = np.random.default_rng(seed)
    hits = 0
    rows = max(1, _CHUNK // d.size)
    for start in range(0, resamples, rows):
        signs = rng.choice(np.array([-1.0, 1.0]), size=(min(rows, resamples - start), d.size))
        hits += int(np.sum(np.abs(signs @ d) >= observed - _TOL))
    return (1 + hits) / (1 + resamples), "monte carlo"


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment across the arms of a sweep (None stays None): sorted ascending, the i-th
    smallest of m becomes max over j <= i of min(1, (m - j + 1) p_(j)). It controls the chance of calling
    any arm different when none is, at 5%, whatever the dependence between the tests.

    >>> holm([0.01, 0.04, 0.03, None])
    [0.03, 0.06, 0.06, None]
    """
    order = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p))
        out[i] = _clean(running)
    return out


def clopper_pearson(successes: int, trials: int, *, level: float = LEVEL) -> list[float] | None:
    """Clopper-Pearson (exact binomial) interval of a proportion: the chances under which ``successes`` or
    a more extreme count has probability above (1 - level)/2 on each side. None without trials.

    >>> [round(x, 4) for x in clopper_pearson(10, 10)]
    [0.6915, 1.0]
    """
    if trials <= 0:
        return None
    tail = (1 - level) / 2
    low = 0.0 if successes == 0 else _bisect(lambda p: _binom_sf(successes, trials, p) >= tail, 0.0, 1.0)
    high = 1.0 if successes == trials else _bisect(lambda p: _binom_cdf(successes, trials, p) < tail, 0.0, 1.0)
    return [_clean(low), _clean(high)]


# ----------------------------------------------------------------------------------------------- paired runs


@dataclass(frozen=True)
class PairedDifference:
    """B - A over the prompts both runs graded: the mean difference, its standard error, a 95% interval,
    the exact test's p-value (``test`` names it) and the prompts that went each way. ``significant`` is the
    test's verdict at 5% (a sweep replaces it with Holm's adjusted p)."""

    prompts: int
    delta: float | None
    stderr: float | None
    ci95: list[float] | None
    p_value: float | None = None
    test: str = ""
    gained: int = 0  # prompts better in B
    lost: int = 0  # prompts better in A

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA


def paired_difference(a: Mapping[Any, float], b: Mapping[Any, float], *, level: float = LEVEL,
                      seed: int = SEED) -> PairedDifference:
    """The per-prompt differences ``b[id] - a[id]`` over the ids in both, tested exactly.

    Right/wrong values on both sides: the sign test (McNemar exact) on the prompts that flipped, and the
    exact conditional interval (Clopper-Pearson on the share of flips that went B's way, times the flips
    per prompt), which leaves out 0 exactly when p < 1 - level. Fractional values (avg@n, pass@k, pooled
    seeds): :func:`permutation_test`, and the interval of shifts the sign-flip test does not reject.

    >>> d = paired_difference({"p": 0.0, "q": 0.0}, {"p": 1.0, "q": 1.0})
    >>> d.delta, d.p_value, d.significant
    (1.0, 0.5, False)
    """
    shared = [i for i in a if i in b]
    diffs = [b[i] - a[i] for i in shared]
    m = len(diffs)
    if not m:
        return PairedDifference(0, None, None, None)
    delta = _clean(math.fsum(diffs) / m)
    gained = sum(1 for x in diffs if x > _TOL)
    lost = sum(1 for x in diffs if x < -_TOL)
    binary = all(a[i] in (0.0, 1.0) and b[i] in (0.0, 1.0) for i in shared)
    if binary:
        p, test = sign_test(gained, lost), "sign test (McNemar exact)"
        flips = gained + lost
        share = clopper_pearson(gained, flips, level=level)
        ci = [0.0, 0.0] if share is None else [_clean(flips / m * (2 * s - 1)) for s in share]
    else:
        p, how = permutation_test(diffs, seed=seed)
        test = f"paired permutation ({how})"
        ci = _flip_interval(diffs, level=level, seed=seed)
    return PairedDifference(m, delta, standard_error(diffs), ci, _clean(p), test, gained, lost)


# ----------------------------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class PooledSeeds:
    """Runs of one arm trained with different seeds and scored on the same prompts: the per-prompt mean over
    seeds (what the paired test compares), each seed's own mean and their spread (ddof 1; None for one seed)."""

    scores: dict[Any, float]
    per_seed: list[float | None] = field(default_factory=list)
    spread: float | None = None


def pool_seeds(runs: Sequence[Mapping[Any, float]]) -> PooledSeeds:
    """Pool the per-prompt values of several seeds' runs over the prompts every run graded.

    >>> pooled = pool_seeds([{"p": 1.0, "q": 0.0}, {"p": 1.0, "q": 1.0}])
    >>> pooled.scores, pooled.per_seed, round(pooled.spread, 4)
    ({'p': 1.0, 'q': 0.5}, [0.5, 1.0], 0.3536)
    """
    if not runs:
        return PooledSeeds({})
    ids = [i for i in runs[0] if all(i in run for run in runs)]
    scores = {i: _clean(math.fsum(run[i] for run in runs) / len(runs)) for i in ids}
    per_seed = [_clean(math.fsum(run[i] for i in ids) / len(ids)) if ids else None for run in runs]
    known = [x for x in per_seed if x is not None]
    spread = None
    if len(known) >= 2:
        mean = math.fsum(known) / len(known)
        spread = math.sqrt(math.fsum((x - mean) ** 2 for x in known) / (len(known) - 1))
    return PooledSeeds(scores, per_seed, spread)


# ----------------------------------------------------------------------------------------------- helpers


def _flip_interval(diffs: Sequence[float], *, level: float, seed: int) -> list[float] | None:
    """The shifts mu in [-1, 1] for which the sign-flip test of ``d_i - mu`` keeps p > 1 - level (every
    pattern for at most 12 prompts, else 4000 seeded ones), found by bisection from the mean outwards."""
    import numpy as np

    d = np.asarray(diffs, dtype=np.float64)
    m = d.size
    if m < 2:
        return None
    if m <= EXACT_INTERVAL:
        signs, extra = _all_signs(m), 0
    else:
        signs, extra = np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), size=(4000, m)), 1
    flipped, net, total = signs @ d, signs.sum(axis=1), d.sum()
    alpha = 1 - level

    def kept(mu: float) -> bool:
        observed = abs(total - m * mu)
        hits = np.sum(np.abs(flipped - mu * net) >= observed - _TOL)
        return (extra + hits) / (extra + len(signs)) > alpha

    mean = float(total / m)
    lowest, highest = -1.0, 1.0  # the differences of values in [0, 1]
    low = lowest if kept(lowest) else _bisect(kept, lowest, mean)
    high = highest if kept(highest) else _bisect(lambda mu: not kept(mu), mean, highest)
    return [_clean(low), _clean(high)]


def _all_signs(k: int):
    import numpy as np

    codes = np.arange(2**k, dtype=np.int64)[:, None] >> np.arange(k, dtype=np.int64)[None, :]
    return np.where(codes & 1, 1.0, -1.0)


def _lattice(values) -> int | None:
    """The smallest L <= 2048 for which every value is a multiple of 1/L, or None."""
    import numpy as np

    x = np.unique(np.asarray(values, dtype=np.float64))
    if x.size == 0:
        return 1
    for start in range(1, _LATTICE_MAX + 1, 64):  # small L first: avg@n and pooled seeds stop early
        scaled = np.arange(start, min(start + 64, _LATTICE_MAX + 1), dtype=np.float64)[:, None] * x[None, :]
        hit = np.flatnonzero(np.all(np.abs(scaled - np.rint(scaled)) < 1e-7, axis=1))
        if hit.size:
            return start + int(hit[0])
    return None


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space."""
    if p <= 0:
        return 1.0
    if p >= 1:
        return 1.0 if k >= n else 0.0
    lp, lq = math.log(p), math.log1p(-p)
    return min(1.0, math.fsum(math.exp(_log_comb(n, i) + i * lp + (n - i) * lq) for i in range(k + 1)))


def _binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k)."""
    return 1.0 if k <= 0 else 1.0 - _binom_cdf(k - 1, n, p)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _bisect(is_right, low: float, high: float, steps: int = 60) -> float:
    """The point where ``is_right`` turns from False (at ``low``) to True (at ``high``)."""
    for _ in range(steps):
        mid = (low + high) / 2
        if is_right(mid):
            high = mid
        else:
            low = mid
    return (low + high) / 2


def _clip(p: float) -> float:
    return min(1.0, max(0.0, p))


def _clean(x: float) -> float:
    """Round off the last-bit noise of a mean of exact fractions (0.30000000000000004 -> 0.3)."""
    return float(round(x, 12))
