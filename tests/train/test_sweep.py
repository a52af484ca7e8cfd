"""`grpo-train sweep`: arms and grid expand to dotted overrides, a kill -9 mid-sweep and a rerun that finishes only what
is missing, a copy of the baseline that is no difference, and the same file through submitit's local executor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from train_helpers import tiny_recipe

from train import sweep as S
from train.errors import RecipeError


def _files(tmp_path, model, data, *, arms, seeds=None, submitit=None, grid=None, **grpo):
    recipe = tiny_recipe(model, data, tmp_path / "unused",
                         grpo={"max_steps": 2, "save_steps": 1, "logging_steps": 1, **grpo})
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    spec = {"recipe": "recipe.yaml", "output_dir": str(tmp_path / "out"), "baseline": "base", "arms": arms,
            "eval": {"data": str(data["heldout"]), "max_tokens": 8, "limit": 8, "correct": "format_partial>=0.3"}}
    for key, value in (("seeds", seeds), ("submitit", submitit), ("grid", grid)):
        if value is not None:
            spec[key] = value
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_arms_grid_and_appends_expand_to_overrides(tmp_path):
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(
        {"model": {"path": "org/model"}, "data": {"train": "t.jsonl"}, "rewards": ["accuracy"], "lora": {"r": 8}}))
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({
        "recipe": "recipe.yaml", "output_dir": str(tmp_path / "out"), "baseline": "base",
        "arms": {"base": {}, "len": {"rewards+": ["length"]}, "data": {"data.train": "other.jsonl"}},
        "grid": {"lora.r": [16, 32], "grpo.beta": [0.0]}, "seeds": [0, 1]}, sort_keys=False))
    sweep = S.load_sweep(path)
    assert list(sweep.arms) == ["base", "len", "data", "lora.r=16,grpo.beta=0.0", "lora.r=32,grpo.beta=0.0"]
    assert sweep.arms["data"] == {"data.train": str(tmp_path / "other.jsonl")}  # against the sweep file's folder
    jobs = sweep.jobs()
    assert [j.name for j in jobs[:2]] == ["base/seed0", "base/seed1"] and len(jobs) == 10
    assert jobs[1].run_dir == tmp_path / "out" / "base" / "seed1"
    assert jobs[1].eval_dir == tmp_path / "out" / "eval" / "base" / "seed1"
    recipe = sweep.arm_recipe(next(j for j in jobs if j.arm == "len"))
    assert [r.name for r in recipe.rewards] == ["accuracy", "length"] and recipe.seed == 0
    grid = sweep.arm_recipe(next(j for j in jobs if j.arm.startswith("lora.r=32") and j.seed == 1))
    assert grid.lora.config["r"] == 32 and grid.grpo["beta"] == 0.0 and grid.seed == 1
    assert grid.output_dir == str(tmp_path / "out" / "lora.r=32,grpo.beta=0.0" / "seed1")


@pytest.mark.parametrize("change, message", [
    ({"baseline": "bse"}, r"baseline: 'bse' is not an arm \(did you mean 'base'\?\)"),
    ({"arms": {"base": {"output_dir": "x"}}}, r"arms\.base\.output_dir: set by the sweep"),
    ({"arms": {"eval": {}}, "baseline": "eval"}, r"arms\.eval: arm name 'eval' must be a folder name"),
    ({"seeds": [1, 1]}, r"seeds: a list of distinct integers"),
    ({"arm": {}}, r"arm: unknown key \(did you mean 'arms'\?\)"),
    ({"grid": {"lora.r": 8}}, r"grid: a mapping of dotted key -> list of values"),
])
def test_a_bad_sweep_is_one_line_naming_the_key(tmp_path, change, message):
    (tmp_path / "recipe.yaml").write_text("{}")
    spec = {"recipe": "recipe.yaml", "output_dir": "out", "baseline": "base", "arms": {"base": {}}, **change}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(RecipeError, match=rf"sweep\.yaml: {message}"):
        S.load_sweep(tmp_path / "sweep.yaml")


def test_sweep_check_reports_every_arm_problem_and_writes_nothing(tiny_text_model, arithmetic_data, tmp_path, capsys):
    from train.cli import main

    path = _files(tmp_path, tiny_text_model, arithmetic_data,
                  arms={"base": {}, "typo": {"grpo.los_type": "dapo"}, "bad": {"rewards+": ["acuracy"]}})
    assert main(["sweep", str(path), "--check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("grpo-train: arm typo: ") and "grpo.los_type" in err[0]
    assert err[1].startswith("grpo-train: arm bad: ") and "did you mean 'accuracy'" in err[1]
    assert not (tmp_path / "out").exists()


def _start(path, log):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, "-m", "train", "sweep", str(path)], env=env, stdout=log,
                            stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_kill_9_mid_sweep_then_the_rerun_finishes_only_what_is_missing(tiny_text_model, arithmetic_data, tmp_path):
    path = _files(tmp_path, tiny_text_model, arithmetic_data,
                  arms={"base": {}, "copy": {}, "hot": {"grpo.learning_rate": 0.05}})
    out = tmp_path / "out"
    with (tmp_path / "first.log").open("w+") as log:
        first = _start(path, log)
        marker = out / "copy" / "grpo" / "checkpoint-1" / "trainer_state.json"
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert first.poll() is None, (log.seek(0), log.read())[1][-3000:]
            assert time.monotonic() < deadline, "the second arm never saved a checkpoint"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=60) == -signal.SIGKILL
    assert (out / "base" / "final" / "config.json").is_file() and (out / "eval" / "base" / "summary.json").is_file()
    stages = out / "copy" / "stages.json"
    assert not stages.exists() or "grpo" not in json.loads(stages.read_text())
    assert not (out / "hot").exists() and not (out / "ablation.json").exists()
    base_run = (out / "base" / "run.json").read_text()
    base_samples = (out / "eval" / "base" / "samples.jsonl").stat().st_mtime_ns

    with (tmp_path / "second.log").open("w+") as log:
        assert _start(path, log).wait(timeout=300) == 0, (log.seek(0), log.read())[1][-3000:]
        log.seek(0)
        said = log.read()
    assert "[sweep] arm base: trained earlier" in said and "[sweep] arm copy: resuming" in said
    assert "[sweep] arm hot: training" in said and "grpo: resuming from" in said
    assert (out / "base" / "run.json").read_text() == base_run  # not retrained, not even touched
    assert (out / "eval" / "base" / "samples.jsonl").stat().st_mtime_ns == base_samples
    copy_steps = [e["step"] for e in json.loads((out / "copy" / "summary.json").read_text())["log_history"]["grpo"]
                  if "reward" in e]
    assert copy_steps == [1, 2]  # step 1 from before the kill, step 2 after: each once

    ablation = json.loads((out / "ablation.json").read_text())
    assert ablation["baseline"] == "base" and ablation["metric"] == "accuracy"
    rows = {row["name"]: row for row in ablation["arms"]}
    assert list(rows) == ["base", "copy", "hot"]
    assert set(rows["base"]) >= {"name", "overrides", "accuracy", "ci95"} and "p_value" not in rows["base"]
    fields = {"name", "overrides", "accuracy", "ci95", "delta", "delta_ci95", "p_value", "p_adjusted", "significant"}
    assert fields <= set(rows["copy"]) and fields <= set(rows["hot"])
    assert rows["copy"]["delta"] == 0 and rows["copy"]["significant"] is False and rows["copy"]["p_value"] == 1.0
    assert rows["copy"]["accuracy"] == rows["base"]["accuracy"]
    assert rows["hot"]["overrides"] == {"grpo.learning_rate": 0.05}
    assert ablation["untrained"]["accuracy"] is not None and "ci95" in ablation["untrained"]
    md = (out / "ablation.md").read_text()
    assert "| **base** (baseline) |" in md and "| copy | {} |" in md and "untrained (reference)" in md
    page = (out / "report.html").read_text()
    assert "Ablation" in page and "base vs copy" in page and "base vs hot" in page and "p (Holm)" in page


@pytest.mark.slow
def test_seeds_are_pooled_with_their_spread(tiny_text_model, arithmetic_data, tmp_path):
    path = _files(tmp_path, tiny_text_model, arithmetic_data, arms={"base": {}, "copy": {}}, seeds=[0, 1], max_steps=1)
    ablation = S.run_sweep(S.load_sweep(path))
    out = tmp_path / "out"
    assert all((out / arm / f"seed{s}" / "final" / "config.json").is_file() for arm in ("base", "copy") for s in (0, 1))
    assert json.loads((out / "base" / "seed1" / "run.json").read_text())["recipe"]["seed"] == 1
    copy = next(row for row in ablation["arms"] if row["name"] == "copy")
    assert copy["seeds"] == [0, 1] and len(copy["per_seed"]) == 2 and "seed_spread" in copy
    assert copy["delta"] == 0 and copy["significant"] is False
    assert "seed spread" in (out / "ablation.md").read_text()


@pytest.mark.slow
def test_the_sweep_through_submitit_local_executor(tiny_text_model, arithmetic_data, tmp_path, capsys):
    pytest.importorskip("submitit")
    from train.cli import main

    path = _files(tmp_path, tiny_text_model, arithmetic_data, arms={"base": {}},
                  submitit={"cluster": "local", "timeout_min": 10}, max_steps=1)
    assert main(["sweep", str(path), "--launcher", "submitit"]) == 0
    said = capsys.readouterr().out
    assert "submitted 2 jobs (local)" in said and "base: done (job" in said
    out = tmp_path / "out"
    assert (out / "base" / "final" / "config.json").is_file() and (out / "eval" / "untrained" / "summary.json").is_file()
    assert list((out / "submitit").glob("*_log.out"))  # submitit's own job logs
    assert json.loads((out / "ablation.json").read_text())["arms"][0]["name"] == "base"
