"""`python -m train RECIPE.yaml`: the same entry point as the `grpo-train` console script.
It must never hold logic of its own."""

from train.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
