"""OpenRLHF adapter: ``reward_func(queries, prompts, labels)`` for ``--remote_rm_url`` / ``--reward.remote_url`` pointing at this file, configured from the environment.
It must never import torch (tensors are returned only when the caller already imported it) and never score the prompt as part of the response."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rewards.adapters.reward_set import RewardSet

_log = logging.getLogger(__name__)

# Where the last assistant turn starts in a decoded chat, for when the prompt text is not found in the query.
ASSISTANT_MARKERS: tuple[str, ...] = (
    "<|im_start|>assistant\n",  # ChatML: Qwen, Yi, SmolLM, OpenHermes, ...
    "<|im_start|>assistant",
    "<|start_header_id|>assistant<|end_header_id|>\n\n",  # Llama 3
    "<|start_header_id|>assistant<|end_header_id|>",
    "<｜Assistant｜>",  # DeepSeek V3 / R1 and their Qwen and Llama distills
    "<|Assistant|>",
    "<start_of_turn>model\n",  # Gemma
    "<|start_of_role|>assistant<|end_of_role|>",  # Granite
    "<|assistant|>\n",  # Phi-3, GLM-4
    "<|assistant|>",
    "[/INST]",  # Llama 2, Mistral
)
# End-of-turn and end-of-text tokens a decoded query keeps after the response (skip_special_tokens=False).
END_TOKENS: tuple[str, ...] = (
    "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<｜end▁of▁sentence｜>", "<|end▁of▁sentence|>",
    "</s>", "<end_of_turn>", "<eos>", "<|end|>", "<|end_of_role|>", "<|return|>", "<|pad|>", "<pad>",
)


def response_text(query: str, prompt: Any = None) -> str:
    """The response inside ``query`` (OpenRLHF's decoded prompt + response, special tokens kept).

    The response starts after the first occurrence of ``prompt`` in the query (its text as OpenRLHF
    passes it, chat template included); when the prompt is not found (a tokenizer that does not decode
    it back exactly), after the last known assistant marker (``ASSISTANT_MARKERS``: ChatML, Llama 3,
    DeepSeek, Gemma, Granite, Phi, Mistral); with neither, the whole query is the response. Trailing
    end-of-turn tokens (``END_TOKENS``) are removed.

    >>> response_text("<|im_start|>user\\n2+2?<|im_end|>\\n<|im_start|>assistant\\n<answer>4</answer><|im_end|>",
    ...               "<|im_start|>user\\n2+2?<|im_end|>\\n<|im_start|>assistant\\n")
    '<answer>4</answer>'
    >>> response_text("<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>\\nadd</think>4<｜end▁of▁sentence｜>")
    '<think>\\nadd</think>4'
    """
    query = query if isinstance(query, str) else ""
    start = query.find(prompt) if isinstance(prompt, str) and prompt else -1
    if start >= 0:
        text = query[start + len(prompt):]
    else:
        ends = [(query.rfind(m), m) for m in ASSISTANT_MARKERS]
        position, marker = max(ends, key=lambda pair: (pair[0], len(pair[1])))
        text = query[position + len(marker):] if position >= 0 else query
    return strip_end_tokens(text)


def strip_end_tokens(text: str) -> str:
    """``text`` without the end-of-turn tokens (and the whitespace between them) it ends with.

    >>> strip_end_tokens("<answer>4</answer>\\n<|im_end|>\\n<|endoftext|>")
    '<answer>4</answer>\\n'
    """
    while True:
        trimmed = text.rstrip()
        token = next((t for t in END_TOKENS if trimmed.endswith(t)), None)
        if token is None:
            return text
        text = trimmed[: -len(token)]


def score_queries(queries: Sequence[Any], prompts: Sequence[Any] | None, labels: Sequence[Any] | None,
                  reward_set: RewardSet) -> dict[str, Any]:
    """OpenRLHF's reward result as plain lists: ``rewards`` (the combined value; 0.0 where no reward
    applied), ``scores`` (``reward_set.sample_score``, in [0, 1], for dynamic filtering) and ``extra_logs``
    (each reward's per-sample values, ``None`` as 0.0, and ``unscored``: 1.0 where no reward applied).

    ``labels`` become every gold column the rewards read (``solution`` unless a ``gold_key`` says); a
    label that is a mapping also gives its keys as columns. ``prompts`` group the completions. A reward
    that fails raises ValueError with its message, so a misconfigured run stops instead of training on zeros.

    >>> out = score_queries(["Q: 2+2? A: <answer>4</answer>"], ["Q: 2+2? A: "], ["4"], RewardSet("accuracy,format:0.5"))
    >>> out["rewards"], out["scores"], out["extra_logs"]
    ([1.0], [1.0], {'accuracy': [1.0], 'format': [0.0], 'unscored': [0.0]})
    """
    queries = list(queries)
    n = len(queries)
    prompts = list(prompts) if prompts is not None else [None] * n
    if len(prompts) != n or (labels is not None and len(labels) != n):
        raise ValueError(f"OpenRLHF passed {n} queries, {len(prompts)} prompts and "
                         f"{'no' if labels is None else len(labels)} labels; they must be one per sample")
    completions = [response_text(q, p) for q, p in zip(queries, prompts, strict=True)]
    columns: dict[str, Any] = {"prompts": prompts}
    if labels is not None:
        labels = list(labels)
        if labels and all(isinstance(label, Mapping) for label in labels):
            for key in sorted({k for label in labels for k in label if isinstance(k, str)}):
                columns[key] = [label.get(key) for label in labels]
        for key in reward_set.gold_keys():
            columns[key] = labels
        _warn_empty_labels(labels, reward_set)
    results = reward_set.score(completions, **columns)
    failed = next((r.error for r in results if r.error), None)
    if failed:
        hint = " (OpenRLHF passes labels only with --label_key naming the gold column)" if labels is None else ""
        raise ValueError(f"reward failed{hint}: {failed}")
    return {
        "rewards": [0.0 if r.value is None else r.value for r in results],
        "scores": [reward_set.sample_score(r) for r in results],
        "extra_logs": {
            **{name: [0.0 if r.rewards[name] is None else r.rewards[name] for r in results] for name in reward_set.fns},
            "unscored": [float(r.value is None) for r in results],
        },
    }


def _warn_empty_labels(labels: list[Any], reward_set: RewardSet) -> None:
    """OpenRLHF passes "" as every label when ``--data.label_key`` (``--label_key``) is not set, which leaves every
    gold-based reward unscored (``extra_logs["unscored"]`` shows 1.0) instead of failing: say so, once."""
    if reward_set.gold_rewards() and any(label in ("", None) for label in labels):
        _warn_once(", ".join(reward_set.gold_rewards()))


@functools.cache
def _warn_once(gold_rewards: str) -> None:
    _log.warning("OpenRLHF passed an empty label, so %s give no reward for that sample; if every label is empty, "
                 "set --data.label_key (--label_key in older OpenRLHF) to the gold answer column", gold_rewards)


@functools.lru_cache(maxsize=8)
def _reward_set(rewards: str | None, params: str | None, config: str | None, score: str | None) -> RewardSet:
    environ = {k: v for k, v in (("GRPOKIT_REWARDS", rewards), ("GRPOKIT_REWARD_PARAMS", params),
                                 ("GRPOKIT_REWARD_CONFIG", config), ("GRPOKIT_REWARD_SCORE", score)) if v}
    reward_set = RewardSet.from_env(environ)
    _log.info("OpenRLHF reward_func scores with %r", reward_set)
    return reward_set


def configured() -> RewardSet:
    """The reward set the environment names (``GRPOKIT_REWARDS``, ``GRPOKIT_REWARD_PARAMS``,
    ``GRPOKIT_REWARD_CONFIG``, ``GRPOKIT_REWARD_SCORE``; see ``RewardSet.from_env``), built once per setting."""
    env = os.environ
    return _reward_set(env.get("GRPOKIT_REWARDS"), env.get("GRPOKIT_REWARD_PARAMS"),
                       env.get("GRPOKIT_REWARD_CONFIG"), env.get("GRPOKIT_REWARD_SCORE"))


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any] | None = None,
                **kwargs: Any) -> dict[str, Any]:
    """OpenRLHF's custom reward: the rewards the environment configures (``configured()``) on each
    query's response. Returns ``{"rewards", "scores", "extra_logs"}`` as ``score_queries`` does, as
    float32 tensors (``extra_logs`` values of shape ``(len(queries),)``) when torch is already imported,
    as OpenRLHF's trainer expects, else as lists. Extra keyword arguments are ignored.

    >>> out = reward_func(["<|im_start|>assistant\\n<answer>4</answer><|im_end|>"], [""], ["4"])
    >>> out["rewards"] if "torch" not in sys.modules else out["rewards"].tolist()
    [1.0]
    """
    return as_tensors(score_queries(queries, prompts, labels, configured()))


def as_tensors(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with its lists as float32 tensors when torch is already imported (never imported here)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return result
    tensor = functools.partial(torch.tensor, dtype=torch.float32)
    return {"rewards": tensor(result["rewards"]), "scores": tensor(result["scores"]),
            "extra_logs": {k: tensor(v) for k, v in result["extra_logs"].items()}}
