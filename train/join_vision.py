"""`python -m train.join_vision`: a Qwen2.5-VL vision tower joined to a Qwen2.5 text model, saved as one model.
It must never save a model whose parts were silently dropped, nor leave a half-written folder where the model goes."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from pathlib import Path

log = logging.getLogger("grpo-train")

# Text-model settings the joined model takes from the text model (the rest of its text config stays Qwen2.5-VL's).
_TEXT_KEYS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
              "num_key_value_heads", "max_position_embeddings", "rms_norm_eps", "hidden_act", "sliding_window",
              "use_sliding_window", "max_window_layers", "layer_types", "attention_dropout", "bos_token_id", "eos_token_id",
              "pad_token_id")


def mrope_section(section: list[int], head_dim: int) -> list[int]:
    """Qwen2.5-VL's (temporal, height, width) split of the rotary half-dimension, rescaled to ``head_dim``.

    >>> mrope_section([16, 24, 24], 64)   # Qwen2.5-VL (head_dim 128) onto Qwen2.5-0.5B (head_dim 64)
    [8, 12, 12]
    >>> mrope_section([16, 24, 24], 16)
    [2, 3, 3]
    """
    half, total = head_dim // 2, sum(section)
    scaled = [part * half // total for part in section]
    scaled[-1] += half - sum(scaled)
    return scaled


def joined_config(vision_config, text_config):
    """The Qwen2.5-VL config of the joined model: the vision tower's settings with its merger projecting to
    the text model's hidden size, and the text model's architecture."""
    from transformers import Qwen2_5_VLConfig

    text = vision_config.text_config.to_dict()
    source = text_config.to_dict()
    text.pop("layer_types", None)  # per-layer settings follow the text model's layer count
    text.update({k: source[k] for k in _TEXT_KEYS if k in source})
    rope = dict(text.get("rope_parameters") or {})
    text_rope = source.get("rope_parameters") or {}
    if "rope_theta" in text_rope:
        rope["rope_theta"] = text_rope["rope_theta"]
    head_dim = text_config.hidden_size // text_config.num_attention_heads
    if rope.get("mrope_section"):
        rope["mrope_section"] = mrope_section(rope["mrope_section"], head_dim)
    text["rope_parameters"] = rope
    vision = vision_config.vision_config.to_dict()
    vision["out_hidden_size"] = text_config.hidden_size
    ids = {k: getattr(vision_config, k) for k in ("image_token_id", "video_token_id", "vision_start_token_id",
                                                   "vision_end_token_id")}
    too_big = {k: v for k, v in ids.items() if v is not None and v >= text_config.vocab_size}
    if too_big:
        raise ValueError(f"the text model's vocabulary ({text_config.vocab_size} tokens) lacks the vision tokens "
                         f"{too_big}: join models that share a tokenizer (Qwen2.5-VL and Qwen2.5 do)")
    return Qwen2_5_VLConfig(text_config=text, vision_config=vision,
                            tie_word_embeddings=getattr(text_config, "tie_word_embeddings", False), **ids)


def join(vision_path: str | Path, text_path: str | Path, out: str | Path, *, dtype: str = "auto",
         trust_remote_code: bool = False) -> dict[str, list[str]]:
    """Save the joined model and the vision model's processor in ``out``; returns the weights that were
    newly initialised (the merger's output projection when the hidden sizes differ) under ``"new"``.

    Everything is written to a temporary folder beside ``out`` and renamed to ``out`` only when complete, so
    a failure (a missing dependency, a full disk) leaves no folder that looks like a model. An ``out`` that
    exists and is not empty is refused (ValueError)."""
    import torch
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        AutoModelForImageTextToText,
        AutoProcessor,
        Qwen2_5_VLForConditionalGeneration,
    )

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} already exists and is not empty: remove it or choose another --out")
    kwargs = {"dtype": dtype, "trust_remote_code": trust_remote_code}
    vision_config = AutoConfig.from_pretrained(vision_path, trust_remote_code=trust_remote_code)
    if getattr(vision_config, "vision_config", None) is None:
        raise ValueError(f"{vision_path} has no vision_config: give a Qwen2.5-VL model as --vision")
    processor = AutoProcessor.from_pretrained(vision_path, trust_remote_code=trust_remote_code)  # before any weights
    text_model = AutoModelForCausalLM.from_pretrained(text_path, **kwargs)
    vision_model = AutoModelForImageTextToText.from_pretrained(vision_path, **kwargs)
    config = joined_config(vision_config, text_model.config)
    joined = Qwen2_5_VLForConditionalGeneration(config).to(text_model.dtype)
    target = joined.state_dict()

    state = {}
    for key, value in vision_model.state_dict().items():
        if key.startswith("model.visual.") and target[key].shape == value.shape:
            state[key] = value
    for key, value in text_model.state_dict().items():
        name = "lm_head.weight" if key == "lm_head.weight" else "model.language_model." + key.removeprefix("model.")
        if name not in target:
            raise ValueError(f"text weight {key} has no place in the joined model ({name})")
        state[name] = value
    with torch.no_grad():
        missing, unexpected = joined.load_state_dict(state, strict=False)
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    new = sorted(set(missing) - tied)
    if unexpected or any(not k.startswith("model.visual.merger.") for k in new):
        raise ValueError(f"could not place every weight: missing {new}, unexpected {unexpected}")
    if config.tie_word_embeddings:
        joined.tie_weights()
    joined.generation_config = text_model.generation_config
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        joined.save_pretrained(str(staging))
        processor.save_pretrained(str(staging))
        if out.is_dir():
            out.rmdir()  # empty (checked above)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for key in new:
        log.warning("join_vision: %s is new (random init, shape %s): train it", key, tuple(target[key].shape))
    return {"new": new}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.join_vision", description=__doc__.splitlines()[0])
    parser.add_argument("--vision", required=True, help="Qwen2.5-VL model (folder or hub id) giving the vision tower")
    parser.add_argument("--text", required=True, help="Qwen2.5 text model (folder or hub id) giving the language model")
    parser.add_argument("--out", required=True, help="folder for the joined model")
    parser.add_argument("--dtype", default="auto", help="auto | float32 | bfloat16 | float16")
    parser.add_argument("--trust-remote-code", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        done = join(args.vision, args.text, args.out, dtype=args.dtype, trust_remote_code=args.trust_remote_code)
    except (ValueError, OSError) as exc:
        print(f"join_vision: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # e.g. the processor's torchvision
        from evalsuite.backends.transformers import missing_library

        print(f"join_vision: cannot load the processor of {args.vision}: {missing_library(exc)}", file=sys.stderr)
        return 2
    print(f"join_vision: saved {args.out}" + (f"; new weights: {', '.join(done['new'])}" if done["new"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
