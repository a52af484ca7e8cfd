"""Reads the final committed answer a careful grader would read out of a completion.
It must never raise and never guess across answers: text with no readable answer gives ``None``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rewards.answers.normalize import unwrap_math

MAX_TEXT_CHARS = 200_000
MAX_RUN = 12  # boxes joined into one hedged/listed answer at most


@dataclass(frozen=True)
class ExtractionConfig:
    """Where to look, in order: the last ``<answer>`` block (else the text after ``</think>``), then
    the last ``\\boxed``/``\\fbox``, then "the answer is ...", then (if ``last_number``) the last number."""

    answer_tag: str = "answer"
    last_number: bool = True
    max_answer_chars: int = 1000


DEFAULT = ExtractionConfig()

_BOX = re.compile(r"\\(?:boxed|fbox)(?![a-zA-Z])")
_PHRASE = re.compile(
    r"(?:final answer|the answer|answer|correct (?:option|choice|answer)|result)\s*(?:is|:|=|would be|will be)\s*:?\s*",
    re.IGNORECASE,
)
_CHOICE = re.compile(r"^\(?\s*([A-J])\s*\)?(?:[.:)]|\s*$|\s)")
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?(?![\w])|(?<![\w.])-?\.\d+")
_MATH_SPAN = re.compile(
    r"\$\$(.{1,300}?)\$\$|(?<!\\)\$(.{1,300}?)(?<!\\)\$|\\\((.{1,300}?)\\\)|\\\[(.{1,300}?)\\\]", re.DOTALL)
_BRACE = re.compile(r"[{}]")
_SOLE_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:/\d+)?")
_SPACE = re.compile(r"[ \t]*")
_TOKEN = re.compile(r"[^\s$]+")
_FILLER = re.compile(r"(?:so|thus|hence|therefore|then|answer|the|we|it|i|which|that|this)\b", re.IGNORECASE)
_APPROXIMATION = re.compile(r"(?:≈|\\approx|approximately|roughly)\s*\$?\s*-?\d[\d,]*(?:\.\d+)?")
_HEDGE_GAP = re.compile(r"[\s$.,;]*(?:,|or|and|\\text\{\s*(?:or|and)\s*\}|\\quad)?[\s$,]*$", re.IGNORECASE)


def extract_answer(text: str, config: ExtractionConfig = DEFAULT) -> str | None:
    r"""The final answer in ``text``, as written (not normalized); ``None`` when there is none.

    >>> extract_answer("<think>maybe \\boxed{3}</think><answer>\\boxed{4}</answer>")
    '4'
    >>> extract_answer(r"so the total is $\boxed{\frac{3}{4}}$.")
    '\\frac{3}{4}'
    >>> extract_answer("The answer is (B).")
    'B'
    >>> extract_answer("We get 12 apples, then 15 apples.")
    '15'
    """
    if not isinstance(text, str):
        return None
    try:
        return _extract(text[-MAX_TEXT_CHARS:], config)
    except RecursionError:
        return None


def _extract(text: str, config: ExtractionConfig) -> str | None:
    region, tagged = _answer_region(text, config.answer_tag)
    for reader in (_last_boxed, _phrase_answer, _gsm8k_marker):
        answer = reader(region)
        if answer:
            return _clip(answer, config)
    if not tagged and "<think>" in text and "</think>" not in text:
        return None  # still thinking (truncated): an intermediate number is no committed answer
    if tagged:
        return _clip(region.strip(), config) or None
    span = _closing_math_span(region[-3000:])
    if span:
        return _clip(span, config)
    if _looks_bare(region):
        return _clip(region.strip(), config) or None
    if config.last_number:
        numbers = _NUMBER.findall(_APPROXIMATION.sub(" ", region))
        return numbers[-1] if numbers else None
    return None


def _gsm8k_marker(text: str) -> str | None:
    """What follows the last ``####`` on its line (GSM8K's answer marker), if anything does."""
    if "####" not in text:
        return None
    return text.rsplit("####", 1)[1].strip().split("\n", 1)[0].strip() or None


def _looks_bare(text: str) -> bool:
    """A short one-line text without running prose is itself the answer (``x^2-1=0``, ``\\frac{1}{2}``)."""
    text = text.strip()
    return 0 < len(text) <= 120 and "\n" not in text and not is_prose(text) and not _FILLER.match(text)


def is_prose(text: str) -> bool:
    """Three or more words outside LaTeX commands and ``\\text{}``: a sentence, not a formula.

    >>> is_prose(r"\\frac{1}{2} \\text{ or } 3"), is_prose("so the total is 12")
    (False, True)
    """
    bare = re.sub(r"\\[a-zA-Z]+\s*(?:\{[^{}]*\})?", " ", text)
    return len(re.findall(r"[A-Za-z]{2,}", bare)) >= 3


def _clip(answer: str, config: ExtractionConfig) -> str:
    answer = answer.strip()
    return answer if len(answer) <= config.max_answer_chars else ""


def _answer_region(text: str, tag: str) -> tuple[str, bool]:
    """The last closed ``<tag>`` block (or an unclosed last one); else what follows ``</think>``; else the
    whole text."""
    close, opening = text.rfind(f"</{tag}>"), text.rfind(f"<{tag}>")
    if close >= 0:
        start = text.rfind(f"<{tag}>", 0, close)
        if start >= 0 and opening < close:
            return text[start + len(tag) + 2: close], True
    if opening >= 0 and opening > close:
        return text[opening + len(tag) + 2:], True
    think_end = text.rfind("</think>")
    if think_end >= 0 and text[think_end + 8:].strip():
        return text[think_end + 8:], False
    return text, False


