"""`make demo`: builds a tiny model and arithmetic data, then runs the built-in recipe through the launcher.
It must never train or score by its own code path: recipe.py, launcher.py and evalsuite do all of that."""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from pathlib import Path

RECIPE = Path(__file__).parent / "recipes" / "arithmetic_demo.yaml"
ROWS = ("accuracy", "format_rate", "mean_length", "truncation_rate")
N_HELDOUT = 200
STAGES = (("before", "untrained"), ("after_sft", "after SFT"), ("after", "after GRPO"))


def build(out: Path, seed: int = 0) -> dict[str, Path]:
    """The tiny model and the arithmetic data files under ``out``."""
    from fixtures import arithmetic, tiny

    data = arithmetic.build(out / "data", seed=seed, n_heldout=N_HELDOUT)
    model = tiny.build_text_model(out / "model", corpus=arithmetic.corpus(), seed=seed)
    return {"model": model, **data}


def pick_threads(requested: int | None) -> int:
    """Torch threads for the run. On a busy machine several threads per process spin-wait on each other:
    measured here, a training step took 10.1 s with 2 threads and 2.5 s with 1 while other jobs ran."""
    import os

    import torch

    cores = os.cpu_count() or 1
    if requested is None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        requested = 1 if load >= cores else torch.get_num_threads()
        if requested == 1 and cores > 1:
            print(f"[demo] the machine is busy (load {load:.1f} on {cores} cores): using 1 torch thread", flush=True)
    torch.set_num_threads(max(1, requested))
    return torch.get_num_threads()


def set_aside(run: Path) -> Path | None:
    """Move an earlier demo run to ``RUN.prev`` (the one before it is deleted), so rerunning the demo never
    silently deletes a trained model; returns where it went, or None when there was none.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "run").mkdir(); (root / "run" / "a").write_text("1") and None
    >>> set_aside(root / "run").name, (root / "run.prev" / "a").read_text(), set_aside(root / "run")
    ('run.prev', '1', None)
    """
    if not run.exists():
        return None
    previous = run.with_name(run.name + ".prev")
    if previous.exists():
        shutil.rmtree(previous)
    run.rename(previous)
    return previous


def overrides(out: Path, paths: dict[str, Path], seed: int) -> dict[str, object]:
    return {
        "output_dir": str(out / "run"),
        "seed": seed,
        "model.path": str(paths["model"]),
        "data.train": str(paths["train"]),
        "data.eval": str(paths["heldout"]),
        "sft.data": str(paths["sft"]),
    }


def table(metrics: dict[str, dict]) -> str:
    """The before/after table printed at the end."""
    stages = [(key, label) for key, label in STAGES if key in metrics]
    lines = [f"{'held-out (greedy)':<20}" + "".join(f"{label:>14}" for _, label in stages)]
    for row in ROWS:
        cells = []
        for key, _ in stages:
            value = metrics[key].get(row)
            pct = row.endswith("rate") or row == "accuracy"
            cells.append("-" if value is None else f"{100 * value:.1f}%" if pct else f"{value:.1f}")
        lines.append(f"{row:<20}" + "".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


def _per_step(seconds: float | None, steps: int | None) -> float | None:
    return seconds / steps if seconds and steps else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--build-only", action="store_true", help="write the model and data, then stop")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: all cores, or 1 when the machine is already busy)")
    parser.add_argument("--set", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                        help="extra recipe override, e.g. --set grpo.max_steps 40")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    threads = pick_threads(args.threads)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # weight loading/saving bars; training prints its own lines
    out = Path(args.out)
    moved = set_aside(out / "run")
    if moved:
        print(f"[demo] moved the previous run {out / 'run'} to {moved} (replacing an older copy there)", flush=True)
    print(f"[demo] building a tiny model and a+b data in {out}/", flush=True)
    paths = build(out, args.seed)
    if args.build_only:
        return 0
    build_s = time.perf_counter() - started

    from train import launcher
    from train.plots import plot_rewards
    from train.recipe import load

    values = overrides(out, paths, args.seed)
    import yaml

    values.update({key: yaml.safe_load(value) for key, value in args.set})
    recipe = load(RECIPE, values)
    print(f"[demo] recipe {RECIPE.name}: evaluate, SFT ({recipe.sft.config['max_steps']} steps), "
          f"GRPO ({recipe.grpo['max_steps']} steps) with rewards "
          f"{', '.join(f'{s.name} x{s.weight:g}' for s in recipe.rewards)}, evaluate", flush=True)
    result = launcher.run(recipe, progress=False, compact=True)

    metrics = result.metrics
    plot = plot_rewards(result.log_history.get("grpo", []), out / "rewards.png")
    grpo_steps = [e["step_time"] for e in result.log_history.get("grpo", []) if "step_time" in e]
    gained = None
    if "after" in metrics and "after_sft" in metrics:
        gained = (metrics["after"]["accuracy"] or 0.0) - (metrics["after_sft"]["accuracy"] or 0.0)
    summary = {
        "before": metrics.get("before"),
        "after_sft": metrics.get("after_sft"),
        "after": metrics.get("after"),
        "grpo_accuracy_gain": gained,
        "improved": gained is not None and gained > 0,
        "timings_s": {"build": build_s, **result.timings, "wall": time.perf_counter() - started},
        "grpo_mean_step_s": sum(grpo_steps) / len(grpo_steps) if grpo_steps else None,
        "sft_mean_step_s": _per_step(result.timings.get("sft"), recipe.sft.config.get("max_steps")),
        "preflight_s": (result.preflight or {}).get("seconds"),
        "final_model": result.final_model,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_threads": threads,
        "recipe": recipe.to_dict(),
        "eval_prompts": N_HELDOUT,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))

    print()
    print(table(metrics))
    print()
    if gained is not None:
        verdict = "improved" if gained > 0 else "did NOT improve"
        print(f"[demo] GRPO {verdict} held-out accuracy over its SFT checkpoint by {100 * gained:+.1f} points")
    print(f"[demo] wall time {summary['timings_s']['wall']:.0f} s, peak RSS {summary['peak_rss_mb']:.0f} MB")
    print(f"[demo] wrote {out / 'summary.json'}" + (f" and {plot}" if plot else ""))
    print(f"[demo] the trained model is in {result.final_model} (from_pretrained or "
          f"`evalsuite run --model {result.final_model} --data {paths['heldout']}` load it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
