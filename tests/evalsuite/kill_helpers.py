"""Shared by the kill -9 tests: the environment an `evalsuite` subprocess runs in, and a run killed with SIGKILL once
its samples.jsonl holds a few lines. It must never signal any process but the one it started."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli_env() -> dict:
    """This checkout first on the path, one torch thread (the machine is shared)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def complete_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def sigkill_after_lines(command: list[str], samples: Path, lines: int = 3, wait: float = 120.0) -> int:
    """Run ``command`` from the checkout, SIGKILL it once ``samples`` holds ``lines`` complete lines (or it ends, or
    ``wait`` seconds pass), and return how many complete lines it left."""
    proc = subprocess.Popen(command, cwd=ROOT, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + wait
    while complete_lines(samples) < lines and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    error = proc.stderr.read().decode()[-2000:]
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, error
    return complete_lines(samples)
