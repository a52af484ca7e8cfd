"""Says from the text alone whether an answer is too big to hand to SymPy: power towers in every spelling, huge
exponents and factorials. It must never import SymPy nor evaluate anything unbounded (numbers go through ``algebra``)."""

from __future__ import annotations

import math
import re

from rewards.answers import algebra

MAX_CHARS = 600
MAX_DEPTH = 24
MAX_EXPONENT = 9999  # a numeric exponent (written, or the product along ``(a^b)^c``) above this is guarded
MAX_TOWER = 2  # ``e^{x^2}`` is two levels; a third (``e^{e^{e^x}}``, ``9**9**9**9``) is guarded
MAX_FACTORIAL = 999
MAX_BINOMIAL = 10**5
_EXP = re.compile(r"\\exp(?![a-zA-Z])|(?<![\\a-zA-Z])exp(?![a-zA-Z])")
_POW_CALL = re.compile(r"(?<![a-zA-Z])pow\s*\(|\\operatorname\{pow\}|\\pow(?![a-zA-Z])", re.IGNORECASE)
_SYMBOLIC = re.compile(r"\\(?!frac|sqrt|cdot|times|div)[a-zA-Z]+|(?<!\\)[a-zA-Z]")
_CLOSING = {"{": "}", "(": ")", "[": "]"}


def too_big(text: str) -> bool:
    r"""Is ``text`` too long, too deeply nested, or a power or factorial that SymPy could not evaluate in time?

    Every power spelling counts (``^``, ``**``, ``\exp``, ``exp(``; ``pow(`` is always refused): a tower of
    three levels, a numeric exponent (after exact evaluation) above ``MAX_EXPONENT``, ``(a^b)^c`` whose
    numeric exponents multiply past it, a factorial past ``MAX_FACTORIAL``, ``\binom`` past ``MAX_BINOMIAL``.

    >>> too_big("9**9**9**9"), too_big(r"\sin(10^{10^{10}})"), too_big(r"e^{e^{e^e}}"), too_big("2^{10}")
    (True, True, True, False)
    >>> too_big(r"e^{-x^2/2}"), too_big(r"\exp(\exp(\exp(x)))"), too_big("1001!"), too_big(r"(x+1)^{30}")
    (False, True, True, False)
    """
    if len(text) > MAX_CHARS or _depth(text) > MAX_DEPTH or _POW_CALL.search(text):
        return True
    text = _EXP.sub("e^", text.replace("**", "^"))
    spans = [(i, *_exponent_span(text, i + 1)) for i, ch in enumerate(text) if ch == "^"]
    for caret, start, end in spans:
        nesting = sum(s <= caret < e for _, s, e in spans)
        if nesting >= MAX_TOWER or _numeric_exceeds(_strip_group(text[start:end]), MAX_EXPONENT):
            return True
        if _stacked_exponent(text, caret, _strip_group(text[start:end]), spans) > MAX_EXPONENT:
            return True
    return _factorial_too_big(text) or _binomial_too_big(text)


def _depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        depth += (ch in "({[") - (ch in ")}]")
        deepest = max(deepest, depth)
    return deepest


def _exponent_span(text: str, i: int) -> tuple[int, int]:
    """[start, end) of the exponent after the ``^`` ending at ``i``; a chain ``a^b^c`` reads ``b^c`` (as ``**``)."""
    start = j = _skip(text, i, " ")
    j = _skip(text, j, " +-")
    if j >= len(text):
        return start, j
    ch = text[j]
    if ch in _CLOSING:
        end = _matching(text, j)
    elif ch.isdigit() or ch == ".":
        end = _skip(text, j, "0123456789.")
    elif ch == "\\":
        end = j + 1 + len(re.match(r"[a-zA-Z]*", text[j + 1:]).group())
        while end < len(text) and text[end] in "{[" and text[j:end].startswith(("\\frac", "\\sqrt", "\\binom")):
            end = _matching(text, end)
    else:
        end = j + 1
    after = _skip(text, end, " ")
    if after < len(text) and text[after] == "^":
        end = _exponent_span(text, after + 1)[1]
    return start, end


def _skip(text: str, i: int, chars: str) -> int:
    while i < len(text) and text[i] in chars:
        i += 1
    return i


def _matching(text: str, i: int) -> int:
    """Index after the bracket that closes ``text[i]`` (the end of the text if it never closes)."""
    opening, closing, depth = text[i], _CLOSING[text[i]], 0
    for j in range(i, len(text)):
        depth += (text[j] == opening) - (text[j] == closing)
        if depth == 0:
            return j + 1
    return len(text)


def _strip_group(text: str) -> str:
    text = text.strip()
    if text[:1] in _CLOSING and _matching(text, 0) == len(text):
        return text[1:-1]
    return text


def _numeric_exceeds(text: str, limit: int) -> bool:
    """A letter-free ``text`` whose exact value exceeds ``limit`` in size, or cannot be bounded; else False."""
    if not text.strip() or _SYMBOLIC.search(text):
        return False
    values = algebra.evaluate(text, [{}])
    if values is None:
        return bool(re.search(r"\d", text))  # digits, but outside the exact grammar or past its caps
    return any(abs(coef) * (math.isqrt(radicand - 1) + 1) > limit for (radicand, _), coef in values[0].items())


def _stacked_exponent(text: str, caret: int, exponent: str, spans: list[tuple[int, int, int]]) -> int:
    """Product of the numeric exponents of ``(a^b)^c``: this power's and all those inside its bracketed base."""
    own = _integer_value(exponent)
    base_end = caret
    while base_end > 0 and text[base_end - 1] == " ":
        base_end -= 1
    if own is None or base_end == 0 or text[base_end - 1] not in ")}]":
        return 0
    base_start = _opening(text, base_end - 1)
    inner = [_integer_value(_strip_group(text[s:e])) for c, s, e in spans if base_start < c < base_end]
    return own * math.prod(v for v in inner if v)


def _opening(text: str, i: int) -> int:
    """Index of the bracket that opens the one closing at ``text[i]`` (0 if none)."""
    closing = text[i]
    opening = next(o for o, c in _CLOSING.items() if c == closing)
    depth = 0
    for j in range(i, -1, -1):
        depth += (text[j] == closing) - (text[j] == opening)
        if depth == 0:
            return j
    return 0


def _integer_value(text: str) -> int | None:
    if _SYMBOLIC.search(text):
        return None
    values = algebra.evaluate(text, [{}]) if text.strip() else None
    if not values or set(values[0]) - {(1, False)}:
        return None
    return math.ceil(abs(values[0].get((1, False), 0)))


def _factorial_too_big(text: str) -> bool:
    for match in re.finditer(r"!", text):
        end = match.start()
        while end > 0 and text[end - 1] == " ":
            end -= 1
        if end and text[end - 1] in ")}]":
            operand = text[_opening(text, end - 1) + 1: end - 1]
        else:
            operand = re.search(r"[\d.]*$", text[:end]).group()
        if _numeric_exceeds(operand, MAX_FACTORIAL):
            return True
    return False


def _binomial_too_big(text: str) -> bool:
    for match in re.finditer(r"\\binom\s*(?=\{)", text):
        top_end = _matching(text, match.end())
        bottom = _skip(text, top_end, " ")
        bottom_end = _matching(text, bottom) if bottom < len(text) and text[bottom] == "{" else bottom
        if any(_numeric_exceeds(part[1:-1], MAX_BINOMIAL) for part in (text[match.end():top_end], text[bottom:bottom_end])):
            return True
    return False
