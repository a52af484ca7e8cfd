"""Reads evaluation rows (JSON, JSONL, parquet, `datasets` folders and hub ids) and turns each into chat messages.
It must never guess silently: a row it cannot use is a DataError naming the file, the line and the problem."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalsuite.errors import DataError, locate
from evalsuite.prompting import PromptBuilder

SPLIT_SEPARATOR = "::"
# a hub id: NAME or ORG/NAME, optionally :CONFIG, and no file extension a local file would have
_HUB_ID = re.compile(r"^(?![./~])[\w.-]+(/[\w.-]+)?(:[\w.-]+)?$(?<!\.jsonl)(?<!\.json)(?<!\.parquet)(?<!\.ndjson)")
_SAVED_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")


@dataclass
class Example:
    """One prompt to evaluate: what the model sees, the gold answer and where the row came from."""

    id: Any
    messages: list[dict]
    solution: Any
    images: list | None = None
    columns: dict = field(default_factory=dict)
    where: str | None = None
    data_hash: str = ""


def load_rows(path: str | Path, *, limit: int | None = None) -> list[dict]:
    """Every row of a data file as a dict, in file order, at most ``limit`` of them.

    ``path`` is a ``.json`` file (a list of objects, or ``{"data": [...]}``; a JSON-lines file named
    ``.json`` also works), a ``.jsonl``/``.ndjson`` file, a ``.parquet`` file, or a folder written by
    ``datasets.save_to_disk``. For a saved ``DatasetDict`` the split is chosen with ``PATH::split``;
    without it the ``train`` split is read (or the only split there is).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.jsonl"
    >>> _ = p.write_text('{"prompt": "1+1?", "solution": "2"}\\n')
    >>> load_rows(p)
    [{'prompt': '1+1?', 'solution': '2'}]
    """
    return [row for _, row in read_located_rows(path, limit=limit)]


def read_located_rows(
    path: str | Path, *, limit: int | None = None, hub_config: str | None = None
) -> list[tuple[str, dict]]:
    """Like :func:`load_rows`, each row paired with where it is (``"line 3"``, ``"row 3"``).

    A ``path`` that is no local file is read as a `datasets` hub id, ``ID[:CONFIG][::SPLIT]`` (e.g.
    ``openai/gsm8k:main::test``), with ``datasets.load_dataset``; so is a local folder that is a dataset
    repository (data files, perhaps a README with configs) rather than a ``save_to_disk`` folder.
    ``hub_config`` is the config to use when the id names none and the dataset has it (a task's default).
    """
    if limit is not None and limit < 0:
        raise DataError(f"--limit must be >= 0, got {limit}")
    text_path = str(path)
    split = None
    if SPLIT_SEPARATOR in text_path and not Path(text_path).exists():
        text_path, split = text_path.rsplit(SPLIT_SEPARATOR, 1)
    p = Path(text_path).expanduser()
    name = str(path)
    if not p.exists():
        if not _HUB_ID.match(text_path):
            raise DataError(locate(name, None, "no such file or directory"))
        dataset_id, _, config = text_path.partition(":")
        rows = _read_dataset_repository(dataset_id, config or None, split, name, limit, hub_config)
    elif p.is_dir():
        if any((p / marker).exists() for marker in _SAVED_MARKERS):
            rows = _read_saved_dataset(p, split, name, limit)
        else:
            rows = _read_dataset_repository(str(p), None, split, name, limit, hub_config)
    else:
        suffix = p.suffix.lower()
        if suffix in (".jsonl", ".ndjson"):
            rows = _read_jsonl(p, name, limit)
        elif suffix == ".json":
            rows = _read_json(p, name, limit)
        elif suffix in (".parquet", ".pq"):
            rows = _read_parquet(p, name, limit)
        else:
            raise DataError(
                locate(name, None, f"unsupported data format {suffix or '(no extension)'!r}; "
                       "use .json, .jsonl, .parquet or a datasets folder")
            )
    return rows if limit is None else rows[:limit]


def to_examples(
    located_rows: list[tuple[str, dict]],
    *,
    source: str | None,
    system_prompt: str | None = None,
    prompt_key: str = "prompt",
    messages_key: str = "messages",
    solution_key: str = "solution",
    images_key: str = "images",
    prompts: Any = None,
) -> list[Example]:
    """Validated :class:`Example` objects; the first bad row raises a DataError naming it.

    ``prompts`` (an ``evalsuite.prompting.PromptBuilder``) turns a row into messages and a gold answer;
    by default the row's prompt column with ``system_prompt``, and its ``solution_key`` column. A row's
    ``id`` column is its id (ids must be unique); without one, its 0-based position is.
    """
    if prompts is None:
        prompts = PromptBuilder(system_prompt=system_prompt, prompt_key=prompt_key, messages_key=messages_key,
                                solution_key=solution_key)
    examples: list[Example] = []
    seen: dict[Any, str | None] = {}
    for index, (where, row) in enumerate(located_rows):
        try:
            if not isinstance(row, dict):
                raise DataError(f"expected a JSON object, got {type(row).__name__}")
            messages = prompts.messages(row)
            solution = prompts.gold(row)
            images = row.get(images_key)
            if images is not None and not isinstance(images, list):
                images = [images]
            data_hash = fingerprint(prompts.source(row), solution, images)
            if images:
                images = [_resolve_image(image, source) for image in images]
            row_id = row.get("id", index)
            if not isinstance(row_id, (str, int)) or isinstance(row_id, bool):
                raise DataError(f"column 'id' must be a string or an integer, got {type(row_id).__name__}")
            if row_id in seen:
                raise DataError(f"duplicate id {row_id!r} (first seen at {seen[row_id]})")
        except DataError as err:
            raise DataError(locate(source, where, str(err))) from None
        seen[row_id] = where
        skip = {prompt_key, messages_key, solution_key, images_key, "id"}
        columns = {k: v for k, v in row.items() if k not in skip}
        examples.append(Example(row_id, messages, solution, images or None, columns, where, data_hash))
    return examples


def fingerprint(prompt: Any, solution: Any, images: Any = None) -> str:
    """A short hash of what identifies a prompt: the row's prompt as written (before any system prompt,
    template or few-shot examples, which the run's settings record) with its gold answer and images.
    Saved with each record, it tells a resume or a comparison that an id still means the same prompt.

    >>> fingerprint("1+1?", "2") == fingerprint("1+1?", "2"), fingerprint("1+1?", "2") == fingerprint("1+1?", "3")
    (True, False)
    """
    text = json.dumps([_canonical(prompt), _canonical(solution), _canonical(images)], sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _canonical(value: Any) -> Any:
    """JSON-ready form of a row value whose text never depends on memory addresses (images hash by content)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return "bytes:" + hashlib.sha256(value).hexdigest()
    if hasattr(value, "tobytes"):  # PIL images, numpy arrays
        shape = getattr(value, "size", None) or getattr(value, "shape", None)
        return f"{type(value).__name__}:{shape}:" + hashlib.sha256(value.tobytes()).hexdigest()
    if hasattr(value, "item"):  # numpy scalars
        return _canonical(value.item())
    return repr(value)


def _resolve_image(image: Any, source: str | None) -> Any:
    """A relative image path is read against the data file's folder (as training reads it), when the
    file is there; otherwise it is kept as given (relative to the working directory)."""
    if not isinstance(image, str) or not source or Path(image).is_absolute():
        return image
    candidate = Path(source.split("::")[0]).parent / image
    return str(candidate) if candidate.exists() else image


def _read_jsonl(p: Path, name: str, limit: int | None) -> list[tuple[str, dict]]:
    rows: list[tuple[str, dict]] = []
    with p.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if limit is not None and len(rows) >= limit:
                break
            if not line.strip():
                continue
            try:
                row = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as err:
                raise DataError(locate(name, f"line {number}", f"malformed JSON ({err.msg} at column {err.colno})")) from None
            if not isinstance(row, dict):
                raise DataError(locate(name, f"line {number}", f"expected a JSON object, got {_json_type(row)}"))
            rows.append((f"line {number}", row))
    return rows


def _read_json(p: Path, name: str, limit: int | None) -> list[tuple[str, dict]]:
    text = p.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        if err.msg == "Extra data":  # JSON lines in a .json file
            return _read_jsonl(p, name, limit)
        raise DataError(locate(name, f"line {err.lineno}", f"malformed JSON ({err.msg} at column {err.colno})")) from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise DataError(locate(name, None, 'expected a list of objects or {"data": [...]}'))
    rows = []
    for i, row in enumerate(data[:limit] if limit is not None else data, start=1):
        if not isinstance(row, dict):
            raise DataError(locate(name, f"row {i}", f"expected a JSON object, got {_json_type(row)}"))
        rows.append((f"row {i}", row))
    return rows


def _read_parquet(p: Path, name: str, limit: int | None) -> list[tuple[str, dict]]:
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(p)
    except ImportError:
        raise DataError(locate(name, None, "reading parquet needs pyarrow (pip install 'grpokit[eval]')")) from None
    except Exception as err:  # pyarrow raises several types for a bad file
        raise DataError(locate(name, None, f"not a readable parquet file ({_first_line(err)})")) from None
    if limit is not None:
        table = table.slice(0, limit)
    return [(f"row {i}", row) for i, row in enumerate(table.to_pylist(), start=1)]


def _read_saved_dataset(p: Path, split: str | None, name: str, limit: int | None) -> list[tuple[str, dict]]:
    try:
        import datasets
    except ImportError:
        raise DataError(locate(name, None, "reading a datasets folder needs `datasets` (pip install 'grpokit[eval]')")) from None
    try:
        data = datasets.load_from_disk(str(p))
    except Exception as err:  # datasets raises FileNotFoundError or its own errors for a non-dataset folder
        raise DataError(locate(name, None, f"not a saved datasets folder ({_first_line(err)})")) from None
    if isinstance(data, datasets.DatasetDict):
        splits = list(data)
        if split is None:
            split = "train" if "train" in data else (splits[0] if len(splits) == 1 else None)
            if split is None:
                raise DataError(locate(name, None, f"choose a split with PATH::split; splits: {', '.join(splits)}"))
        if split not in data:
            raise DataError(locate(name, None, f"no split {split!r}; splits: {', '.join(splits)}"))
        data = data[split]
    elif split is not None:
        raise DataError(locate(name, None, f"this dataset has no splits, so ::{split} cannot be used"))
    if limit is not None:
        data = data.select(range(min(limit, len(data))))
    return [(f"row {i}", row) for i, row in enumerate(data, start=1)]


def _read_dataset_repository(
    dataset: str, config: str | None, split: str | None, name: str, limit: int | None, default_config: str | None
) -> list[tuple[str, dict]]:
    """Rows of a hub dataset id, or of a local dataset repository folder, through ``datasets.load_dataset``
    (which honours ``HF_DATASETS_OFFLINE`` and the local cache). A dataset with several splits needs
    ``::split`` (a benchmark must not be scored on its train split by default)."""
    try:
        import datasets
    except ImportError:
        raise DataError(locate(name, None, "reading a datasets id needs `datasets` (pip install 'grpokit[eval]')")) from None
    try:
        if config is None:
            configs = datasets.get_dataset_config_names(dataset)
            if default_config in configs:
                config = default_config
            elif len(configs) > 1:
                raise DataError(locate(name, None, f"choose a config with ID:config::split; configs: {', '.join(configs)}"))
        splits = datasets.get_dataset_split_names(dataset, config)
    except DataError:
        raise
    except Exception as err:  # datasets raises many types (connection, missing config, bad files)
        what = ("not a saved datasets folder, nor a dataset repository `datasets` can read" if Path(dataset).is_dir()
                else "not a local file, and `datasets` could not open it as a hub dataset")
        raise DataError(locate(name, None, f"{what} ({_first_line(err)})")) from None
    if split is None:
        if len(splits) != 1:
            raise DataError(locate(name, None, f"choose a split with ID::split; splits: {', '.join(splits)}"))
        split = splits[0]
    if split not in splits:
        raise DataError(locate(name, None, f"no split {split!r}; splits: {', '.join(splits)}"))
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        data = datasets.load_dataset(dataset, config, split=split)
    except Exception as err:  # as above
        raise DataError(locate(name, None, f"`datasets` could not load it ({_first_line(err)})")) from None
    finally:
        if bars:
            datasets.enable_progress_bars()
    if limit is not None:
        data = data.select(range(min(limit, len(data))))
    return [(f"row {i}", row) for i, row in enumerate(data, start=1)]


def _json_type(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
