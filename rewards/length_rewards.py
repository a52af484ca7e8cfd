"""Length rewards: how should a completion's length L (tokens from ``completion_ids``, else characters) move its score?
They must never normalize over the whole batch when the formula is per prompt group, nor let length progress exceed 1."""

from __future__ import annotations

import math

from rewards.accuracy_rewards import check_tag, outcomes
from rewards.completions import completion_lengths, gold_texts, group_ids
from rewards.registry import Reward, check_gold_key, check_number, register


def _length_rows(texts, kwargs, *, gold_key, timeout, tag=None):
    """Rows of ``length``: L, its group and the group's bounds, the verdict, lambda, and the value."""
    lengths = completion_lengths(texts, kwargs.get("completion_ids"))
    groups = group_ids(kwargs.get("prompts"), len(texts))
    graded = outcomes(texts, gold_texts(kwargs, gold_key, len(texts)), timeout, tag)
    bounds: dict[int, tuple[int, int]] = {}
    for group, length in zip(groups, lengths, strict=True):
        low, high = bounds.get(group, (length, length))
        bounds[group] = (min(low, length), max(high, length))
    rows = []
    for group, length, outcome in zip(groups, lengths, graded, strict=True):
        low, high = bounds[group]
        lam = 0.0 if high == low else 0.5 - (length - low) / (high - low)
        ok = None if outcome is None else outcome.equal
        value = None if ok is None else (lam if ok else min(0.0, lam))
        rows.append({"length": length, "group": group, "group_min": low, "group_max": high,
                     "correct": ok, "lambda": lam, **_verdict(outcome), "value": value})
    return rows


def _verdict(outcome) -> dict:
    """The answer read and the outcome status behind a correctness verdict (both None without a gold)."""
    return {"answer": outcome and outcome.answer, "status": outcome and outcome.status.value}


@register("length")
def length(gold_key: str = "solution", timeout: float = 5.0, tag: str | None = None) -> Reward:
    r"""Kimi 1.5 length reward, per prompt group (completions sharing a prompt; the whole call when
    no ``prompts`` are given): with :math:`L_{min}, L_{max}` the group's shortest and longest,
    :math:`\lambda = 0.5 - \frac{L - L_{min}}{L_{max} - L_{min}}` (all 0 when :math:`L_{max} = L_{min}`);
    correct → :math:`\lambda`, wrong → :math:`\min(0, \lambda)`; ``None`` where the gold is empty.
    Correctness is ``accuracy``'s (with ``tag``, the answer inside the last ``<tag>`` block).

    >>> length()(["<answer>4</answer>", "<answer>5</answer>", "<answer>4</answer> ok."], solution="4")
    [0.5, 0.0, -0.5]
    """
    gold_key = check_gold_key("length", gold_key)
    timeout = check_number("length", "timeout", timeout, low=0, low_open=True)
    return Reward("length", _length_rows, columns=("answer", "status"), gold_key=gold_key, timeout=timeout,
                  tag=check_tag("length", tag))


def _cosine_rows(texts, kwargs, *, max_len, min_value_wrong, max_value_wrong, min_value_correct,
                 max_value_correct, gold_key, timeout, tag=None):
    """Rows of ``cosine``: L, the verdict, the clamped progress p, and the value."""
    lengths = completion_lengths(texts, kwargs.get("completion_ids"))
    graded = outcomes(texts, gold_texts(kwargs, gold_key, len(texts)), timeout, tag)
    rows = []
    for length, outcome in zip(lengths, graded, strict=True):
        ok = None if outcome is None else outcome.equal
        progress = min(length / max_len, 1.0)
        lo, hi = (min_value_correct, max_value_correct) if ok else (max_value_wrong, min_value_wrong)
        value = None if ok is None else lo + 0.5 * (hi - lo) * (1.0 + math.cos(math.pi * progress))
        rows.append({"length": length, "correct": ok, "progress": progress, **_verdict(outcome), "value": value})
    return rows


