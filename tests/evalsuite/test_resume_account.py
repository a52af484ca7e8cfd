"""A rerun of `evalsuite run` says in one line what it found done and what it adds (resumed prompts, grown n, nothing
but a rescoring), on stdout above the table and in summary.json's ``account``; a fresh run says nothing of the kind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _run(model, data, out, *flags) -> tuple[str, dict]:
    done = subprocess.run([sys.executable, "-m", "evalsuite", "run", "--model", str(model), "--data", str(data),
                           "--output-dir", str(out), "--max-tokens", "4", "--no-progress", *map(str, flags)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[0], json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize(
    "sampling,first_n,grown_n,extended",
    [
        (["--temperature", "1"], 2, 4, "extended: n 2 -> 4 for 2 prompts (4 new samples)"),
        ([], 1, 3, "extended: n 1 -> 3 for 2 prompts (4 new samples, copies of the greedy first)"),
    ],
    ids=["sampled", "greedy"],
)
def test_a_rerun_says_what_it_reused_and_what_it_adds(tiny_model, sums_file, tmp_path, sampling, first_n, grown_n,
                                                      extended):
    out = tmp_path / "eval"
    first, summary = _run(tiny_model, sums_file, out, "--limit", "2", "--n", first_n, *sampling)
    assert first.startswith("evalsuite: 2 prompts") and summary["account"] is None  # a fresh run: no account

    line, summary = _run(tiny_model, sums_file, out, "--n", grown_n, *sampling)
    assert line == f"resumed {out}: 2 of 6 prompts already done, generating 4; {extended}"
    assert summary["account"] == line
    assert summary["counts"] == {"prompts": 6, "resumed": 2, "generated": 4, "extended": 2, "samples": 6 * grown_n}

    line, summary = _run(tiny_model, sums_file, out, "--n", grown_n, "--rewards", "accuracy,format,tag_count", *sampling)
    assert line == summary["account"] == f"nothing to generate in {out}: all 6 prompts done (rescored for the rewards they lacked)"
    assert summary["counts"]["generated"] == summary["counts"]["extended"] == 0

    line, summary = _run(tiny_model, sums_file, out, "--n", grown_n, "--rewards", "accuracy,format,tag_count", *sampling)
    assert line == summary["account"] == f"nothing to generate in {out}: all 6 prompts done (summary recomputed)"
