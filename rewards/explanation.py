"""Explains one score: what a reward saw for a completion (text, answer, gold, lengths, group, formula parts) and what it returned.
It must never report anything but what the reward itself computes: values come from calling the reward, not a re-implementation."""

from __future__ import annotations

from typing import Any

from rewards.accuracy_rewards import graded_text, read_answer
from rewards.answers.engine import recorded_outcomes, timeout_count
from rewards.answers.extract import extract_answer
from rewards.combination import Combined
from rewards.completions import completion_lengths, completion_text, gold_text, token_ids
from rewards.registry import Reward, get


def explain(reward: Any, completion: Any, *, group: list[Any] | None = None, **columns: Any) -> dict[str, Any]:
    """What ``reward`` (a registered name or any reward function) saw when scoring ``completion``.

    ``columns`` are this completion's dataset values (``solution="4"``, ``completion_ids=[...]``,
    ``prompts=...``). ``group`` lists the other completions of the same prompt, for group-relative
    rewards such as ``length``; they share the columns, and lengths are then characters unless
    ``completion_ids`` holds one id list per completion (this one first).

    Returns ``reward``, ``value``, ``text``, ``length`` and ``length_unit``, ``answer`` (what
    ``extract_answer`` reads; inside the last ``<tag>`` block for a reward with a ``tag``), ``gold`` and
    ``gold_answer`` (when a gold column is given), ``group_lengths`` (with ``group``), ``verify_timeouts`` (math checks that timed out during this call, and so
    counted as wrong), ``outcome`` (for a reward that checked this completion's answer, such as
    ``accuracy``, ``length`` and ``cosine``: the first check's ``status``, ``path``, ``answer``, ``gold``
    and ``detail``, as ``rewards.grade`` reports them; a check repeated within the call reads
    ``path="cache"``), and ``details``: the parts of the formula a built-in reward computed (for a
    ``combine``-d reward, each part's weight, value and details).

    >>> info = explain("cosine", "<answer>4</answer>", solution="4")
    >>> info["value"], info["length"], info["details"]["correct"]
    (0.9996003875272438, 18, True)
    >>> info["outcome"]["status"], info["outcome"]["answer"], info["outcome"]["gold"]
    ('equal', '4', '4')
    """
    fn = get(reward) if isinstance(reward, str) else reward
    batch = [completion, *(group or [])]
    kwargs = {key: _per_sample(key, value, len(batch)) for key, value in columns.items()}
    text = completion_text(completion)
    texts = [completion_text(c) for c in batch]
    lengths = completion_lengths(texts, kwargs.get("completion_ids"))
    timeouts = timeout_count()
    with recorded_outcomes() as graded:
        value, details = _score(fn, batch, kwargs)
    tags = _tags(fn)  # where the reward's checks read the answer: the whole text, or inside a <tag> block
    read = {graded_text(text, tag) for tag in tags}
    outcome = next((outcome for (pred, _), outcome in graded if pred in read), None)
    info: dict[str, Any] = {
        "reward": getattr(fn, "__name__", type(fn).__name__),
        "value": value,
        "text": text,
        "length": lengths[0],
        "length_unit": "tokens" if token_ids(kwargs.get("completion_ids"), len(batch)) is not None else "chars",
        "answer": read_answer(text, tags[0]),
        "verify_timeouts": timeout_count() - timeouts,
    }
    gold_key = getattr(fn, "params", {}).get("gold_key", "solution")
    if gold_key in columns:
        gold = gold_text(columns[gold_key]).strip()
        info.update(gold=gold, gold_answer=extract_answer(gold))
    if group:
        info["group_lengths"] = lengths
    if outcome is not None:
        info["outcome"] = {"status": outcome.status.value, "path": outcome.path, "answer": outcome.answer,
                           "gold": outcome.gold, "detail": outcome.detail}
    info["details"] = details
    return info


def _tags(fn: Any) -> list[str | None]:
    """The ``tag`` of a reward (or of each part of a combined one) that reads its answer inside a tag; ``[None]``
    when none does."""
    parts = [part for part, _ in fn.parts] if isinstance(fn, Combined) else [fn]
    tags = [getattr(part, "params", {}).get("tag") for part in parts if isinstance(part, Reward)]
    return list(dict.fromkeys(tag for tag in tags if tag)) or [None]


def _per_sample(key: str, value: Any, n: int) -> list[Any]:
    """One completion's column value as a batch column (``completion_ids`` may already be one per completion)."""
    if key == "completion_ids" and n > 1 and token_ids(value, n) is not None:
        return value
    return [value] + [None if key == "completion_ids" else value] * (n - 1)


def _score(fn: Any, batch: list[Any], kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The value ``fn`` gives the first completion, and the formula parts behind it."""
    if isinstance(fn, Reward):
        row = dict(fn.rows(batch, **kwargs)[0])
        return row.pop("value"), row
    if isinstance(fn, Combined):
        parts = {}
        for part, weight in fn.parts:
            value, details = _score(part, batch, kwargs)
            parts[getattr(part, "__name__", type(part).__name__)] = {"weight": weight, "value": value, **details}
        return fn(batch, **kwargs)[0], {"parts": parts}
    return fn(batch, **kwargs)[0], {}
