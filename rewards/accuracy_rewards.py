"""Accuracy rewards: is the completion's final answer the gold answer?
They must never score a sample without a gold answer as wrong (that is ``None``), nor raise on any completion."""

from __future__ import annotations

from functools import lru_cache

from rewards.answers.config import VerifyConfig
from rewards.answers.engine import grade_batch
from rewards.answers.extract import ExtractionConfig, extract_answer
from rewards.answers.outcome import Outcome
from rewards.completions import TAG_NAME, gold_texts, last_block
from rewards.registry import Reward, check, check_gold_key, check_number, register


def outcomes(texts: list[str], golds: list[str], timeout: float, tag: str | None = None) -> list[Outcome | None]:
    """``grade(text, gold)`` per completion through the batch path; ``None`` where the gold is empty. With ``tag``,
    what is graded is the completion's last ``<tag>`` block (``graded_text``), read with ``tag`` as the answer tag.

    >>> [o and o.status.value for o in outcomes(["<answer>4</answer>", "5", "4"], ["4", "4", ""], timeout=5.0)]
    ['equal', 'not_equal', None]
    >>> [o.status.value for o in outcomes(["<latex>x^{2}</latex>", "x^{2}"], ["x^2", "x^2"], 5.0, tag="latex")]
    ['equal', 'no_answer']
    """
    todo = [i for i, gold in enumerate(golds) if gold]
    pairs = [(graded_text(texts[i], tag), golds[i]) for i in todo]
    graded = grade_batch(pairs, timeout=timeout, config=verify_config(tag))
    result: list[Outcome | None] = [None] * len(texts)
    for i, outcome in zip(todo, graded, strict=True):
        result[i] = outcome
    return result


def graded_text(text: str, tag: str | None) -> str:
    r"""What the answer engine reads of a completion: all of it without ``tag``; with ``tag``, its last closed
    ``<tag>…</tag>`` block after the reasoning (``""``, no answer, when there is none, when the text ends inside
    ``<think>`` or the last ``<tag>`` is left open).

    >>> graded_text("<latex>x</latex> then <latex>y</latex>", "latex"), graded_text(r"$\frac{1}{2}$", "latex")
    ('<latex>y</latex>', '')
    """
    if tag is None:
        return text
    think_open, think_close = text.rfind("<think>"), text.rfind("</think>")
    if think_open > think_close:
        return ""  # still thinking (truncated)
    after = text[think_close + len("</think>"):] if think_close >= 0 else text
    if after.rfind(f"<{tag}>") > after.rfind(f"</{tag}>"):
        return ""  # the last block is still open: the model may not have finished writing it
    block = last_block(after, tag)
    return "" if block is None else f"<{tag}>{block}</{tag}>"


@lru_cache(maxsize=64)
def verify_config(tag: str | None) -> VerifyConfig | None:
    """The engine's settings for answers in ``<tag>`` blocks (``None``: the default, ``<answer>``)."""
    return None if tag is None else VerifyConfig(extraction=ExtractionConfig(answer_tag=tag))


def read_answer(text: str, tag: str | None = None) -> str | None:
    """The answer the engine reads in ``text`` (inside its last ``<tag>`` block when ``tag`` is set)."""
    config = verify_config(tag)
    return extract_answer(graded_text(text, tag), *([config.extraction] if config else []))


def check_tag(reward: str, tag) -> str | None:
    """``tag`` as given, when it is ``None`` or a tag name; else ValueError naming the reward."""
    check(reward, "tag", tag, "None or a tag name such as 'latex'",
          tag is None or (isinstance(tag, str) and TAG_NAME.fullmatch(tag) is not None))
    return tag


