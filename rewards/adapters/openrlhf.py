"""OpenRLHF adapter: ``reward_func(queries, prompts, labels)`` for ``--remote_rm_url`` / ``--reward.remote_url`` pointing at this file, configured from the environment.
It must never import torch (tensors are returned only when the caller already imported it) and never score the prompt as part of the response."""

from __future__ import annotations

import collections
import functools
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rewards.adapters.reward_set import RESERVED_COLUMNS, RewardSet, Scored

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
NOT_FOUND = "response not found: the prompt is not in the query and no assistant turn marks where the response starts"

_counts: collections.Counter = collections.Counter()
_counts_lock = threading.Lock()
_reported: collections.Counter = collections.Counter()
FIRST_LOGGED, LOG_EVERY = 5, 100  # the first few of each warning, then every 100th with its count


def counts() -> dict[str, int]:
    """Samples this process left unscored, by reason: ``response_not_found`` (neither the prompt nor an assistant
    turn located the response), ``no_reward_applied`` (every reward returned None) and ``reward_error`` (a reward
    failed on the sample, e.g. a grader error).

    >>> sorted(counts())
    ['no_reward_applied', 'response_not_found', 'reward_error']
    """
    with _counts_lock:
        return {key: _counts[key] for key in ("no_reward_applied", "response_not_found", "reward_error")}


def _count(reason: str, n: int, message: str, *args: Any) -> None:
    """Add ``n`` to ``reason`` and warn: the first few times, then every ``LOG_EVERY``-th, with the count so far."""
    if n <= 0:
        return
    with _counts_lock:
        _counts[reason] += n
        _reported[reason] += 1
        seen, total = _reported[reason], _counts[reason]
    if seen <= FIRST_LOGGED or seen % LOG_EVERY == 0:
        _log.warning(message + " [%s: %d samples so far]", *args, reason, total)


class Template:
    """Where a chat template puts the assistant's turn: its ``marker`` (the text the template adds for
    ``add_generation_prompt=True``) and the ``end`` tokens that close a turn. Read from a tokenizer with
    ``Template.of(tokenizer)``; ``KNOWN`` is the built-in list (``ASSISTANT_MARKERS``, ``END_TOKENS``)."""

    def __init__(self, markers: Sequence[str], end_tokens: Sequence[str], source: str = "known markers"):
        self.markers = tuple(m for m in markers if m)
        self.end_tokens = tuple(dict.fromkeys(t for t in end_tokens if t))
        self.source = source

    def __repr__(self) -> str:
        return f"Template({self.markers!r}, {self.end_tokens!r}, source={self.source!r})"

    @classmethod
    def of(cls, tokenizer: Any, source: str = "tokenizer") -> Template:
        """The assistant marker and end-of-turn text of ``tokenizer``'s chat template, ahead of the known ones;
        ValueError (one line) when the template adds no generation prompt."""
        probe = [{"role": "user", "content": "grpokit-probe"}]
        without = tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=False)
        with_prompt = tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=True)
        marker = with_prompt[len(without):] if with_prompt.startswith(without) else ""
        if not marker.strip():
            raise ValueError(f"tokenizer {source!r}: its chat template adds no assistant turn for "
                             f"add_generation_prompt=True, so it cannot locate responses")
        sentinel = "grpokit-sentinel"
        full = tokenizer.apply_chat_template(probe + [{"role": "assistant", "content": sentinel}], tokenize=False)
        closing = full[full.rfind(sentinel) + len(sentinel):].strip() if sentinel in full else ""
        ends = [closing, getattr(tokenizer, "eos_token", None) or "", getattr(tokenizer, "pad_token", None) or ""]
        return cls((marker, marker.rstrip(), *ASSISTANT_MARKERS), (*ends, *END_TOKENS), source)


KNOWN = Template(ASSISTANT_MARKERS, END_TOKENS)


