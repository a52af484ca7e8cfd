"""Joins the folders of a sharded run (`evalsuite merge DIR... --output-dir OUT`) into the one run they are parts of.
It must never write a run other than the unsharded one: shards of other settings or data, overlapping, missing or
unfinished shards are refused in one line naming the folder, and no shard folder is changed."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalsuite.config import EvalConfig, field_names
from evalsuite.errors import EvalError
from evalsuite.runner import summarize_run
from evalsuite.shards import Shard, shard_index
from evalsuite.store import OutputDir, describe_differences, write_json_atomic, write_jsonl_atomic

log = logging.getLogger(__name__)

# What the shards of one run share besides their generation settings: how samples are scored and which rows run.
SCORING_KEYS = ("rewards", "reward_params", "correct", "k", "limit")
SUMMED_TIMINGS = ("load_s", "generate_s", "score_s", "write_s", "total_s", "generated_tokens")
RERUN = "rerun its `evalsuite run ... --shard` command to finish it"


@dataclass
class _ShardFolder:
    """One shard's folder as merge reads it: its manifest, config, saved records and summary."""

    path: Path
    shard: Shard
    config: EvalConfig
    data: dict
    records: dict[Any, dict]
    summary: dict | None

    @property
    def compared(self) -> dict:
        """The settings every shard of a run must share (the generation settings without the shard, and scoring)."""
        settings = {k: v for k, v in self.config.generation_settings().items() if k != "shard"}
        return {**settings, **{k: getattr(self.config, k) for k in SCORING_KEYS}}


def merge(folders: Sequence[str | Path], output_dir: str | Path, *, overwrite: bool = False) -> dict:
    """Join the shard folders of one run into ``output_dir`` and return (and write) its summary.

    The shards must be every shard ``0/N`` ... ``N-1/N`` of one run, each once and finished, with the same
    settings, rewards and data; ``output_dir`` then holds ``run.json`` (without the shard), ``samples.jsonl`` in
    the data's order and ``summary.json``: the folder the unsharded run would have written, which `evalsuite run`
    resumes and extends as its own. Timings are the shards' sums (``slowest_shard_s`` is the longest one).
    """
    if not folders:
        raise EvalError("give the shard folders to merge (evalsuite merge DIR... --output-dir OUT)")
    out = OutputDir(output_dir)
    for folder in folders:
        if not Path(folder).is_dir():
            raise EvalError(f"{folder}: no such folder")
        if Path(folder).resolve() == out.path.resolve():
            raise EvalError(f"{folder} is both a shard and the --output-dir; merge into another folder")
    with contextlib.ExitStack() as stack:
        for folder in folders:  # a shard still running holds its lock: it is refused with its pid
            stack.enter_context(OutputDir(folder).locked())
        parts = [_read(Path(folder)) for folder in folders]
        _check_one_run(parts)
        _check_every_shard_once(parts)
        records = _records_in_data_order(parts)
        config = dataclasses.replace(parts[0].config, shard=None, output_dir=str(out.path), overwrite=False)
        settings = config.generation_settings()
        summaries = [p.summary for p in parts]
        counts = {key: sum(s["counts"].get(key, 0) for s in summaries) for key in ("resumed", "generated", "extended")}
        summary = summarize_run(config, settings, records, counts=counts, timings=_summed_timings(summaries))
        with out.locked():
            _check_empty(out, overwrite)
            write_jsonl_atomic(out.samples, records)
            write_json_atomic(out.settings, settings)
            write_json_atomic(out.summary, summary)
    return summary


def _read(path: Path) -> _ShardFolder:
    folder = OutputDir(path)
    if not folder.shard.exists():
        raise EvalError(f"{path} is not a shard folder (no {folder.shard.name}): merge the folders of "
                        "`evalsuite run ... --shard I/N` runs")
    try:
        manifest = json.loads(folder.shard.read_text(encoding="utf-8"))
        shard = Shard.parse(manifest["shard"])
        known = set(field_names())
        config = EvalConfig(**{k: v for k, v in manifest["config"].items() if k in known})
        data = {"ids": list(manifest["data"]["ids"]), "hash": str(manifest["data"]["hash"])}
    except (json.JSONDecodeError, KeyError, TypeError, EvalError) as err:
        raise EvalError(f"{folder.shard}: unreadable shard manifest ({err}); {RERUN}") from None
    records = folder.saved_records(repair=False)
    try:
        summary = json.loads(folder.summary.read_text(encoding="utf-8")) if folder.summary.exists() else None
    except json.JSONDecodeError:
        summary = None  # refused as unfinished, as if missing: its rerun writes it again
    return _ShardFolder(path, shard, config, data, records, summary)