@register("cosine")
def cosine(
    max_len: int = 1000,
    min_value_wrong: float = -1.0,
    max_value_wrong: float = -0.5,
    min_value_correct: float = 0.5,
    max_value_correct: float = 1.0,
    gold_key: str = "solution",
    timeout: float = 5.0,
    tag: str | None = None,
) -> Reward:
    r"""Cosine-scaled accuracy (Yeo et al. 2025): :math:`p = \min(L/\text{max\_len}, 1)`;
    correct: :math:`lo, hi = \text{min\_value\_correct}, \text{max\_value\_correct}`; wrong:
    :math:`lo, hi = \text{max\_value\_wrong}, \text{min\_value\_wrong}`;
    value :math:`= lo + \tfrac12 (hi - lo)(1 + \cos \pi p)`. Short correct answers earn most, short wrong
    ones lose most; past ``max_len`` the value stays at ``lo``. ``None`` where the gold is empty. Correctness is
    ``accuracy``'s (with ``tag``, the answer inside the last ``<tag>`` block).

    >>> cosine(max_len=10)(["4", "<answer>4</answer>", "5"], solution="4")
    [0.9877641290737884, 0.5, -0.9877641290737884]
    """
    name = "cosine"
    max_len = check_number(name, "max_len", max_len, low=0, low_open=True, integer=True)
    values = {
        "min_value_wrong": min_value_wrong, "max_value_wrong": max_value_wrong,
        "min_value_correct": min_value_correct, "max_value_correct": max_value_correct,
    }
    values = {param: check_number(name, param, v) for param, v in values.items()}
    return Reward(name, _cosine_rows, columns=("answer", "status"), max_len=max_len, **values, gold_key=check_gold_key(name, gold_key),
                  timeout=check_number(name, "timeout", timeout, low=0, low_open=True), tag=check_tag(name, tag))


def _soft_overlong_rows(texts, kwargs, *, max_len, cache_len):
    """Rows of ``soft_overlong``: L and the value."""
    rows = []
    for length in completion_lengths(texts, kwargs.get("completion_ids")):
        if length <= max_len - cache_len:
            value = 0.0
        elif length <= max_len:
            value = (max_len - cache_len - length) / cache_len
        else:
            value = -1.0
        rows.append({"length": length, "value": value})
    return rows


@register("soft_overlong")
def soft_overlong(max_len: int, cache_len: int) -> Reward:
    r"""DAPO's soft overlong punishment: 0 for :math:`L \le \text{max\_len} - \text{cache\_len}`;
    :math:`(\text{max\_len} - \text{cache\_len} - L)/\text{cache\_len}` for
    :math:`L \le \text{max\_len}`; −1 beyond.

    >>> soft_overlong(max_len=10, cache_len=4)(["x" * 6, "x" * 8, "x" * 10, "x" * 11])
    [0.0, -0.5, -1.0, -1.0]
    """
    max_len = check_number("soft_overlong", "max_len", max_len, low=0, low_open=True, integer=True)
    cache_len = check_number("soft_overlong", "cache_len", cache_len, low=0, high=max_len, integer=True)
    return Reward("soft_overlong", _soft_overlong_rows, max_len=max_len, cache_len=cache_len)


def _length_penalty_rows(texts, kwargs, *, max_len, max_penalty):
    """Rows of ``length_penalty``: L and the value."""
    return [
        {"length": length, "value": max_penalty * min(length / max_len, 1.0)}
        for length in completion_lengths(texts, kwargs.get("completion_ids"))
    ]


@register("length_penalty")
def length_penalty(max_len: int = 1000, max_penalty: float = -1.0) -> Reward:
    r"""Linear length penalty: :math:`\text{max\_penalty} \cdot \min(L/\text{max\_len}, 1)`, from 0 for an
    empty completion down to ``max_penalty`` at ``max_len`` and beyond.

    >>> length_penalty(max_len=10)(["", "x" * 5, "x" * 20])
    [-0.0, -0.5, -1.0]
    """
    max_len = check_number("length_penalty", "max_len", max_len, low=0, low_open=True, integer=True)
    max_penalty = check_number("length_penalty", "max_penalty", max_penalty, high=0)
    return Reward("length_penalty", _length_penalty_rows, max_len=max_len, max_penalty=max_penalty)
