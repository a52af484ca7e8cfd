"""Format rewards: does a completion have the tag layout (``<think>…</think><answer>…</answer>``) or the steps asked for?
They must never use line-anchored or dot-limited regexes on the layout: tags are located with plain string search."""

from __future__ import annotations

import re
from typing import Any

from rewards.completions import TAG_NAME
from rewards.registry import Reward, check, check_number, register


def _check_tags(reward: str, tags: Any, count: int | None = None) -> tuple[str, ...]:
    """``tags`` as a tuple of distinct tag names (a single string counts as one tag)."""
    tags = (tags,) if isinstance(tags, str) else tags
    valid = "a tuple of distinct tag names such as ('think', 'answer')"
    if count is not None:
        valid += f" with exactly {count} names"
    ok = isinstance(tags, (tuple, list)) and len(tags) > 0
    ok = ok and all(isinstance(t, str) and TAG_NAME.fullmatch(t) for t in tags) and len(set(tags)) == len(tags)
    check(reward, "tags", tags, valid, ok and (count is None or len(tags) == count))
    return tuple(tags)


def _scored_text(text: str, tags: tuple[str, ...], prefilled_think: bool) -> str:
    """The completion as the format sees it: with ``prefilled_think`` the prompt already opened ``tags[0]``."""
    return f"<{tags[0]}>{text}" if prefilled_think else text


def _layout_problem(text: str, tags: tuple[str, ...]) -> str | None:
    """Why ``text`` is not exactly the tag blocks in order, each once, with only whitespace around; None if it is."""
    end = 0
    for tag in tags:
        opening, closing = f"<{tag}>", f"</{tag}>"
        for marker in (opening, closing):
            if text.count(marker) != 1:
                return f"{marker} occurs {text.count(marker)} times (expected once)"
        start, stop = text.find(opening), text.find(closing)
        if start < end or stop < start:
            return f"<{tag}> block is out of order"
        if text[end:start].strip():
            return f"text outside the tag blocks before {opening}"
        end = stop + len(closing)
    if text[end:].strip():
        return "text after the last tag block"
    return None


def _format_rows(texts, kwargs, *, tags, prefilled_think):
    """Rows of ``format``: why the layout fails (``problem``, None if it holds) and the value."""
    rows = []
    for text in texts:
        problem = _layout_problem(_scored_text(text, tags, prefilled_think), tags)
        rows.append({"problem": problem, "value": 1.0 if problem is None else 0.0})
    return rows


@register("format")
def format(tags: tuple[str, ...] = ("think", "answer"), prefilled_think: bool = False) -> Reward:
    r"""1.0 if the completion is exactly the ``tags`` blocks in order, each once, with only whitespace
    between and around them (so no nested or repeated same tag, no trailing text); else 0.0.

    ``prefilled_think=True`` is for chat templates that open ``<think>`` in the prompt (Qwen3,
    DeepSeek-R1 distills): the completion is scored as if it started with ``<tags[0]>``.

    >>> fn = format()
    >>> fn(["<think>\nadd\n</think>\n<answer>4</answer>", "<answer>4</answer>", "<think>a</think><answer>4</answer> more"])
    [1.0, 0.0, 0.0]
    >>> format(prefilled_think=True)(["add</think><answer>4</answer>"])
    [1.0]
    """
    tags = _check_tags("format", tags)
    check("format", "prefilled_think", prefilled_think, "True or False", isinstance(prefilled_think, bool))
    return Reward("format", _format_rows, columns=("problem",), tags=tags, prefilled_think=prefilled_think)


def _first_closed_end(text: str, tag: str) -> int | None:
    """End index of the first ``</tag>`` that follows an ``<tag>``; None if no block closes."""
    start = text.find(f"<{tag}>")
    stop = text.find(f"</{tag}>", start + len(tag) + 2) if start >= 0 else -1
    return stop + len(tag) + 3 if stop >= 0 else None


def _last_closed_start(text: str, tag: str) -> int | None:
    """Start index of the last ``<tag>`` that is followed by an ``</tag>``; None if no block closes."""
    stop = text.rfind(f"</{tag}>")
    start = text.rfind(f"<{tag}>", 0, stop) if stop >= 0 else -1
    return start if start >= 0 else None


