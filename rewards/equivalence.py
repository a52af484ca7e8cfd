"""Decides whether a predicted final answer equals a gold answer.
It must never raise, never hang, and prefers a false "not equal" over a false "equal". (Simple first version; see issue 3.)"""

from __future__ import annotations

from fractions import Fraction

from rewards.extract import extract_answer


def verify(pred: str, gold: str, timeout: float = 5.0) -> bool:
    """Is the final answer in ``pred`` equal to ``gold``?

    >>> verify("<answer>0.5</answer>", "1/2")
    True
    """
    if not isinstance(pred, str) or not isinstance(gold, str):
        return False
    answer = extract_answer(pred)
    target = extract_answer(gold) or gold.strip()
    if answer is None or not target:
        return False
    if " ".join(answer.split()) == " ".join(target.split()):
        return True
    try:
        return Fraction(answer) == Fraction(target)
    except (ValueError, ZeroDivisionError):
        return False


def verify_batch(pairs, timeout: float = 5.0) -> list[bool]:
    """``verify`` over ``(pred, gold)`` pairs, one verdict each (the batch path rewards use)."""
    return [verify(pred, gold, timeout) for pred, gold in pairs]


def timeout_count() -> int:
    """How many checks have timed out in this process so far (counted as not equal)."""
    return 0