@functools.lru_cache(maxsize=4)
def tokenizer_template(name_or_path: str) -> Template:
    """``Template.of`` the tokenizer at ``name_or_path`` (a local folder or a hub name), loaded once with
    ``transformers.AutoTokenizer`` (the ``eval`` extra); ValueError (one line) when it cannot be loaded."""
    try:
        from transformers import AutoTokenizer
    except ModuleNotFoundError:
        raise ValueError(f"tokenizer {name_or_path!r}: reading its chat template needs transformers: "
                         f"pip install 'grpokit[eval]'") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        return Template.of(tokenizer, name_or_path)
    except ValueError:
        raise
    except Exception as exc:  # OSError, a missing template, ...: one line naming the setting
        raise ValueError(f"tokenizer {name_or_path!r}: cannot read its chat template "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None


def response_text(query: Any, prompt: Any = None, template: Template = KNOWN) -> str | None:
    """The response inside ``query`` (OpenRLHF's decoded prompt + response, special tokens kept), or ``None``
    when it cannot be located: never the whole query, which holds the prompt (a worked example in it would be
    scored as the answer).

    The response starts after the first occurrence of ``prompt`` in the query (its text as OpenRLHF passes
    it, chat template included); when the prompt is not found (a tokenizer that does not decode it back
    exactly), after the last assistant marker of ``template`` (a tokenizer's own, then ``ASSISTANT_MARKERS``:
    ChatML, Llama 3, DeepSeek, Gemma, Granite, Phi, Mistral); with neither, ``None``. Trailing end-of-turn
    tokens are removed.

    >>> response_text("<|im_start|>user\\n2+2?<|im_end|>\\n<|im_start|>assistant\\n<answer>4</answer><|im_end|>",
    ...               "<|im_start|>user\\n2+2?<|im_end|>\\n<|im_start|>assistant\\n")
    '<answer>4</answer>'
    >>> response_text("<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>\\nadd</think>4<｜end▁of▁sentence｜>")
    '<think>\\nadd</think>4'
    >>> response_text("Example: 2+2 gives \\\\boxed{4}. Now 3+3? I think it is 6", "Example: 2+2 gives \\\\boxed{4}. Now 3+3?!") is None
    True
    """
    if not isinstance(query, str):
        return None
    start = query.find(prompt) if isinstance(prompt, str) and prompt else -1
    if start >= 0:
        text = query[start + len(prompt):]
    else:
        ends = [(query.rfind(m), m) for m in template.markers]
        position, marker = max(ends, key=lambda pair: (pair[0], len(pair[1])))
        if position < 0:
            return None
        text = query[position + len(marker):]
    return strip_end_tokens(text, template.end_tokens)


def strip_end_tokens(text: str, end_tokens: Sequence[str] = END_TOKENS) -> str:
    """``text`` without the end-of-turn tokens (and the whitespace between them) it ends with.

    >>> strip_end_tokens("<answer>4</answer>\\n<|im_end|>\\n<|endoftext|>")
    '<answer>4</answer>\\n'
    """
    while True:
        trimmed = text.rstrip()
        token = next((t for t in end_tokens if trimmed.endswith(t)), None)
        if token is None:
            return text
        text = trimmed[: -len(token)]


def score_queries(queries: Sequence[Any], prompts: Sequence[Any] | None, labels: Sequence[Any] | None,
                  reward_set: RewardSet, template: Template = KNOWN) -> dict[str, Any]:
    """OpenRLHF's reward result as plain lists: ``rewards`` (the combined value), ``scores``
    (``reward_set.sample_score``, in [0, 1], for dynamic filtering) and ``extra_logs`` (each reward's
    per-sample values, ``None`` as 0.0, and ``unscored``: 1.0 for a sample no reward scored).

    A sample is unscored, with 0.0 in ``rewards`` and ``scores`` (OpenRLHF cannot take ``None``) and 1.0 in
    ``unscored``, when its response cannot be located in its query (``response_text``), when no reward
    applied (an empty label), or when a reward failed on it (a grader error); each is counted (``counts()``)
    and logged at WARNING (rate-limited) naming the first such sample.

    ``labels`` become every gold column the rewards read (``solution`` unless a ``gold_key`` says); a
    label that is a mapping also gives its keys as columns. ``prompts`` group the completions. A reward
    that fails on the whole batch raises ValueError with its message, so a misconfigured run stops instead
    of training on zeros.

    >>> out = score_queries(["Q: 2+2? A: <answer>4</answer>"], ["Q: 2+2? A: "], ["4"], RewardSet("accuracy,format:0.5"))
    >>> out["rewards"], out["scores"], out["extra_logs"]
    ([1.0], [1.0], {'accuracy': [1.0], 'format': [0.0], 'unscored': [0.0]})
    """
    return reply(score_samples(queries, prompts, labels, reward_set, template), reward_set)


def reply(results: Sequence[Scored], reward_set: RewardSet) -> dict[str, Any]:
    """``score_samples``'s results in OpenRLHF's shape (see ``score_queries``)."""
    return {
        "rewards": [0.0 if r.value is None else r.value for r in results],
        "scores": [0.0 if r.value is None else reward_set.sample_score(r) for r in results],
        "extra_logs": {
            **{name: [0.0 if r.rewards[name] is None else r.rewards[name] for r in results] for name in reward_set.fns},
            "unscored": [float(r.value is None) for r in results],
        },
    }


def score_samples(queries: Sequence[Any], prompts: Sequence[Any] | None, labels: Sequence[Any] | None,
                  reward_set: RewardSet, template: Template = KNOWN,
                  stop: Callable[[], bool] | None = None) -> list[Scored]:
    """One ``Scored`` per query (see ``score_queries``): ``value`` is ``None`` where the sample is unscored, and
    ``unscored`` or ``error`` says why. ``stop`` as in ``RewardSet.score_columns``."""
    queries = list(queries)
    n = len(queries)
    prompts = list(prompts) if prompts is not None else [None] * n
    if len(prompts) != n or (labels is not None and len(labels) != n):
        raise ValueError(f"OpenRLHF passed {n} queries, {len(prompts)} prompts and "
                         f"{'no' if labels is None else len(labels)} labels; they must be one per sample")
    completions = [response_text(q, p, template) for q, p in zip(queries, prompts, strict=True)]
    found = [i for i, text in enumerate(completions) if text is not None]
    if len(found) < n:
        first = next(i for i, text in enumerate(completions) if text is None)
        _count("response_not_found", n - len(found), "OpenRLHF reward: %d of %d samples left unscored: %s (with %s); "
               "first: query %s, prompt %s. Set GRPOKIT_TOKENIZER (rewards serve --tokenizer) to the model's tokenizer",
               n - len(found), n, NOT_FOUND, template.source, _abbreviate(queries[first]), _abbreviate(prompts[first]))
    columns: dict[str, Any] = {"prompts": [prompts[i] for i in found]}
    if labels is not None:
        labels = [list(labels)[i] for i in found]
        if labels and all(isinstance(label, Mapping) for label in labels):
            for key in sorted({k for label in labels for k in label if isinstance(k, str)}):
                if key.isidentifier() and key not in RESERVED_COLUMNS:  # never the completions, groups or self
                    columns[key] = [label.get(key) for label in labels]
        for key in reward_set.gold_keys():
            columns[key] = labels
        _warn_empty_labels(labels, reward_set)
    scored = reward_set.score_columns([completions[i] for i in found], columns, stop) if found else []
    raised = next((r.error for r in scored if r.batch_error), None)
    if raised:  # a reward that raises on the batch is misconfigured (no labels, say): stop the run, loudly
        hint = " (OpenRLHF passes labels only with --label_key naming the gold column)" if labels is None else ""
        raise ValueError(f"reward failed{hint}: {raised}")
    results = [Scored(None, dict.fromkeys(reward_set.fns), unscored=NOT_FOUND) for _ in range(n)]
    for i, result in zip(found, scored, strict=True):
        results[i] = result
    _account(results, queries)
    return results


def _account(results: list[Scored], queries: list[Any]) -> None:
    failed = [i for i, r in enumerate(results) if r.error]
    if failed:
        _count("reward_error", len(failed), "OpenRLHF reward: %d samples unscored because a reward failed on them; "
               "first: %s on query %s", len(failed), results[failed[0]].error, _abbreviate(queries[failed[0]]))
    empty = sum(1 for r in results if r.value is None and not r.error and r.unscored != NOT_FOUND)
    if empty:
        with _counts_lock:
            _counts["no_reward_applied"] += empty


def _abbreviate(text: Any, limit: int = 120) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit * 2 // 3] + "…" + shown[-(limit // 3):]


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


def configured_template() -> Template:
    """The chat template of the tokenizer ``GRPOKIT_TOKENIZER`` names (a folder or hub name), else ``KNOWN``."""
    name = os.environ.get("GRPOKIT_TOKENIZER")
    return tokenizer_template(name) if name else KNOWN


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any] | None = None,
                **kwargs: Any) -> dict[str, Any]:
    """OpenRLHF's custom reward: the rewards the environment configures (``configured()``) on each
    query's response (located with ``configured_template()``). Returns ``{"rewards", "scores", "extra_logs"}``
    as ``score_queries`` does, as float32 tensors (``extra_logs`` values of shape ``(len(queries),)``) when
    torch is already imported, as OpenRLHF's trainer expects, else as lists. Extra keyword arguments are ignored.

    >>> out = reward_func(["<|im_start|>assistant\\n<answer>4</answer><|im_end|>"], [""], ["4"])
    >>> out["rewards"] if "torch" not in sys.modules else out["rewards"].tolist()
    [1.0]
    """
    return as_tensors(score_queries(queries, prompts, labels, configured(), configured_template()))


def as_tensors(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with its lists as float32 tensors when torch is already imported (never imported here)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return result
    tensor = functools.partial(torch.tensor, dtype=torch.float32)
    return {"rewards": tensor(result["rewards"]), "scores": tensor(result["scores"]),
            "extra_logs": {k: tensor(v) for k, v in result["extra_logs"].items()}}
