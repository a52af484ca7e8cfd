"""Kill a real `python -m train` run mid-GRPO (SIGKILL, then Ctrl-C), resume it, and get the run it would have been.
The processes are real subprocesses on the tiny model; each test writes only under pytest's tmp_path."""

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

pytestmark = pytest.mark.slow

MAX_STEPS = 10
LEARNING_RATE = 1e-3


def _start(recipe_path, *flags, log):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    # pytest-xdist workers ignore SIGINT and a child inherits that (Python then never raises KeyboardInterrupt):
    # give the run the disposition a terminal would
    return subprocess.Popen([sys.executable, "-m", "train", str(recipe_path), *flags], env=env,
                            stdout=log, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(path, process, timeout=300):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_sigkill_then_ctrl_c_mid_grpo_then_resume(tiny_text_model, arithmetic_data, tmp_path):
    run = tmp_path / "run"
    recipe = tiny_recipe(
        tiny_text_model, arithmetic_data, run,
        rewards=[{"name": "format"}, {"name": "helper_rewards:slow_digit_count", "params": {"seconds": 0.3}}],
        sft={"data": str(arithmetic_data["sft"]), "limit": 32, "max_steps": 2, "per_device_train_batch_size": 16,
             "max_length": 48, "logging_steps": 1},
        grpo={"max_steps": MAX_STEPS, "save_steps": 2, "logging_steps": 1, "learning_rate": LEARNING_RATE},
        eval={"data": str(arithmetic_data["heldout"]), "before": True, "max_tokens": 8, "limit": 2},
    )
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    logs = [(tmp_path / f"log{i}.txt").open("w+") for i in range(3)]

    first = _start(path, log=logs[0])
    _wait_for(run / "grpo" / "checkpoint-2" / "trainer_state.json", first)
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=60) == -signal.SIGKILL
    stages = json.loads((run / "stages.json").read_text())
    assert {"eval_before", "sft", "eval_after_sft"} <= set(stages) and "grpo" not in stages
    sft_model_written = (run / "sft" / "model" / "config.json").stat().st_mtime_ns

    second = _start(path, "--resume", log=logs[1])
    _wait_for(run / "grpo" / "checkpoint-6" / "trainer_state.json", second)
    second.send_signal(signal.SIGINT)
    assert second.wait(timeout=120) == 130
    logs[1].seek(0)
    said = logs[1].read().strip().splitlines()
    assert "resuming from" in "\n".join(said)
    assert said[-1] == f"grpo-train: interrupted; continue from the last checkpoint with: grpo-train {path} --resume"

    third = _start(path, "--resume", log=logs[2])
    assert third.wait(timeout=300) == 0
    logs[2].seek(0)
    output = logs[2].read()
    assert "sft: resuming" not in output and "preflight:" not in output  # SFT finished; GRPO had started

    summary = json.loads((run / "summary.json").read_text())
    assert summary["skipped"] == ["eval_before", "sft", "eval_after_sft"]
    assert json.loads((run / "stages.json").read_text())["sft"] == stages["sft"]  # not rerun, not rewritten
    assert (run / "sft" / "model" / "config.json").stat().st_mtime_ns == sft_model_written
    steps = [e for e in summary["log_history"]["grpo"] if "reward" in e]
    assert [e["step"] for e in steps] == list(range(1, MAX_STEPS + 1))  # each step once, counted on
    for entry in steps:  # the linear schedule continued instead of restarting at each resume
        assert entry["learning_rate"] == pytest.approx(LEARNING_RATE * (1 - (entry["step"] - 1) / MAX_STEPS))
    assert {"before", "after_sft", "after"} <= set(summary["metrics"])
    assert (run / "final" / "config.json").exists()
    assert len(list((run / "grpo").glob("checkpoint-*"))) <= 2  # save_total_limit


def test_grpo_resume_from_checkpoint_path_continues_another_runs_checkpoint(tiny_text_model, arithmetic_data,
                                                                            tmp_path):
    """``--grpo.resume_from_checkpoint PATH`` in a new run folder: GRPO continues at the checkpoint's step with
    its schedule, instead of restarting at step 1."""
    steps = 4
    grpo = {"max_steps": steps, "save_steps": 2, "logging_steps": 1, "learning_rate": LEARNING_RATE}
    first_run, second_run = tmp_path / "first", tmp_path / "second"
    for run in (first_run, second_run):
        path = tmp_path / f"{run.name}.yaml"
        path.write_text(yaml.safe_dump(tiny_recipe(tiny_text_model, arithmetic_data, run, grpo=grpo)))
    checkpoint = first_run / "grpo" / "checkpoint-2"
    with (tmp_path / "log_first.txt").open("w+") as log:
        assert _start(tmp_path / "first.yaml", log=log).wait(timeout=300) == 0
    assert (checkpoint / "trainer_state.json").exists()
    with (tmp_path / "log_second.txt").open("w+") as log:
        second = _start(tmp_path / "second.yaml", "--grpo.resume_from_checkpoint", str(checkpoint), log=log)
        assert second.wait(timeout=300) == 0, (log.seek(0), log.read())[1]

        log.seek(0)
        assert f"resuming from {checkpoint}" in log.read()

    assert sorted(p.name for p in (second_run / "grpo").glob("checkpoint-*")) == ["checkpoint-4"]  # 1-2 not rerun
    summary = json.loads((second_run / "summary.json").read_text())
    logged = [e for e in summary["log_history"]["grpo"] if "reward" in e]
    first_logged = json.loads((checkpoint / "trainer_state.json").read_text())["log_history"]
    assert [e["step"] for e in logged] == [1, 2, 3, 4]  # steps 1 and 2 as the checkpoint recorded them
    assert logged[:2] == [e for e in first_logged if "reward" in e]
    for entry in logged:
        assert entry["learning_rate"] == pytest.approx(LEARNING_RATE * (1 - (entry["step"] - 1) / steps))
    assert (second_run / "final" / "config.json").exists()
