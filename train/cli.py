"""`grpo-train RECIPE.yaml [--section.key value ...]`: parses arguments and hands them to the library.
It must never decide anything about training itself; recipe.py and launcher.py do."""

from __future__ import annotations

import argparse
import json
import logging
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grpo-train",
        description="Run a GRPO recipe (optional SFT warm-up, LoRA, evals) with TRL.",
        epilog="Overrides: any recipe key as --section.key VALUE (YAML-parsed), e.g. "
        "--grpo.learning_rate 1e-5 --model.path ./my-model --rewards.1.weight 2. "
        "Multi-GPU: accelerate launch --config_file train/configs/zero2.yaml -m train RECIPE.yaml",
    )
    parser.add_argument("recipe", help="recipe YAML file (see train/recipes/ and docs/train.md)")
    parser.add_argument("--check", action="store_true", help="validate the recipe and its data files, then exit")
    parser.add_argument("--print", dest="print_recipe", action="store_true", help="print the resolved recipe and exit")
    return parser


def split_overrides(argv: list[str]) -> tuple[list[str], list[str]]:
    """(our own arguments, `--section.key value` overrides); override values may start with '-'."""
    ours, overrides = [], []
    i = 0
    while i < len(argv):
        token = argv[i]
        name = token[2:].split("=", 1)[0]
        if token.startswith("--") and "." in name:
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
    ours, overrides = split_overrides(sys.argv[1:] if argv is None else list(argv))
    args = build_parser().parse_args(ours)
    from train import launcher
    from train.recipe import RecipeError, load

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        recipe = load(args.recipe, overrides)
        if args.print_recipe:
            print(json.dumps(recipe.to_dict(), indent=2, default=str))
            return 0
        if args.check:
            counts = launcher.check_data(recipe)
            print(f"{args.recipe}: ok ({', '.join(f'{k}: {n} rows' for k, n in counts.items())})")
            return 0
        result = launcher.run(recipe)
    except RecipeError as exc:
        print(f"grpo-train: {exc}", file=sys.stderr)
        return 2
    if result.is_main:  # one summary per run, not one per process
        print(json.dumps({"output_dir": str(result.output_dir), "metrics": result.metrics,
                          "timings": result.timings}, indent=2, default=str))
    return 0
