"""`python -m train.demo` on a shortened schedule: the summary and plot the README promises are written.
It must never check the demo's accuracy numbers (those need the full schedule); only their shape."""

from __future__ import annotations

import json

import pytest

from train import demo

pytestmark = pytest.mark.slow


def test_demo_writes_summary_and_plot(tmp_path, capsys):
    out = tmp_path / "demo"
    code = demo.main([
        "--out", str(out),
        "--set", "sft.max_steps", "2", "--set", "sft.limit", "128", "--set", "sft.logging_steps", "1",
        "--set", "grpo.max_steps", "2", "--set", "grpo.logging_steps", "1",
        "--set", "eval.limit", "8",
        "--set", "preflight.stop", "false",  # 2 SFT steps leave a model whose rewards never vary: report only
    ])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    for stage in ("before", "after_sft", "after"):
        assert {"accuracy", "format_rate", "truncation_rate", "mean_length"} <= set(summary[stage])
    assert summary["recipe"]["rewards"][0]["name"] == "format"
    assert summary["timings_s"]["wall"] > 0 and summary["peak_rss_mb"] > 0
    assert (out / "rewards.png").stat().st_size > 1000
    assert summary["preflight_s"] > 0
    assert (out / "run" / "final" / "config.json").exists() and summary["final_model"] == str(out / "run" / "final")
    printed = capsys.readouterr().out
    assert "after GRPO" in printed and "accuracy" in printed and "format_rate" in printed
    assert "preflight: " in printed and f"the trained model is in {out / 'run' / 'final'}" in printed
