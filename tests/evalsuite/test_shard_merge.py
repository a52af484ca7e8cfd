"""Sharded runs (`evalsuite run --shard I/N`) merged with `evalsuite merge` equal the unsharded run prompt by prompt;
merge refuses shards that are not one whole run in one line, and a prompt's shard depends on its id alone."""

from __future__ import annotations

import doctest
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kill_helpers import ROOT, cli_env, sigkill_after_lines

from evalsuite import EvalConfig, EvalError, run
from evalsuite.data import to_examples
from evalsuite.merge import merge
from evalsuite.shards import Shard, select

# `make test-vllm` collects this folder in .venv-vllm, which has no hypothesis (it runs only the vllm-marked tests)
pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis_profiles import examples  # noqa: E402

SHARDS = 3


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _cli(*args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalsuite", *map(str, args)], cwd=ROOT, env=cli_env(),
                          capture_output=True, text=True, timeout=timeout)


def _run_shards(base: dict, folder: Path, count: int = SHARDS) -> list[Path]:
    dirs = [folder / str(i) for i in range(count)]
    for i, d in enumerate(dirs):
        run(EvalConfig(**base, shard=f"{i}/{count}", output_dir=str(d)), progress=False)
    return dirs


def _assert_same_run(whole_dir: Path, merged_dir: Path, whole: dict, merged: dict) -> None:
    """The same records in the same order (texts, token ids, rewards, verdicts' votes), and the same summary
    but for the timings and the output folder."""
    assert _lines(merged_dir / "samples.jsonl") == _lines(whole_dir / "samples.jsonl")
    for key in ("metrics", "stderr", "ci95", "counts", "n", "correct"):
        assert merged[key] == whole[key], key
    assert {**merged["config"], "output_dir": None} == {**whole["config"], "output_dir": None}
    assert json.loads((merged_dir / "run.json").read_text()) == json.loads((whole_dir / "run.json").read_text())


CASES = {
    # greedy, on the first 7 of 9 rows: --limit applies before the shard, so the shards are parts of the limited run
    "greedy-limit": dict(n=1, temperature=0.0, limit=7),
    # sampled: each prompt draws with its position in the whole data, so its samples do not depend on its shard
    "sampled": dict(n=2, temperature=1.0, k=(1, 2)),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_a_merged_sharded_run_equals_the_unsharded_run_and_resumes_as_one(case, tiny_model, tmp_path, write_jsonl,
                                                                        sums):
    data = write_jsonl(tmp_path / "d.jsonl", sums(9))
    base = dict(model=str(tiny_model), data=str(data), max_tokens=6, rewards=("accuracy", "format", "length"),
                **CASES[case])
    whole_dir, merged_dir = tmp_path / "whole", tmp_path / "merged"
    whole = run(EvalConfig(**base, output_dir=str(whole_dir)), progress=False)
    dirs = _run_shards(base, tmp_path / "shards")
    sizes = [len(_lines(d / "samples.jsonl")) if (d / "samples.jsonl").exists() else 0 for d in dirs]
    assert sum(sizes) == whole["counts"]["prompts"] == (base.get("limit") or 9) and max(sizes) < sum(sizes)
    merged = merge(dirs, merged_dir)
    _assert_same_run(whole_dir, merged_dir, whole, merged)
    assert merged["timings"]["shards"] == SHARDS
    assert json.loads((merged_dir / "summary.json").read_text())["metrics"] == whole["metrics"]

    # the merged folder is a run like any other: the same settings find everything done ...
    before = (merged_dir / "samples.jsonl").read_bytes()
    again = run(EvalConfig(**base, output_dir=str(merged_dir)), progress=False)
    assert again["counts"]["generated"] == again["counts"]["extended"] == 0
    assert (merged_dir / "samples.jsonl").read_bytes() == before
    # ... and a larger n extends it to what the unsharded run extended to
    grown = {**base, "n": base["n"] + 1}
    whole_grown = run(EvalConfig(**grown, output_dir=str(whole_dir)), progress=False)
    merged_grown = run(EvalConfig(**grown, output_dir=str(merged_dir)), progress=False)
    assert merged_grown["counts"]["extended"] == whole_grown["counts"]["prompts"]
    assert _lines(merged_dir / "samples.jsonl") == _lines(whole_dir / "samples.jsonl")
    assert merged_grown["metrics"] == whole_grown["metrics"]


@pytest.fixture(scope="module")
def shard_runs(tiny_model, tmp_path_factory):
    """Real greedy shard folders: the three shards of one run over 6 rows, shard 2 run each way that makes it a
    part of another run (a setting, the rewards, the limit, the number of shards, a row added to the data), and
    the unsharded run."""
    root = tmp_path_factory.mktemp("shard-runs")
    rows = [{"prompt": f"What is {i}+{i + 1}?", "solution": str(2 * i + 1)} for i in range(7)]
    data = root / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows[:6]))
    base = dict(model=str(tiny_model), data=str(data), max_tokens=4)
    dirs = _run_shards(base, root / "shards")
    variants = {
        "max_tokens": dict(base, max_tokens=5, shard="2/3"),
        "rewards": dict(base, rewards=("accuracy", "format", "length"), shard="2/3"),
        "limit": dict(base, limit=5, shard="2/3"),
        "of-two": dict(base, shard="1/2"),
        "whole": base,
    }
    for name, values in variants.items():
        run(EvalConfig(**values, output_dir=str(root / name)), progress=False)
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))  # the data grew before this shard ran
    run(EvalConfig(**base, shard="2/3", output_dir=str(root / "data")), progress=False)
    data.write_text("".join(json.dumps(r) + "\n" for r in rows[:6]))
    return root, dirs


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _cut_last_line(folder: Path) -> Path:
    samples = folder / "samples.jsonl"
    samples.write_text("".join(line + "\n" for line in samples.read_text().splitlines()[:-1]))
    return folder


