"""grpokit train: one YAML recipe -> TRL's GRPOTrainer (optional SFT warm-up, LoRA, VLMs, evals).
This package must never reimplement TRL's training maths; it validates recipes and wires TRL's parts."""

from train.recipe import Recipe, RecipeError, load

__all__ = ["Recipe", "RecipeError", "load"]
