"""A run killed with SIGKILL mid-way resumes: finished prompts are neither regenerated, duplicated nor lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kill_helpers import ROOT, cli_env, complete_lines, sigkill_after_lines

pytestmark = pytest.mark.slow


def _command(model, data, out):
    return [
        sys.executable, "-m", "evalsuite", "run", "--model", str(model), "--data", str(data),
        "--output-dir", str(out), "--batch-size", "1", "--max-tokens", "24", "--n", "2",
        "--temperature", "1.0", "--no-progress",
    ]


def test_sigkill_then_resume(tiny_model, tmp_path, write_jsonl, sums):
    total = 40
    data = write_jsonl(tmp_path / "d.jsonl", sums(total))
    out = tmp_path / "out"
    samples = out / "samples.jsonl"
    done = sigkill_after_lines(_command(tiny_model, data, out), samples)
    assert 3 <= done < total
    # what a kill in the middle of a write leaves: a torn last line
    with samples.open("ab") as handle:
        handle.write(b'{"id": 39, "prompt": [{"role": "us')
    before = samples.read_bytes()[: before_len(samples)]
    finished = subprocess.run(_command(tiny_model, data, out), cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    records = [json.loads(line) for line in samples.read_text().splitlines()]
    assert [r["id"] for r in records][:done] == [json.loads(x)["id"] for x in before.decode().splitlines()]
    assert sorted(r["id"] for r in records) == list(range(total))  # nothing lost, nothing duplicated
    assert samples.read_bytes().startswith(before)  # finished lines untouched
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["resumed"] == done and summary["counts"]["generated"] == total - done
    # a rerun of the finished run generates nothing
    again = subprocess.run(_command(tiny_model, data, out), cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and complete_lines(samples) == total
    assert json.loads((out / "summary.json").read_text())["counts"]["generated"] == 0


def before_len(path: Path) -> int:
    raw = path.read_bytes()
    return raw.rfind(b"\n") + 1
