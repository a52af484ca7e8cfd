"""Turns per-completion verdicts, rewards, lengths and truncation flags into the summary metrics.
It must never generate or call a model; every formula here is documented in docs/evalsuite.md."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

import rewards
from evalsuite import stats
from evalsuite.correctness import Correctness
from evalsuite.errors import EvalError


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


def majority_indices(answer_lists: Sequence[Sequence[str | None]]) -> list[int | None]:
    """:func:`majority_index` of many prompts under :func:`same_answer`, with every ``verify`` call they
    need sent as one ``rewards.verify_batch`` (then a second one for the reverse direction of the pairs
    found equal), instead of one round trip per comparison.

    >>> majority_indices([["0.5", "7", "1/2"], ["3", None, "4", "4"], [None]])
    [0, 2, None]
    """
    forward = sorted({(a, b) for answers in answer_lists for a, b in _pairs(answers)})
    equal = {pair for pair, ok in zip(forward, rewards.verify_batch(forward), strict=True) if ok}
    backward = [(b, a) for a, b in sorted(equal)]
    both = {(b, a) for (a, b), ok in zip(backward, rewards.verify_batch(backward), strict=True) if ok}

    def same(a: str, b: str) -> bool:
        return _normal(a) == _normal(b) or (a, b) in both or (b, a) in both

    return [majority_index(answers, same) for answers in answer_lists]


def same_answer(a: str, b: str) -> bool:
    """Two extracted answers are the same vote if they match after whitespace normalization or
    ``rewards.verify`` finds them equal in both directions (so ``0.5`` and ``1/2`` vote together)."""
    if _normal(a) == _normal(b):
        return True
    return bool(rewards.verify(a, b)) and bool(rewards.verify(b, a))


def maj_at_k(texts: Sequence[str], correct: Sequence[bool | None], k: int) -> float | None:
    """1.0 if the majority answer among the first ``k`` samples is correct, else 0.0; None without a
    verdict (no gold). The majority sample's own verdict (from the correctness reward) decides, so maj@k
    agrees with accuracy when k = 1. No sample with an answer counts as wrong."""
    return majority_scores([(texts, correct)], k)[0]


def majority_scores(
    prompts: Sequence[tuple[Sequence[str], Sequence[bool | None]]], k: int | None = None,
    votes: Sequence[Sequence[str | None]] | None = None,
) -> list[float | None]:
    """:func:`maj_at_k` of many prompts ``(texts, verdicts)`` at once, over each prompt's first ``k``
    samples (all of them when ``k`` is None), with one batch of answer comparisons for all.

    Samples vote with their extracted final answers, equal when ``verify`` says so (math); with ``votes``
    (per prompt, the answer each sample votes with: see ``correctness.vote_answers``) they vote with those,
    equal when the same after whitespace normalization."""
    windows = [(list(texts[:k]), list(correct[:k])) for texts, correct in prompts]
    graded = [any(x is not None for x in v) for _, v in windows]
    if votes is None:
        answers = [[rewards.extract_answer(t) for t in texts] if ok else []
                   for (texts, _), ok in zip(windows, graded, strict=True)]
        winners = majority_indices(answers)
    else:
        winners = [majority_index(list(keys[:k]), lambda a, b: _normal(a) == _normal(b)) if ok else None
                   for keys, ok in zip(votes, graded, strict=True)]
    scores: list[float | None] = []
    for (_, verdicts), ok, winner in zip(windows, graded, winners, strict=True):
        if not ok:
            scores.append(None)
        else:
            scores.append(0.0 if winner is None else (1.0 if verdicts[winner] else 0.0))
    return scores


RERUN_HINT = "rerun the same command to generate the missing samples"


def check_sample_counts(records: Sequence[dict], n: int, *, hint: str = RERUN_HINT) -> None:
    """Refuse (EvalError naming the prompt ids) records with fewer than ``n`` completions: pass@k, maj@n
    and their intervals assume n samples per prompt, and a short prompt would bias them silently."""
    short = [(r["id"], len(r["completions"])) for r in records if len(r["completions"]) < n]
    if short:
        shown = ", ".join(f"{row_id!r} ({count})" for row_id, count in short[:10])
        more = f" and {len(short) - 10} more" if len(short) > 10 else ""
        raise EvalError(
            f"cannot summarize: {len(short)} prompt(s) have fewer than n={n} samples: {shown}{more}; {hint}"
        )


def prompt_scores(records: Sequence[dict], *, k: Sequence[int], n: int,
                  correct: Correctness | None = None) -> dict[str, dict[Any, float]]:
    """Each prompt-level metric as ``{metric: {prompt id: value}}``: ``accuracy`` and ``avg@n`` (c/n),
    ``pass@k`` (prompts with at least k samples), ``maj@n``, a sample being correct when ``correct``'s
    reward reaches its threshold (default: ``accuracy`` = 1). Prompts without gold are left out.
    The summary's figure is the mean of these values, and its interval resamples them."""
    correct = correct or Correctness()
    seen: set = set()
    for r in records:
        if r["id"] in seen:
            raise EvalError(f"cannot summarize: prompt id {r['id']!r} appears twice")
        seen.add(r["id"])
    graded = [(r, v) for r, v in ((r, correct.of(r)) for r in records) if any(x is not None for x in v)]
    fractions = {r["id"]: sum(bool(x) for x in v) / len(v) for r, v in graded}
    scores: dict[str, dict[Any, float]] = {"accuracy": fractions, f"avg@{n}": dict(fractions)}
    for kk in k:
        scores[f"pass@{kk}"] = {
            r["id"]: pass_at_k(len(v), sum(bool(x) for x in v), kk) for r, v in graded if len(v) >= kk
        }
    majority = majority_scores([(r["completions"], v) for r, v in graded], n, votes=_votes([r for r, _ in graded], correct))
    scores[f"maj@{n}"] = {r["id"]: s for (r, _), s in zip(graded, majority, strict=True) if s is not None}
    return scores


