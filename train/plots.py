"""Training curves from TRL's log history: `rewards/<name>/mean` per GRPO step, drawn with matplotlib.
It must never need a display or change the logs it reads (Agg backend, read-only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def reward_curves(log_history: list[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    """`rewards/<name>/mean` (and the total `reward`) per logged step.

    >>> reward_curves([{"step": 1, "reward": 0.5, "rewards/format/mean": 1.0, "loss": 0.1}])
    {'total (weighted)': [(1, 0.5)], 'format': [(1, 1.0)]}
    """
    curves: dict[str, list[tuple[int, float]]] = {}
    for entry in log_history:
        step = entry.get("step")
        for key, value in entry.items():
            if step is None or not isinstance(value, int | float):
                continue
            if key == "reward" or (key.startswith("rewards/") and key.endswith("/mean")):
                name = "total (weighted)" if key == "reward" else key[len("rewards/"):-len("/mean")]
                curves.setdefault(name, []).append((step, float(value)))
    return curves


def plot_rewards(log_history: list[dict[str, Any]], path: str | Path) -> Path | None:
    """Per-reward training curves written to ``path``; None when nothing was logged."""
    curves = reward_curves(log_history)
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, points in curves.items():
        steps, values = zip(*points, strict=True)
        style = "--" if name.startswith("total") else "-"
        ax.plot(steps, values, style, label=name)
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("mean reward per batch")
    ax.set_title("GRPO training rewards")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
