"""End to end with a tiny random model on the transformers backend: outputs, seeds, stop strings, resume,
in-memory models left untouched, the CLI and its YAML form."""

from __future__ import annotations

import json

import pytest

from evalsuite import EvalConfig, EvalError, run
from evalsuite.cli import main

pytestmark = pytest.mark.slow

METRIC_KEYS = [
    "accuracy", "avg@3", "pass@1", "pass@2", "pass@3", "maj@3", "format_rate", "truncation_rate", "mean_length",
    "median_length", "reward/accuracy", "reward/format",
]


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_cli_run_writes_samples_summary_and_table(tiny_model, sums_file, tmp_path, capsys):
    out = tmp_path / "out"
    code = main([
        "run", "--model", str(tiny_model), "--data", str(sums_file), "--n", "3", "--temperature", "1.0",
        "--k", "1,2,3", "--max-tokens", "8", "--output-dir", str(out), "--no-progress",
    ])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["metrics"]) == METRIC_KEYS
    assert summary["counts"] == {"prompts": 6, "resumed": 0, "generated": 6, "extended": 0, "samples": 18}
    assert summary["config"]["n"] == 3 and summary["timings"]["generate_s"] > 0
    records = _lines(out / "samples.jsonl")
    assert [r["id"] for r in records] == list(range(6))
    for r in records:
        assert len(r["completions"]) == 3 and r["prompt"][-1]["role"] == "user"
        assert r["lengths"] == [len(ids) for ids in r["completion_ids"]]
        assert all(1 <= n <= 8 for n in r["lengths"])
        assert r["truncated"] == [reason == "length" for reason in r["finish_reasons"]]
        assert all(t == (n == 8) for t, n in zip(r["truncated"], r["lengths"], strict=True) if t)
        assert set(r["rewards"]) == {"accuracy", "format"} and len(r["rewards"]["accuracy"]) == 3
    lengths = [n for r in records for n in r["lengths"]]
    assert summary["metrics"]["mean_length"] == pytest.approx(sum(lengths) / len(lengths))
    table = capsys.readouterr().out
    assert "pass@3" in table and "truncation_rate" in table


def test_seeded_sampling_is_reproducible_and_greedy_repeats(tiny_model, sums_file, tmp_path):
    base = dict(model=str(tiny_model), data=str(sums_file), n=2, temperature=1.0, max_tokens=6, limit=3)
    a = run(EvalConfig(**base, output_dir=str(tmp_path / "a")), progress=False)
    b = run(EvalConfig(**base, output_dir=str(tmp_path / "b"), batch_size=1), progress=False)
    c = run(EvalConfig(**base, output_dir=str(tmp_path / "c"), seed=1), progress=False)
    ra, rb, rc = (_lines(tmp_path / d / "samples.jsonl") for d in "abc")
    # each sample has its own generator: batch composition does not change what a prompt draws
    assert [r["completions"] for r in ra] == [r["completions"] for r in rb]
    assert [r["completions"] for r in ra] != [r["completions"] for r in rc]
    assert a["metrics"].keys() == b["metrics"].keys() == c["metrics"].keys()
    greedy = run(EvalConfig(**{**base, "temperature": 0.0, "n": 3}, output_dir=str(tmp_path / "g")), progress=False)
    for r in _lines(tmp_path / "g" / "samples.jsonl"):
        assert r["completions"][0] == r["completions"][1] == r["completions"][2]
    assert greedy["metrics"]["maj@3"] == greedy["metrics"]["accuracy"]