def _torn_last_line(folder: Path) -> Path:
    samples = folder / "samples.jsonl"
    raw = samples.read_bytes()
    samples.write_bytes(raw[: raw.rstrip(b"\n").rfind(b"\n") + 1] + b'{"id": 4, "prompt": [{"ro')
    return folder


# (folders to merge from the fixture, or a function of (root, tmp) making them; the one line expected, in parts)
REFUSALS = {
    "overlapping shards": (lambda root, tmp: [*_shards(root), _copy(root / "shards" / "1", tmp / "again")],
                           ["are both shard 1/3 (prompt id", "is in both); give each shard once"]),
    "missing shard": (lambda root, tmp: [_shards(root)[0], _shards(root)[2]],
                      ["shard(s) 1/3 missing: a run split into 3 needs every shard 0/3 to 2/3"]),
    "other generation settings": (lambda root, tmp: [*_shards(root)[:2], root / "max_tokens"],
                                  ["was run with other settings than", "(max_tokens 4 -> 5)"]),
    "other rewards": (lambda root, tmp: [*_shards(root)[:2], root / "rewards"],
                      ["was run with other settings than", "rewards ('accuracy', 'format') -> ('accuracy', 'format', "
                       "'length')"]),
    "other limit": (lambda root, tmp: [*_shards(root)[:2], root / "limit"], ["(limit None -> 5)"]),
    "other data": (lambda root, tmp: [*_shards(root)[:2], root / "data"],
                   ["was run on other data than", "(6 vs 7 prompts, data hash sha256:"]),
    "another number of shards": (lambda root, tmp: [*_shards(root), root / "of-two"],
                                 ["is shard 1/2 but", "is shard 0/3: every shard of a run splits it into the same"]),
    "unfinished shard": (lambda root, tmp: [_shards(root)[0], _cut_last_line(_copy(_shards(root)[1], tmp / "cut")),
                                            _shards(root)[2]],
                         ["cut (shard 1/3) is unfinished: it lacks 1 of its", "rerun its `evalsuite run ... --shard`"]),
    "torn last line": (lambda root, tmp: [*_shards(root)[:2], _torn_last_line(_copy(_shards(root)[2], tmp / "torn"))],
                       ["torn (shard 2/3) is unfinished: it lacks 1 of its"]),
    "not a shard": (lambda root, tmp: [*_shards(root), root / "whole"],
                    ["whole is not a shard folder (no shard.json)"]),
    "no such folder": (lambda root, tmp: [*_shards(root), tmp / "nowhere"], ["nowhere: no such folder"]),
}


