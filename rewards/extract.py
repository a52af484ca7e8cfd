"""Reads the final answer a grader would read out of a completion.
It must never raise: text with no answer gives ``None``. (Simple first version; see issue 3.)"""

from __future__ import annotations

import re

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def extract_answer(text: str) -> str | None:
    """The final answer in ``text``: last ``<answer>`` block, else last ``\\boxed{}``, else last number.

    >>> extract_answer("<think>1+1</think><answer> 2 </answer>")
    '2'
    """
    if not isinstance(text, str):
        return None
    blocks = _ANSWER.findall(text)
    if blocks:
        return blocks[-1].strip()
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else None


def _last_boxed(text: str) -> str | None:
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i = start + len("\\boxed{")
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None