def _format_partial_rows(texts, kwargs, *, tags, weights, prefilled_think):
    """Rows of ``format_partial``: which of the three conditions hold, and the weighted value."""
    think, answer = tags
    rows = []
    for text in texts:
        text = _scored_text(text, tags, prefilled_think)
        think_end, answer_start = _first_closed_end(text, think), _last_closed_start(text, answer)
        parts = {
            "think_closed": think_end is not None,
            "answer_closed": answer_start is not None,
            "ordered": think_end is not None and answer_start is not None and think_end <= answer_start,
        }
        rows.append({**parts, "value": sum((w for w, hit in zip(weights, parts.values(), strict=True) if hit), 0.0)})
    return rows


@register("format_partial")
def format_partial(
    tags: tuple[str, str] = ("think", "answer"),
    weights: tuple[float, float, float] = (0.3, 0.3, 0.4),
    prefilled_think: bool = False,
) -> Reward:
    r"""Partial credit for the layout: :math:`w_0[\text{closed think block}] + w_1[\text{closed answer block}]
    + w_2[\text{both, and think closes before answer opens}]`.

    ``prefilled_think`` as in ``format``.

    >>> format_partial()(["<think>a</think><answer>4</answer>", "<answer>4</answer><think>a</think>", "no tags"])
    [1.0, 0.6, 0.0]
    """
    tags = _check_tags("format_partial", tags, count=2)
    ok = isinstance(weights, (tuple, list)) and len(weights) == 3
    check("format_partial", "weights", weights, "three finite numbers (think, answer, order)", ok)
    weights = tuple(check_number("format_partial", "weights", w) for w in weights)
    check("format_partial", "prefilled_think", prefilled_think, "True or False", isinstance(prefilled_think, bool))
    return Reward("format_partial", _format_partial_rows, tags=tags, weights=weights, prefilled_think=prefilled_think)


def _tag_count_rows(texts, kwargs, *, tags, prefilled_think):
    """Rows of ``tag_count``: how often each tag occurs, and the value."""
    markers = [m for tag in tags for m in (f"<{tag}>", f"</{tag}>")]
    rows = []
    for text in texts:
        text = _scored_text(text, tags, prefilled_think)
        counts = {m: text.count(m) for m in markers}
        rows.append({"counts": counts, "value": sum(c == 1 for c in counts.values()) / len(markers)})
    return rows


@register("tag_count")
def tag_count(tags: tuple[str, ...] = ("think", "answer"), prefilled_think: bool = False) -> Reward:
    r""":math:`\frac{1}{2\,|tags|}` for each opening and each closing tag that occurs exactly once.

    ``prefilled_think`` as in ``format``.

    >>> tag_count()(["<think>a</think><answer>4</answer>", "<think>a</think><think>", ""])
    [1.0, 0.25, 0.0]
    """
    tags = _check_tags("tag_count", tags)
    check("tag_count", "prefilled_think", prefilled_think, "True or False", isinstance(prefilled_think, bool))
    return Reward("tag_count", _tag_count_rows, tags=tags, prefilled_think=prefilled_think)


_STEP = re.compile(
    r"^[ \t]*(?:step[ \t]*\d+[ \t]*[:.)]|\d+[.)][ \t]|[-*•][ \t])|\b(?:first|second|third|next|then|finally),",
    re.IGNORECASE | re.MULTILINE,
)


def _reasoning_steps_rows(texts, kwargs, *, min_steps):
    """Rows of ``reasoning_steps``: the step markers found, and the value."""
    rows = []
    for text in texts:
        steps = len(_STEP.findall(text))
        rows.append({"steps": steps, "value": min(1.0, steps / min_steps)})
    return rows


@register("reasoning_steps")
def reasoning_steps(min_steps: int = 3) -> Reward:
    r""":math:`\min(1, \text{steps} / \text{min\_steps})`, counting step markers: lines starting with
    ``Step N:``, ``N.``, ``N)``, ``-``, ``*`` or ``•``, and the words ``First,``/``Second,``/``Third,``/
    ``Next,``/``Then,``/``Finally,`` (case-insensitive).

    >>> reasoning_steps()(["Step 1: add\nStep 2: carry\nFinally, 46", "1. a\n2. b", "46"])
    [1.0, 0.6666666666666666, 0.0]
    """
    min_steps = check_number("reasoning_steps", "min_steps", min_steps, low=1, integer=True)
    return Reward("reasoning_steps", _reasoning_steps_rows, columns=("steps",), min_steps=min_steps)
