"""`--correct REWARD[>=T]`: accuracy, pass@k and maj@k count a sample correct when a task's own reward reaches a
threshold (video actions: iou>=1; OCR: exact_match), in run, score, compare and the report; the default stays accuracy."""

from __future__ import annotations

import json

import pytest

from evalsuite import EvalConfig, compare, run, score
from evalsuite.cli import main
from evalsuite.correctness import Correctness
from evalsuite.errors import EvalError

GOLD = "(1) open door (2) sit down"
RIGHT = "<think>the clip</think><answer>(1) open door (2) sit down</answer>"
SWAPPED = "<think>x</think><answer>(1) Sit down. (2) open door</answer>"  # the same item set: iou 1
HALF = "<think>x</think><answer>(1) open door</answer>"  # iou 0.5
THINK_ONLY = "<think>(1) open door (2) sit down</think>"  # no answer: iou 0


def _write(path, groups):
    lines = [json.dumps({"id": f"q{i}", "prompt": [{"role": "user", "content": f"clip {i}"}], "solution": GOLD,
                         "completions": completions}) for i, completions in enumerate(groups)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("spec, expected", [
    ("iou>=1", Correctness("iou", 1.0)), ("exact_match", Correctness("exact_match", 1.0)),
    ("iou >= 0.5", Correctness("iou", 0.5)), ("my_rewards:score>=0.25", Correctness("my_rewards:score", 0.25)),
    (None, Correctness()), ({"reward": "iou", "threshold": 1}, Correctness("iou", 1.0)),
])
def test_parse(spec, expected):
    assert Correctness.parse(spec) == expected


@pytest.mark.parametrize("spec", ["iou>=", "iou>=high", "iou>=nan", ">=1", "iou > 1"])
def test_a_malformed_spec_is_one_error(spec):
    with pytest.raises(EvalError, match="--correct"):
        Correctness.parse(spec)


def test_score_with_iou_counts_a_sample_correct_when_its_items_equal_the_gold(tmp_path):
    f = _write(tmp_path / "run" / "samples.jsonl", [
        [RIGHT, HALF, THINK_ONLY, SWAPPED],  # 2 of 4 correct; majority: RIGHT and SWAPPED vote together
        [HALF, HALF, RIGHT, THINK_ONLY],  # 1 of 4; majority is the half answer: wrong
        [THINK_ONLY] * 4,  # no answer at all: maj counts it wrong
    ])
    summary = score(f, k=(1, 4), rewards=("iou", "format"), correct="iou>=1")
    m = summary["metrics"]
    assert m["accuracy"] == pytest.approx((2 / 4 + 1 / 4 + 0) / 3)
    assert m["pass@4"] == pytest.approx(2 / 3) and m["maj@4"] == pytest.approx(1 / 3)
    assert summary["correct"] == {"reward": "iou", "threshold": 1.0, "spec": "iou>=1"}
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["correct"]["spec"] == "iou>=1" and saved["config"]["correct"] == "iou>=1"
    records = [json.loads(line) for line in f.read_text().splitlines()]
    assert "accuracy" not in records[0]["rewards"]  # the math reward is not forced on a task it does not fit
    assert records[0]["votes"]["reward"] == "iou" and records[0]["votes"]["answers"][2] is None
    # a lower threshold counts the half answers too
    half = score(f, k=(1,), rewards=("iou",), correct="iou>=0.5", output_dir=tmp_path / "half")
    assert half["metrics"]["accuracy"] == pytest.approx((3 / 4 + 4 / 4 * 3 / 4 + 0) / 3)


def test_the_default_is_accuracy_and_is_recorded(tmp_path):
    f = _write(tmp_path / "run" / "samples.jsonl", [["<answer>4</answer>"]])
    summary = score(f, rewards=("format",))
    assert summary["correct"]["spec"] == "accuracy>=1" and "reward/accuracy" not in summary["metrics"]
    assert json.loads(f.read_text().splitlines()[0])["rewards"]["accuracy"] == [0.0]


def test_exact_match_with_a_tag_for_ocr(tmp_path):
    path = tmp_path / "ocr" / "samples.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps({"id": 0, "prompt": [{"role": "user", "content": "img"}], "solution": r"\frac{a}{b}",
                                "completions": [r"<latex>\frac{a}{b}</latex>", r"<latex>a/b</latex>",
                                                r"<latex>\frac{a}{b} </latex>"]}) + "\n")
    summary = score(path, rewards=("exact_match", "format"), correct="exact_match",
                    reward_params={"exact_match": {"tag": "latex"}, "format": {"tags": ["latex"]}})
    assert summary["metrics"]["accuracy"] == pytest.approx(2 / 3) and summary["metrics"]["maj@3"] == 1.0
    assert summary["metrics"]["format_rate"] == 1.0


