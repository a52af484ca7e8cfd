"""`evalsuite compare` and the report say which settings two runs differ in (and warn where that changes the task
itself), and a pass@k one summary lacks (a rerun with another --k) is computed from that run's samples, or said to
be out of reach of its n, instead of shown as a bare n/a."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest

from evalsuite import EvalConfig, compare, run
from evalsuite.html_report import write_report

ROOT = Path(__file__).resolve().parents[2]


def _evalsuite(*args) -> str:
    done = subprocess.run([sys.executable, "-m", "evalsuite", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={"COLUMNS": "200", **os.environ})
    assert done.returncode == 0, done.stderr
    return done.stdout


def _samples(folder: Path, completions: int) -> Path:
    """Prompt i (0-3) has i right samples among its first four: pass@2 = (0 + 1/2 + 5/6 + 1)/4, pass@4 = 3/4."""
    folder.mkdir()
    rows = [{"id": f"q{i}", "solution": str(i),
             "completions": [f"<answer>{i if j < i else 'no'}</answer>" for j in range(4)][:completions]}
            for i in range(4)]
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder / "samples.jsonl"


def _row(output: str, metric: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.strip("│ ").startswith(metric + " "))
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_a_pass_at_k_a_summary_lacks_is_computed_from_its_samples(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _evalsuite("score", _samples(a, 4), "--k", "1,4")
    _evalsuite("score", _samples(b, 4), "--k", "1,4")
    _evalsuite("score", b / "samples.jsonl", "--k", "1,2")  # a rerun with another --k
    _evalsuite("score", _samples(c, 1), "--k", "1")
    summary_b = json.loads((b / "summary.json").read_text())
    assert [m for m in summary_b["metrics"] if m.startswith("pass@")] == ["pass@1", "pass@2"]  # the k's asked for

    out = _evalsuite("compare", a, b)
    assert "settings differ: k [1, 4] -> [1, 2]" in out and "warning" not in out
    assert _row(out, "pass@2")[1:4] == ["0.5833", "0.5833", "+0.0000"]
    assert _row(out, "pass@4")[1:4] == ["0.7500", "0.7500", "+0.0000"]
    assert "pass@2 of A is computed from its samples (its summary.json reports pass@1, pass@4)" in out
    assert "pass@4 of B is computed from its samples (its summary.json reports pass@1, pass@2)" in out
    metrics = [name for name, _, _ in compare(a, b)["metrics"]]
    assert metrics[:5] == ["accuracy", "avg@4", "pass@1", "pass@2", "pass@4"]  # a row only B has follows its B neighbour
    assert compare(a, b)["paired"]["pass@4"].delta == 0.0  # paired over the samples too

    out = _evalsuite("compare", a, c)
    assert "settings differ: k [1, 4] -> [1], n 4 -> 1" in out
    assert _row(out, "pass@4")[1:4] == ["0.7500", "n/a", ""]
    assert "pass@4 of B is n/a: B's n is 1 and pass@4 needs n >= 4" in out


@pytest.fixture(scope="module")
def runs(tiny_model, tmp_path_factory):
    """Runs of the tiny model on the same prompts: A, and B, C, D each with other settings."""
    folder = tmp_path_factory.mktemp("runs")
    data = folder / "sums.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"What is {i}+{i + 1}?", "solution": str(2 * i + 1)}) + "\n"
                            for i in range(4)))
    base = dict(model=str(tiny_model), data=str(data), n=2, temperature=1.0, max_tokens=4, k=(1, 2))
    variants = {"a": {}, "b": {"temperature": 0.7, "seed": 1}, "c": {"max_tokens": 6, "system_prompt": "Be brief."},
                "d": {"stop": ["###"], "correct": "format"}}
    for name, changes in variants.items():
        run(EvalConfig(**{**base, **changes}, output_dir=str(folder / name)), progress=False)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    "other,settings,warning",
    [
        ("a", None, None),
        ("b", "seed 0 -> 1, temperature 1.0 -> 0.7", None),
        ("c", "max_tokens 4 -> 6, system_prompt None -> 'Be brief.'",
         "the runs differ in system_prompt, max_tokens, which change what the model is asked or how long it may "
         "answer: the deltas mix that change with any other"),
        ("d", "correct 'accuracy' -> 'format>=1', stop [] -> ['###']",
         "the runs differ in stop, which change what the model is asked or how long it may answer: the deltas mix "
         "that change with any other"),
    ],
)
def test_compare_and_the_report_say_which_settings_differ(runs, other, settings, warning):
    a, b = runs / "a", runs / other
    out = _evalsuite("compare", a, b)
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("settings differ")] == ([f"settings differ: {settings}"]
                                                                              if settings else [])
    assert (f"warning: {warning}" in lines) == bool(warning)
    page = write_report(a, b, path=runs / f"a-{other}.html").read_text()
    assert page.count(f"settings differ (A → B): {escape(settings or '')}") == (2 if settings else 0)  # header, section
    assert page.count(escape(f"warning: {warning}")) == (1 if warning else 0)
