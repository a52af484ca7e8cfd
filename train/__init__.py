"""grpokit train: one YAML recipe -> TRL's GRPOTrainer (optional SFT warm-up, LoRA, VLMs, evals).
This package must never reimplement TRL's training maths; it validates recipes and wires TRL's parts."""

__all__ = ["Recipe", "RecipeError", "load"]


def __getattr__(name: str):
    """``train.Recipe`` etc. load on first use, so ``grpo-train`` can name a missing extra before pydantic loads."""
    if name in __all__:
        from train import recipe

        return getattr(recipe, name)
    raise AttributeError(f"module 'train' has no attribute {name!r}")