def _last_boxed(text: str) -> str | None:
    r"""Content of the last ``\boxed``; boxes in the final run joined by ", " (a hedge or a list).

    >>> _last_boxed(r"\boxed{3} or \boxed{4}")
    '3, 4'
    >>> _last_boxed(r"\boxed{\frac{3}{56}.")
    '\\frac{3}{56}'
    """
    boxes = _boxes(text)
    if not boxes:
        return None
    run = [boxes[-1]]
    for prev in boxes[-2:-MAX_RUN - 1:-1]:
        if prev[2] > run[-1][1] or not _HEDGE_GAP.match(text, prev[2], run[-1][1]):
            break
        run.append(prev)
    return ", ".join(dict.fromkeys(content for content, _, _ in reversed(run)))


def _boxes(text: str) -> list[tuple[str, int, int]]:
    """The last few ``\\boxed`` as (content, start, end), in order; an unclosed box runs to its line end.
    Braces are matched once for the whole text, so many boxes cost linear time."""
    closing = _matching_braces(text)
    found = []
    for match in reversed(list(_BOX.finditer(text))):
        box = _box_at(text, match.end(), closing)
        if box is not None and box[0].strip():
            found.append((box[0].strip(), match.start(), box[1]))
            if len(found) > MAX_RUN:
                break
    return found[::-1]


def _matching_braces(text: str) -> dict[int, int]:
    """Index of each ``{`` -> index of its matching ``}`` (unmatched ones are absent)."""
    stack, pairs = [], {}
    for brace in _BRACE.finditer(text):
        if brace.group() == "{":
            stack.append(brace.start())
        elif stack:
            pairs[stack.pop()] = brace.start()
    return pairs


def _box_at(text: str, i: int, closing: dict[int, int]) -> tuple[str, int] | None:
    space = _SPACE.match(text, i)
    i = space.end()
    if i >= len(text):
        return None
    if text[i] != "{":
        token = _TOKEN.match(text, i)
        return (token.group().rstrip(".,"), token.end()) if token else None
    if i in closing:
        return text[i + 1: closing[i]], closing[i] + 1
    line_end = text.find("\n", i, i + 400)
    end = line_end if line_end >= 0 else min(len(text), i + 400)
    return _unclosed(text[i + 1: end]), end


def _unclosed(rest: str) -> str:
    r"""An unclosed box (a truncated completion): its first line, braces closed, if that balances."""
    line = rest.split("\n", 1)[0].split("$", 1)[0].strip().rstrip(".")
    depth = 0
    for ch in line:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return ""
    return line + "}" * depth if len(line) <= 200 else ""


def _closing_math_span(text: str) -> str | None:
    r"""The last ``$...$`` / ``\(...\)`` / ``\[...\]`` span, when nothing numeric follows it and it is no sentence.

    >>> _closing_math_span(r"Therefore $x \geq 5$ is the solution.")
    'x \\geq 5'
    """
    spans = list(_MATH_SPAN.finditer(text))
    if not spans:
        return None
    last = spans[-1]
    body = next(group for group in last.groups() if group is not None).strip()
    if not body or len(body) > 300 or is_prose(body) or re.search(r"\d", text[last.end():]):
        return None
    return body


def _phrase_answer(text: str) -> str | None:
    """What follows the last "the answer is" / "Answer:", up to the end of that sentence or line."""
    matches = list(_PHRASE.finditer(text))
    if not matches:
        return None
    rest = text[matches[-1].end():]
    rest = re.split(r"\n|\.(?=\s|$)", rest, maxsplit=1)[0].strip()
    rest = rest.strip("*").strip()
    choice = _CHOICE.match(rest)
    if choice and (len(rest) <= 4 or rest[:3].startswith("(")):
        return choice.group(1)
    return rest.rstrip(".").strip() or None


def gold_answer(gold: str) -> str | None:
    r"""The answer inside a gold string: bare, ``$...$``-wrapped, ``\boxed{}``, an ``<answer>`` block, or a worked
    solution (``#### 72`` as in GSM8K, else read like a completion).

    >>> gold_answer(r"$\boxed{\frac{\sqrt3}{2}}$")
    '\\frac{\\sqrt3}{2}'
    """
    if "####" in gold:  # a GSM8K solution kept whole: the answer follows the last ####
        return gold.rsplit("####", 1)[1].strip() or None
    if "<answer>" in gold or "\\boxed" in gold or "\\fbox" in gold:
        inner = _last_boxed(gold) if "<answer>" not in gold else extract_answer(gold)
        return inner.strip() if inner else None
    if "\n" in gold.strip() or (len(gold) > 80 and is_prose(gold)):  # a worked solution: read it like a completion
        return extract_answer(gold)
    return unwrap_math(gold) or None


def sole_number(answer: str) -> str:
    """Prose like "The total is 42 apples." reads as its only number; prose with several numbers stays."""
    if not is_prose(answer):
        return answer
    numbers = _SOLE_NUMBER.findall(answer)
    return numbers[0] if len(numbers) == 1 else answer
