"""What makes a sample correct for accuracy, pass@k and maj@k: a reward reaching a threshold (`iou>=1`, `exact_match`).
It must never guess: the default is the math `accuracy` reward at 1, and a run records which reward decided."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from evalsuite.errors import EvalError

_SPEC = re.compile(r"^\s*(?P<reward>[^\s>=]+)\s*(?:>=\s*(?P<threshold>\S+)\s*)?$")


@dataclass(frozen=True)
class Correctness:
    """A sample is correct when reward ``reward`` is at least ``threshold`` (``None`` where the reward is None:
    no verdict, as for a prompt without gold).

    >>> Correctness.parse("iou>=1"), str(Correctness.parse("exact_match")), str(Correctness.parse("iou >= 0.5"))
    (Correctness(reward='iou', threshold=1.0), 'exact_match>=1', 'iou>=0.5')
    >>> Correctness.parse("iou").verdicts([1.0, 0.5, None])
    [True, False, None]
    """

    reward: str = "accuracy"
    threshold: float = 1.0

    @classmethod
    def parse(cls, spec: Any) -> Correctness:
        """``REWARD`` or ``REWARD>=THRESHOLD`` (a registry name or ``module:function``), an existing
        Correctness, a ``{"reward", "threshold"}`` mapping (summary.json's form) or None (the default)."""
        if spec is None or spec == "":
            return cls()
        if isinstance(spec, Correctness):
            return spec
        if isinstance(spec, dict):
            return cls.parse(f"{spec.get('reward', 'accuracy')}>={spec.get('threshold', 1.0)}")
        match = _SPEC.match(str(spec))
        if match is None:
            raise EvalError(f"--correct {spec!r}: expected REWARD or REWARD>=THRESHOLD, e.g. iou>=1 or exact_match")
        threshold = match.group("threshold")
        try:
            value = 1.0 if threshold is None else float(threshold)
        except ValueError:
            raise EvalError(f"--correct {spec!r}: the threshold {threshold!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise EvalError(f"--correct {spec!r}: the threshold must be a finite number")
        return cls(match.group("reward"), value)

    def __str__(self) -> str:
        return f"{self.reward}>={self.threshold:g}"

    @property
    def is_default(self) -> bool:
        return self == Correctness()

    def to_dict(self) -> dict[str, Any]:
        """What summary.json records under ``correct``."""
        return {"reward": self.reward, "threshold": self.threshold, "spec": str(self)}

    def verdicts(self, values: Sequence[float | None] | None, n: int | None = None) -> list[bool | None]:
        """Per sample: True (correct), False, or None (the reward had no value; a missing reward: all None)."""
        if values is None:
            return [None] * (n or 0)
        return [None if v is None else v >= self.threshold for v in values]

    def of(self, record: dict) -> list[bool | None]:
        """The verdicts of one saved record (its ``rewards[reward]`` values)."""
        return self.verdicts(record.get("rewards", {}).get(self.reward), len(record["completions"]))


def summary_correctness(summary: dict) -> Correctness:
    """The correctness a saved summary was computed with (summaries written before it existed: accuracy)."""
    return Correctness.parse(summary.get("correct") or (summary.get("config") or {}).get("correct"))


def vote_answers(reward: Callable, completions: Sequence[Any], kwargs: dict) -> list[str | None]:
    """The answer each completion votes with in maj@k under a correctness reward other than ``accuracy``: what
    the reward itself read, from its ``rows`` (``answer`` for exact_match, the item set for iou, whitespace
    normalized); a reward without rows votes with the extracted final answer. None: no answer, no vote.

    >>> import rewards
    >>> vote_answers(rewards.get("iou"), ["<answer>(1) b (2) a</answer>", "a, b", "<think>a</think>"], {"solution": ["a"] * 3})
    ['["a", "b"]', '["a", "b"]', None]
    """
    import rewards

    rows = getattr(reward, "rows", None)
    if not callable(rows):
        return [_normal(rewards.extract_answer(_text(c))) for c in completions]
    out: list[str | None] = []
    for row in rows(list(completions), **kwargs):
        if "items" in row:
            out.append(json.dumps(sorted(row["items"])) if row["items"] else None)
        elif "answer" in row:
            out.append(_normal(row["answer"]))
        else:
            out.append(None)
    return out


def _normal(answer: Any) -> str | None:
    if answer is None:
        return None
    text = " ".join(str(answer).split())
    return text or None


def _text(completion: Any) -> str:
    from rewards.completions import completion_texts

    return completion_texts([completion])[0]
