"""Which install extra provides a missing optional dependency, so every command can say in one line what to install.
It must never import the dependencies it names: it only reads the name of a ModuleNotFoundError."""

from __future__ import annotations

# top-level module -> the grpokit extra that installs it (pyproject.toml [project.optional-dependencies])
EXTRA_OF = {
    "torch": "eval", "transformers": "eval", "datasets": "eval", "pyarrow": "eval", "safetensors": "eval", "httpx": "eval",
    "vllm": "vllm",
    "trl": "train", "peft": "train", "accelerate": "train", "matplotlib": "train", "pydantic": "train",
    "PIL": "vlm", "torchvision": "vlm", "av": "video",
    "starlette": "serve", "granian": "serve", "prometheus_client": "serve", "submitit": "cluster",
    "hypothesis": "dev", "math_verify": "dev", "playwright": "dev",
}


def missing_extra(error: BaseException, command: str) -> str | None:
    """One line naming the extra to install when ``error`` is a missing optional dependency, else ``None``.

    >>> missing_extra(ModuleNotFoundError("No module named 'transformers'", name="transformers"), "evalsuite run")
    "evalsuite run needs transformers, which the 'eval' extra installs: pip install 'grpokit[eval]'"
    >>> missing_extra(ModuleNotFoundError("No module named 'my_rewards'", name="my_rewards"), "grpo-train") is None
    True
    """
    name = getattr(error, "name", None) if isinstance(error, ModuleNotFoundError) else None
    extra = EXTRA_OF.get((name or "").split(".")[0])
    if extra is None:
        return None
    return f"{command} needs {name}, which the {extra!r} extra installs: pip install 'grpokit[{extra}]'"
