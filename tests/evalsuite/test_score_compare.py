"""`evalsuite score` rescores saved completions without a model; `evalsuite compare` shows deltas and flips."""

from __future__ import annotations

import json

import pytest

from evalsuite import compare, score
from evalsuite.cli import main


def _samples(path, verdicts, *, extra=None):
    """One record per prompt; verdict True -> every completion right, False -> every completion wrong."""
    lines = []
    for i, right in enumerate(verdicts):
        answer = str(i) if right else "wrong"
        record = {
            "id": f"q{i}",
            "prompt": [{"role": "user", "content": f"q{i}"}],
            "solution": str(i),
            "completions": [f"<think>t</think><answer>{answer}</answer>", f"<answer>{answer}</answer>"],
            "lengths": [7, 3],
            "truncated": [False, True],
            "rewards": {"accuracy": [0.0, 0.0]},  # stale values: score recomputes them
        }
        record.update(extra or {})
        lines.append(json.dumps(record))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_score_recomputes_rewards_and_metrics(tmp_path):
    f = _samples(tmp_path / "run" / "samples.jsonl", [True, False, True, True])
    summary = score(f, k=(1, 2), rewards=("accuracy", "format", "tag_count"))
    m = summary["metrics"]
    assert m["accuracy"] == pytest.approx(0.75) and m["pass@2"] == pytest.approx(0.75) and m["maj@2"] == pytest.approx(0.75)
    assert m["format_rate"] == pytest.approx(0.5)  # only the think+answer completions have the format
    assert m["truncation_rate"] == pytest.approx(0.5) and m["mean_length"] == pytest.approx(5.0)
    assert "reward/tag_count" in m
    rescored = [json.loads(line) for line in f.read_text().splitlines()]
    assert rescored[0]["rewards"]["accuracy"] == [1.0, 1.0] and "tag_count" in rescored[0]["rewards"]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["metrics"] == m


def test_score_without_lengths_or_rewards(tmp_path):
    f = tmp_path / "plain.jsonl"
    f.write_text('{"id": 1, "solution": "2", "completions": ["<answer>2</answer>", "3"]}\n')
    summary = score(f, output_dir=tmp_path / "o")
    assert summary["metrics"]["accuracy"] == pytest.approx(0.5)
    assert summary["metrics"]["mean_length"] is None and summary["metrics"]["truncation_rate"] is None
    assert (tmp_path / "o" / "samples.jsonl").exists() and f.read_text().count("rewards") == 0


def test_score_cli_custom_solution_key(tmp_path, capsys):
    f = tmp_path / "s.jsonl"
    f.write_text('{"id": 1, "gold": "2", "completions": ["<answer>2</answer>"]}\n')
    assert main(["score", str(f), "--solution-key", "gold", "--output-dir", str(tmp_path / "o")]) == 0
    assert "accuracy" in capsys.readouterr().out
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["metrics"]["accuracy"] == 1.0


def test_compare_reports_deltas_and_flips(tmp_path, capsys):
    a = _samples(tmp_path / "a" / "samples.jsonl", [True, True, False, False])
    b = _samples(tmp_path / "b" / "samples.jsonl", [True, False, True, True])
    score(a)
    score(b)
    result = compare(tmp_path / "a", tmp_path / "b")
    assert result["lost"] == ["q1"] and result["gained"] == ["q2", "q3"]
    deltas = {name: (x, y) for name, x, y in result["metrics"]}
    assert deltas["accuracy"] == (pytest.approx(0.5), pytest.approx(0.75))
    paired = result["paired"]
    assert set(paired) == {"accuracy", "avg@2", "pass@1", "maj@2"}
    # per-prompt differences -1, +1, +1 and 0: mean 0.25, and the interval holds 0 (noise on 4 prompts)
    assert paired["accuracy"].delta == pytest.approx(0.25) and paired["accuracy"].prompts == 4
    assert paired["accuracy"].stderr == pytest.approx((2.75 / 3) ** 0.5 / 2)  # squared deviations sum to 2.75
    assert paired["accuracy"].significant is False
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "+0.2500" in out and "1 prompt(s) right in A, wrong in B:" in out and "q2" in out
    assert "paired 95% CI" in out and "beyond noise" in out and f"A: {tmp_path / 'a'}" in out


def test_compare_says_when_a_difference_is_outside_the_noise(tmp_path, capsys):
    a = _samples(tmp_path / "a" / "samples.jsonl", [False] * 10 + [True] * 10)
    b = _samples(tmp_path / "b" / "samples.jsonl", [True] * 20)
    score(a)
    score(b)
    result = compare(tmp_path / "a", tmp_path / "b")
    paired = result["paired"]["accuracy"]  # 10 prompts flipped, all one way: the sign test's p is 2/2^10
    low, high = paired.ci95
    assert paired.significant and paired.p_value == pytest.approx(2 / 1024) and 0 < low < 0.5 <= high <= 0.5
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.strip("│ ").startswith("accuracy"))
    assert "+0.5000" in row and "0.0020" in row and "yes" in row
