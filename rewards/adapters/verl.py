"""verl adapter: ``compute_score`` for verl's ``custom_reward_function``, scoring one response with our rewards.
It must never import verl (or torch), always returns the same keys so verl can stack them across samples, and never turns a missing gold into a silent 0."""

from __future__ import annotations

import collections
import functools
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rewards.registry import get, parameters

_log = logging.getLogger(__name__)
_counts: collections.Counter = collections.Counter()
_lock = threading.Lock()
FIRST_LOGGED, LOG_EVERY = 5, 100


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    rewards: Mapping[str, float] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """Score one verl response: ``{"score": Σ weight·value, <name>: value, ..., "acc", "unscored"}`` over
    ``rewards`` (``{name: weight}``, default ``{"accuracy": 1.0}``), each built with ``params.get(name, {})``
    once per configuration (not per call).

    ``ground_truth`` is the gold (the ``solution`` column); ``extra_info`` entries are passed as dataset
    columns. A reward that cannot apply (``None``, e.g. an empty gold) counts 0.0 in the sum, and
    ``unscored`` is 1.0 when no reward applied; a missing gold for a reward that reads one is counted
    (``counts()["missing_gold"]``) and logged at WARNING (rate-limited) naming the sample. ``acc`` repeats
    accuracy's value (0.0 without accuracy in the set), as verl's validation summary looks for ``acc``.
    Each call scores one response, so group rewards (``length``) see a group of one and give 0.
    Configure it in verl with ``custom_reward_function.path=<this file>``, ``name=compute_score`` and
    ``reward_kwargs`` holding ``rewards``/``params``.

    >>> compute_score("gsm8k", "<think>2+2</think><answer>4</answer>", "4", rewards={"accuracy": 1.0, "format": 0.5})
    {'score': 1.5, 'accuracy': 1.0, 'format': 1.0, 'acc': 1.0, 'unscored': 0.0}
    """
    rewards = plain(rewards) or {"accuracy": 1.0}
    params = plain(params) or {}
    built = _built(json.dumps([rewards, params], sort_keys=True, default=repr))
    columns = {k: [v] for k, v in (extra_info or {}).items() if isinstance(k, str)}
    columns["solution"] = [ground_truth]
    result = {"score": 0.0}
    applied = False
    for name, (weight, fn, reads_gold) in built.items():
        if reads_gold and ground_truth in ("", None):
            _missing_gold(name, data_source, extra_info)
        value = fn([solution_str], **columns)[0]
        applied = applied or value is not None
        result[name] = 0.0 if value is None else float(value)
        result["score"] += weight * result[name]
    result["acc"] = result.get("accuracy", 0.0)
    result["unscored"] = 0.0 if applied else 1.0
    return result


def counts() -> dict[str, int]:
    """Samples this process scored without a gold that a reward of the set reads (``missing_gold``)."""
    with _lock:
        return {"missing_gold": _counts["missing_gold"]}


@functools.lru_cache(maxsize=32)
def _built(config: str) -> dict[str, tuple[float, Callable[..., list], bool]]:
    """``{name: (weight, reward, reads a gold)}`` for a configuration (JSON of ``[rewards, params]``), built once."""
    rewards, params = json.loads(config)
    return {name: (float(weight), get(name, **params.get(name, {})),
                   ":" not in name and "gold_key" in parameters(name)) for name, weight in rewards.items()}


def _missing_gold(name: str, data_source: Any, extra_info: Mapping[str, Any] | None) -> None:
    with _lock:
        _counts["missing_gold"] += 1
        seen = _counts["missing_gold"]
    if seen <= FIRST_LOGGED or seen % LOG_EVERY == 0:
        index = (extra_info or {}).get("index") if isinstance(extra_info, Mapping) else None
        _log.warning("verl compute_score: no ground truth for %s (data_source %r, index %r), so it scores 0 for "
                     "this sample; check the dataset's reward_model.ground_truth [%d such samples so far]",
                     name, data_source, index, seen)


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
