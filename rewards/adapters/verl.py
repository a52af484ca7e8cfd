"""verl adapter: ``compute_score`` for verl's ``custom_reward_function``, scoring one response with our rewards.
It must never import verl (or torch), and always returns the same keys so verl can stack them across samples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rewards.registry import get


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    rewards: Mapping[str, float] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """Score one verl response: ``{"score": Σ weight·value, <name>: value, ...}`` over ``rewards``
    (``{name: weight}``, default ``{"accuracy": 1.0}``), each built with ``params.get(name, {})``.

    ``ground_truth`` is the gold (the ``solution`` column); ``extra_info`` entries are passed as
    dataset columns. A reward that cannot apply (``None``, e.g. an empty gold) counts 0.0. Each call
    scores one response, so group rewards (``length``) see a group of one and give 0.
    Configure it in verl with ``custom_reward_function.path=<this file>``, ``name=compute_score`` and
    ``reward_kwargs`` holding ``rewards``/``params``.

    >>> compute_score("gsm8k", "<think>2+2</think><answer>4</answer>", "4", rewards={"accuracy": 1.0, "format": 0.5})
    {'score': 1.5, 'accuracy': 1.0, 'format': 1.0}
    """
    rewards = plain(rewards) or {"accuracy": 1.0}
    params = plain(params) or {}
    columns = {k: [v] for k, v in (extra_info or {}).items() if isinstance(k, str)}
    columns["solution"] = [ground_truth]
    result = {"score": 0.0}
    for name, weight in rewards.items():
        value = get(name, **params.get(name, {}))([solution_str], **columns)[0]
        result[name] = 0.0 if value is None else float(value)
        result["score"] += float(weight) * result[name]
    return result


def plain(value: Any) -> Any:
    """``value`` with its mappings as dicts and sequences as lists, all the way down, so the OmegaConf
    containers verl passes its ``reward_kwargs`` in (``DictConfig``, ``ListConfig``) reach the rewards as
    the dicts and lists they validate.

    >>> plain({"format": {"tags": ("think", "answer")}})
    {'format': {'tags': ['think', 'answer']}}
    """
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
        return [plain(item) for item in value]
    return value
