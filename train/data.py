"""Training and validation rows as TRL and evalsuite want them: chat prompts, gold answers, images, video frames.
It must never drop or rename a column a reward may read: the gold column stays under its own name too."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from train.errors import RecipeError
from train.recipe import Recipe


def load_rows(path: str, *, limit: int | None, source: str, key: str) -> list[dict]:
    """Every row of ``path`` (evalsuite's readers); an unreadable or empty file is a RecipeError at ``key``."""
    from evalsuite.data import DataError
    from evalsuite.data import load_rows as read

    try:
        rows = read(path, limit=limit)
    except DataError as exc:
        raise RecipeError(source, key, str(exc)) from None
    if not rows:
        raise RecipeError(source, key, f"{path} holds no rows")
    return rows


def require_column(rows: list[dict], column: str, *, source: str, key: str, path: str) -> None:
    if column not in rows[0]:
        raise RecipeError(
            source, key, f"column {column!r} not found in {path}; columns: {', '.join(sorted(rows[0]))}"
        )


def prompt_messages(row: dict, recipe: Recipe) -> list[dict]:
    """The chat prompt of a row with the system prompt applied (evalsuite's one function for it)."""
    from evalsuite.prompting import build_messages

    d = recipe.data
    messages = build_messages(row, system_prompt=d.system_prompt, prompt_key=d.prompt_key, messages_key=d.messages_key)
    return [dict(m) for m in messages]


def load_images(value: Any, root: str | None) -> list:
    """RGB PIL images from paths (relative to ``root``), PIL images or `datasets`' ``{"bytes"}`` dicts."""
    from PIL import Image

    items = value if isinstance(value, list | tuple) else [value]
    images = []
    for item in items:
        if isinstance(item, Image.Image):
            images.append(item.convert("RGB"))
            continue
        if isinstance(item, dict) and item.get("bytes"):  # datasets' Image feature, undecoded
            images.append(Image.open(io.BytesIO(item["bytes"])).convert("RGB"))
            continue
        if isinstance(item, dict):
            item = item.get("path")
        path = Path(str(item))
        if root and not path.is_absolute():
            path = Path(root) / path
        with Image.open(path) as image:
            images.append(image.convert("RGB"))
    return images


def video_frames(value: Any, root: str, recipe: Recipe, *, key: str) -> list:
    """The frames of each video file in ``value`` (a path or a list), sampled per the data section."""
    from train.frames import sample_frames

    d = recipe.data
    frames = []
    for item in value if isinstance(value, list | tuple) else [value]:
        path = Path(str(item))
        try:
            frames += sample_frames(path if path.is_absolute() else Path(root) / path, fps=d.video_fps,
                                    min_frames=d.min_frames, max_frames=d.max_frames)
        except (ValueError, OSError) as exc:
            raise RecipeError(recipe.source, key, str(exc)) from None
    return frames


def _media(row: dict, recipe: Recipe, path: str, key: str) -> list | None:
    """Images and sampled video frames of a row, in that order (TRL feeds them as the prompt's images)."""
    d = recipe.data
    media = []
    if row.get(d.images_key):
        media += load_images(row[d.images_key], d.image_root or str(Path(path).parent))
    if row.get(d.videos_key):
        media += video_frames(row[d.videos_key], d.video_root or str(Path(path).parent), recipe, key=key)
    return media


def _has_media(first: dict, recipe: Recipe) -> bool:
    return recipe.data.images_key in first or recipe.data.videos_key in first


def grpo_rows(recipe: Recipe, path: str, *, limit: int | None, key: str) -> list[dict]:
    """Rows as GRPOTrainer wants them: conversational `prompt`, the gold answer under `solution` (and still
    under its own column), `images` (with sampled video frames) for VLMs, every other column kept (TRL hands
    them to the rewards)."""
    from train.reward_funcs import gold_columns

    d, source = recipe.data, recipe.source
    rows = load_rows(path, limit=limit, source=source, key=key)
    first = rows[0]
    if d.prompt_key not in first and d.messages_key not in first:
        raise RecipeError(
            source,
            "data.prompt_key",
            f"neither {d.prompt_key!r} nor {d.messages_key!r} found in {path}; columns: {', '.join(sorted(first))}",
        )
    for where, column in gold_columns(recipe).items():
        if column == "solution":
            require_column(rows, d.solution_key, source=source, key="data.solution_key", path=path)
        else:
            require_column(rows, column, source=source, key=where, path=path)
    media = _has_media(first, recipe)
    out = []
    for row in rows:
        item = {k: v for k, v in row.items() if k not in (d.prompt_key, d.messages_key, d.images_key, d.videos_key)}
        messages = prompt_messages(row, recipe)
        if messages and messages[-1]["role"] == "assistant":
            messages = messages[:-1]  # a worked answer in `messages` is not part of the prompt
        item["prompt"] = messages
        if d.solution_key in row:
            item["solution"] = "" if row[d.solution_key] is None else str(row[d.solution_key])
        if media:
            item["images"] = _media(row, recipe, path, key)
        out.append(item)
    return out


def sft_rows(recipe: Recipe) -> list[dict]:
    """Prompt/completion rows (conversational) for SFTTrainer's completion-only loss."""
    assert recipe.sft is not None
    d, source = recipe.data, recipe.source
    path = recipe.sft.data or d.train
    rows = load_rows(path, limit=recipe.sft.limit, source=source, key="sft.data")
    first = rows[0]
    out = []
    if "completion" in first:
        for row in rows:
            completion = row["completion"]
            if isinstance(completion, str):
                completion = [{"role": "assistant", "content": completion}]
            out.append({"prompt": prompt_messages(row, recipe), "completion": completion})
    elif d.messages_key in first:
        for row in rows:
            messages = prompt_messages(row, recipe)
            if not messages or messages[-1]["role"] != "assistant":
                raise RecipeError(source, "sft.data", f"a {d.messages_key!r} row must end with an assistant turn")
            out.append({"prompt": messages[:-1], "completion": messages[-1:]})
    else:
        raise RecipeError(
            source,
            "sft.data",
            f"{path} needs a 'completion' column (with {d.prompt_key!r}) or a {d.messages_key!r} column "
            f"ending with the assistant's answer; columns: {', '.join(sorted(first))}",
        )
    if _has_media(first, recipe):
        for item, row in zip(out, rows, strict=True):
            item["images"] = _media(row, recipe, path, "sft.data")
    return out


def eval_rows(recipe: Recipe) -> list[dict]:
    """Validation rows evalsuite can score: relative image paths resolved as training resolves them (against
    data.image_root or the data file's folder) and video files replaced by their sampled frames, under the
    `images` column evalsuite reads."""
    assert recipe.eval is not None
    d, path = recipe.data, recipe.eval.data
    rows = load_rows(path, limit=recipe.eval.config.get("limit"), source=recipe.source, key="eval.data")
    if not _has_media(rows[0], recipe):
        return rows
    image_root = Path(d.image_root or Path(path).parent)
    out = []
    for row in rows:
        value = row.get(d.images_key)
        items = value if isinstance(value, list | tuple) else ([] if value is None else [value])
        images = [str(image_root / item) if isinstance(item, str) and not Path(item).is_absolute() else item
                  for item in items]
        if row.get(d.videos_key):
            images += video_frames(row[d.videos_key], d.video_root or str(Path(path).parent), recipe, key="eval.data")
        row = {k: v for k, v in row.items() if k not in (d.images_key, d.videos_key)}
        row["images"] = images or None
        out.append(row)
    return out


def dataset(rows: list[dict]):
    from datasets import Dataset

    return Dataset.from_list(rows)