def _shards(root: Path) -> list[Path]:
    return [root / "shards" / str(i) for i in range(SHARDS)]


@pytest.mark.slow
@pytest.mark.parametrize("case", list(REFUSALS))
def test_merge_refuses_what_is_not_one_whole_run_in_one_line(case, shard_runs, tmp_path):
    root, _ = shard_runs
    make, expected = REFUSALS[case]
    folders = make(root, tmp_path)
    before = {f: sorted((p.name, p.read_bytes()) for p in f.iterdir() if p.name != ".evalsuite.lock")
              for f in folders if f.exists()}
    result = _cli("merge", *folders, "--output-dir", tmp_path / "out")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("evalsuite: error: "), result.stderr
    for part in expected:
        assert part in lines[0], lines[0]
    assert not (tmp_path / "out" / "samples.jsonl").exists()
    for f, files in before.items():  # merge changes no shard folder
        assert sorted((p.name, p.read_bytes()) for p in f.iterdir() if p.name != ".evalsuite.lock") == files


@pytest.mark.slow
def test_merge_refuses_an_output_folder_that_holds_a_run_unless_overwrite(shard_runs, tmp_path):
    root, dirs = shard_runs
    out = _copy(root / "whole", tmp_path / "out")
    result = _cli("merge", *dirs, "--output-dir", out)
    assert result.returncode == 2 and "out already holds a run (samples.jsonl, run.json); use --overwrite" in result.stderr
    result = _cli("merge", *dirs, "--output-dir", out, "--overwrite")
    assert result.returncode == 0, result.stderr
    assert _lines(out / "samples.jsonl") == _lines(root / "whole" / "samples.jsonl")
    assert not (out / "shard.json").exists()
    result = _cli("merge", *dirs, "--output-dir", dirs[0])
    assert result.returncode == 2 and "is both a shard and the --output-dir" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("folder,shard", [("shards/0", "1/3"), ("shards/0", None), ("whole", "0/3")])
def test_a_folder_is_resumed_only_as_the_same_shard(shard_runs, tmp_path, folder, shard):
    root, _ = shard_runs
    settings = json.loads((root / "whole" / "run.json").read_text())
    config = EvalConfig(model=settings["model"], data=settings["data"], max_tokens=4, shard=shard,
                        output_dir=str(_copy(root / folder, tmp_path / "copy")))
    with pytest.raises(EvalError, match=r"holds a run with different settings \(shard "):
        run(config, progress=False)


_SPELLING = "--shard must be I/N, shard I of N counted from 0 (e.g. 0/4 to 3/4), got "


@pytest.mark.parametrize("spec,message", [
    ("3/3", "--shard 3/3: I counts from 0, so it must be below N: 0/3 to 2/3 "
            "(as Slurm's --array=0-2 numbers $SLURM_ARRAY_TASK_ID)"),
    ("1/0", "--shard 1/0: N (the number of shards) must be >= 1"),
    ("-1/4", _SPELLING + "'-1/4'"),
    ("1of4", _SPELLING + "'1of4'"),
    ("1/4/2", _SPELLING + "'1/4/2'"),
    ("", _SPELLING + "''"),
    ("a/b", _SPELLING + "'a/b'"),
    ("1.0/4", _SPELLING + "'1.0/4'"),
])
def test_bad_shard_spellings_are_one_line(spec, message, tmp_path):
    result = _cli("run", "--model", tmp_path, "--data", tmp_path / "d.jsonl", f"--shard={spec}", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"evalsuite: error: {message}"]


def test_shard_spellings_normalize():
    assert EvalConfig(shard=" 2 / 4").shard == "2/4"
    assert EvalConfig(shard="02/4").generation_settings()["shard"] == "2/4"
    assert "shard" not in EvalConfig().generation_settings()  # folders of unsharded runs keep their run.json


def _members(ids: list, count: int) -> dict:
    rows = [{"id": i, "prompt": f"q{i}", "solution": "1"} for i in ids]
    examples = to_examples([(f"line {n}", r) for n, r in enumerate(rows, 1)], source=None)
    return {e.id: index for index in range(count) for e in select(examples, f"{index}/{count}")}


