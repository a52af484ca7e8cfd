"""Growing a run: a larger --n generates only the missing samples, and the result equals a fresh run with that n
(per-sample seeds), also after an interrupted extension; a smaller n is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalsuite import EvalConfig, EvalError, run

pytestmark = pytest.mark.slow

SAMPLE_FIELDS = ("completions", "completion_ids", "lengths", "truncated", "finish_reasons", "rewards", "data_hash")


def _lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def _same_run(a_dir, b_dir, a_summary, b_summary):
    a, b = _lines(Path(a_dir) / "samples.jsonl"), _lines(Path(b_dir) / "samples.jsonl")
    assert [r["id"] for r in a] == [r["id"] for r in b]
    for ra, rb in zip(a, b, strict=True):
        assert {k: ra[k] for k in SAMPLE_FIELDS} == {k: rb[k] for k in SAMPLE_FIELDS}, ra["id"]
    for key in ("metrics", "stderr", "ci95", "n"):
        assert a_summary[key] == b_summary[key], key


@pytest.fixture
def base(tiny_model, sums_file):
    return dict(model=str(tiny_model), data=str(sums_file), temperature=1.0, max_tokens=5, k=(1, 2),
                rewards=("accuracy", "format", "length"))  # `length` is group-relative: it must be rescored


def test_a_larger_n_generates_only_the_missing_samples_and_equals_a_fresh_run(base, tmp_path):
    fresh = run(EvalConfig(**base, n=4, output_dir=str(tmp_path / "fresh")), progress=False)
    grown_dir = str(tmp_path / "grown")
    first = run(EvalConfig(**base, n=2, output_dir=grown_dir, batch_size=4), progress=False)
    before = {r["id"]: r for r in _lines(Path(grown_dir) / "samples.jsonl")}
    grown = run(EvalConfig(**base, n=4, output_dir=grown_dir, batch_size=3), progress=False)
    assert first["counts"]["samples"] == 12
    assert grown["counts"] == {"prompts": 6, "resumed": 6, "generated": 0, "extended": 6, "samples": 24}
    assert grown["timings"]["generated_tokens"] == sum(
        sum(r["lengths"][2:]) for r in _lines(Path(grown_dir) / "samples.jsonl"))  # only the new samples
    for r in _lines(Path(grown_dir) / "samples.jsonl"):
        assert r["completions"][:2] == before[r["id"]]["completions"]
    _same_run(tmp_path / "fresh", grown_dir, fresh, grown)
    assert json.loads((Path(grown_dir) / "run.json").read_text())["n"] == 4
    assert not (Path(grown_dir) / "extended.jsonl").exists()


def test_an_interrupted_extension_resumes_to_the_same_result(base, tmp_path, monkeypatch):
    from evalsuite.backends.transformers import TransformersBackend

    fresh = run(EvalConfig(**base, n=3, output_dir=str(tmp_path / "fresh")), progress=False)
    out = str(tmp_path / "grown")
    run(EvalConfig(**{**base, "k": (1,)}, n=1, output_dir=out), progress=False)
    real = TransformersBackend.generate
    calls = {"n": 0}

    def interrupted(self, prompts, sampling):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, prompts, sampling)

    monkeypatch.setattr(TransformersBackend, "generate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(EvalConfig(**base, n=3, output_dir=out, batch_size=2), progress=False)
    assert len(_lines(Path(out) / "extended.jsonl")) == 2  # the first batch of grown records is kept
    assert all(len(r["completions"]) == 1 for r in _lines(Path(out) / "samples.jsonl"))
    monkeypatch.setattr(TransformersBackend, "generate", real)
    grown = run(EvalConfig(**base, n=3, output_dir=out, batch_size=2), progress=False)
    assert grown["counts"]["extended"] == 4  # the two saved in extended.jsonl are not drawn again
    _same_run(tmp_path / "fresh", out, fresh, grown)


def test_greedy_runs_grow_by_copying_without_a_model(tiny_model, sums_file, tmp_path, monkeypatch):
    out = str(tmp_path / "g")
    base = dict(data=str(sums_file), max_tokens=4, output_dir=out)
    run(EvalConfig(**base, model=str(tiny_model), n=1), progress=False)

    def no_backend(*args, **kwargs):
        raise AssertionError("a greedy run loaded a model to grow its n")

    monkeypatch.setattr("evalsuite.runner.load_backend", no_backend)
    summary = run(EvalConfig(**base, model=str(tiny_model), n=3, k=(1, 3)), progress=False)
    assert summary["counts"]["extended"] == 6 and summary["counts"]["samples"] == 18
    for r in _lines(Path(out) / "samples.jsonl"):
        assert r["completions"] == [r["completions"][0]] * 3 and len(r["rewards"]["accuracy"]) == 3
    assert summary["metrics"]["maj@3"] == summary["metrics"]["accuracy"] == summary["metrics"]["pass@3"]


def test_a_smaller_n_is_refused(base, tmp_path):
    out = str(tmp_path / "o")
    run(EvalConfig(**{**base, "k": (1,)}, n=2, limit=1, output_dir=out), progress=False)
    with pytest.raises(EvalError) as err:
        run(EvalConfig(**{**base, "k": (1,)}, n=1, limit=1, output_dir=out), progress=False)
    assert str(err.value) == (f"{out} holds a run with different settings (n 2 -> 1); a run can grow its n but "
                              "not shrink it; use --overwrite to start over, or another --output-dir")
