"""End-to-end launcher runs on tiny random models: GRPO with weighted rewards, LoRA, SFT then GRPO, a VLM.
Each must finish in seconds on two CPU cores and write only under pytest's tmp_path."""

from __future__ import annotations

import json

import pytest
import torch
from train_helpers import tiny_recipe

from train import launcher, modeling
from train import recipe as R
from train.cli import main as cli_main

pytestmark = pytest.mark.slow


def _grpo_logs(result):
    return [e for e in result.log_history["grpo"] if "reward" in e]


def test_grpo_with_weighted_registry_and_user_rewards_via_cli(tiny_text_model, arithmetic_data, tmp_path, capsys):
    import yaml

    rewards = [
        {"name": "format", "weight": 0.5},
        {"name": "accuracy", "weight": 2.0},
        {"name": "tag_count", "weight": 0.25},
        {"name": "helper_rewards:digit_count", "weight": 1.5},
        {"name": "helper_rewards:make_constant", "weight": 1.0, "params": {"value": 0.5}},
    ]
    recipe = tiny_recipe(tiny_text_model, arithmetic_data, tmp_path / "run", rewards=rewards,
                         eval={"data": str(arithmetic_data["heldout"]), "max_tokens": 12, "every_n_steps": 1,
                               "limit": 4})
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))

    assert cli_main([str(path), "--grpo.max_steps", "2", "--grpo.logging_steps", "1", "--verbose"]) == 0
    out = capsys.readouterr().out
    printed = json.loads(out[out.rindex('{\n  "output_dir"'):])  # after TRL's own log lines
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert printed["metrics"]["after"] == summary["metrics"]["after"]
    assert {"accuracy", "format_rate", "reward/accuracy"} <= set(summary["metrics"]["after"])
    # the user's rewards are in the recipe's evaluations, under the names the recipe and TRL's logs use
    assert {"reward/helper_rewards:digit_count", "reward/helper_rewards:make_constant"} <= set(summary["metrics"]["after"])
    assert summary["metrics"]["after"]["reward/helper_rewards:make_constant"] == pytest.approx(0.5)
    assert {"grpo-step1", "grpo-step2", "after"} <= set(summary["metrics"])  # every_n_steps=1, and at the end

    logs = [e for e in summary["log_history"]["grpo"] if "reward" in e]
    assert len(logs) == 2
    weights = {"format": 0.5, "accuracy": 2.0, "tag_count": 0.25, "helper_rewards:digit_count": 1.5,
               "helper_rewards:make_constant": 1.0}
    for entry in logs:
        assert entry["rewards/helper_rewards:make_constant/mean"] == pytest.approx(0.5)
        total = sum(w * entry[f"rewards/{name}/mean"] for name, w in weights.items())
        assert entry["reward"] == pytest.approx(total, abs=1e-5)  # TRL applied our weights
    assert any("eval/accuracy" in e for e in summary["log_history"]["grpo"])
    assert (tmp_path / "run" / "rewards.png").stat().st_size > 1000
    assert (tmp_path / "run" / "final" / "config.json").exists()


def test_lora_trains_only_the_adapter(tiny_text_model, arithmetic_data, tmp_path):
    recipe = R.from_dict(
        tiny_recipe(tiny_text_model, arithmetic_data, tmp_path / "run",
                    lora={"r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"], "save": "adapter"},
                    rewards=["helper_rewards:digit_count"],  # varies within a group, so gradients flow
                    grpo={"learning_rate": 1e-2}),
        source="lora.yaml",
    )
    result = launcher.run(recipe)
    assert (tmp_path / "run" / "final" / "adapter_config.json").exists()  # lora.save: adapter
    model = result.model
    from peft import PeftModel

    assert isinstance(model, PeftModel)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert any(p.abs().sum() > 0 for p in lora_b)  # B starts at zero; GRPO moved it
    assert len(_grpo_logs(result)) == 2


def test_sft_then_grpo_with_evals_at_each_stage(tiny_text_model, arithmetic_data, tmp_path):
    recipe = R.from_dict(
        tiny_recipe(
            tiny_text_model, arithmetic_data, tmp_path / "run",
            sft={"data": str(arithmetic_data["sft"]), "limit": 64, "max_steps": 3,
                 "per_device_train_batch_size": 16, "learning_rate": 1e-3, "max_length": 48,
                 "logging_steps": 1},
            eval={"data": str(arithmetic_data["heldout"]), "before": True, "max_tokens": 12, "limit": 4},
        ),
        source="sft.yaml",
    )
    before = {n: p.detach().clone() for n, p in modeling.load_model(recipe)[0].named_parameters()}
    result = launcher.run(recipe)
    assert list(result.metrics) == ["before", "after_sft", "after"]
    assert all("accuracy" in m and "format_rate" in m for m in result.metrics.values())
    assert any("loss" in e for e in result.log_history["sft"])
    assert result.timings["sft"] > 0 and result.timings["grpo"] > 0
    after = dict(result.model.named_parameters())
    assert any(not torch.equal(before[n], after[n].detach()) for n in before)


