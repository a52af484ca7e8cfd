"""The run folder: never reused by accident, records the recipe and versions, resumes only the same recipe.
These tests never load a model: the folder is decided before anything heavy happens."""

from __future__ import annotations

import json

import pytest
import yaml

from train import recipe as R
from train.cli import main as cli_main
from train.run_dir import RunFolder


def _recipe(tmp_path, **grpo):
    raw = {"output_dir": str(tmp_path / "run"), "model": {"path": "some/model"}, "data": {"train": "t.jsonl"},
           "rewards": ["accuracy"], "grpo": {"beta": 0.0, **grpo}}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(raw))
    return R.load(path)


def _prepare(recipe, *, resume=False, overwrite=False, allow_changes=False):
    return RunFolder(recipe).prepare(resume=resume, overwrite=overwrite, allow_changes=allow_changes)


def test_a_new_run_records_its_recipe_and_versions(tmp_path):
    recipe = _recipe(tmp_path)
    folder = _prepare(recipe)
    saved = json.loads((folder.path / "run.json").read_text())
    assert saved["recipe"] == recipe.to_dict()
    assert {"grpokit", "torch", "transformers", "trl", "peft"} <= {k for k, v in saved["versions"].items() if v}
    assert R.load(folder.path / "recipe.yaml").to_dict() == recipe.to_dict()  # the resolved recipe reruns as is


@pytest.mark.parametrize("flags, message", [
    ({}, "is not empty .*--resume.*--overwrite"),
    ({"overwrite": True}, "not a grpo-train run .*--overwrite only clears run folders"),
    ({"resume": True}, "not a grpo-train run .*nothing to resume"),
])
def test_a_folder_with_other_files_is_never_reused(tmp_path, flags, message):
    recipe = _recipe(tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(R.RecipeError, match=rf"recipe\.yaml: output_dir: .*{message}"):
        _prepare(recipe, **flags)
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"


def test_an_earlier_run_needs_resume_or_overwrite(tmp_path):
    recipe = _recipe(tmp_path)
    _prepare(recipe)
    (tmp_path / "run" / "grpo").mkdir()
    with pytest.raises(R.RecipeError, match="--resume to continue it or --overwrite"):
        _prepare(recipe)
    assert _prepare(recipe, resume=True).resumed
    assert (tmp_path / "run" / "grpo").is_dir()
    _prepare(recipe, overwrite=True)
    assert not (tmp_path / "run" / "grpo").exists()


def test_resume_refuses_a_changed_recipe_unless_allowed(tmp_path):
    _prepare(_recipe(tmp_path))
    (tmp_path / "run" / "grpo").mkdir()  # the run started training
    changed = _recipe(tmp_path, beta=0.1)
    with pytest.raises(R.RecipeError, match=r"\(resume\): the recipe changed .*grpo\.beta: 0\.0 -> 0\.1.*--allow-changes"):
        _prepare(changed, resume=True)
    folder = _prepare(changed, resume=True, allow_changes=True)
    saved = json.loads((folder.path / "run.json").read_text())
    assert saved["recipe"]["grpo"]["beta"] == 0.1 and len(saved["history"]) == 2


def test_resume_of_an_empty_folder_starts_a_run(tmp_path):
    folder = _prepare(_recipe(tmp_path), resume=True)
    assert not folder.resumed and (folder.path / "run.json").exists()


def test_last_checkpoint_is_the_newest_complete_one(tmp_path):
    folder = _prepare(_recipe(tmp_path))
    for step, complete in ((2, True), (10, True), (12, False)):  # checkpoint-12 was being written when killed
        path = folder.path / "grpo" / f"checkpoint-{step}"
        path.mkdir(parents=True)
        if complete:
            (path / "trainer_state.json").write_text("{}")
    assert folder.last_checkpoint("grpo") is None  # a run that is not resumed starts afresh
    folder.resumed = True
    assert folder.last_checkpoint("grpo").name == "checkpoint-10"
    assert folder.last_checkpoint("sft") is None


def test_cli_refuses_before_loading_anything(tmp_path, capsys):
    recipe = _recipe(tmp_path)
    (tmp_path / "t.jsonl").write_text('{"prompt": "1+1?", "solution": "2"}\n')
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "x").write_text("")
    assert cli_main([recipe.source]) == 2
    assert "output_dir: " in capsys.readouterr().err
