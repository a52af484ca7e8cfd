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


# What each stage's result depends on: a change to one of these keys after the stage finished is refused.
_EVAL_KEYS = ("eval.", "data.", "model.", "rewards")
_STAGE_KEYS = {
    "sft": ("sft.", "model.", "lora.", "data.", "seed", "imports"),
    "grpo": ("grpo.", "model.", "lora.", "data.", "rewards", "seed", "imports", "sft."),
}


def _reads(stage: str, key: str) -> bool:
    """Whether ``stage``'s recorded result depends on the recipe key ``key`` (dotted).

    >>> _reads("grpo", "grpo.beta"), _reads("grpo", "watchdog.patience"), _reads("eval_before", "eval.max_tokens")
    (True, False, True)
    >>> _reads("eval_before", "eval.every_n_steps"), _reads("sft", "rewards.0.weight")
    (False, False)
    """
    if key == "eval.every_n_steps":
        return False
    prefixes = _EVAL_KEYS if stage.startswith("eval_") else _STAGE_KEYS.get(stage, ())
    return any(key == p.rstrip(".") or key.startswith(p if p.endswith(".") else f"{p}.") or key == p
               for p in prefixes)


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
        self.reopened: str | None = None  # a finished stage continued (a larger grpo.max_steps)

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
        # a folder holding only what a run writes before it starts (run.json, recipe.yaml) saw no training:
        # the corrected rerun takes it over without --resume or --overwrite
        leftovers = {p.name for p in self.path.iterdir()} if self.path.is_dir() else set()
        used = bool(leftovers - {RUN_FILE, "recipe.yaml"})
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
        if changes:
            self._apply_changes(saved["recipe"], changes)

    def _apply_changes(self, saved: dict[str, Any], changes: list[str]) -> None:
        """With --allow-changes: refuse (one line) a change a finished stage already ran without, so that
        ``recipe.yaml`` never describes a model the folder does not hold; a larger ``grpo.max_steps`` on a
        finished GRPO stage reopens it, to continue from its final checkpoint to the new total."""
        stages = self.stages()
        stale = []
        for change in changes:
            key = change.split(": ", 1)[0]
            done = [stage for stage in stages if _reads(stage, key)]
            if key == "grpo.max_steps" and "grpo" in stages:
                continue
            if done:
                stale.append(f"{change} ({', '.join(done)} finished with the old value)")
        if stale:
            raise RecipeError(self.recipe.source, "(resume)", f"{'; '.join(stale)}: the run folder would claim "
                              "what its results are not. Revert the change, or train it in a new output_dir "
                              "(--overwrite starts this one over)")
        if "grpo" in stages and any(c.startswith("grpo.max_steps: ") for c in changes):
            self._reopen_grpo(saved, stages)

    def _reopen_grpo(self, saved: dict[str, Any], stages: dict[str, Any]) -> None:
        """A finished GRPO stage asked for more steps: continue from the checkpoint of its last step."""
        source = self.recipe.source
        old, new = saved.get("grpo", {}).get("max_steps"), self.recipe.grpo.get("max_steps")
        trained = max((e.get("step", 0) for e in stages["grpo"].get("log_history", [])), default=0)
        if not isinstance(new, int) or new <= trained:
            raise RecipeError(source, "grpo.max_steps", f"GRPO already trained {trained} steps (max_steps {old}); "
                              f"max_steps {new} would not add any, and cannot take steps back: use a new output_dir")
        self.resumed = True
        checkpoint = self.last_checkpoint("grpo")
        step = int(checkpoint.name.split("-")[-1]) if checkpoint else None
        if step != trained:
            raise RecipeError(source, "grpo.max_steps", f"GRPO finished at step {trained} but its newest checkpoint "
                              f"is {checkpoint or 'missing'}, so it cannot continue from where it stopped; train "
                              "the new total in a new output_dir (--grpo.resume_from_checkpoint takes any checkpoint)")
        for stage in ("grpo", "eval_after"):  # no longer finished: final/ and its evaluation are redone
            stages.pop(stage, None)
        _write_json(self.path / STAGES_FILE, stages)
        shutil.rmtree(self.final, ignore_errors=True)
        shutil.rmtree(self.path / "eval" / "after", ignore_errors=True)
        self.reopened = f"GRPO continues from {checkpoint.name} to max_steps {new}"

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
