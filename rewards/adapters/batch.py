"""Plain batch scoring: score saved rows (completion + dataset columns) with several rewards at once, without a trainer.
It must never mix groups up: rows sharing a prompt are scored together as one group, whatever their order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from rewards.registry import get


def build_rewards(spec: Iterable[Any] | Mapping[str, Mapping[str, Any]]) -> list[Callable[..., list]]:
    """Reward functions from names, callables, or ``{name: params}``.

    >>> [fn.__name__ for fn in build_rewards({"format": {}, "cosine": {"max_len": 100}})]
    ['format', 'cosine']
    """
    if isinstance(spec, Mapping):
        return [get(name, **dict(params or {})) for name, params in spec.items()]
    return [get(item) if isinstance(item, str) else item for item in spec]


def score_rows(
    rows: Sequence[Mapping[str, Any]],
    rewards: Iterable[Any] | Mapping[str, Mapping[str, Any]],
    *,
    completion_key: str = "completion",
    prompt_key: str = "prompt",
) -> list[dict[str, float | None]]:
    """One ``{reward name: value}`` dict per row. Each row holds the completion (``completion_key``,
    a string or a conversation), its prompt (``prompt_key``; rows with the same prompt form a group)
    and dataset columns such as ``solution`` or ``completion_ids``.

    >>> rows = [{"prompt": "2+2?", "completion": "<answer>4</answer>", "solution": "4"},
    ...         {"prompt": "2+2?", "completion": "<answer>5</answer>", "solution": "4"}]
    >>> score_rows(rows, ["accuracy", "format"])
    [{'accuracy': 1.0, 'format': 0.0}, {'accuracy': 0.0, 'format': 0.0}]
    """
    fns = build_rewards(rewards)
    completions = [row.get(completion_key, "") for row in rows]
    keys = {k for row in rows for k in row if k not in (completion_key, prompt_key)}
    columns: dict[str, Any] = {k: [row.get(k) for row in rows] for k in sorted(keys)}
    columns["prompts"] = [row.get(prompt_key) for row in rows]
    if any(ids is None for ids in columns.get("completion_ids", [])):
        columns.pop("completion_ids")
    results: list[dict[str, float | None]] = [{} for _ in rows]
    for fn in fns:
        name = getattr(fn, "__name__", type(fn).__name__)
        for result, value in zip(results, fn(completions, **columns), strict=True):
            result[name] = value
    return results