_IDS = st.one_of(st.integers(-10**6, 10**6), st.text(min_size=1, max_size=12))


@settings(max_examples=examples(100))
@given(old=st.lists(_IDS, unique=True, max_size=40), new=st.lists(_IDS, unique=True, max_size=20),
       where=st.randoms(use_true_random=False), count=st.integers(1, 9))
def test_adding_rows_keeps_every_old_prompt_in_its_shard(old, new, where, count):
    new = [i for i in new if i not in old]
    grown = list(old)
    for i in new:  # anywhere in the file, not only at its end
        grown.insert(where.randint(0, len(grown)), i)
    before, after = _members(old, count), _members(grown, count)
    assert sorted(map(repr, after)) == sorted(map(repr, grown))  # the shards of a data set cover it, each id once
    assert {i: after[i] for i in old} == before


def test_rows_without_ids_are_sharded_by_position_so_appended_rows_move_nothing():
    rows = [{"prompt": f"q{i}", "solution": "1"} for i in range(30)]
    examples = to_examples([(f"line {i}", r) for i, r in enumerate(rows, 1)], source=None)
    grown = to_examples([(f"line {i}", r) for i, r in enumerate([*rows, *rows[:7]], 1)], source=None)
    for index in range(4):
        old = [e.id for e in select(examples, f"{index}/4")]
        assert [e.id for e in select(grown, f"{index}/4") if e.id < 30] == old


def test_shards_are_balanced_enough_to_split_work():
    members = _members(list(range(4000)), 4)
    sizes = [sum(1 for v in members.values() if v == index) for index in range(4)]
    assert min(sizes) > 900 and max(sizes) < 1100, sizes  # a hash, not a range: no shard empty or holding most


def test_docstring_examples():
    import evalsuite.shards

    failures, tried = doctest.testmod(evalsuite.shards)
    assert tried > 0 and failures == 0
    assert Shard.parse("0/1").holds("anything")


@pytest.mark.slow
def test_a_shard_killed_with_sigkill_is_refused_then_resumes_and_merges_to_the_unsharded_run(
        tiny_model, tmp_path, write_jsonl, sums):
    data = write_jsonl(tmp_path / "d.jsonl", sums(40))
    settings = dict(n=2, temperature=1.0, max_tokens=24)
    command = [sys.executable, "-m", "evalsuite", "run", "--model", str(tiny_model), "--data", str(data),
               "--output-dir", str(tmp_path / "shards" / "0"), "--batch-size", "1", "--max-tokens", "24", "--n", "2",
               "--temperature", "1.0", "--shard", "0/2", "--no-progress"]
    samples = tmp_path / "shards" / "0" / "samples.jsonl"
    done = sigkill_after_lines(command, samples)
    run(EvalConfig(model=str(tiny_model), data=str(data), **settings, shard="1/2",
                   output_dir=str(tmp_path / "shards" / "1")), progress=False)
    dirs = [tmp_path / "shards" / "0", tmp_path / "shards" / "1"]
    expected = len(json.loads((dirs[0] / "shard.json").read_text())["data"]["ids"]) - len(_lines(dirs[1] / "samples.jsonl"))
    assert 3 <= done < expected
    refused = _cli("merge", *dirs, "--output-dir", tmp_path / "merged")
    assert refused.returncode == 2
    assert f"(shard 0/2) is unfinished: it lacks {expected - done} of its {expected} prompts" in refused.stderr
    resumed = subprocess.run(command, cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    merged = _cli("merge", *dirs, "--output-dir", tmp_path / "merged")
    assert merged.returncode == 0, merged.stderr
    whole = run(EvalConfig(model=str(tiny_model), data=str(data), **settings, output_dir=str(tmp_path / "whole")),
                progress=False)
    merged_summary = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert _lines(tmp_path / "merged" / "samples.jsonl") == _lines(tmp_path / "whole" / "samples.jsonl")
    assert merged_summary["metrics"] == whole["metrics"]
    assert merged_summary["counts"]["resumed"] == done  # the counts of the shards' last runs, summed
