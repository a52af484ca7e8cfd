"""Repetition reward: how much of a completion repeats its own n-grams?
It must never crash or return a non-callable for any ``ngram_size`` or text: bad parameters raise ValueError up front."""

from __future__ import annotations

from rewards.completions import token_ids
from rewards.registry import Reward, check, check_number, register

_UNITS = ("words", "tokens")


def _repetition_rows(texts, kwargs, *, ngram_size, max_penalty, unit):
    """Rows of ``repetition``: the unit used, total and unique n-grams, and the value."""
    ids = token_ids(kwargs.get("completion_ids"), len(texts)) if unit == "tokens" else None
    used = "tokens" if ids is not None else "words"
    sequences = ids if ids is not None else [text.lower().split() for text in texts]
    rows = []
    for units in sequences:
        total = len(units) - ngram_size + 1
        if total < 1:
            rows.append({"unit": used, "ngrams": 0, "unique_ngrams": 0, "value": 0.0})
            continue
        unique = len({tuple(units[i : i + ngram_size]) for i in range(total)})
        rows.append({"unit": used, "ngrams": total, "unique_ngrams": unique,
                     "value": max_penalty * (1.0 - unique / total)})
    return rows


@register("repetition")
def repetition(ngram_size: int = 3, max_penalty: float = -1.0, unit: str = "words") -> Reward:
    r"""N-gram repetition penalty: :math:`\text{max\_penalty} \cdot (1 - \frac{\text{unique n-grams}}{\text{total n-grams}})`,
    over lowercased whitespace-split words (``unit="tokens"``: over ``completion_ids``, falling back to
    words when the trainer passes none); 0.0 when the text has fewer than ``ngram_size`` units.

    >>> repetition(ngram_size=2)(["a b a b a b", "a b c", "a"])
    [-0.6, -0.0, 0.0]
    """
    ngram_size = check_number("repetition", "ngram_size", ngram_size, low=1, integer=True)
    max_penalty = check_number("repetition", "max_penalty", max_penalty, high=0)
    check("repetition", "unit", unit, " or ".join(repr(u) for u in _UNITS), unit in _UNITS)
    return Reward("repetition", _repetition_rows, ngram_size=ngram_size, max_penalty=max_penalty, unit=unit)
