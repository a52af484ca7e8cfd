"""Runs an evaluation: reads rows, generates with a backend, scores with the rewards, appends and summarizes.
It must never regenerate, duplicate or drop a finished prompt, and never resume into another run's folder."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalsuite import metrics as metrics_mod
from evalsuite.backends import Prompt, Sampling, load_backend
from evalsuite.backends.base import check_model_path
from evalsuite.config import EvalConfig, make_config
from evalsuite.data import Example, read_located_rows, to_examples
from evalsuite.errors import EvalError
from evalsuite.report import Progress
from evalsuite.scoring import build_rewards, score_record, warm_up_in_background
from evalsuite.store import OutputDir, read_samples, write_json_atomic, write_jsonl_atomic

__all__ = ["EvalConfig", "compare", "make_config", "run", "score"]

DEFAULT_BATCH = {"transformers": 8, "vllm": 256}


def run(
    config: EvalConfig,
    *,
    rows: list[dict] | None = None,
    model: Any = None,
    tokenizer: Any = None,
    progress: bool = True,
) -> dict:
    """Evaluate ``config.model`` on ``config.data`` (or on ``rows``) and return the summary dict, which is
    also written to ``DIR/summary.json``: ``{"config", "timings", "counts", "n", "metrics"}``.

    ``model``/``tokenizer`` may be objects already in memory (a transformers model and its tokenizer or
    processor, e.g. from a trainer, or a ``vllm.LLM``); they are used as they are and left unchanged.
    Prompts already finished in ``config.output_dir`` by an earlier run with the same generation settings
    are kept, not generated again.
    """
    started = time.perf_counter()
    timings = {"load_s": 0.0, "generate_s": 0.0, "score_s": 0.0, "write_s": 0.0}
    fns = build_rewards(config.rewards, config.reward_params)
    if rows is not None:
        located = [(f"row {i}", r) for i, r in enumerate(rows, start=1)]
        located = located if config.limit is None else located[: config.limit]
        source = config.data or None
    else:
        if not config.data:
            raise EvalError("no data given (--data FILE)")
        located = read_located_rows(config.data, limit=config.limit)
        source = config.data
    examples = to_examples(
        located,
        source=source,
        system_prompt=config.system_prompt,
        prompt_key=config.prompt_key,
        messages_key=config.messages_key,
        solution_key=config.solution_key,
    )
    if model is None:
        check_model_path(config.model)
    settings = config.generation_settings()
    if model is not None and not config.model:
        settings["model"] = f"<in-memory {type(model).__name__}>"
    if rows is not None and not config.data:
        settings["data"] = "<in-memory rows>"
    out = OutputDir(config.output_dir)
    done = {r["id"]: r for r in out.prepare(settings, overwrite=config.overwrite)}
    positions = {e.id: i for i, e in enumerate(examples)}
    pending = [e for e in examples if e.id not in done]
    sampling = Sampling(
        n=config.n, temperature=config.temperature, top_p=config.top_p, top_k=config.top_k,
        max_tokens=config.max_tokens, seed=config.seed, stop=tuple(config.stop),
    )
    new_records: list[dict] = []
    backend = None
    if pending:
        if "accuracy" in fns:
            warm_up_in_background()
        t = time.perf_counter()
        with _quiet_loading(not progress):
            backend = load_backend(config.backend, config, model=model, tokenizer=tokenizer)
        timings["load_s"] = time.perf_counter() - t
    batch_size = config.batch_size or DEFAULT_BATCH[config.backend]
    tokens = 0
    try:
        with Progress(len(examples), done=len(examples) - len(pending), enabled=progress) as bar:
            for start in range(0, len(pending), batch_size):
                batch = pending[start : start + batch_size]
                prompts = [Prompt(e.messages, e.images, positions[e.id]) for e in batch]
                t = time.perf_counter()
                outputs = backend.generate(prompts, sampling)
                timings["generate_s"] += time.perf_counter() - t
                t = time.perf_counter()
                records = [
                    score_record(_record(e, c), fns, solution_key=config.solution_key)
                    for e, c in zip(batch, outputs, strict=True)
                ]
                timings["score_s"] += time.perf_counter() - t
                t = time.perf_counter()
                out.append(records)
                timings["write_s"] += time.perf_counter() - t
                new_records += records
                batch_tokens = sum(sum(r["lengths"]) for r in records)
                tokens += batch_tokens
                bar.advance(len(batch), batch_tokens)
    finally:
        if backend is not None and model is None:
            backend.close()
    t = time.perf_counter()
    resumed = [done[e.id] for e in examples if e.id in done]
    if _rescore_missing(resumed, fns, config.solution_key):
        write_jsonl_atomic(out.samples, [*done.values(), *new_records])  # file order, rewritten atomically
    timings["score_s"] += time.perf_counter() - t
    by_id = {r["id"]: r for r in [*resumed, *new_records]}
    records = [by_id[e.id] for e in examples]
    metrics = metrics_mod.summarize(records, k=config.k, reward_names=config.rewards, n=config.n)
    timings["total_s"] = time.perf_counter() - started
    timings["generated_tokens"] = tokens
    timings["tokens_per_s"] = tokens / timings["generate_s"] if timings["generate_s"] else None
    summary = {
        "config": {**config.to_dict(), "model": settings["model"], "data": settings["data"]},
        "timings": timings,
        "counts": {
            "prompts": len(examples),
            "resumed": len(resumed),
            "generated": len(new_records),
            "samples": sum(len(r["completions"]) for r in records),
        },
        "n": config.n,
        "metrics": metrics,
    }
    write_json_atomic(out.summary, summary)
    return summary


def score(
    path: str | Path,
    *,
    k: Sequence[int] = (1,),
    rewards: Sequence[str] = ("accuracy", "format"),
    reward_params: dict | None = None,
    output_dir: str | Path | None = None,
    solution_key: str = "solution",
) -> dict:
    """Rescore a saved samples.jsonl without a model and return (and write) its summary.

    The requested rewards are computed afresh (accuracy and format always, for the headline metrics);
    the rescored records go to ``OUTPUT_DIR/samples.jsonl`` (by default the file's own folder, replaced
    atomically) and the summary to ``OUTPUT_DIR/summary.json``.
    """
    started = time.perf_counter()
    k = tuple(int(x) for x in k)
    if any(x < 1 for x in k):
        raise EvalError(f"every k must be >= 1, got {list(k)}")
    fns = build_rewards(list(rewards), reward_params)
    records = read_samples(path, solution_key=solution_key)
    if not records:
        raise EvalError(f"{path}: no records to score")
    for r in records:
        if solution_key != "solution":
            r["solution"] = r[solution_key]
        r["rewards"] = {}
        score_record(r, fns, solution_key=solution_key)
    target = Path(output_dir) if output_dir else Path(path).parent
    target.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(target / "samples.jsonl", records)
    n = max(len(r["completions"]) for r in records)
    summary = {
        "config": {"scored_file": str(path), "rewards": list(rewards), "reward_params": reward_params or {}, "k": list(k)},
        "timings": {"total_s": time.perf_counter() - started},
        "counts": {"prompts": len(records), "samples": sum(len(r["completions"]) for r in records)},
        "n": n,
        "metrics": metrics_mod.summarize(records, k=k, reward_names=list(rewards), n=n),
    }
    write_json_atomic(target / "summary.json", summary)
    return summary


def compare(dir_a: str | Path, dir_b: str | Path) -> dict:
    """Metric deltas between two output folders and the ids whose verdict (maj@n) flipped.

    Returns ``{"names", "metrics": [(name, a, b)], "lost": [ids right in A, wrong in B], "gained": [...],
    "only_a", "only_b"}``.
    """
    summaries, samples = [], []
    for d in (dir_a, dir_b):
        folder = Path(d)
        summary_path = folder / "summary.json" if folder.is_dir() else folder
        if folder.is_dir() and not summary_path.exists():
            raise EvalError(f"{folder}: no summary.json (finish the run, or `evalsuite score {folder}/samples.jsonl`)")
        if not folder.exists():
            raise EvalError(f"{folder}: no such folder")
        summaries.append(_read_summary(summary_path))
        samples_path = summary_path.parent / "samples.jsonl"
        samples.append({r["id"]: r for r in read_samples(samples_path)} if samples_path.exists() else {})
    ma, mb = summaries[0]["metrics"], summaries[1]["metrics"]
    rows = [(name, ma.get(name), mb.get(name)) for name in dict.fromkeys([*ma, *mb])]
    a, b = samples
    lost, gained = [], []
    for row_id in [i for i in a if i in b]:
        va, vb = metrics_mod.verdict(a[row_id]), metrics_mod.verdict(b[row_id])
        if va is True and vb is False:
            lost.append(row_id)
        elif va is False and vb is True:
            gained.append(row_id)
    return {
        "names": (str(dir_a), str(dir_b)),
        "metrics": rows,
        "lost": lost,
        "gained": gained,
        "only_a": [i for i in a if i not in b],
        "only_b": [i for i in b if i not in a],
    }


def _read_summary(path: Path) -> dict:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise EvalError(f"{path}, line {err.lineno}: malformed JSON ({err.msg})") from None
    except OSError as err:
        raise EvalError(f"{path}: {err.strerror}") from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise EvalError(f"{path}: not an evalsuite summary (no 'metrics' object)")
    return data


def _record(example: Example, completions: list) -> dict:
    record: dict[str, Any] = {
        "id": example.id,
        "prompt": example.messages,
        "solution": example.solution,
        "completions": [c.text for c in completions],
        "completion_ids": [list(c.token_ids) for c in completions],
        "lengths": [len(c.token_ids) for c in completions],
        "truncated": [c.truncated for c in completions],
        "finish_reasons": [c.finish_reason for c in completions],
        "rewards": {},
    }
    if example.images and all(isinstance(i, str) for i in example.images):
        record["images"] = example.images
    if example.columns:
        record["extra"] = example.columns
    return record


def _rescore_missing(records: list[dict], fns: dict, solution_key: str) -> bool:
    """Score resumed records for rewards added since they were written; True if any changed."""
    changed = False
    for r in records:
        missing = {name: fn for name, fn in fns.items() if name not in r.get("rewards", {})}
        if missing:
            score_record(r, missing, solution_key=solution_key)
            changed = True
    return changed


@contextlib.contextmanager
def _quiet_loading(quiet: bool):
    """Hide transformers' weight-loading bars when progress output is off, then restore the setting."""
    if not quiet:
        yield
        return
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
