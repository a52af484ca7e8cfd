"""A launcher that never wastes a run: more steps on a finished run continue it (or are refused in one line) and the
folder never claims what the model is not; --check names every problem, LoRA targets included, before anything is
written; the live display is one line per step with counts as counts."""

from __future__ import annotations

import json

import pytest
import yaml
from train_helpers import tiny_recipe

from train import recipe as R
from train.cli import main as cli_main
from train.reward_funcs import SummedCounts


def _write(tmp_path, recipe, name="recipe.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(recipe))
    return path


@pytest.mark.slow
def test_more_steps_on_a_finished_run_continue_it_and_other_changes_are_refused(tiny_text_model, arithmetic_data,
                                                                               tmp_path, capsys):
    run = tmp_path / "run"
    recipe = tiny_recipe(tiny_text_model, arithmetic_data, run,
                         grpo={"max_steps": 2, "logging_steps": 1, "learning_rate": 1e-3})
    path = _write(tmp_path, recipe)
    assert cli_main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "  grpo step 2/2: reward " in out and " s/step" in out and "{'loss'" not in out  # compact by default
    assert "grpo-train: done in" in out and '"output_dir"' not in out
    first_final = (run / "final" / "model.safetensors").stat().st_mtime_ns

    # a finished run asked for 3 steps: GRPO continues from checkpoint-2 to step 3, final/ is the new model
    assert cli_main([str(path), "--resume", "--allow-changes", "--grpo.max_steps", "3"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    steps = [e for e in summary["log_history"]["grpo"] if "reward" in e]
    assert [e["step"] for e in steps] == [1, 2, 3]
    assert (run / "final" / "model.safetensors").stat().st_mtime_ns != first_final  # saved again, after step 3
    assert (run / "grpo" / "checkpoint-3" / "trainer_state.json").is_file()
    saved = json.loads((run / "run.json").read_text())
    assert saved["recipe"]["grpo"]["max_steps"] == 3 and len(saved["history"]) == 2
    assert yaml.safe_load((run / "recipe.yaml").read_text())["grpo"]["max_steps"] == 3
    capsys.readouterr()

    # a change the finished stages did not train with, or fewer steps: one line, nothing rewritten
    before = (run / "run.json").read_text()
    for flags, message in (
        (["--grpo.max_steps", "3", "--grpo.beta", "0.5"], "grpo.beta: '(unset)' -> 0.5 (grpo finished with the old value)"),
        (["--grpo.max_steps", "2"], "grpo.max_steps: GRPO already trained 3 steps (max_steps 3); max_steps 2"),
    ):
        assert cli_main([str(path), "--resume", "--allow-changes", *flags]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
        assert (run / "run.json").read_text() == before


def test_check_reports_every_problem_at_once_lora_targets_included(tiny_text_model, arithmetic_data, tmp_path, capsys):
    run = tmp_path / "run"
    recipe = tiny_recipe(tiny_text_model, arithmetic_data, run, lora={"r": 4, "target_modules": ["q_proj", "v_prj"]},
                         grpo={"los_type": "dapo", "beta": "high"})
    recipe["rewards"].append({"name": "acuracy"})
    recipe["data"]["solution_key"] = "answer"
    path = _write(tmp_path, recipe)
    assert cli_main([str(path), "--check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    keys = [line.split(": ")[2] for line in err]
    assert sorted(keys) == ["grpo.beta", "grpo.los_type", "rewards.2.name"], err
    recipe["grpo"] = {k: v for k, v in recipe["grpo"].items() if k not in ("los_type", "beta")}
    recipe["rewards"].pop()
    _write(tmp_path, recipe)
    for flags in (["--check"], []):  # the real run checks the same, and writes nothing before it can start
        assert cli_main([str(path), *flags]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 2, err
        assert "lora.target_modules: 'v_prj' matches no module of" in err[0] and "(did you mean 'v_proj'?)" in err[0]
        assert "its linear layers: down_proj, gate_proj, k_proj, lm_head, o_proj, q_proj, up_proj, v_proj" in err[0]
        assert "data.solution_key: column 'answer' not found" in err[1]
        assert not run.exists()


def test_a_folder_a_run_only_started_in_is_taken_over_by_the_corrected_rerun(tmp_path):
    from train.run_dir import RunFolder

    raw = {"output_dir": str(tmp_path / "run"), "model": {"path": "org/model"}, "data": {"train": "t.jsonl"},
           "rewards": ["accuracy"]}
    RunFolder(R.load(_write(tmp_path, raw))).prepare(resume=False, overwrite=False, allow_changes=False)
    fixed = R.load(_write(tmp_path, {**raw, "grpo": {"beta": 0.1}}))  # e.g. it failed loading the model
    folder = RunFolder(fixed).prepare(resume=False, overwrite=False, allow_changes=False)
    assert json.loads((folder.path / "run.json").read_text())["recipe"]["grpo"]["beta"] == 0.1


def test_counts_are_summed_over_processes_and_other_figures_left_alone():
    logged = {}

    def reward(completions, log_metric=None, **kwargs):
        log_metric("rewards/accuracy/no_answer", 3.0)
        log_metric("rewards/accuracy/mean_length", 12.0)
        return [0.0] * len(completions)

    reward.__name__ = "accuracy"
    wrapped = SummedCounts(reward, world_size=4)
    assert wrapped.__name__ == "accuracy"
    wrapped(["a", "b"], log_metric=logged.__setitem__)
    assert logged == {"rewards/accuracy/no_answer": 12.0, "rewards/accuracy/mean_length": 12.0}
    SummedCounts(reward, world_size=1)(["a"], log_metric=logged.__setitem__)
    assert logged["rewards/accuracy/no_answer"] == 3.0