def _check_one_run(parts: list[_ShardFolder]) -> None:
    """Every shard has the first one's settings, rewards, shard count and data."""
    first = parts[0]
    for part in parts[1:]:
        differences = describe_differences(first.compared, part.compared)
        if differences:
            raise EvalError(f"{part.path} was run with other settings than {first.path} ({differences}); "
                            "every shard of a run needs the same settings")
        if part.shard.count != first.shard.count:
            raise EvalError(f"{part.path} is shard {part.shard} but {first.path} is shard {first.shard}: "
                            "every shard of a run splits it into the same number of shards")
        if part.data["hash"] != first.data["hash"]:
            sizes = f"{len(first.data['ids'])} vs {len(part.data['ids'])} prompts"
            raise EvalError(f"{part.path} was run on other data than {first.path} ({sizes}, data hash "
                            f"{first.data['hash']} vs {part.data['hash']}); rerun the shards on the same data")


def _check_every_shard_once(parts: list[_ShardFolder]) -> None:
    """Each shard number 0 ... N-1 is given exactly once; a shard given twice names a prompt both hold."""
    seen: dict[int, _ShardFolder] = {}
    for part in parts:
        other = seen.get(part.shard.index)
        if other is not None:
            both = next((i for i in part.records if i in other.records), None)
            shared = f"prompt id {both!r} is in both" if both is not None else "they overlap"
            raise EvalError(f"{other.path} and {part.path} are both shard {part.shard} ({shared}); give each shard once")
        seen[part.shard.index] = part
    count = parts[0].shard.count
    missing = [f"{i}/{count}" for i in range(count) if i not in seen]
    if missing:
        raise EvalError(f"shard(s) {', '.join(missing)} missing: a run split into {count} needs every shard "
                        f"0/{count} to {count - 1}/{count}")


def _records_in_data_order(parts: list[_ShardFolder]) -> list[dict]:
    """Every prompt's record, in the data's order, each from the shard that holds it."""
    ids = parts[0].data["ids"]
    count = parts[0].shard.count
    owner = {i: shard_index(i, count) for i in ids}
    by_id: dict[Any, dict] = {}
    for part in parts:
        expected = [i for i in ids if owner[i] == part.shard.index]
        _check_finished(part, expected, owner)
        by_id.update((i, part.records[i]) for i in expected)
    return [by_id[i] for i in ids]


def _check_finished(part: _ShardFolder, expected: list, owner: dict[Any, int]) -> None:
    """Refuse a shard that lacks one of its prompts (or samples of one) or its summary, or holds another
    shard's prompt; log the saved prompts the data no longer has, which are left out."""
    n = part.config.n
    lacking = [i for i in expected if len(part.records.get(i, {}).get("completions", ())) < n]
    if lacking:
        shown = ", ".join(repr(i) for i in lacking[:5]) + (", ..." if len(lacking) > 5 else "")
        raise EvalError(f"{part.path} (shard {part.shard}) is unfinished: it lacks {len(lacking)} of its "
                        f"{len(expected)} prompts (ids {shown}) or some of their n={n} samples; {RERUN}")
    if part.summary is None:
        raise EvalError(f"{part.path} (shard {part.shard}) has no readable summary.json; {RERUN}")
    strays = [i for i in part.records if owner.get(i, part.shard.index) != part.shard.index]
    if strays:
        raise EvalError(f"{part.path} (shard {part.shard}) holds prompt id {strays[0]!r}, which is shard "
                        f"{owner[strays[0]]}/{part.shard.count}'s")
    gone = len(part.records) - len(expected)
    if gone:
        log.warning("%s: %d saved prompt(s) are no longer in the data; the merged run leaves them out", part.path, gone)


def _summed_timings(summaries: list[dict]) -> dict:
    """The shards' timings summed (the compute the run took), with the longest shard and tokens/s over all."""
    timings = {key: sum((s.get("timings") or {}).get(key) or 0 for s in summaries) for key in SUMMED_TIMINGS}
    timings["tokens_per_s"] = timings["generated_tokens"] / timings["generate_s"] if timings["generate_s"] else None
    timings["shards"] = len(summaries)
    timings["slowest_shard_s"] = max((s.get("timings") or {}).get("total_s") or 0 for s in summaries)
    return timings


def _check_empty(out: OutputDir, overwrite: bool) -> None:
    """Refuse an ``--output-dir`` that holds a run (unless ``overwrite``, which empties it)."""
    if overwrite:
        out.clear()
    held = [f.name for f in (out.samples, out.settings, out.shard) if f.exists()]
    if held:
        raise EvalError(f"{out.path} already holds a run ({', '.join(held)}); use --overwrite to replace it, "
                        "or another --output-dir")
