"""A missing prompt or gold column, through the real `evalsuite` command: one line that lists the columns found
(in the file's order), suggests the closest one with the flag that chooses it, and names the task presets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = [{"question": "What is 1+2?", "answer": "3", "level": 1}, {"question": "What is 2+2?", "answer": "4", "level": 2}]


def _jsonl(folder: Path) -> tuple[Path, str]:
    path = folder / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path, "line 1"


def _parquet(folder: Path) -> tuple[Path, str]:
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    path = folder / "data.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    return path, "row 1"


def _datasets_folder(folder: Path) -> tuple[Path, str]:
    datasets = pytest.importorskip("datasets")
    path = folder / "saved"
    datasets.Dataset.from_list(ROWS).save_to_disk(str(path))
    return path, "row 1"


def _evalsuite(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalsuite", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, never a traceback
    assert lines[0].startswith("evalsuite: error: ")
    return lines[0][len("evalsuite: error: "):]


PROMPT = ("missing column 'prompt' or 'messages' (the prompt); columns found: question, answer, level; choose it with "
          "--prompt-key (e.g. --prompt-key question), --messages-key for chat messages, --prompt-template 'TEXT {column}', "
          "or a preset with --task gsm8k")
GOLD = ("missing column 'solution' (the gold answer); columns found: question, answer, level; choose it with "
        "--solution-key (e.g. --solution-key answer), or a preset with --task gsm8k")


@pytest.mark.parametrize("write", [_jsonl, _parquet, _datasets_folder], ids=["jsonl", "parquet", "datasets-folder"])
@pytest.mark.parametrize(
    "flags,message",
    [
        ([], PROMPT),
        (["--prompt-key", "question"], GOLD),
        (["--prompt-key", "question", "--solution-key", "Answer"],  # a near spelling is the example
         "missing column 'Answer' (the gold answer); columns found: question, answer, level; choose it with "
         "--solution-key (e.g. --solution-key answer), or a preset with --task gsm8k"),
        (["--prompt-key", "question", "--solution-key", "gold"],  # no near spelling: the first usual gold name
         "missing column 'gold' (the gold answer); columns found: question, answer, level; choose it with "
         "--solution-key (e.g. --solution-key answer), or a preset with --task gsm8k"),
        (["--prompt-template", "{questoin} Answer in \\boxed{}.", "--solution-key", "answer"],
         "the prompt template needs column 'questoin', which this row lacks (columns found: question, answer, level; "
         "did you mean {question}?; write {{ and }} for literal braces)"),
        (["--task", "math"], "missing column 'problem' (the question); columns found: question, answer, level"),
    ],
)
def test_a_missing_column_lists_the_columns_and_the_flag_that_chooses_one(tmp_path, write, flags, message):
    data, where = write(tmp_path)
    model = tmp_path / "model"
    model.mkdir()  # the data is read before any model is loaded
    done = _evalsuite("run", "--model", model, "--data", data, "--output-dir", tmp_path / "out", *flags)
    assert _error_line(done) == f"{data}, {where}: {message}"
    assert not (tmp_path / "out" / "run.json").exists()


def test_a_wide_row_lists_its_first_twenty_columns(tmp_path):
    data = tmp_path / "wide.jsonl"
    data.write_text(json.dumps({"prompt": "q", **{f"c{i}": i for i in range(29)}}) + "\n")
    model = tmp_path / "model"
    model.mkdir()
    message = _error_line(_evalsuite("run", "--model", model, "--data", data))
    shown = ", ".join(["prompt", *(f"c{i}" for i in range(19))])
    assert message == (f"{data}, line 1: missing column 'solution' (the gold answer); columns found: {shown} and 10 more; "
                       "choose it with --solution-key, or a preset with --task gsm8k|math|math500|aime")


def test_score_names_the_fields_a_saved_record_has(tmp_path):
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"id": 0, "gold": "3", "completions": ["<answer>3</answer>"]}) + "\n")
    assert _error_line(_evalsuite("score", samples)) == (
        f"{samples}, line 1: missing field 'solution' (the gold answer); fields found: id, gold, completions; "
        "choose it with --solution-key (e.g. --solution-key gold)")
    done = _evalsuite("score", samples, "--solution-key", "gold", "--output-dir", tmp_path / "o")
    assert done.returncode == 0, done.stderr  # the suggested flag works
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["metrics"]["accuracy"] == 1.0
