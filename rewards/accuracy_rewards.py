"""Accuracy rewards: is the completion's final answer the gold answer?
They must never score a sample without a gold answer as wrong (that is ``None``), nor raise on any completion."""

from __future__ import annotations

from rewards.answers.engine import grade_batch
from rewards.answers.extract import extract_answer
from rewards.answers.outcome import Outcome
from rewards.completions import TAG_NAME, gold_texts, last_block
from rewards.registry import Reward, check, check_gold_key, check_number, register


def outcomes(texts: list[str], golds: list[str], timeout: float) -> list[Outcome | None]:
    """``grade(text, gold)`` per completion through the batch path; ``None`` where the gold is empty.

    >>> [o and o.status.value for o in outcomes(["<answer>4</answer>", "5", "4"], ["4", "4", ""], timeout=5.0)]
    ['equal', 'not_equal', None]
    """
    todo = [i for i, gold in enumerate(golds) if gold]
    graded = grade_batch([(texts[i], golds[i]) for i in todo], timeout=timeout)
    result: list[Outcome | None] = [None] * len(texts)
    for i, outcome in zip(todo, graded, strict=True):
        result[i] = outcome
    return result


def _accuracy_rows(texts, kwargs, *, gold_key, timeout, skip_undecided):
    """Rows of ``accuracy``: gold, extracted answer, verdict and outcome status (None without gold), value."""
    golds = gold_texts(kwargs, gold_key, len(texts))
    rows = []
    for text, gold, outcome in zip(texts, golds, outcomes(texts, golds, timeout), strict=True):
        if outcome is None:
            rows.append({"gold": gold, "answer": extract_answer(text), "correct": None, "status": None, "value": None})
            continue
        value = None if skip_undecided and not outcome.decided else float(outcome.equal)
        rows.append({"gold": gold, "answer": outcome.answer, "correct": outcome.equal,
                     "status": outcome.status.value, "value": value})
    return rows


@register("accuracy")
def accuracy(gold_key: str = "solution", timeout: float = 5.0, skip_undecided: bool = False) -> Reward:
    r"""1.0 if ``verify(completion, gold)`` else 0.0; ``None`` where the gold answer is empty or missing.

    ``timeout`` bounds each check (seconds). By default a check the grader could not finish (a timeout,
    an internal error) or a gold it cannot read counts as wrong (0.0); with ``skip_undecided=True`` those
    samples are ``None`` instead, which TRL leaves out of the group's mean and std, so the policy is not
    taught "wrong" for the grader's failure. A completion without an answer is always 0.0.

    >>> accuracy()(["<think>2+2</think><answer>4</answer>", "<answer>5</answer>", "4"], solution=["4", "4", ""])
    [1.0, 0.0, None]
    >>> accuracy(skip_undecided=True)(["<answer>4</answer>", "<answer>4</answer>"], solution=["4", r"\frac{1}{"])
    [1.0, None]
    """
    gold_key = check_gold_key("accuracy", gold_key)
    timeout = check_number("accuracy", "timeout", timeout, low=0, low_open=True)
    check("accuracy", "skip_undecided", skip_undecided, "True or False", isinstance(skip_undecided, bool))
    return Reward("accuracy", _accuracy_rows, columns=("answer", "status"), gold_key=gold_key, timeout=timeout, skip_undecided=skip_undecided)


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
    check("exact_match", "tag", tag, "None or a tag name such as 'latex'",
          tag is None or (isinstance(tag, str) and TAG_NAME.fullmatch(tag) is not None))
    return Reward("exact_match", _exact_match_rows, columns=("answer",), gold_key=gold_key, tag=tag)
