"""bench/peers.py's pure parts, without lm-eval or lighteval installed: the task files it writes for them, the command
lines that must give every tool the same work, the readers of their output files, medians and agreement."""

from __future__ import annotations

import doctest
import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import peers, peers_tools  # noqa: E402
from bench.peers_tools import GREEDY, SAMPLED, Job  # noqa: E402


@pytest.fixture
def job(tmp_path):
    data = tmp_path / "heldout.jsonl"
    data.write_text(json.dumps({"prompt": "What is 1+2?", "solution": "3"}) + "\n")
    return lambda setting, batch=8: Job(tmp_path / "model", data, 32, setting, batch)


@pytest.mark.parametrize("module", [peers, peers_tools])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


def test_lm_eval_task_is_the_same_generation(job):
    greedy = yaml.safe_load(peers_tools.lm_eval_task_yaml(job(GREEDY)))
    sampled = yaml.safe_load(peers_tools.lm_eval_task_yaml(job(SAMPLED)))
    assert greedy["doc_to_text"] == "{{prompt}}" and greedy["repeats"] == 1
    assert greedy["generation_kwargs"] == {"until": [], "max_gen_toks": 32, "do_sample": False, "temperature": 0.0}
    assert sampled["repeats"] == 4
    assert sampled["generation_kwargs"] == {"until": [], "max_gen_toks": 32, "do_sample": True, "temperature": 1.0,
                                            "top_k": 0, "top_p": 1.0}


def test_lighteval_files_compile_and_ask_for_n_samples(job, tmp_path):
    source = peers_tools.lighteval_task_file(tmp_path / "data", job(SAMPLED))
    compile(source, "peers_task.py", "exec")
    assert "generation_size=32" in source and "avg_at_n(sample_params={'n': 4})" in source
    model = json.loads(peers_tools.lighteval_model_yaml(tmp_path, job(SAMPLED)))["model_parameters"]
    assert model["batch_size"] == 8 and model["generation_parameters"] == {"temperature": 1.0, "top_k": 0, "top_p": 1.0}
    assert model["model_name"] == "model"  # relative: its generation cache must stay out of the model's folder
    assert "batch_size" not in json.loads(peers_tools.lighteval_model_yaml(tmp_path, job(GREEDY, None)))["model_parameters"]


def test_command_lines_carry_the_same_settings(job, tmp_path):
    evalsuite, lm_eval, lighteval = peers_tools.TOOLS
    ours = evalsuite.command(tmp_path, job(SAMPLED))
    assert ours[ours.index("--max-tokens") + 1] == "32" and ours[ours.index("--n") + 1] == "4"
    assert ours[ours.index("--batch-size") + 1] == "8"
    theirs = lm_eval.command(tmp_path, job(GREEDY))
    assert "--apply_chat_template" in theirs and theirs[theirs.index("--batch_size") + 1] == "8"
    assert "--batch_size" not in lm_eval.command(tmp_path, job(GREEDY, None))  # the tool's default
    assert lighteval.command(tmp_path, job(GREEDY))[1].endswith("bench/peers_lighteval.py")


def test_readers_key_completions_by_row_position(tmp_path):
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"id": 0, "completions": ["<answer>3</answer>"]}) + "\n\n")
    assert peers_tools.read_evalsuite_samples(samples) == {"0": ["<answer>3</answer>"]}
    logged = tmp_path / "lm.jsonl"
    logged.write_text("".join(json.dumps({"doc_id": i, "resps": [[f"a{i}"], [f"b{i}"]]}) + "\n" for i in (1, 0)))
    assert peers_tools.read_lm_eval_samples(logged) == {"1": ["a1", "b1"], "0": ["a0", "b0"]}


def test_agreement_counts_missing_prompts_as_different():
    assert peers.agreement({"0": ["a"], "1": ["b"]}, {"0": ["a"]}) == (1, 2, "prompt 1: evalsuite 'b' vs None")
