"""What a generation backend takes (prompts, sampling settings) and gives back (texts, token ids, why it stopped).
It must never score, store or reorder anything: one list of n completions per prompt, in prompt order."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from evalsuite.errors import EvalError

log = logging.getLogger(__name__)
_WARNED: set[int] = set()  # tokenizers already warned about (by id) in this process


@dataclass(frozen=True)
class Sampling:
    """Sampling settings shared by every backend. ``top_k`` None (or -1, or 0) means no top-k cut.

    ``temperature == 0`` is greedy decoding; then all ``n`` samples of a prompt are the same.
    """

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int | None = None
    max_tokens: int = 256
    seed: int = 0
    stop: tuple[str, ...] = ()

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0

    @property
    def top_k_or_none(self) -> int | None:
        return self.top_k if self.top_k is not None and self.top_k > 0 else None


@dataclass
class Prompt:
    """One prompt: chat messages (the system prompt already applied), optional images, and seed offsets.

    A backend draws ``sampling.n`` samples numbered ``first_sample, first_sample + 1, ...``; sample j's
    randomness depends only on the run seed, ``index`` and j, so samples 4-7 drawn later equal the
    samples 4-7 of a run that asked for 8 at once."""

    messages: list[dict]
    images: list | None = None
    index: int = 0  # stable position in the data set; backends derive per-prompt seeds from it
    first_sample: int = 0  # number of the first sample to draw: a run whose n grows draws only the new ones
    id: Any = None  # the row's id, for errors that name the prompt


@dataclass
class Completion:
    """One sampled completion: decoded text (stop string removed), generated token ids, and why it ended.

    ``finish_reason`` is ``"stop"`` (end of sequence or a stop string) or ``"length"`` (hit max_tokens).
    A backend that cannot see the token ids (a server) gives ``token_ids=None`` and the server's
    ``token_count``.
    """

    text: str
    token_ids: list[int] | None = field(default_factory=list)
    finish_reason: str = "stop"
    token_count: int | None = None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"

    @property
    def length(self) -> int:
        """Generated tokens: the ids' count, else the server's count."""
        return len(self.token_ids) if self.token_ids is not None else int(self.token_count or 0)


class Backend(Protocol):
    """A loaded model that generates; ``name`` is recorded in the summary."""

    name: str

    def generate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[Completion]]:
        """``sampling.n`` completions for each prompt, in prompt order."""
        ...

    def close(self) -> None:
        """Release what the backend owns (not a model object it was handed)."""
        ...


def render_chat(tokenizer: Any, messages: list[dict], images: list | None = None) -> str:
    """The prompt text the model reads: the tokenizer's (or processor's) chat template with the generation
    prompt opened, as TRL renders prompts for training. A tokenizer without a template (a base model) gets
    the fallback: the message contents (system, few-shot turns, question) joined by blank lines, with a
    warning logged once per tokenizer.
    """
    if images:
        messages = with_image_placeholders(messages, len(images))
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if id(tokenizer) not in _WARNED:
        _WARNED.add(id(tokenizer))
        log.warning("%s has no chat template: each prompt is its messages' contents joined by blank lines "
                    "(a base-model prompt; see docs/evalsuite.md, Prompts)", getattr(tokenizer, "name_or_path", None)
                    or type(tokenizer).__name__)
    return plain_prompt(messages)


def plain_prompt(messages: list[dict]) -> str:
    r"""A base-model prompt: the message contents (system, few-shot turns, question) joined by blank lines.

    >>> plain_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "1+1?"}])
    'Be brief.\n\n1+1?'
    """
    return "\n\n".join(_text_of(m["content"]) for m in messages)


def with_image_placeholders(messages: list[dict], count: int) -> list[dict]:
    """Messages whose first user turn starts with ``count`` image entries (TRL's layout for VLM prompts),
    unless some message already carries image entries."""
    if any(isinstance(m["content"], list) and any(_is_image(c) for c in m["content"]) for m in messages):
        return messages
    out = [dict(m) for m in messages]
    for m in out:
        if m["role"] == "user":
            text = m["content"]
            parts = text if isinstance(text, list) else [{"type": "text", "text": text}]
            m["content"] = [{"type": "image"} for _ in range(count)] + parts
            break
    return out


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """``text`` up to (not including) the earliest stop string, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def _is_image(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "image"


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict))


def as_pil(image: Any):
    """A PIL image from a PIL image, a file path, or a ``{"bytes": ..., "path": ...}`` dict (how `datasets`
    and parquet store images)."""
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    if isinstance(image, dict):
        if image.get("bytes"):
            import io

            return Image.open(io.BytesIO(image["bytes"])).convert("RGB")
        image = image.get("path")
    if isinstance(image, str):
        return Image.open(image).convert("RGB")
    raise EvalError(f"cannot read an image from {type(image).__name__}; give a path, a PIL image or bytes")


def check_model_path(model: str) -> None:
    """Refuse a model argument that names a missing local path (a hub id like ``org/name`` is let through)."""
    from pathlib import Path

    if not model:
        raise EvalError("no model given (--model PATH)")
    p = Path(model).expanduser()
    looks_local = model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model
    if not p.exists() and (looks_local or "/" not in model):
        raise EvalError(f"model path {model!r} does not exist")


def adapter_base(model: str) -> str | None:
    """The base model a PEFT adapter folder was trained on (``adapter_config.json`` without ``config.json``),
    else ``None``: transformers loads such a folder onto its base, but its config lives with the base.

    >>> adapter_base("Qwen/Qwen2.5-0.5B") is None
    True
    """
    import json
    from pathlib import Path

    folder = Path(model).expanduser()
    adapter = folder / "adapter_config.json"
    if not adapter.is_file() or (folder / "config.json").is_file():
        return None
    try:
        base = json.loads(adapter.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError, AttributeError) as err:
        raise EvalError(f"{adapter}: unreadable adapter config ({err})") from None
    if not isinstance(base, str) or not base:
        raise EvalError(f"{adapter}: no base_model_name_or_path; cannot tell which model the adapter belongs to")
    return base