def summarize(
    records: Sequence[dict], *, k: Sequence[int], reward_names: Sequence[str], n: int | None = None,
    correct: Correctness | None = None,
) -> dict[str, Any]:
    """The flat metrics dict of a finished run from its sample records (see docs/evalsuite.md).

    Each record holds ``completions``, ``rewards`` ({name: [value | None per completion]}), and when known
    ``lengths`` and ``truncated``. Correctness is ``correct``'s reward reaching its threshold (default: the
    ``accuracy`` reward's value being 1.0), format the ``format`` reward's; ``n`` (default: the most completions any record has) names maj@n and avg@n, and a
    record with fewer than ``n`` completions is refused (EvalError naming it). Prompts whose verdicts are
    all None (no gold) are left out of accuracy, pass@k and maj@n. A metric with nothing to average is None.
    """
    return summarize_with_intervals(records, k=k, reward_names=reward_names, n=n, correct=correct)["metrics"]


def summarize_with_intervals(
    records: Sequence[dict], *, k: Sequence[int], reward_names: Sequence[str], n: int | None = None,
    correct: Correctness | None = None,
) -> dict[str, dict]:
    """``{"metrics": flat metrics (as :func:`summarize`), "stderr": {metric: value}, "ci95": {metric:
    [low, high]}}``; the uncertainty covers the prompt-level metrics (accuracy, avg@n, pass@k, maj@n)."""
    if n is None:
        n = max((len(r["completions"]) for r in records), default=1)
    check_sample_counts(records, n)
    scores = prompt_scores(records, k=k, n=n, correct=correct)
    metrics: dict[str, Any] = {name: _mean(list(values.values())) for name, values in scores.items()}
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
    stderr, ci95 = stats.intervals(scores)
    return {"metrics": metrics, "stderr": stderr, "ci95": ci95}


def verdict(record: dict, correct: Correctness | None = None) -> bool | None:
    """A prompt's overall verdict (what `evalsuite compare` flips on): its maj@n result; None without gold."""
    return verdicts([record], correct)[0]


def verdicts(records: Sequence[dict], correct: Correctness | None = None) -> list[bool | None]:
    """:func:`verdict` of many records, their answer comparisons batched."""
    correct = correct or Correctness()
    values = majority_scores([(r["completions"], correct.of(r)) for r in records], votes=_votes(records, correct))
    return [None if value is None else value == 1.0 for value in values]


def majority_sample(record: dict, correct: Correctness | None = None) -> int:
    """Index of the sample that carried a record's majority (0 when no sample has an answer)."""
    correct = correct or Correctness()
    votes = _votes([record], correct)
    if votes is None:
        index = majority_indices([[rewards.extract_answer(t) for t in record["completions"]]])[0]
    else:
        index = majority_index(votes[0], lambda a, b: _normal(a) == _normal(b))
    return index or 0


def _votes(records: Sequence[dict], correct: Correctness) -> list[list[str | None]] | None:
    """What each sample votes with under ``correct``: None for the math default (extracted answers compared
    with verify); else the answers the correctness reward read, saved in each record's ``votes`` by the
    scoring (a record scored before: its extracted final answers)."""
    if correct.reward == "accuracy":
        return None
    out = []
    for r in records:
        saved = r.get("votes") or {}
        if saved.get("reward") == correct.reward and len(saved.get("answers") or []) == len(r["completions"]):
            out.append(list(saved["answers"]))
        else:
            out.append([rewards.extract_answer(t) for t in r["completions"]])
    return out


def _mean(values: Sequence[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return float(sum(values) / len(values)) if values else None


def _pairs(answers: Sequence[str | None]) -> list[tuple[str, str]]:
    """(earlier, later) pairs of one prompt's answers that only ``verify`` can tell apart."""
    distinct = list(dict.fromkeys(a for a in answers if a is not None))
    return [(a, b) for i, a in enumerate(distinct) for b in distinct[i + 1 :] if _normal(a) != _normal(b)]


def _normal(answer: str) -> str:
    return " ".join(answer.split())
