"""`grpo-train RECIPE.yaml [--section.key value ...]`: parses arguments and hands them to the library.
It must never decide anything about training itself; recipe.py and launcher.py do."""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys

from rewards.extras import missing_extra


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grpo-train",
        description="Run a GRPO recipe (optional SFT warm-up, LoRA, evals) with TRL.",
        epilog="Overrides: any recipe key as --section.key VALUE (YAML-parsed), e.g. "
        "--grpo.learning_rate 1e-5 --model.path ./my-model --rewards.1.weight 2, and the top-level keys "
        "--output_dir DIR --seed N --device cpu; `--rewards+ '[length]'` appends to a list. Ablations: "
        "grpo-train sweep SWEEP.yaml. Multi-GPU: accelerate launch --config_file train/configs/zero2.yaml "
        "-m train RECIPE.yaml",
    )
    parser.add_argument("recipe", help="recipe YAML file (see train/recipes/ and docs/train.md)")
    parser.add_argument("--check", action="store_true",
                        help="validate the recipe, the model path and the data files, then exit (no model loads)")
    parser.add_argument("--print", dest="print_recipe", action="store_true",
                        help="print the resolved recipe (stdout) and trainable parameters per module (stderr)")
    parser.add_argument("--preflight", action="store_true",
                        help="sample and score a few training prompts as GRPO would, report, exit non-zero "
                        "when the run would be stopped")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in output_dir: finished stages are skipped, the unfinished one "
                        "continues from its last checkpoint")
    parser.add_argument("--overwrite", action="store_true", help="delete the run in output_dir and start over")
    parser.add_argument("--allow-changes", action="store_true",
                        help="with --resume: continue even though the recipe changed since the run started")
    parser.add_argument("--ignore-preflight", action="store_true",
                        help="print the preflight's figures but train even when it would stop the run")
    parser.add_argument("--verbose", action="store_true",
                        help="TRL's own progress bar and log dicts, and the summary as JSON (default: one live "
                        "line with step, reward means, KL and seconds per step)")
    return parser


TOP_LEVEL_OVERRIDES = ("--output_dir", "--seed", "--device")


def _sweep(argv: list[str]) -> int:
    """`grpo-train sweep SWEEP.yaml [--launcher local|submitit] [--check]` (train/sweep.py)."""
    try:
        from train import sweep
    except ModuleNotFoundError as err:
        hint = missing_extra(err, "grpo-train sweep")
        if hint is None:
            raise
        print(f"grpo-train: {hint}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    return sweep.main(argv)


def split_overrides(argv: list[str]) -> tuple[list[str], list[str]]:
    """(our own arguments, `--section.key value` and top-level `--output_dir`/`--seed` overrides);
    override values may start with '-'."""
    ours, overrides = [], []
    i = 0
    while i < len(argv):
        token = argv[i]
        name = token[2:].split("=", 1)[0]
        is_override = token.startswith("--") and ("." in name or name.endswith("+")
                                                   or f"--{name}" in TOP_LEVEL_OVERRIDES)
        if is_override:
            if "=" in token or i + 1 >= len(argv):
                overrides.append(token)
                i += 1
            else:
                overrides += [token, argv[i + 1]]
                i += 2
        else:
            ours.append(token)
            i += 1
    return ours, overrides


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["sweep"]:
        return _sweep(argv[1:])
    ours, overrides = split_overrides(argv)
    args = build_parser().parse_args(ours)
    try:
        from train import launcher
        from train.errors import RecipeError, RunStopped
        from train.evaluation import is_main
        from train.recipe import load
    except ModuleNotFoundError as err:
        hint = missing_extra(err, "grpo-train")
        if hint is None:
            raise
        print(f"grpo-train: {hint}", file=sys.stderr)
        return 2

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        recipe = load(args.recipe, overrides)
        if args.print_recipe:
            print(json.dumps(recipe.to_dict(), indent=2, default=str))
            print("\n".join(launcher.parameter_table(recipe)), file=sys.stderr)
            return 0
        if args.check:
            counts = launcher.check(recipe)
            print(f"{args.recipe}: ok ({', '.join(f'{k}: {n} rows' for k, n in counts.items())})")
            return 0
        if args.preflight:
            launcher.check(recipe)
            report = launcher.preflight(recipe)
            print("\n".join(report.lines()))
            return 1 if report.problems else 0
        result = launcher.run(recipe, resume=args.resume, overwrite=args.overwrite, compact=not args.verbose,
                              allow_changes=args.allow_changes, skip_preflight_stop=args.ignore_preflight)
    except RecipeError as exc:
        for line in str(exc).splitlines():
            print(f"grpo-train: {line}", file=sys.stderr)
        return 2
    except RunStopped as exc:
        print(exc, file=sys.stderr)
        return 3
    except ModuleNotFoundError as exc:
        hint = missing_extra(exc, "grpo-train")
        if hint is None:
            raise
        print(f"grpo-train: {hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if is_main():  # one line per run, not one per process
            again = [a for a in argv if a not in ("--overwrite", "--resume", "--allow-changes")]
            print(f"\ngrpo-train: interrupted; continue from the last checkpoint with: grpo-train "
                  f"{shlex.join([*again, '--resume'])}", file=sys.stderr)
        return 130
    if result.is_main and args.verbose:  # one summary per run, not one per process
        print(json.dumps({"output_dir": str(result.output_dir), "final_model": result.final_model,
                          "metrics": result.metrics, "timings": result.timings, "skipped": result.skipped},
                         indent=2, default=str))
    elif result.is_main:
        print("\n".join(launcher.summary_lines(result)))
    return 0
