"""No silent mix-ups: records carry a hash of their prompt and gold, a changed data file is refused on resume,
`compare` refuses runs on different data, and an output folder is locked against a second process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from evalsuite import EvalConfig, EvalError, compare, run, score
from evalsuite.cli import main
from evalsuite.data import fingerprint, read_located_rows, to_examples

ROOT = Path(__file__).resolve().parents[2]


def _lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


@pytest.mark.parametrize(
    "row_a,row_b,same",
    [
        ({"prompt": "1+1?", "solution": "2"}, {"prompt": "1+1?", "solution": "2", "level": 3}, True),  # other columns
        ({"prompt": "1+1?", "solution": "2"}, {"prompt": "1+1?", "solution": "3"}, False),  # gold
        ({"prompt": "1+1?", "solution": "2"}, {"prompt": "1+2?", "solution": "2"}, False),  # prompt
        ({"prompt": "1+1?", "solution": "2"}, {"prompt": "1+1?", "solution": 2}, False),  # gold type
        ({"prompt": "q", "solution": "2", "images": ["a.png"]}, {"prompt": "q", "solution": "2", "images": "a.png"}, True),
        ({"prompt": "q", "solution": "2", "images": ["a.png"]}, {"prompt": "q", "solution": "2", "images": ["b.png"]}, False),
        ({"prompt": [{"role": "user", "content": "q"}], "solution": "2"}, {"messages": [{"role": "user", "content": "q"}], "solution": "2"}, True),
    ],
)
def test_data_hash_covers_prompt_gold_and_images(row_a, row_b, same):
    (a,), (b,) = to_examples([("row 1", row_a)], source=None), to_examples([("row 1", row_b)], source=None)
    assert (a.data_hash == b.data_hash) is same
    assert a.data_hash.startswith("sha256:") and len(a.data_hash) == len("sha256:") + 16


def test_data_hash_ignores_the_system_prompt_and_memory_addresses():
    (a,), (b,) = (to_examples([("row 1", {"prompt": "q", "solution": "1"})], source=None, system_prompt=s)
                  for s in (None, "Be brief."))
    assert a.data_hash == b.data_hash and a.messages != b.messages  # the system prompt is a run setting
    pil = pytest.importorskip("PIL.Image")
    red, red2, blue = pil.new("RGB", (4, 4), (255, 0, 0)), pil.new("RGB", (4, 4), (255, 0, 0)), pil.new("RGB", (4, 4), (0, 0, 255))
    assert fingerprint("q", "1", [red]) == fingerprint("q", "1", [red2]) != fingerprint("q", "1", [blue])


@pytest.fixture
def first_run(tiny_model, tmp_path, write_jsonl, sums):
    data = write_jsonl(tmp_path / "d.jsonl", sums(4))
    config = dict(model=str(tiny_model), data=str(data), max_tokens=2, output_dir=str(tmp_path / "out"))
    run(EvalConfig(**config), progress=False)
    return config, data


@pytest.mark.slow
def test_an_edited_data_file_is_refused_naming_the_first_changed_id(first_run, write_jsonl, sums):
    config, data = first_run
    records = _lines(Path(config["output_dir"]) / "samples.jsonl")
    assert all(r["data_hash"] == e.data_hash for r, e in zip(records, to_examples(read_located_rows(data), source=None), strict=True))
    rows = sums(4)
    rows.insert(1, {"prompt": "What is 9+9?", "solution": "18"})  # ids are positions: every later id shifts
    write_jsonl(data, rows)
    with pytest.raises(EvalError) as err:
        run(EvalConfig(**config), progress=False)
    assert str(err.value) == (
        f"{config['output_dir']} was generated from other data: prompt id 1 has a different prompt or gold than "
        "its saved record (line 2); use --overwrite to start over, or another --output-dir"
    )
    write_jsonl(data, [*sums(4), {"prompt": "What is 9+9?", "solution": "18"}])  # appended rows are fine
    summary = run(EvalConfig(**config), progress=False)
    assert summary["counts"]["resumed"] == 4 and summary["counts"]["generated"] == 1


@pytest.mark.slow
def test_records_without_a_hash_are_checked_by_their_saved_prompt_and_gold(first_run, write_jsonl, sums):
    config, data = first_run
    samples = Path(config["output_dir"]) / "samples.jsonl"
    legacy = [{k: v for k, v in r.items() if k != "data_hash"} for r in _lines(samples)]
    samples.write_text("".join(json.dumps(r) + "\n" for r in legacy))
    assert run(EvalConfig(**config), progress=False)["counts"]["resumed"] == 4
    rows = sums(4)
    rows[2]["solution"] = "0"
    write_jsonl(data, rows)
    with pytest.raises(EvalError, match="prompt id 2 has a different prompt or gold"):
        run(EvalConfig(**config), progress=False)


def _scored(folder: Path, golds: list[str], *, extra=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, gold in enumerate(golds):
        record = {"id": i, "prompt": [{"role": "user", "content": f"q{i}"}], "solution": gold,
                  "completions": [f"<answer>{i}</answer>"], "data_hash": fingerprint(f"q{i}", gold)}
        record.update(extra or {})
        lines.append(json.dumps(record))
    (folder / "samples.jsonl").write_text("\n".join(lines) + "\n")
    score(folder / "samples.jsonl")
    return folder


def test_compare_refuses_runs_on_different_data(tmp_path, capsys):
    a = _scored(tmp_path / "a", ["0", "1", "2", "3"])
    b = _scored(tmp_path / "b", ["0", "1", "7", "8"])
    with pytest.raises(EvalError) as err:
        compare(a, b)
    assert str(err.value) == (
        f"{a} and {b} were run on different data: 2 of 4 shared prompt ids have a different prompt or gold, "
        "the first 2; pass --allow-different-data to compare only the prompts that match"
    )
    result = compare(a, b, allow_different_data=True)
    assert result["changed"] == [2, 3] and result["paired"]["accuracy"].prompts == 2
    assert result["lost"] == []  # ids 2 and 3 are right in A, wrong in B, but they are not the same prompts
    assert main(["compare", str(a), str(b), "--allow-different-data"]) == 0
    assert "warning: " in capsys.readouterr().out
    assert main(["compare", str(a), str(b)]) == 2


def test_compare_checks_saved_prompts_when_records_have_no_hash(tmp_path):
    a = _scored(tmp_path / "a", ["0", "1"], extra={"data_hash": None})
    b = _scored(tmp_path / "b", ["0", "1"], extra={"data_hash": None, "prompt": [{"role": "user", "content": "other"}]})
    with pytest.raises(EvalError, match="2 of 2 shared prompt ids have a different prompt or gold"):
        compare(a, b)
    c = _scored(tmp_path / "c", ["0"], extra={"data_hash": None})
    assert compare(a, c)["changed"] == []
    d = _scored(tmp_path / "d", ["5"])
    d_records = _lines(d / "samples.jsonl")
    for r in d_records:
        r["id"] = f"other-{r['id']}"
    (d / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in d_records))
    score(d / "samples.jsonl")
    with pytest.raises(EvalError, match="share no prompt ids"):
        compare(a, d)


def _holder(folder: Path) -> subprocess.Popen:
    """A second process that takes the folder's lock and keeps it until its stdin closes."""
    code = ("import sys; from evalsuite.store import OutputDir\n"
            f"with OutputDir({str(folder)!r}).locked():\n    print('locked', flush=True); sys.stdin.readline()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_an_output_folder_is_locked_against_a_second_process(tmp_path):
    source = _scored(tmp_path / "src", ["0", "1"]) / "samples.jsonl"
    target = tmp_path / "busy"
    proc = _holder(target)
    try:
        with pytest.raises(EvalError) as err:
            score(source, output_dir=target)
        assert str(err.value) == (f"{target} is in use by another evalsuite run (pid {proc.pid}); "
                                  "wait for it to finish, or use another --output-dir")
        with pytest.raises(EvalError, match="is in use by another evalsuite run"):
            run(EvalConfig(model=str(tmp_path), data=str(source), output_dir=str(target)), progress=False)
        assert not (target / "samples.jsonl").exists()
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    score(source, output_dir=target)  # released when the holder finished
    assert (target / "summary.json").exists()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    source = _scored(tmp_path / "src", ["0"]) / "samples.jsonl"
    proc = _holder(tmp_path / "busy")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdin.close()
    score(source, output_dir=tmp_path / "busy")
    assert (tmp_path / "busy" / "summary.json").exists()