def test_stop_strings_cut_the_completion(tiny_model, sums_file, tmp_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    base = dict(model=str(tiny_model), data=str(sums_file), max_tokens=10, limit=2)
    run(EvalConfig(**base, output_dir=str(tmp_path / "free")), progress=False)
    free = _lines(tmp_path / "free" / "samples.jsonl")
    ids = free[0]["completion_ids"][0]
    stop = next(s for s in (tok.decode([t]) for t in ids[2:]) if s.strip() and s in free[0]["completions"][0])
    run(EvalConfig(**base, stop=(stop,), output_dir=str(tmp_path / "stop")), progress=False)
    cut = _lines(tmp_path / "stop" / "samples.jsonl")[0]
    full = free[0]["completions"][0]
    assert cut["completions"][0] == full[: full.index(stop)]
    assert cut["finish_reasons"][0] == "stop" and cut["truncated"][0] is False


def test_resume_extends_without_regenerating(tiny_model, sums_file, tmp_path):
    out = tmp_path / "out"
    base = dict(model=str(tiny_model), data=str(sums_file), max_tokens=6, output_dir=str(out))
    first = run(EvalConfig(**base, limit=3), progress=False)
    assert first["counts"]["generated"] == 3
    before = (out / "samples.jsonl").read_bytes()
    second = run(EvalConfig(**base), progress=False)
    assert second["counts"] == {"prompts": 6, "resumed": 3, "generated": 3, "extended": 0, "samples": 6}
    after = (out / "samples.jsonl").read_bytes()
    assert after.startswith(before)
    assert [r["id"] for r in _lines(out / "samples.jsonl")] == list(range(6))
    third = run(EvalConfig(**base, rewards=("accuracy", "format", "tag_count")), progress=False)
    assert third["counts"]["generated"] == 0  # a new reward is scored on the saved completions
    assert all("tag_count" in r["rewards"] for r in _lines(out / "samples.jsonl"))
    assert third["metrics"]["reward/tag_count"] is not None
    with pytest.raises(EvalError) as err:
        run(EvalConfig(**base, temperature=0.7), progress=False)
    assert str(err.value) == (
        f"{out} holds a run with different settings (temperature 0.0 -> 0.7); "
        "use --overwrite to start over, or another --output-dir"
    )
    fresh = run(EvalConfig(**base, temperature=0.7, overwrite=True, limit=2), progress=False)
    assert fresh["counts"]["generated"] == 2 and len(_lines(out / "samples.jsonl")) == 2


def test_in_memory_model_rows_and_state_left_alone(tiny_model, tmp_path, sums):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    tokenizer.padding_side = "right"
    model.train()
    torch.manual_seed(123)
    rng = torch.random.get_rng_state()
    rows = [{"messages": [{"role": "user", "content": r["prompt"]}], "solution": r["solution"]} for r in sums(3)]
    summary = run(
        EvalConfig(n=2, temperature=1.0, max_tokens=5, system_prompt="Think, then answer.", output_dir=str(tmp_path / "o")),
        rows=rows, model=model, tokenizer=tokenizer, progress=False,
    )
    assert summary["counts"]["samples"] == 6
    assert summary["config"]["model"] == "<in-memory Qwen2ForCausalLM>"
    assert model.training and tokenizer.padding_side == "right"
    assert torch.equal(torch.random.get_rng_state(), rng)
    record = _lines(tmp_path / "o" / "samples.jsonl")[0]
    assert record["prompt"][0] == {"role": "system", "content": "Think, then answer."}


def test_yaml_config_with_reward_params_and_cli_override(tiny_model, sums_file, tmp_path):
    prompt_file = tmp_path / "system.txt"
    prompt_file.write_text("Answer in tags.")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        f"model: {tiny_model}\ndata: {sums_file}\nmax-tokens: 4\nlimit: 2\n"
        f"system_prompt: '@{prompt_file}'\n"
        "rewards:\n  accuracy: {}\n  cosine: {max_len: 4}\n"
        f"output_dir: {tmp_path / 'yaml-out'}\n"
    )
    assert main(["run", "--config", str(cfg), "--limit", "1", "--no-progress"]) == 0
    summary = json.loads((tmp_path / "yaml-out" / "summary.json").read_text())
    assert summary["counts"]["prompts"] == 1
    assert summary["config"]["reward_params"] == {"accuracy": {}, "cosine": {"max_len": 4}}
    assert summary["config"]["system_prompt"] == "Answer in tags."
    assert "reward/cosine" in summary["metrics"] and "reward/format" not in summary["metrics"]


def test_a_failing_reward_stops_the_run_and_keeps_finished_batches(tiny_model, sums_file, tmp_path, monkeypatch, capsys):
    import rewards

    real_get = rewards.get
    calls = {"n": 0}

    def explode(completions, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ZeroDivisionError("boom")
        return [0.5] * len(completions)

    monkeypatch.setattr(rewards, "get", lambda name, **p: explode if name == "explode" else real_get(name, **p))
    out = tmp_path / "out"
    argv = ["run", "--model", str(tiny_model), "--data", str(sums_file), "--max-tokens", "4", "--batch-size", "1",
            "--output-dir", str(out), "--no-progress"]
    assert main([*argv, "--rewards", "accuracy,explode"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["evalsuite: error: reward 'explode' failed on prompt id 2: ZeroDivisionError: boom"]
    assert [r["id"] for r in _lines(out / "samples.jsonl")] == [0, 1]  # finished batches kept
    assert main(argv) == 0  # the rerun resumes with the other rewards
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["resumed"] == 2 and summary["counts"]["generated"] == 4
