"""Set rewards: how much does a completion's list of items overlap the gold list (intersection over union)?
They must never count an empty answer as a match, nor let item order, case, punctuation or spacing change the score."""

from __future__ import annotations

import re
import string
import unicodedata

from rapidfuzz import fuzz

from rewards.completions import gold_texts, last_block
from rewards.registry import Reward, check, check_gold_key, register

_NUMBERED = re.compile(r"\(\s*\d+\s*\)")
_SEPARATORS = re.compile(r"[\n;,]")
_LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+")
_ASCII_PUNCTUATION = str.maketrans("", "", "".join(c for c in string.punctuation if unicodedata.category(c)[0] == "P"))
_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][\w-]*>")


def committed_answer(text: str) -> str | None:
    """The answer a completion commits to: the content of its last closed ``<answer>`` block; without one,
    the text outside its closed ``<think>`` blocks, unless a tag is left there (an unclosed ``<answer>`` or
    ``<think>``, another tag): then ``None``, no answer. Reasoning and tags never become items.

    >>> committed_answer("<think>open door</think><answer>(1) open door</answer>")
    '(1) open door'
    >>> committed_answer("<think>(1) open door (2) sit</think>"), committed_answer("<answer>(1) open door")
    ('', None)
    >>> committed_answer("<think>watch</think> open door; sit down")
    'open door; sit down'
    """
    answer = last_block(text, "answer")
    if answer is not None:
        return answer
    rest = _THINK_BLOCK.sub(" ", text)
    return None if _TAG.search(rest) else rest.strip()


def items(text: str) -> set[str]:
    """The normalized items of an answer: the content of its last ``<answer>`` block (else the whole
    text), split on numbering ``(1) … (2) …`` when present, else on newlines, ``;`` and ``,``; then
    list markers dropped, lowercased, punctuation stripped, whitespace collapsed; empty items dropped.

    >>> sorted(items("<answer>(1) Pick up the cup. (2) Open  the door!</answer>"))
    ['open the door', 'pick up the cup']
    """
    answer = last_block(text, "answer")
    return _items(text if answer is None else answer)


def _items(answer: str) -> set[str]:
    parts = _NUMBERED.split(answer) if _NUMBERED.search(answer) else _SEPARATORS.split(answer)
    result = set()
    for part in parts:
        part = _LIST_MARKER.sub("", part).lower()
        part = _strip_punctuation(part)
        part = " ".join(part.split())
        if part:
            result.add(part)
    return result


def _strip_punctuation(text: str) -> str:
    """``text`` without Unicode punctuation (categories P*); symbols such as ``+`` and ``$`` stay."""
    text = text.translate(_ASCII_PUNCTUATION)
    if text.isascii():
        return text
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))


def _matches(pred: set[str], gold: set[str], fuzzy: float | None) -> int:
    """|pred ∩ gold|; with ``fuzzy``, a one-to-one matching of items whose rapidfuzz ratio ≥ 100·fuzzy,
    best-scoring pairs first."""
    if fuzzy is None:
        return len(pred & gold)
    pairs = sorted(
        ((fuzz.ratio(p, g), p, g) for p in pred for g in gold),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    used_pred, used_gold = set(), set()
    for score, p, g in pairs:
        if score < 100 * fuzzy:
            break
        if p not in used_pred and g not in used_gold:
            used_pred.add(p)
            used_gold.add(g)
    return len(used_pred)


def _iou_rows(texts, kwargs, *, gold_key, fuzzy):
    """Rows of ``iou``: both item sets, how many matched, and the value."""
    rows = []
    for text, gold in zip(texts, gold_texts(kwargs, gold_key, len(texts)), strict=True):
        answer = committed_answer(text)
        pred_items, gold_items = set() if answer is None else _items(answer), items(gold)
        if not gold_items:
            value, hits = None, 0
        else:
            hits = _matches(pred_items, gold_items, fuzzy)
            value = hits / (len(pred_items) + len(gold_items) - hits) if pred_items else 0.0
        rows.append({"items": sorted(pred_items), "gold_items": sorted(gold_items), "matched": hits, "value": value})
    return rows


@register("iou")
def iou(gold_key: str = "solution", fuzzy: float | None = None) -> Reward:
    r"""Intersection over union of the answer's and the gold's item sets (see ``items``):
    :math:`|A \cap B| / |A \cup B|`; 0.0 for an empty answer and for a completion that commits to none
    (see ``committed_answer``: a think-only or unclosed completion); ``None`` where the gold has no items.
    ``fuzzy=0.9`` counts two items as equal when their rapidfuzz ratio is at least 90 (each item
    matched at most once).

    >>> iou()(["<answer>(1) open door (2) pick cup</answer>", "pick cup; wave", ""], solution="(1) pick cup (2) open door")
    [1.0, 0.3333333333333333, 0.0]
    >>> iou(fuzzy=0.9)(["pick up cups, open door"], solution="pick up cup, open door")
    [1.0]
    >>> iou()(["<think>(1) open door (2) pick cup</think>", "<think>hm</think><answer>open door"], solution="open door")
    [0.0, 0.0]
    """
    gold_key = check_gold_key("iou", gold_key)
    ok = fuzzy is None or (isinstance(fuzzy, (int, float)) and not isinstance(fuzzy, bool) and 0 < fuzzy <= 1)
    check("iou", "fuzzy", fuzzy, "None (exact items) or a similarity in (0, 1], e.g. 0.9", ok)
    return Reward("iou", _iou_rows, columns=("matched",), gold_key=gold_key, fuzzy=None if fuzzy is None else float(fuzzy))
