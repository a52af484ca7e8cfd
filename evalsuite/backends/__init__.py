"""Chooses and loads a generation backend by name ("transformers", "vllm" or "openai", a served model).
It must never import torch or vllm before a backend is actually asked for."""

from __future__ import annotations

from typing import Any

from evalsuite.backends.base import Backend, Completion, Prompt, Sampling
from evalsuite.errors import EvalError

BACKENDS = ("transformers", "vllm", "openai")

__all__ = ["BACKENDS", "Backend", "Completion", "Prompt", "Sampling", "load_backend"]


def load_backend(name: str, config: Any, *, model: Any = None, tokenizer: Any = None) -> Backend:
    """A ready backend for ``config`` (an EvalConfig); ``model`` may be an already loaded model object
    (a transformers model, or a ``vllm.LLM`` for the vllm backend), which is then used and not closed."""
    if name == "transformers":
        from evalsuite.backends.transformers import TransformersBackend

        return TransformersBackend.create(config, model=model, tokenizer=tokenizer)
    if name == "vllm":
        from evalsuite.backends.vllm import VLLMBackend

        return VLLMBackend.create(config, model=model, tokenizer=tokenizer)
    if name == "openai":
        from evalsuite.backends.openai import OpenAIBackend

        return OpenAIBackend.create(config, model=model)
    raise EvalError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
