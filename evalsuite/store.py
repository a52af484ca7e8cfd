"""Owns an output folder: saved run settings, samples.jsonl (appended and fsynced per batch), summary.json, its lock.
It must never lose or duplicate a finished prompt: a torn last line from a kill is cut off, nothing else is."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from evalsuite.errors import EvalError, locate, missing_column
from evalsuite.prompting import GOLD_COLUMNS

SAMPLES = "samples.jsonl"
SUMMARY = "summary.json"
SETTINGS = "run.json"
EXTENDED = "extended.jsonl"
SHARD = "shard.json"
LOCK = ".evalsuite.lock"
REQUIRED = ("id", "completions")


def read_samples(path: str | Path, *, torn: str = "error", solution_key: str = "solution") -> list[dict]:
    """Every record of a samples.jsonl file, validated.

    A last line without its newline is what a kill mid-write leaves: ``torn="cut"`` cuts it off the file
    (that prompt is generated again), ``"skip"`` leaves it out and the file as it is, and ``"error"``
    makes it an error like any malformed line.
    """
    p = Path(path)
    if not p.exists():
        raise EvalError(locate(str(path), None, "no such file"))
    raw = p.read_bytes()
    if torn != "error" and raw and not raw.endswith(b"\n"):
        cut = raw.rfind(b"\n") + 1
        if torn == "cut":
            with p.open("r+b") as handle:
                handle.truncate(cut)
                handle.flush()
                os.fsync(handle.fileno())
        raw = raw[:cut]
    records: list[dict] = []
    seen: dict[Any, int] = {}
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise EvalError(locate(str(path), where, f"malformed JSON ({err.msg} at column {err.colno})")) from None
        problem = _check_record(record, solution_key)
        if problem:
            raise EvalError(locate(str(path), where, problem))
        if record["id"] in seen:
            raise EvalError(locate(str(path), where, f"duplicate id {record['id']!r} (also on line {seen[record['id']]})"))
        seen[record["id"]] = number
        records.append(record)
    return records


def _check_record(record: Any, solution_key: str) -> str | None:
    if not isinstance(record, dict):
        return "expected a JSON object"
    for key in REQUIRED:
        if key not in record:
            return f"missing field {key!r}"
    if solution_key not in record:
        return missing_column(solution_key, record, what="gold answer", flag="--solution-key", usual=GOLD_COLUMNS,
                              noun="field")
    completions = record["completions"]
    if not isinstance(completions, list):
        return "'completions' must be a list of strings"
    if not completions:
        return "empty completions list"
    if not all(isinstance(c, str) for c in completions):
        return "'completions' must be a list of strings"
    for key in ("lengths", "truncated"):
        if key in record and (not isinstance(record[key], list) or len(record[key]) != len(completions)):
            return f"{key!r} must have one entry per completion ({len(completions)})"
    rewards = record.get("rewards", {})
    if not isinstance(rewards, dict):
        return "'rewards' must be an object {name: [value per completion]}"
    for name, values in rewards.items():
        if not isinstance(values, list) or len(values) != len(completions):
            return f"rewards[{name!r}] must have one value per completion ({len(completions)})"
    return None


def read_run(folder: str | Path) -> tuple[dict, list[dict]]:
    """``(summary, records)`` of a finished run's output folder (or of a summary.json path); records are
    empty when the folder has no samples.jsonl. Used by `compare` and `report`."""
    folder = Path(folder)
    if not folder.exists():
        raise EvalError(f"{folder}: no such folder")
    summary_path = folder / SUMMARY if folder.is_dir() else folder
    if not summary_path.exists():
        raise EvalError(f"{folder}: no {SUMMARY} (finish the run, or `evalsuite score {folder}/{SAMPLES}`)")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise EvalError(f"{summary_path}, line {err.lineno}: malformed JSON ({err.msg})") from None
    except OSError as err:
        raise EvalError(f"{summary_path}: {err.strerror}") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("metrics"), dict):
        raise EvalError(f"{summary_path}: not an evalsuite summary (no 'metrics' object)")
    samples = summary_path.parent / SAMPLES
    return summary, (read_samples(samples) if samples.exists() else [])


class OutputDir:
    """``DIR/run.json`` (settings that decide what is generated), ``DIR/samples.jsonl``, ``DIR/summary.json``,
    ``DIR/extended.jsonl`` (records of a run whose ``n`` grows, until they replace their old lines),
    ``DIR/shard.json`` (a shard's manifest, see ``evalsuite.shards``) and ``DIR/.evalsuite.lock`` (held while a
    run, a rescoring or a merge uses the folder)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.samples = self.path / SAMPLES
        self.summary = self.path / SUMMARY
        self.settings = self.path / SETTINGS
        self.extended = self.path / EXTENDED
        self.shard = self.path / SHARD
        self.lock_file = self.path / LOCK
        self._pending_settings: dict | None = None
        self._lock_handle: Any = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[OutputDir]:
        """Hold an exclusive ``fcntl`` lock on the folder, so a second run (any process) writing to it is
        refused with the first one's pid instead of interleaving appends. The kernel drops the lock when
        the holder exits, however it exits, so a killed run never leaves the folder locked."""
        import fcntl

        self._mkdir()
        handle = self.lock_file.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise EvalError(
                f"{self.path} is in use by another evalsuite run (pid {holder}); "
                "wait for it to finish, or use another --output-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield self
        finally:
            handle.close()  # closing releases the lock

    def prepare(self, settings: dict, *, overwrite: bool) -> dict[Any, dict]:
        """Make the folder ready and return ``{id: record}`` of what is already generated there, in file
        order (records of an interrupted extension replace their old lines).

        A folder holding another run's samples is refused unless ``overwrite`` (which empties it); a
        folder whose saved settings match resumes. A larger ``n`` than the saved one is allowed (the run
        is extended); a smaller one is refused.
        """
        self._mkdir()
        if overwrite:
            self.clear()
        if self.settings.exists():
            try:
                saved = json.loads(self.settings.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                saved = None
            if not isinstance(saved, dict):
                raise EvalError(locate(str(self.settings), None, "unreadable saved settings; use --overwrite to start over"))
            grows = isinstance(saved.get("n"), int) and isinstance(settings.get("n"), int) and saved["n"] < settings["n"]
            differences = describe_differences({**saved, "n": settings.get("n")} if grows else saved, settings)
            if differences:
                hint = "; a run can grow its n but not shrink it" if saved.get("n", 0) > settings.get("n", 0) else ""
                raise EvalError(
                    f"{self.path} holds a run with different settings ({differences}){hint}; "
                    "use --overwrite to start over, or another --output-dir"
                )
            if grows:
                self._pending_settings = settings  # the larger n is saved with the first new samples
        elif self.samples.exists() and self.samples.stat().st_size > 0:
            raise EvalError(
                f"{self.samples} exists but {SETTINGS} does not, so it cannot be resumed safely; "
                "use --overwrite to start over, or another --output-dir"
            )
        else:
            self._pending_settings = settings  # written with the first batch, so a failed start leaves no trace
        return self.saved_records(repair=True)

    def saved_records(self, *, repair: bool) -> dict[Any, dict]:
        """``{id: record}`` of what the folder holds, in file order, records of an interrupted extension in
        place of their old lines. A torn last line is cut off the file with ``repair``, else only left out."""
        torn = "cut" if repair else "skip"
        done = {r["id"]: r for r in read_samples(self.samples, torn=torn)} if self.samples.exists() else {}
        if self.extended.exists():
            for r in read_samples(self.extended, torn=torn):
                if r["id"] in done:
                    done[r["id"]] = r
        return done

    def clear(self) -> None:
        """Delete what a run wrote here (samples, extensions, summary, settings, a shard's manifest)."""
        for f in (self.samples, self.summary, self.settings, self.extended, self.shard):
            f.unlink(missing_ok=True)

    def append(self, records: Iterable[dict]) -> None:
        """Append records as JSON lines in one write, then flush and fsync, so a finished batch survives a kill."""
        self._append(self.samples, records)

    def append_extended(self, records: Iterable[dict]) -> None:
        """Append grown records (more samples than their line in samples.jsonl) to ``extended.jsonl``, with
        the same guarantees as :meth:`append`; :meth:`rewrite` later folds them into samples.jsonl."""
        self._append(self.extended, records)

    def rewrite(self, records: Iterable[dict]) -> None:
        """Replace samples.jsonl with ``records`` atomically, then drop ``extended.jsonl`` (whose records are
        now in it; a kill between the two only means they are read twice, to the same effect)."""
        write_jsonl_atomic(self.samples, records)
        self.extended.unlink(missing_ok=True)

    def _append(self, path: Path, records: Iterable[dict]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False, default=jsonable) + "\n" for r in records)
        if not data:
            return
        if self._pending_settings is not None:
            write_json_atomic(self.settings, self._pending_settings)
            self._pending_settings = None
        with path.open("a", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def _mkdir(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise EvalError(f"cannot create output folder {str(self.path)!r}: {err.strerror}") from None


def describe_differences(saved: dict, current: dict) -> str:
    """``"temperature 0.0 -> 1.0, n 1 -> 4"`` for the keys whose values differ; empty when equal."""
    keys = sorted(set(saved) | set(current))
    parts = [f"{k} {saved.get(k)!r} -> {current.get(k)!r}" for k in keys if saved.get(k) != current.get(k)]
    return ", ".join(parts)


def write_json_atomic(path: Path, value: Any) -> None:
    """Write JSON through a temporary file and a rename, so readers never see half a file."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, ensure_ascii=False, default=jsonable)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_jsonl_atomic(path: Path, records: Iterable[dict]) -> None:
    """Replace a JSON-lines file as a whole (used when rescoring), never leaving it half written."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for r in records:
            handle.write(json.dumps(r, ensure_ascii=False, default=jsonable) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def jsonable(value: Any) -> Any:
    """Best-effort JSON for values rows may hold (numpy scalars, images, dates)."""
    if hasattr(value, "item") and callable(value.item):
        try:
            return value.item()
        except (TypeError, ValueError):
            pass
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return repr(value) if not isinstance(value, (str, int, float, bool)) else value
