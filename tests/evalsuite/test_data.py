"""Data loading in every format, message building with the system prompt, and each bad-row message."""

from __future__ import annotations

import json

import pytest

from evalsuite.data import DataError, load_rows, read_located_rows, to_examples
from evalsuite.prompting import build_messages

ROWS = [{"prompt": "1+1?", "solution": "2"}, {"prompt": "2+2?", "solution": "4"}, {"prompt": "3+3?", "solution": "6"}]


def test_jsonl_json_and_data_key(tmp_path, write_jsonl):
    write_jsonl(tmp_path / "a.jsonl", ROWS)
    (tmp_path / "b.json").write_text(json.dumps(ROWS))
    (tmp_path / "c.json").write_text(json.dumps({"data": ROWS}))
    (tmp_path / "d.json").write_text("".join(json.dumps(r) + "\n" for r in ROWS))  # JSON lines named .json
    for name in ("a.jsonl", "b.json", "c.json", "d.json"):
        assert load_rows(tmp_path / name) == ROWS
    assert load_rows(tmp_path / "a.jsonl", limit=2) == ROWS[:2]
    assert load_rows(tmp_path / "b.json", limit=0) == []


def test_jsonl_skips_blank_lines_and_keeps_line_numbers(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps(ROWS[0]) + "\n\n" + json.dumps(ROWS[1]) + "\n")
    assert [w for w, _ in read_located_rows(p)] == ["line 1", "line 3"]


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "a.parquet")
    assert load_rows(tmp_path / "a.parquet") == ROWS
    assert load_rows(tmp_path / "a.parquet", limit=1) == ROWS[:1]


def test_datasets_folder_and_split(tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list(ROWS)
    ds.save_to_disk(str(tmp_path / "plain"))
    datasets.DatasetDict({"train": ds, "test": ds.select([2])}).save_to_disk(str(tmp_path / "dd"))
    datasets.DatasetDict({"a": ds, "b": ds}).save_to_disk(str(tmp_path / "two"))
    assert load_rows(tmp_path / "plain") == ROWS
    assert load_rows(tmp_path / "dd") == ROWS  # train by default
    assert load_rows(f"{tmp_path / 'dd'}::test") == ROWS[2:]
    with pytest.raises(DataError, match=r"no split 'dev'; splits: train, test"):
        load_rows(f"{tmp_path / 'dd'}::dev")
    with pytest.raises(DataError, match=r"choose a split with PATH::split; splits: a, b"):
        load_rows(tmp_path / "two")


@pytest.mark.parametrize(
    "content,message",
    [
        ('{"prompt": "a", "solution": "1"}\n{"prompt": "b" "solution": "2"}\n', r"bad\.jsonl, line 2: malformed JSON \(Expecting ',' delimiter at column 16\)"),
        ('{"prompt": "a"}\n[1, 2]\n', r"bad\.jsonl, line 2: expected a JSON object, got a list"),
        ('"text"\n', r"bad\.jsonl, line 1: expected a JSON object, got a string"),
    ],
)
def test_bad_jsonl(tmp_path, content, message):
    p = tmp_path / "bad.jsonl"
    p.write_text(content)
    with pytest.raises(DataError, match=message):
        load_rows(p)


@pytest.mark.parametrize("name,content,message", [
    ("nope.jsonl", None, r"nope\.jsonl: no such file or directory"),
    ("x.csv", "a,b\n", r"x\.csv: unsupported data format '\.csv'"),
    ("x.json", '[{"a": 1},\n {"a": }]', r"x\.json, line 2: malformed JSON \(Expecting value at column 8\)"),
    ("y.json", '[{"a": 1}, 3]', r"y\.json, row 2: expected a JSON object, got a number"),
    ("z.json", '{"rows": []}', r"z\.json: expected a list of objects or \{\"data\": \[\.\.\.\]\}"),
    ("x.parquet", "not parquet", r"x\.parquet: not a readable parquet file"),
    ("folder", "<dir>", r"folder: not a saved datasets folder"),
])
def test_bad_files(tmp_path, name, content, message):
    path = tmp_path / name
    if content == "<dir>":
        path.mkdir()
    elif content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_rows(path)


def test_build_messages_system_prompt_rules():
    assert build_messages({"prompt": "q"}) == [{"role": "user", "content": "q"}]
    assert build_messages({"prompt": "q"}, system_prompt="S") == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "q"},
    ]
    own = [{"role": "system", "content": "mine"}, {"role": "user", "content": "q"}]
    assert build_messages({"messages": own}, system_prompt="S") == own  # the row's own system prompt wins
    conversational = [{"role": "user", "content": "q"}]
    assert build_messages({"prompt": conversational}, system_prompt="S")[0] == {"role": "system", "content": "S"}
    assert build_messages({"q": "x"}, prompt_key="q") == [{"role": "user", "content": "x"}]
    row = {"messages": conversational}
    build_messages(row, system_prompt="S")
    assert row == {"messages": conversational} and len(conversational) == 1  # the row is not changed