def test_cli_score_and_run_take_the_flag(tmp_path, capsys):
    f = _write(tmp_path / "run" / "samples.jsonl", [[RIGHT, HALF]])
    assert main(["score", str(f), "--rewards", "iou", "--correct", "iou>=1"]) == 0
    assert "correct = iou>=1" in capsys.readouterr().out
    assert main(["score", str(f), "--correct", "iou>="]) == 2
    assert "expected REWARD or REWARD>=THRESHOLD" in capsys.readouterr().err
    assert main(["score", str(f), "--correct", "no_such_reward"]) == 2
    assert "no_such_reward" in capsys.readouterr().err


@pytest.mark.slow
def test_run_scores_and_records_the_correctness_reward(tiny_model, tmp_path):
    rows = [{"prompt": f"Which actions happen in clip {i}?", "solution": GOLD} for i in range(3)]
    config = EvalConfig(model=str(tiny_model), n=2, temperature=1.0, max_tokens=4, k=(1, 2), correct="iou>=1",
                        rewards=("iou", "format_partial"), output_dir=str(tmp_path / "o"))
    summary = run(config, rows=rows, progress=False)
    assert summary["correct"]["reward"] == "iou" and summary["config"]["correct"] == "iou>=1"
    records = [json.loads(line) for line in (tmp_path / "o" / "samples.jsonl").read_text().splitlines()]
    assert set(records[0]["rewards"]) == {"iou", "format_partial", "format"}
    assert records[0]["votes"]["reward"] == "iou" and len(records[0]["votes"]["answers"]) == 2
    # resuming the finished folder with another correctness rescores nothing but what that needs
    again = run(EvalConfig(**{**config.to_dict(), "correct": "exact_match"}), rows=rows, progress=False)
    assert again["correct"]["reward"] == "exact_match" and again["counts"]["generated"] == 0
    records = [json.loads(line) for line in (tmp_path / "o" / "samples.jsonl").read_text().splitlines()]
    assert "exact_match" in records[0]["rewards"] and records[0]["votes"]["reward"] == "exact_match"


def test_compare_warns_when_the_runs_define_correct_differently(tmp_path):
    a = _write(tmp_path / "a" / "samples.jsonl", [[RIGHT, HALF], [HALF, HALF]])
    b = _write(tmp_path / "b" / "samples.jsonl", [[RIGHT, HALF], [HALF, HALF]])
    score(a, rewards=("iou",), correct="iou>=1")
    score(b, rewards=("iou",), correct="iou>=0.5")
    result = compare(tmp_path / "a", tmp_path / "b")
    assert any("define a correct sample differently" in w for w in result["warnings"])
    assert result["gained"] == ["q1"]  # maj@2 under each run's own correctness


def test_the_report_explains_verdicts_with_the_correctness_reward(tmp_path):
    from evalsuite.html_report import write_report

    f = _write(tmp_path / "run" / "samples.jsonl", [[RIGHT, HALF, THINK_ONLY]])
    score(f, rewards=("iou",), correct="iou>=1")
    page = write_report(tmp_path / "run").read_text()
    assert "correct = iou&gt;=1" in page and "iou 0.5 &lt; 1" in page and "iou 1 &gt;= 1" in page
    assert 'data-verdict="right"' in page  # maj@3: the one committed full answer wins the vote
