"""Turns what trainers pass to a reward into plain data: completion text, lengths, gold columns, groups.
It must never raise on malformed input (anything unreadable becomes "" or ``None``); only a gold column missing altogether raises."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

TAG_NAME = re.compile(r"[A-Za-z_][\w.:-]*")  # what may go between < and > in a layout tag


def completion_text(completion: Any) -> str:
    """The text a reward scores.

    A string is scored as is; a conversation (list of ``{"role", "content"}`` dicts) is scored by its
    last assistant message (the last message when none says ``assistant``); content given as a list of
    parts keeps the ``text`` parts. Anything else becomes ``""``.

    >>> completion_text([{"role": "assistant", "content": "<answer>4</answer>"}])
    '<answer>4</answer>'
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content_text(completion.get("content"))
    if isinstance(completion, Sequence) and not isinstance(completion, (bytes, bytearray)):
        messages = [m for m in completion if isinstance(m, dict)]
        if not messages:
            return ""
        assistant = [m for m in messages if m.get("role") == "assistant"]
        return _content_text((assistant or messages)[-1].get("content"))
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence) and not isinstance(content, (bytes, bytearray)):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return ""


def completion_texts(completions: Any) -> list[str]:
    """``completion_text`` for each completion of a batch (a list, tuple or array; anything else counts as empty).

    >>> completion_texts(["a", [{"role": "assistant", "content": "b"}]])
    ['a', 'b']
    """
    return [completion_text(c) for c in _as_list(completions)]


def _as_list(values: Any) -> list[Any]:
    """A per-sample batch as a list; a string, mapping or non-iterable is not a batch."""
    if isinstance(values, (str, bytes, bytearray, dict)) or not hasattr(values, "__iter__"):
        return []
    try:
        return list(values)
    except TypeError:
        return []


def completion_lengths(texts: Sequence[str], completion_ids: Any = None) -> list[int]:
    """Length L per completion: token count from ``completion_ids`` when given for every completion,
    else characters.

    >>> completion_lengths(["abc", "de"], completion_ids=[[1, 2], [3]])
    [2, 1]
    >>> completion_lengths(["abc", "de"])
    [3, 2]
    """
    ids = token_ids(completion_ids, len(texts))
    return [len(t) for t in (ids if ids is not None else texts)]


def token_ids(completion_ids: Any, n: int) -> list[list[Any]] | None:
    """The token ids of each of ``n`` completions, or ``None`` unless usable ids are given for every one.

    >>> token_ids([[1, 2], [3]], 2)
    [[1, 2], [3]]
    >>> token_ids([[1, 2]], 2) is None
    True
    """
    rows = _as_list(completion_ids)
    if len(rows) != n or not all(hasattr(r, "__len__") and not isinstance(r, (str, bytes)) for r in rows):
        return None
    return [list(r.tolist()) if hasattr(r, "tolist") else _as_list(r) for r in rows]


def column(kwargs: dict[str, Any], key: str, n: int) -> list[Any]:
    """The per-sample values of dataset column ``key`` (``None`` where missing).

    A scalar (one value for the whole call) is broadcast; a short list is padded with ``None``.

    >>> column({"solution": "4"}, "solution", 2)
    ['4', '4']
    """
    values = kwargs.get(key)
    if values is None:
        return [None] * n
    if isinstance(values, (str, bytes, int, float, dict)) or not hasattr(values, "__len__"):
        return [values] * n
    values = _as_list(values)[:n]
    return values + [None] * (n - len(values))


# What trainers pass beside the dataset columns; left out when a missing gold column lists what was received.
TRAINER_EXTRAS = frozenset({"trainer_state", "log_extra", "log_metric"})
_GOLD_COLUMN_NAMES = ("solution", "answer", "answers", "ground_truth", "gold", "label", "labels", "target", "reference")


def gold_texts(kwargs: dict[str, Any], key: str, n: int) -> list[str]:
    """The gold answers of column ``key`` as stripped text, ``""`` where one sample's value is empty.

    A column absent altogether (not passed, or ``None``) is a ValueError naming ``gold_key`` and the columns
    that were received: a reward must never turn a misnamed gold column into a silent column of ``None``.

    >>> gold_texts({"solution": [4, None]}, "solution", 2)
    ['4', '']
    >>> gold_texts({"question": ["2+2?"], "answer": ["4"]}, "solution", 1)
    Traceback (most recent call last):
    ...
    ValueError: no gold column 'solution' (gold_key='solution'); received columns: answer, question; the gold answers look like they are in 'answer': pass gold_key='answer'
    """
    if n and kwargs.get(key) is None:
        raise ValueError(missing_gold_message(kwargs, key))
    return [gold_text(value).strip() for value in column(kwargs, key, n)]


def missing_gold_message(kwargs: dict[str, Any], key: str) -> str:
    """One line: the gold column ``key`` is missing, which columns arrived, and which of them may hold the gold."""
    received = sorted(k for k, v in kwargs.items() if k not in TRAINER_EXTRAS and v is not None)
    message = f"no gold column {key!r} (gold_key={key!r}); received columns: {', '.join(received) or '(none)'}"
    likely = [name for name in _GOLD_COLUMN_NAMES if name in received]
    if likely:
        message += f"; the gold answers look like they are in {likely[0]!r}: pass gold_key={likely[0]!r}"
    else:
        message += "; pass the gold answers as that column, or set gold_key= to the column that holds them"
    return message


def gold_text(value: Any) -> str:
    """A gold answer as text: strings as is, numbers formatted, lists of answers joined by ", "."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(gold_text(v) for v in value)
    if isinstance(value, dict):
        for key in ("solution", "answer", "ground_truth"):
            if key in value:
                return gold_text(value[key])
    return str(value)


def last_block(text: str, tag: str) -> str | None:
    """Content of the last closed ``<tag>…</tag>`` block of ``text``, or ``None``.

    >>> last_block("<answer>1</answer><answer> 2 </answer>", "answer")
    ' 2 '
    """
    stop = text.rfind(f"</{tag}>")
    start = text.rfind(f"<{tag}>", 0, stop) if stop >= 0 else -1
    return text[start + len(tag) + 2 : stop] if start >= 0 else None


def group_ids(prompts: Any, n: int) -> list[int]:
    """Group index per completion: completions with the same prompt share a group.

    With no usable ``prompts`` the whole call is one group.

    >>> group_ids(["a", "a", "b", "b"], 4)
    [0, 0, 1, 1]
    """
    if not isinstance(prompts, Sequence) or isinstance(prompts, (str, bytes)) or len(prompts) != n:
        return [0] * n
    seen: dict[str, int] = {}
    groups = []
    for prompt in prompts:
        key = _prompt_key(prompt)
        groups.append(seen.setdefault(key, len(seen)))
    return groups


def _prompt_key(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    try:
        return json.dumps(prompt, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(prompt)
