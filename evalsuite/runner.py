"""Runs an evaluation: reads rows, generates with a backend, scores with the rewards, appends and summarizes.
It must never regenerate, duplicate or drop a finished prompt, and never resume into another run's folder."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalsuite import metrics as metrics_mod
from evalsuite import shards
from evalsuite.backends import Prompt, load_backend
from evalsuite.backends.base import check_model_path
from evalsuite.comparison import compare
from evalsuite.config import EvalConfig, make_config
from evalsuite.correctness import Correctness
from evalsuite.data import Example, read_located_rows, to_examples
from evalsuite.errors import EvalError
from evalsuite.prompting import PromptBuilder, draw_shots
from evalsuite.report import Progress, resume_account
from evalsuite.scoring import build_rewards, score_record, warm_up_in_background
from evalsuite.store import OutputDir, jsonable, read_samples, write_json_atomic, write_jsonl_atomic
from evalsuite.tasks import get_task

__all__ = ["EvalConfig", "compare", "make_config", "run", "score"]

DEFAULT_BATCH = {"transformers": 8, "vllm": 256, "openai": 64}  # openai: a failed batch loses at most 64 prompts


def run(
    config: EvalConfig,
    *,
    rows: list[dict] | None = None,
    model: Any = None,
    tokenizer: Any = None,
    progress: bool = True,
) -> dict:
    """Evaluate ``config.model`` on ``config.data`` (or on ``rows``) and return the summary dict, which is
    also written to ``DIR/summary.json``: ``{"config", "timings", "counts", "n", "metrics", "stderr", "ci95",
    "account"}`` (``account``: what a rerun found done and added, see ``report.resume_account``).

    ``model``/``tokenizer`` may be objects already in memory (a transformers model and its tokenizer or
    processor, e.g. from a trainer, or a ``vllm.LLM``); they are used as they are and left unchanged.
    Prompts already finished in ``config.output_dir`` by an earlier run with the same generation settings
    are kept, not generated again; with a larger ``n`` only their missing samples are generated.
    With ``config.shard`` (``"I/N"``) only that shard's prompts are evaluated, exactly as the whole run would.
    """
    started = time.perf_counter()
    timings = {"load_s": 0.0, "generate_s": 0.0, "score_s": 0.0, "write_s": 0.0}
    every = build_examples(config, rows)  # after --limit: a shard is a part of the limited run
    examples = shards.select(every, config.shard)
    correct = config.correctness
    fns = build_rewards(config.rewards, config.reward_params, imports=config.imports,
                        search_paths=reward_search_paths(config.data), correct=correct)
    if model is None and config.backend != "openai":  # a served model's name is no path
        check_model_path(config.model)
    settings = config.generation_settings()
    if model is not None and not config.model:
        settings["model"] = f"<in-memory {type(model).__name__}>"
    if rows is not None and not config.data:
        settings["data"] = "<in-memory rows>"
    out = OutputDir(config.output_dir)
    with out.locked():
        done = out.prepare(settings, overwrite=config.overwrite)
        check_same_data(out.path, examples, done)
        if config.shard:
            shards.write_manifest(out, config, settings, every)
        fresh = [e for e in examples if e.id not in done]
        short = [e for e in examples if e.id in done and len(done[e.id]["completions"]) < config.n]
        had = {e.id: len(done[e.id]["completions"]) for e in short}  # for the resume account
        sampling = config.sampling()
        positions = {e.id: i for i, e in enumerate(every)}  # seeds: a shard's prompts draw what the whole run draws
        new_records, grown, tokens = [], [], 0
        if sampling.greedy:  # a greedy prompt's samples are copies of its first: grow without a model
            t = time.perf_counter()
            grown = [_grow(done[e.id], [], config.n, fns, config.solution_key, correct) for e in short]
            timings["score_s"] += time.perf_counter() - t
            out.append_extended(grown)
            short = []
        work = [(e, 0) for e in fresh] + sorted(((e, len(done[e.id]["completions"])) for e in short),
                                                key=lambda item: item[1])
        backend = None
        if work:
            if "accuracy" in fns:
                warm_up_in_background()
            t = time.perf_counter()
            with _quiet_loading(not progress and config.backend != "openai"):  # a server loads no weights here
                backend = load_backend(config.backend, config, model=model, tokenizer=tokenizer)
            timings["load_s"] = time.perf_counter() - t
        try:
            with Progress(len(examples), done=len(examples) - len(work), enabled=progress) as bar:
                for batch, have in _batches(work, config.batch_size or DEFAULT_BATCH[config.backend]):
                    prompts = [Prompt(e.messages, e.images, positions[e.id], first_sample=have, id=e.id) for e in batch]
                    t = time.perf_counter()
                    outputs = backend.generate(prompts, dataclasses.replace(sampling, n=config.n - have))
                    timings["generate_s"] += time.perf_counter() - t
                    t = time.perf_counter()
                    if have == 0:
                        records = [score_record(_record(e, c), fns, solution_key=config.solution_key, correct=correct)
                                   for e, c in zip(batch, outputs, strict=True)]
                    else:
                        records = [_grow(done[e.id], c, config.n, fns, config.solution_key, correct)
                                   for e, c in zip(batch, outputs, strict=True)]
                    timings["score_s"] += time.perf_counter() - t
                    t = time.perf_counter()
                    (out.append if have == 0 else out.append_extended)(records)
                    timings["write_s"] += time.perf_counter() - t
                    (new_records if have == 0 else grown).extend(records)
                    batch_tokens = sum(sum(r["lengths"][have:]) for r in records)
                    tokens += batch_tokens
                    bar.advance(len(batch), batch_tokens)
        finally:
            if backend is not None and model is None:
                backend.close()
        t = time.perf_counter()
        for r in grown:
            done[r["id"]] = r
        resumed = [done[e.id] for e in examples if e.id in done]
        rescored = _rescore_missing(resumed, fns, config.solution_key, correct)
        if rescored or grown or out.extended.exists():
            out.rewrite([*done.values(), *new_records])  # file order, rewritten atomically
        timings["score_s"] += time.perf_counter() - t
        by_id = {r["id"]: r for r in [*resumed, *new_records]}
        records = [by_id[e.id] for e in examples]
        counts = {"resumed": len(resumed), "generated": len(new_records), "extended": len(grown)}
        summary = summarize_run(config, settings, records, counts=counts, timings=timings)
        timings["total_s"] = time.perf_counter() - started
        timings["generated_tokens"] = tokens
        timings["tokens_per_s"] = tokens / timings["generate_s"] if timings["generate_s"] else None
        summary["account"] = resume_account(out.path, prompts=len(examples), fresh=len(fresh), had=had, n=config.n,
                                            copied=sampling.greedy, rescored=rescored)
        write_json_atomic(out.summary, summary)
    return summary


def summarize_run(config: EvalConfig, settings: dict, records: list[dict], *, counts: dict, timings: dict) -> dict:
    """The summary of a run (or of its merged shards) over ``records`` in data order: ``config`` (``model`` and
    ``data`` as ``settings`` name them), ``timings`` (given, plus ``summarize_s``), ``counts`` (``prompts`` and
    ``samples``, then the given ones), ``n``, ``correct``, ``metrics``, ``stderr`` and ``ci95``."""
    t = time.perf_counter()
    summarized = metrics_mod.summarize_with_intervals(records, k=config.k, reward_names=config.rewards, n=config.n,
                                                      correct=config.correctness)
    timings["summarize_s"] = time.perf_counter() - t
    return {
        "config": {**config.to_dict(), "model": settings["model"], "data": settings["data"]},
        "timings": timings,
        "counts": {"prompts": len(records), **counts, "samples": sum(len(r["completions"]) for r in records)},
        "n": config.n,
        "correct": config.correctness.to_dict(),
        **summarized,
    }


def check_same_data(folder: Path, examples: list[Example], done: dict[Any, dict]) -> None:
    """Refuse to resume or extend when a saved record's prompt or gold is not the current row's: the data
    file was edited, and its id now names another prompt. Records written before hashes were saved are
    compared by their saved prompt messages and gold."""
    for e in examples:
        record = done.get(e.id)
        if record is None:
            continue
        saved = record.get("data_hash")
        same = saved == e.data_hash if saved else (
            record.get("prompt") == _json_roundtrip(e.messages) and record.get("solution") == _json_roundtrip(e.solution))
        if not same:
            raise EvalError(
                f"{folder} was generated from other data: prompt id {e.id!r} has a different prompt or gold "
                f"than its saved record ({e.where or 'in the current rows'}); use --overwrite to start over, "
                "or another --output-dir"
            )


def _batches(work: list[tuple[Example, int]], size: int):
    """Consecutive slices of at most ``size`` prompts that have the same number of saved samples."""
    start = 0
    while start < len(work):
        have = work[start][1]
        stop = start
        while stop < len(work) and stop - start < size and work[stop][1] == have:
            stop += 1
        yield [e for e, _ in work[start:stop]], have
        start = stop


def _grow(record: dict, completions: list, n: int, fns: dict, solution_key: str,
          correct: Correctness | None = None) -> dict:
    """``record`` with ``completions`` appended (or, for greedy runs, copies of its first sample) up to
    ``n`` samples, every reward rescored over the grown group."""
    grown = copy.deepcopy(record)
    if not completions:
        first = {key: grown[key][0] for key in _PER_SAMPLE if key in grown}
        for key, value in first.items():
            grown[key] = grown[key] + [copy.deepcopy(value) for _ in range(n - len(record["completions"]))]
    else:
        extra = _record_samples(completions)
        for key, values in extra.items():
            grown[key] = list(grown.get(key) or []) + values
    grown["rewards"] = {}
    return score_record(grown, fns, solution_key=solution_key, correct=correct)


def build_examples(config: EvalConfig, rows: list[dict] | None) -> list[Example]:
    """The prompts of a run from ``rows`` or ``config.data`` (after ``limit``), with the run's system
    prompt, template or task preset, and few-shot examples applied."""
    task = get_task(config.task) if config.task else None
    hub_config = task.hub_config if task else None
    if rows is not None:
        located = [(f"row {i}", r) for i, r in enumerate(rows, start=1)]
        located = located if config.limit is None else located[: config.limit]
        source = config.data or None
    else:
        if not config.data:
            raise EvalError("no data given (--data FILE)")
        located = read_located_rows(config.data, limit=config.limit, hub_config=hub_config)
        source = config.data
    builder = PromptBuilder(system_prompt=config.system_prompt, template=config.prompt_template, task=task,
                            prompt_key=config.prompt_key, messages_key=config.messages_key,
                            solution_key=config.solution_key)
    if config.fewshot:
        pool = read_located_rows(config.fewshot_data, hub_config=hub_config)
        shots = draw_shots(pool, builder, config.fewshot, config.fewshot_seed, config.fewshot_data)
        builder = dataclasses.replace(builder, shots=shots, fewshot=config.fewshot)
    return to_examples(located, source=source, prompts=builder, prompt_key=config.prompt_key,
                       messages_key=config.messages_key, solution_key=config.solution_key)


def reward_search_paths(data: str | None) -> tuple[str, ...]:
    """Where a ``module:function`` reward that is not installed is looked for: the data file's folder
    (then the current directory, which the loader always adds)."""
    if not data:
        return ()
    folder = Path(data.split("::", 1)[0]).expanduser().parent
    return (str(folder),) if folder.is_dir() else ()


def score(
    path: str | Path,
    *,
    k: Sequence[int] = (1,),
    rewards: Sequence[str] = ("accuracy", "format"),
    reward_params: dict | None = None,
    output_dir: str | Path | None = None,
    solution_key: str = "solution",
    n: int | None = None,
    imports: Sequence[str] = (),
    correct: str | Correctness | None = None,
) -> dict:
    """Rescore a saved samples.jsonl without a model and return (and write) its summary.

    The requested rewards are computed afresh (format and the correctness reward always, for the headline
    metrics: ``correct`` as ``REWARD[>=THRESHOLD]``, by default ``accuracy``);
    the rescored records go to ``OUTPUT_DIR/samples.jsonl`` (by default the file's own folder, replaced
    atomically) and the summary to ``OUTPUT_DIR/summary.json``. ``n`` (default: the most completions a
    record has) is the samples every prompt must have; a record with fewer is refused, naming it.
    """
    started = time.perf_counter()
    k = tuple(int(x) for x in k)
    if any(x < 1 for x in k):
        raise EvalError(f"every k must be >= 1, got {list(k)}")
    correct = Correctness.parse(correct)
    fns = build_rewards(list(rewards), reward_params, imports=imports, search_paths=(str(Path(path).parent),),
                        correct=correct)
    records = read_samples(path, solution_key=solution_key)
    if not records:
        raise EvalError(f"{path}: no records to score")
    if n is not None and n < 1:
        raise EvalError(f"n must be >= 1, got {n}")
    n = n or max(len(r["completions"]) for r in records)
    metrics_mod.check_sample_counts(records, n, hint="score with a smaller --n, or generate the missing samples")
    for r in records:
        if solution_key != "solution":
            r["solution"] = r[solution_key]
        r["rewards"] = {}
        r.pop("votes", None)
        score_record(r, fns, solution_key=solution_key, correct=correct)
    summarized = metrics_mod.summarize_with_intervals(records, k=k, reward_names=list(rewards), n=n, correct=correct)
    target = OutputDir(Path(output_dir) if output_dir else Path(path).parent)
    summary = {
        "config": {"scored_file": str(path), "rewards": list(rewards), "reward_params": reward_params or {}, "k": list(k),
                   "correct": str(correct) if not correct.is_default else "accuracy"},
        "timings": {"total_s": time.perf_counter() - started},
        "counts": {"prompts": len(records), "samples": sum(len(r["completions"]) for r in records)},
        "n": n,
        "correct": correct.to_dict(),
        **summarized,
    }
    with target.locked():
        write_jsonl_atomic(target.samples, records)
        write_json_atomic(target.summary, summary)
    return summary


_PER_SAMPLE = ("completions", "completion_ids", "lengths", "truncated", "finish_reasons")


def _record_samples(completions: list) -> dict[str, list]:
    samples: dict[str, list] = {"completions": [c.text for c in completions]}
    if all(c.token_ids is not None for c in completions):  # a server shows none: rewards then count characters
        samples["completion_ids"] = [list(c.token_ids) for c in completions]
    samples["lengths"] = [c.length for c in completions]
    samples["truncated"] = [c.truncated for c in completions]
    samples["finish_reasons"] = [c.finish_reason for c in completions]
    return samples


def _record(example: Example, completions: list) -> dict:
    record: dict[str, Any] = {
        "id": example.id,
        "prompt": example.messages,
        "solution": example.solution,
        "data_hash": example.data_hash,
        **_record_samples(completions),
        "rewards": {},
    }
    if example.images and all(isinstance(i, str) for i in example.images):
        record["images"] = example.images
    if example.columns:
        record["extra"] = example.columns
    return record


def _rescore_missing(records: list[dict], fns: dict, solution_key: str, correct: Correctness | None = None) -> bool:
    """Score resumed records for rewards added since they were written (and the votes of a correctness reward
    they were not scored with); True if any changed."""
    changed = False
    correct = correct or Correctness()
    for r in records:
        missing = {name: fn for name, fn in fns.items() if name not in r.get("rewards", {})}
        stale = correct.reward != "accuracy" and (r.get("votes") or {}).get("reward") != correct.reward
        if stale:
            missing[correct.reward] = fns[correct.reward]
        if missing:
            score_record(r, missing, solution_key=solution_key, correct=correct)
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


def _json_roundtrip(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=jsonable))
