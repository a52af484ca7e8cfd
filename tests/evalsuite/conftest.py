"""Shared fixtures for the evalsuite tests: one tiny random chat model per session and small data files.
They must never reach the network: the model is built locally by fixtures.tiny."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    from fixtures.tiny import build_text_model

    return build_text_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory) -> Path:
    """A tiny random LLaVA (CLIP vision tower 28x28, Qwen2 text model) with its processor and a chat
    template that renders ``{"type": "image"}`` entries as ``<image>``."""
    pytest.importorskip("PIL")
    import torch
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        GenerationConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        Qwen2Config,
    )

    from fixtures.tiny import build_tokenizer

    out = tmp_path_factory.mktemp("tiny-vlm") / "model"
    tok = build_tokenizer()
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<image>"]})
    tok.chat_template = (
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' }}"
        "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
        "{% for part in message['content'] %}{% if part['type'] == 'image' %}{{ '<image>' }}"
        "{% else %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}{{ '<|im_end|>\\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    )
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                              image_size=28, patch_size=14, projection_dim=32)
    text = Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                       eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, tie_word_embeddings=True)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=tok.convert_tokens_to_ids("<image>"),
                         vision_feature_layer=-1, vision_feature_select_strategy="full")
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config)
    model.generation_config = GenerationConfig(eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    images = CLIPImageProcessor(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
    processor = LlavaProcessor(image_processor=images, tokenizer=tok, patch_size=14, chat_template=tok.chat_template,
                               vision_feature_select_strategy="full", num_additional_image_tokens=1)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_qwen_vlm(tmp_path_factory) -> Path:
    """A tiny random Qwen2.5-VL (fixtures.tiny_vlm): 56x56 images, flattened patches with a grid per image.
    Its real processor needs torchvision (the `vlm` extra; `make install` puts it in .venv)."""
    from fixtures.tiny_vlm import build_vlm, require_vlm

    require_vlm("PIL", "torchvision")

    return build_vlm(tmp_path_factory.mktemp("tiny-qwen-vlm") / "model")


def _write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _sums(count: int) -> list[dict]:
    return [{"prompt": f"What is {i}+{i + 1}?", "solution": str(2 * i + 1)} for i in range(count)]


@pytest.fixture
def write_jsonl():
    """``write_jsonl(path, rows) -> path``."""
    return _write_jsonl


@pytest.fixture
def sums():
    """``sums(count)``: addition prompts with gold answers."""
    return _sums


@pytest.fixture
def sums_file(tmp_path) -> Path:
    return _write_jsonl(tmp_path / "sums.jsonl", _sums(6))
