"""Owns a training run's folder: refuses to reuse it by accident, records the recipe, versions and finished stages.
It must never delete a folder that is not a grpo-train run, nor resume one whose recipe changed unless told to."""

from __future__ import annotations

import json
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from train.errors import RecipeError
from train.recipe import Recipe, changed_keys

PACKAGES = ("grpokit", "torch", "transformers", "trl", "peft", "accelerate", "datasets", "deepspeed", "vllm")
RUN_FILE = "run.json"  # the resolved recipe, package versions, the command
STAGES_FILE = "stages.json"  # finished stages with their metrics, logs and timings


def versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on (None: not installed)."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _write_json(path: Path, value: Any) -> None:
    from evalsuite.store import write_json_atomic

    write_json_atomic(path, value)


class RunFolder:
    """``OUTPUT_DIR``: ``run.json`` and ``recipe.yaml`` (what ran, with which versions), ``stages.json``
    (stages finished so far), ``sft/`` and ``grpo/`` (TRL checkpoints; ``sft/model`` the SFT result),
    ``final/`` (the trained model), ``eval/<stage>/`` (evalsuite), ``summary.json``, ``rewards.png``."""

    def __init__(self, recipe: Recipe):
        self.recipe = recipe
        self.path = Path(recipe.output_dir)
        self.resumed = False

    @property
    def final(self) -> Path:
        return self.path / "final"

    @property
    def sft_model(self) -> Path:
        return self.path / "sft" / "model"

    def prepare(self, *, resume: bool, overwrite: bool, allow_changes: bool, main: bool = True) -> RunFolder:
        """Make the folder ready: a new or empty folder starts a run; an existing run needs ``resume``
        (continue it) or ``overwrite`` (start over). Only rank 0 checks and writes."""
        if not main:
            self.resumed = resume and (self.path / RUN_FILE).is_file()
            return self
        source = self.recipe.source
        used = self.path.is_dir() and any(self.path.iterdir())
        ours = (self.path / RUN_FILE).is_file()
        if used and overwrite:
            if not ours:
                raise RecipeError(source, "output_dir", f"{self.path} holds files that are not a grpo-train run "
                                                        f"(no {RUN_FILE}); --overwrite only clears run folders")
            shutil.rmtree(self.path)
        elif used and resume:
            if not ours:
                raise RecipeError(source, "output_dir", f"{self.path} is not a grpo-train run (no {RUN_FILE}): "
                                                        "nothing to resume")
            self._check_same_recipe(allow_changes)
            self.resumed = True
        elif used:
            raise RecipeError(source, "output_dir", f"{self.path} is not empty (an earlier run?): pass --resume to "
                                                    "continue it or --overwrite to start over")
        self.path.mkdir(parents=True, exist_ok=True)
        self._write_run_file()
        return self

    def _check_same_recipe(self, allow_changes: bool) -> None:
        saved = json.loads((self.path / RUN_FILE).read_text())
        changes = changed_keys(saved["recipe"], self.recipe.to_dict())
        if changes and not allow_changes:
            raise RecipeError(self.recipe.source, "(resume)", f"the recipe changed since {self.path} started: "
                              f"{'; '.join(changes)}. Pass --allow-changes to resume with the new recipe, or "
                              "--overwrite to start over")

    def _write_run_file(self) -> None:
        run_file = self.path / RUN_FILE
        history = json.loads(run_file.read_text()).get("history", []) if run_file.is_file() else []
        history.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "command": sys.argv,
                        "versions": versions()})
        _write_json(run_file, {"recipe": self.recipe.to_dict(), "source": self.recipe.source,
                               "versions": versions(), "history": history})
        (self.path / "recipe.yaml").write_text(yaml.safe_dump(self.recipe.to_dict(), sort_keys=False))

    # ----------------------------------------------------------------------------------------- stages

    def stages(self) -> dict[str, dict[str, Any]]:
        path = self.path / STAGES_FILE
        return json.loads(path.read_text()) if path.is_file() else {}

    def done(self, stage: str) -> dict[str, Any] | None:
        """The record of a finished stage, or None (always None in a run that is not resumed)."""
        return self.stages().get(stage) if self.resumed else None

    def finish(self, stage: str, record: dict[str, Any], *, main: bool = True) -> None:
        """Record ``stage`` as finished (rank 0 writes; a resumed run skips it)."""
        if not main:
            return
        stages = self.stages()
        stages[stage] = {**record, "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
        _write_json(self.path / STAGES_FILE, stages)

    def last_checkpoint(self, stage: str) -> Path | None:
        """The newest complete TRL checkpoint of ``stage`` (its ``trainer_state.json`` is written last), or
        None; a run that is not resumed starts its stages afresh."""
        if not self.resumed:
            return None
        folders = [p for p in (self.path / stage).glob("checkpoint-*")
                   if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").is_file()]
        return max(folders, key=lambda p: int(p.name.split("-")[-1]), default=None)

    def periodic_metrics(self) -> dict[str, dict[str, Any]]:
        """Metrics of the evaluations every N steps already in ``eval/`` (kept across a resume)."""
        out = {}
        for summary in sorted((self.path / "eval").glob("*-step*/summary.json")):
            out[summary.parent.name] = json.loads(summary.read_text())["metrics"]
        return out