@pytest.mark.parametrize(
    "row,message",
    [
        ({"solution": "1"}, "missing column 'prompt' or 'messages' (the prompt); columns found: solution; choose it with "
                            "--prompt-key, --messages-key for chat messages, --prompt-template 'TEXT {column}', "
                            "or a preset with --task gsm8k|math|math500|aime"),
        ({"prompt": "  ", "solution": "1"}, "column 'prompt' is empty"),
        ({"prompt": 3, "solution": "1"}, "column 'prompt' must be text or a list of messages, got int"),
        ({"messages": [], "solution": "1"}, "column 'messages' is an empty list of messages"),
        ({"messages": [{"role": "user"}], "solution": "1"}, "column 'messages': message 0 must be an object with 'role' and 'content'"),
        ({"prompt": "q"}, "missing column 'solution' (the gold answer); columns found: prompt; choose it with "
                          "--solution-key, or a preset with --task gsm8k|math|math500|aime"),
        ({"prompt": "q", "solution": "1", "id": [1]}, "column 'id' must be a string or an integer, got list"),
    ],
)
def test_bad_rows_name_file_line_and_problem(row, message):
    with pytest.raises(DataError) as err:
        to_examples([("line 7", row)], source="data.jsonl")
    assert str(err.value) == f"data.jsonl, line 7: {message}"


def test_examples_ids_and_columns():
    rows = [("line 1", {"prompt": "a", "solution": "1", "level": 3}), ("line 2", {"prompt": "b", "solution": "2", "images": "x.png"})]
    examples = to_examples(rows, source="d.jsonl", solution_key="solution")
    assert [e.id for e in examples] == [0, 1]
    assert examples[0].columns == {"level": 3} and examples[1].images == ["x.png"]
    with pytest.raises(DataError, match=r"d\.jsonl, line 2: duplicate id 'a' \(first seen at line 1\)"):
        to_examples([("line 1", {"id": "a", "prompt": "a", "solution": "1"}), ("line 2", {"id": "a", "prompt": "b", "solution": "1"})], source="d.jsonl")


@pytest.mark.parametrize(
    "image, expected",
    [
        ("img/a.png", "DATA/img/a.png"),  # beside the data file: read from there, as training reads it
        ("missing.png", "missing.png"),  # not beside the data file: kept, relative to the working directory
        ("/abs/b.png", "/abs/b.png"),
    ],
)
def test_relative_image_paths_resolve_against_the_data_file(tmp_path, write_jsonl, image, expected):
    data = tmp_path / "set" / "val.jsonl"
    (tmp_path / "set" / "img").mkdir(parents=True)
    (tmp_path / "set" / "img" / "a.png").write_bytes(b"")
    write_jsonl(data, [{"prompt": "count", "solution": "3", "images": [image]}])
    (example,) = to_examples(read_located_rows(data), source=str(data))
    assert example.images == [expected.replace("DATA", str(data.parent))]
