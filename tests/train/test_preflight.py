"""The preflight stops zero-signal recipes before GRPO spends a step; the watchdog stops them during training.
Preflight cases load the tiny model (seconds); watchdog cases feed TRL-shaped logs to the callback, no model."""

from __future__ import annotations

import json
import logging
import math
import re

import pytest
import yaml
from train_helpers import tiny_recipe

from train import launcher
from train import recipe as R
from train.callbacks import watchdog
from train.cli import main as cli_main
from train.errors import RunStopped

pytestmark = pytest.mark.slow

VARYING = {"name": "helper_rewards:digit_count"}  # differs between completions of a random model
CONSTANT = {"name": "helper_rewards:make_constant", "params": {"value": 0.5}}


def _recipe(model, data, out, **sections):
    raw = tiny_recipe(model, data, out, **sections)
    raw["preflight"] = {"prompts": 4, **sections.get("preflight", {})}
    return R.from_dict(raw, source="preflight.yaml")


@pytest.mark.parametrize("rewards, max_truncation, expected, absent", [
    # a max_completion_length of 2 tokens cuts every completion
    ([VARYING], 0.9, "% of completions hit max_completion_length=2", "differ in total reward"),
    # a reward that never varies within a group: every advantage is zero
    ([CONSTANT], 1.0, "no prompt's 4 completions differ in total reward", "hit max_completion_length"),
    ([CONSTANT, VARYING], 1.0, None, "differ in total reward"),  # near miss: one reward varies
])
def test_preflight_reasons(tiny_text_model, arithmetic_data, tmp_path, rewards, max_truncation, expected, absent):
    recipe = _recipe(tiny_text_model, arithmetic_data, tmp_path / "run", rewards=rewards,
                     grpo={"max_completion_length": 2}, preflight={"max_truncation": max_truncation})
    import torch

    before = torch.get_rng_state()
    report = launcher.preflight(recipe)
    assert torch.equal(torch.get_rng_state(), before)  # the run's sampling is not shifted by the preflight
    text = "\n".join(report.lines())
    assert report.prompts == 4 and report.generations == 4 and report.seconds > 0
    assert report.truncation_rate > 0.9 and report.lengths["max"] == 2
    assert (expected in text) if expected else not report.problems
    assert absent not in text
    assert "within-group std" in text and "prompt groups whose total reward does not vary" in text


def test_preflight_reports_a_reward_that_is_none_everywhere(tiny_text_model, tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"What is {i}+1?", "solution": ""}) + "\n" for i in range(8)))
    recipe = _recipe(tiny_text_model, {"train": data}, tmp_path / "run", rewards=["accuracy", VARYING])
    report = launcher.preflight(recipe)
    assert report.rewards["accuracy"]["none_rate"] == 1.0 and report.rewards["accuracy"]["mean"] is None
    assert any("reward accuracy is None for every completion" in p for p in report.problems)


def test_cli_preflight_alone_exits_non_zero_with_the_reason(tiny_text_model, arithmetic_data, tmp_path, capsys):
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(tiny_recipe(tiny_text_model, arithmetic_data, tmp_path / "run", rewards=[VARYING],
                                               grpo={"max_completion_length": 2})))
    assert cli_main([str(path), "--preflight", "--preflight.prompts", "2"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"preflight: (9\d|100)% of completions hit max_completion_length=2", out)
    assert not (tmp_path / "run").exists()  # the preflight alone writes nothing


def test_run_stops_before_grpo_and_proceeds_when_told(tiny_text_model, arithmetic_data, tmp_path):
    recipe = _recipe(tiny_text_model, arithmetic_data, tmp_path / "run", rewards=[CONSTANT],
                     grpo={"max_completion_length": 2, "max_steps": 1}, preflight={"stop": True})
    with pytest.raises(RunStopped, match="preflight stopped the run before GRPO: .*--ignore-preflight"):
        launcher.run(recipe, progress=False)
    assert not list((tmp_path / "run").glob("grpo/checkpoint-*")) and not (tmp_path / "run" / "final").exists()
    result = launcher.run(recipe, progress=False, resume=True, skip_preflight_stop=True)
    assert result.preflight["problems"] and [e["step"] for e in result.log_history["grpo"] if "reward" in e] == [1]


class _State:
    is_world_process_zero = True

    def __init__(self):
        self.global_step = 0


class _Control:
    should_save = should_training_stop = False


GOOD = {"frac_reward_zero_std": 0.25, "completions/clipped_ratio": 0.1, "rewards/accuracy/mean": 0.4}
FLAT = {**GOOD, "frac_reward_zero_std": 1.0}
CUT = {**GOOD, "completions/clipped_ratio": 1.0}
NONE = {**GOOD, "rewards/accuracy/mean": math.nan}


@pytest.mark.parametrize("bad", [FLAT, CUT, NONE], ids=["zero-std", "truncated", "reward-nan"])
def test_watchdog_warns_then_stops_after_patience(bad, caplog):
    settings = R.WatchdogSection(patience=3)
    guard, state, control = watchdog(settings), _State(), _Control()
    with caplog.at_level(logging.WARNING, logger="grpo-train"):
        for step, logs in enumerate([bad, bad, GOOD, bad, bad, bad], start=1):  # a good step resets the count
            state.global_step = step
            guard.on_log(None, state, control, logs=logs)
            assert not control.should_training_stop
        state.global_step = 7
        guard.on_log(None, state, control, logs=bad)
    assert control.should_training_stop and control.should_save  # a checkpoint to resume from
    assert guard.stopped.startswith("step 7: ") and "for 3 steps" in guard.stopped
    assert sum("watchdog: step" in r.message for r in caplog.records) == 2  # once per bad stretch


def test_watchdog_with_stop_off_only_warns():
    guard, state, control = watchdog(R.WatchdogSection(patience=1, stop=False)), _State(), _Control()
    for step in range(1, 6):
        state.global_step = step
        guard.on_log(None, state, control, logs=FLAT)
    assert not control.should_training_stop and guard.stopped is None