def _accuracy_rows(texts, kwargs, *, gold_key, timeout, skip_undecided, tag=None):
    """Rows of ``accuracy``: gold, extracted answer, verdict and outcome status (None without gold), value."""
    golds = gold_texts(kwargs, gold_key, len(texts))
    rows = []
    for text, gold, outcome in zip(texts, golds, outcomes(texts, golds, timeout, tag), strict=True):
        if outcome is None:
            rows.append({"gold": gold, "answer": read_answer(text, tag), "correct": None, "status": None, "value": None})
            continue
        value = None if skip_undecided and not outcome.decided else float(outcome.equal)
        rows.append({"gold": gold, "answer": outcome.answer, "correct": outcome.equal,
                     "status": outcome.status.value, "value": value})
    return rows


@register("accuracy")
def accuracy(gold_key: str = "solution", timeout: float = 5.0, skip_undecided: bool = False,
             tag: str | None = None) -> Reward:
    r"""1.0 if ``verify(completion, gold)`` else 0.0; ``None`` where the gold answer is empty or missing.

    ``timeout`` bounds each check (seconds). By default a check the grader could not finish (a timeout,
    an internal error) or a gold it cannot read counts as wrong (0.0); with ``skip_undecided=True`` those
    samples are ``None`` instead, which TRL leaves out of the group's mean and std, so the policy is not
    taught "wrong" for the grader's failure. A completion without an answer is always 0.0.

    ``tag`` (as in ``exact_match``): the answer is the one committed inside the last ``<tag>…</tag>`` block
    after the reasoning (``tag="latex"`` for a ``<latex>`` OCR recipe); a completion without a closed block
    has no answer (0.0). ``None`` (the default) reads the whole completion as ``verify`` does.

    >>> accuracy()(["<think>2+2</think><answer>4</answer>", "<answer>5</answer>", "4"], solution=["4", "4", ""])
    [1.0, 0.0, None]
    >>> accuracy(skip_undecided=True)(["<answer>4</answer>", "<answer>4</answer>"], solution=["4", r"\frac{1}{"])
    [1.0, None]
    >>> accuracy(tag="latex")(["<latex>E = m c^{2}</latex>", "<latex>E = m c^{3}</latex>", "E=mc^2"], solution="E=mc^2")
    [1.0, 0.0, 0.0]
    """
    gold_key = check_gold_key("accuracy", gold_key)
    timeout = check_number("accuracy", "timeout", timeout, low=0, low_open=True)
    check("accuracy", "skip_undecided", skip_undecided, "True or False", isinstance(skip_undecided, bool))
    return Reward("accuracy", _accuracy_rows, columns=("answer", "status"), gold_key=gold_key, timeout=timeout,
                  skip_undecided=skip_undecided, tag=check_tag("accuracy", tag))


def _exact_match_rows(texts, kwargs, *, gold_key, tag):
    """Rows of ``exact_match``: normalized gold and answer, and the value."""
    rows = []
    for text, gold in zip(texts, gold_texts(kwargs, gold_key, len(texts)), strict=True):
        answer = last_block(text, tag) if tag else extract_answer(text)
        answer = " ".join(answer.split()) if answer is not None else None
        gold = " ".join(gold.split())
        value = None if not gold else float(answer == gold)
        rows.append({"gold": gold, "answer": answer, "value": value})
    return rows


@register("exact_match")
def exact_match(gold_key: str = "solution", tag: str | None = None) -> Reward:
    r"""1.0 if the extracted answer equals the gold answer after whitespace normalization (runs of
    whitespace become one space, ends stripped), else 0.0; ``None`` where the gold is empty.

    The answer is the content of the last ``<tag>…</tag>`` block when ``tag`` is set, else
    ``extract_answer(completion)``.

    >>> exact_match(tag="latex")(["<latex>x ^ {2}</latex>", "<latex>x^{2}</latex>"], solution="x  ^ {2}")
    [1.0, 0.0]
    """
    gold_key = check_gold_key("exact_match", gold_key)
    return Reward("exact_match", _exact_match_rows, columns=("answer",), gold_key=gold_key,
                  tag=check_tag("exact_match", tag))
