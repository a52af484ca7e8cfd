"""OUTPUT_DIR/final is the model the launcher evaluated: evalsuite loads it from disk and gets the same numbers.
These runs must save for real (no save switch exists any more) and write only under pytest's tmp_path."""

from __future__ import annotations

import json

import pytest
from train_helpers import tiny_recipe

from train import launcher
from train import recipe as R

pytestmark = pytest.mark.slow

LORA = {"r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}


def _samples(folder) -> list[list[str]]:
    return [json.loads(line)["completions"] for line in (folder / "samples.jsonl").read_text().splitlines()]


def _recipe(model, data, out, *, sft: bool, save: str = "merged"):
    sections = {
        "lora": {**LORA, "save": save},
        "rewards": [{"name": "format", "weight": 0.5}, {"name": "accuracy", "weight": 2.0},
                    {"name": "helper_rewards:digit_count"}],  # varies within a group, so GRPO moves the adapter
        "grpo": {"learning_rate": 3e-2, "max_steps": 3},
        "eval": {"data": str(data["heldout"]), "before": True, "max_tokens": 12, "limit": 6},
    }
    if sft:
        sections["sft"] = {"data": str(data["sft"]), "limit": 64, "max_steps": 3, "per_device_train_batch_size": 16,
                           "learning_rate": 1e-2, "max_length": 48}
    return R.from_dict(tiny_recipe(model, data, out, **sections), source="artifact.yaml")


@pytest.mark.parametrize("sft", [False, True], ids=["lora", "sft+lora"])
def test_final_model_loads_in_evalsuite_with_the_launchers_numbers(tiny_text_model, arithmetic_data, tmp_path, sft):
    from evalsuite.cli import main as evalsuite_main

    run = tmp_path / "run"
    result = launcher.run(_recipe(tiny_text_model, arithmetic_data, run, sft=sft), progress=False)
    final = run / "final"
    assert result.final_model == str(final)
    assert (final / "config.json").exists() and not (final / "adapter_config.json").exists()  # merged

    args = ["run", "--model", str(final), "--data", str(arithmetic_data["heldout"]), "--max-tokens", "12",
            "--limit", "6", "--rewards", "format,accuracy,helper_rewards:digit_count", "--output-dir", str(tmp_path / "reloaded")]
    assert evalsuite_main(args) == 0
    reloaded = json.loads((tmp_path / "reloaded" / "summary.json").read_text())["metrics"]
    assert reloaded == result.metrics["after"]
    assert _samples(tmp_path / "reloaded") == _samples(run / "eval" / "after")  # the very same completions
    # final/ holds GRPO's adapter merged into the weights GRPO started from (the SFT result after SFT)
    start = run / "sft" / "model" if sft else tiny_text_model
    changed = _weights(final).keys() & {k for k, v in _weights(start).items() if not v.equal(_weights(final)[k])}
    assert changed and all(".self_attn." in k for k in changed)  # exactly the LoRA targets moved
    if sft:
        assert not _weights(start)["model.layers.0.self_attn.q_proj.weight"].equal(
            _weights(tiny_text_model)["model.layers.0.self_attn.q_proj.weight"])  # SFT trained its adapter too


def _weights(folder):
    from safetensors.torch import load_file

    return load_file(str(next(folder.glob("*.safetensors"))))


def test_sft_lora_adapter_is_saved_against_the_sft_weights(tiny_text_model, arithmetic_data, tmp_path):
    from transformers import AutoModelForCausalLM

    from evalsuite.runner import make_config
    from evalsuite.runner import run as evaluate

    run = tmp_path / "run"
    result = launcher.run(_recipe(tiny_text_model, arithmetic_data, run, sft=True, save="adapter"), progress=False)
    adapter = json.loads((run / "final" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(run / "sft" / "model")
    model = AutoModelForCausalLM.from_pretrained(str(run / "final"))  # transformers resolves the base itself
    settings = {"data": str(arithmetic_data["heldout"]), "max_tokens": 12, "limit": 6,
                "rewards": ["format", "accuracy", "helper_rewards:digit_count"]}
    config = make_config(None, {**settings, "output_dir": str(tmp_path / "reloaded")})
    reloaded = evaluate(config, model=model, tokenizer=result.processing_class, progress=False)
    assert reloaded["metrics"] == result.metrics["after"]
    assert _samples(tmp_path / "reloaded") == _samples(run / "eval" / "after")
    by_path = make_config(None, {**settings, "model": str(run / "final"), "output_dir": str(tmp_path / "by_path")})
    assert evaluate(by_path, progress=False)["metrics"] == result.metrics["after"]  # evalsuite resolves the base