def test_freeze_first_layers(tiny_text_model, arithmetic_data, tmp_path):
    recipe = R.from_dict(
        tiny_recipe(tiny_text_model, arithmetic_data, tmp_path / "run", model={"freeze_layers": 1}),
        source="freeze.yaml",
    )
    model, _, is_vlm = modeling.load_model(recipe)
    assert not is_vlm
    assert not any(p.requires_grad for p in model.model.layers[0].parameters())
    assert all(p.requires_grad for p in model.model.layers[1].parameters())
    with pytest.raises(R.RecipeError, match=r"freeze\.yaml: model\.freeze_vision_tower: .*no vision tower"):
        modeling.freeze(model, R.from_dict(tiny_recipe(tiny_text_model, arithmetic_data, tmp_path,
                                                        model={"freeze_vision_tower": True}), source="freeze.yaml"))


def test_vlm_sft_then_grpo_on_counting_squares(tmp_path):
    from fixtures import tiny_vlm

    tiny_vlm.require_vlm()

    model_path = tiny_vlm.build_vlm(tmp_path / "vlm")
    data = tiny_vlm.build_counting_set(tmp_path / "squares", n=8)
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    sft = tmp_path / "squares" / "sft.jsonl"  # image paths stay relative to the data file's folder
    sft.write_text("".join(
        json.dumps({**r, "completion": f"<think>count</think><answer>{r['solution']}</answer>"}) + "\n" for r in rows
    ))
    recipe = R.from_dict(
        {
            "output_dir": str(tmp_path / "run"),
            "model": {"path": str(model_path), "trust_remote_code": True, "freeze_vision_tower": True},
            "data": {"train": str(data), "eval": str(data)},
            "rewards": [{"name": "accuracy", "weight": 1.0}, {"name": "format", "weight": 0.5}],
            "sft": {"data": str(sft), "max_steps": 1, "per_device_train_batch_size": 4},
            "grpo": {"max_steps": 2, "per_device_train_batch_size": 4, "num_generations": 2,
                     "max_completion_length": 8, "learning_rate": 1e-4, "disable_tqdm": True,
                     "logging_steps": 1},
            "eval": {"before": True, "max_tokens": 8, "limit": 2},
            "preflight": {"prompts": 2, "stop": False},
        },
        source="vlm.yaml",
    )
    from train.data import grpo_rows

    train_rows = grpo_rows(recipe, str(data), limit=None, key="data.train")
    assert train_rows[0]["images"][0].size == (56, 56) and train_rows[0]["solution"].isdigit()
    result = launcher.run(recipe, progress=False)
    model = result.model
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert not any(p.requires_grad for n, p in model.named_parameters() if ".visual." in n and "merger" not in n)
    assert any(p.requires_grad for n, p in model.named_parameters() if "merger" in n)
    assert list(result.metrics) == ["before", "after_sft", "after"]  # evalsuite read the images too
    logs = _grpo_logs(result)
    assert len(logs) == 2 and all("rewards/accuracy/mean" in e for e in logs)


def test_two_cpu_processes_with_torchrun(tiny_text_model, arithmetic_data, tmp_path):
    """`accelerate launch --cpu` starts one process unless mpirun is set up; torchrun over gloo starts two."""
    import os
    import shutil
    import subprocess
    import sys

    import yaml

    torchrun = shutil.which("torchrun") or str(__import__("pathlib").Path(sys.executable).parent / "torchrun")
    recipe = tiny_recipe(tiny_text_model, arithmetic_data, tmp_path / "run")
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "train", str(path)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["world_size"] == 2
    assert done.stdout.count("grpo-train: done in") == 1  # only rank 0 prints the result


def test_periodic_evals_under_torchrun_wait_at_the_launchers_barrier(tiny_text_model, arithmetic_data, tmp_path):
    """Rank 0 evaluates for 5 s at each step while rank 1 waits at the launcher's own barrier (a gloo group
    with a 6 h timeout), not inside the next step's collective (bound by the 30 min ddp_timeout on GPUs)."""
    import os
    import re
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    torchrun = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")
    recipe = tiny_recipe(tiny_text_model, arithmetic_data, tmp_path / "run", imports=["helper_slow_eval"],
                         eval={"data": str(arithmetic_data["heldout"]), "every_n_steps": 1, "limit": 1,
                               "max_tokens": 4, "rewards": {"slow_format": {"seconds": 5}}})
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "train", str(path)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert {"grpo-step1", "grpo-step2", "after"} <= set(summary["metrics"])
    waits = [float(s) for s in re.findall(r"rank 1 waited ([\d.]+) s for rank 0", done.stderr)]
    assert len(waits) >= 3 and all(w >= 4.5 for w in waits[:3])  # step 1, step 2, after
