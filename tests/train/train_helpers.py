"""Recipe builders shared by the train tests (imported as `train_helpers`; conftest holds the fixtures).
They must never point at anything outside the paths the tests pass in."""

from __future__ import annotations


def tiny_recipe(model_path, data, out, **sections) -> dict:
    """A recipe dict small enough to train in seconds on CPU."""
    recipe = {
        "output_dir": str(out),
        "model": {"path": str(model_path)},
        "data": {"train": str(data["train"]), "limit": 32},
        "rewards": [{"name": "format", "weight": 0.5}, {"name": "accuracy", "weight": 2.0}],
        "grpo": {
            "max_steps": 2,
            "per_device_train_batch_size": 8,
            "num_generations": 4,
            "max_completion_length": 12,
            "learning_rate": 1e-4,
            "disable_tqdm": True,
        },
        # a random model truncates everything, which the preflight rightly stops: report only
        "preflight": {"prompts": 2, "stop": False},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(recipe.get(key), dict):
            recipe[key] = {**recipe[key], **value}
        else:
            recipe[key] = value
    return recipe
