"""How sure a metric is: standard errors and 95% intervals over prompts, and paired differences between two runs.
It must never resample anything but prompts, nor draw from an unseeded generator: one run always gives one interval."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

RESAMPLES = 2000
SEED = 0
_CHUNK = 1_000_000  # resampled values held in memory at once


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


def bootstrap_interval(
    values: Sequence[float], *, level: float = 0.95, resamples: int = RESAMPLES, seed: int = SEED
) -> list[float] | None:
    """Percentile bootstrap interval of the mean over prompts: ``resamples`` draws of m prompts with
    replacement from a generator seeded with ``seed``; the bounds are the smallest resampled means whose
    empirical CDF reaches (1 - level)/2 and (1 + level)/2. None for fewer than 2 prompts.

    With two prompts a and b the resampled mean is a, (a+b)/2 or b with chance 1/4, 1/2, 1/4, so the
    interval is [a, b]:

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
    """``(stderr, ci95)`` for each metric of ``scores`` (``{metric: {prompt id: value}}``)."""
    stderr: dict[str, float | None] = {}
    ci95: dict[str, list | None] = {}
    for metric, per_prompt in scores.items():
        values = list(per_prompt.values())
        stderr[metric] = standard_error(values)
        ci95[metric] = bootstrap_interval(values)
    return stderr, ci95


@dataclass(frozen=True)
class PairedDifference:
    """B - A over the prompts both runs graded: the mean difference, its standard error and 95% interval,
    and whether the interval leaves out 0 (the difference is outside the noise)."""

    prompts: int
    delta: float | None
    stderr: float | None
    ci95: list[float] | None

    @property
    def significant(self) -> bool:
        return self.ci95 is not None and (self.ci95[0] > 0 or self.ci95[1] < 0)


def paired_difference(a: Mapping[Any, float], b: Mapping[Any, float]) -> PairedDifference:
    """The per-prompt differences ``b[id] - a[id]`` over the ids in both, summarized as a PairedDifference.
    Pairing removes the prompt-difficulty variance both runs share, so it separates smaller differences
    than two independent intervals would.

    >>> d = paired_difference({"p": 0.0, "q": 0.0, "r": 1.0}, {"p": 1.0, "q": 1.0, "r": 1.0})
    >>> round(d.delta, 4), d.ci95, d.significant
    (0.6667, [0.0, 1.0], False)
    >>> paired_difference({"p": 0.0, "q": 0.0}, {"p": 1.0, "q": 1.0}).significant
    True
    """
    shared = [i for i in a if i in b]
    diffs = [b[i] - a[i] for i in shared]
    delta = math.fsum(diffs) / len(diffs) if diffs else None
    return PairedDifference(len(diffs), delta, standard_error(diffs), bootstrap_interval(diffs))


def _clean(x: float) -> float:
    """Round off the last-bit noise of a mean of exact fractions (0.30000000000000004 -> 0.3)."""
    return float(round(x, 12))
