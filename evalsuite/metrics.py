"""Turns per-completion verdicts, rewards, lengths and truncation flags into the summary metrics.
It must never generate or call a model; every formula here is documented in docs/evalsuite.md."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

import rewards


def pass_at_k(n: int, c: int, k: int) -> float:
    r"""Unbiased pass@k for one prompt with ``n`` samples of which ``c`` are correct (Chen et al., 2021).

    .. math:: \mathrm{pass@}k = 1 - \binom{n-c}{k} / \binom{n}{k}
              = 1 - \prod_{i=n-c+1}^{n} \left(1 - \frac{k}{i}\right)

    The product form never builds large binomials, so it is exact to float precision for any n.
    Raises ValueError when ``k > n`` (the estimator is undefined) or the counts are inconsistent.

    >>> pass_at_k(4, 1, 1), pass_at_k(4, 1, 4), pass_at_k(4, 0, 2)
    (0.25, 1.0, 0.0)
    """
    if not (0 <= c <= n) or k < 1:
        raise ValueError(f"need 0 <= c <= n and k >= 1, got n={n}, c={c}, k={k}")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per prompt, got n={n}")
    if n - c < k:
        return 1.0
    value = 1.0
    for i in range(n - c + 1, n + 1):
        value *= 1.0 - k / i
    return 1.0 - value


def majority_index(answers: Sequence[str | None], same: Callable[[str, str], bool]) -> int | None:
    """Index of the sample that represents the majority answer, or None when no sample has an answer.

    Answers are grouped greedily in sample order: each answer joins the first earlier group whose first
    answer is ``same`` as it, else opens a group. The biggest group wins; a tie goes to the group whose
    first answer came earliest. Samples without an answer (None) never vote.

    >>> majority_index(["1", "2", "2", "1"], str.__eq__)
    0
    >>> majority_index(["1", "2", "2"], str.__eq__)
    1
    >>> majority_index([None, None], str.__eq__) is None
    True
    """
    groups: list[list[int]] = []
    for i, answer in enumerate(answers):
        if answer is None:
            continue
        for group in groups:
            if same(answers[group[0]], answer):
                group.append(i)
                break
        else:
            groups.append([i])
    if not groups:
        return None
    best = max(groups, key=len)  # max keeps the first of equal-sized groups: earliest first
    return best[0]


def same_answer(a: str, b: str) -> bool:
    """Two extracted answers are the same vote if they match after whitespace normalization or
    ``rewards.verify`` finds them equal (so ``0.5`` and ``1/2`` vote together)."""
    if " ".join(a.split()) == " ".join(b.split()):
        return True
    return bool(rewards.verify(a, b)) and bool(rewards.verify(b, a))


def maj_at_k(texts: Sequence[str], correct: Sequence[bool | None], k: int) -> float | None:
    """1.0 if the majority answer among the first ``k`` samples is correct, else 0.0; None without a
    verdict (no gold). The majority sample's own verdict (from the accuracy reward) decides, so maj@k
    agrees with accuracy when k = 1. No sample with an answer counts as wrong."""
    window = list(texts[:k])
    verdicts = list(correct[:k])
    if not verdicts or all(v is None for v in verdicts):
        return None
    answers = [rewards.extract_answer(t) for t in window]
    winner = majority_index(answers, same_answer)
    if winner is None:
        return 0.0
    return 1.0 if verdicts[winner] else 0.0


def summarize(
    records: Sequence[dict], *, k: Sequence[int], reward_names: Sequence[str], n: int | None = None
) -> dict[str, Any]:
    """The flat metrics dict of a finished run from its sample records (see docs/evalsuite.md).

    Each record holds ``completions``, ``rewards`` ({name: [value | None per completion]}), and when known
    ``lengths`` and ``truncated``. Correctness is the ``accuracy`` reward's value being 1.0, format the
    ``format`` reward's; ``n`` (default: the most completions any record has) names maj@n. Prompts whose verdicts are all None (no gold) are left out of accuracy, pass@k
    and maj@n. A metric with nothing to average is None.
    """
    if n is None:
        n = max((len(r["completions"]) for r in records), default=1)
    graded = [(r, _verdicts(r)) for r in records]
    graded = [(r, v) for r, v in graded if any(x is not None for x in v)]
    metrics: dict[str, Any] = {}
    metrics["accuracy"] = _mean(
        [sum(bool(x) for x in v) / len(v) for _, v in graded]
    )
    for kk in k:
        values = [
            pass_at_k(len(v), sum(bool(x) for x in v), kk) for _, v in graded if len(v) >= kk
        ]
        metrics[f"pass@{kk}"] = _mean(values)
    metrics[f"maj@{n}"] = _mean([maj_at_k(r["completions"], v, n) for r, v in graded])
    formats = [x for r in records for x in r.get("rewards", {}).get("format", []) if x is not None]
    metrics["format_rate"] = _mean([1.0 if x >= 1.0 else 0.0 for x in formats])
    flags = [bool(x) for r in records for x in (r.get("truncated") or [])]
    metrics["truncation_rate"] = _mean([1.0 if x else 0.0 for x in flags])
    lengths = [x for r in records for x in (r.get("lengths") or [])]
    metrics["mean_length"] = _mean(lengths)
    metrics["median_length"] = float(statistics.median(lengths)) if lengths else None
    for name in reward_names:
        values = [x for r in records for x in r.get("rewards", {}).get(name, []) if x is not None]
        metrics[f"reward/{name}"] = _mean(values)
    return metrics


def verdict(record: dict) -> bool | None:
    """A prompt's overall verdict (what `evalsuite compare` flips on): its maj@n result; None without gold."""
    value = maj_at_k(record["completions"], _verdicts(record), len(record["completions"]))
    return None if value is None else value == 1.0


def _verdicts(record: dict) -> list[bool | None]:
    values = record.get("rewards", {}).get("accuracy")
    if values is None:
        return [None] * len(record["completions"])
    return [None if x is None else x >= 1.0 for x in values]


def _mean(values: Sequence[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return float(sum(values) / len(values)) if values else None
