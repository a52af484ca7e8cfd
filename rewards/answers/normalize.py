"""Turns one extracted answer into a canonical LaTeX-ish string plus its unit and percent marks.
It must never raise, never call SymPy, and never drop information that changes the value (units, signs, bounds)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

MAX_ANSWER_CHARS = 2000


@dataclass(frozen=True)
class Answer:
    """A normalized answer: ``text`` is canonical LaTeX (no units, ``\\%`` removed), ``unit`` the
    canonical unit or ``""``, ``percent`` whether the answer was written as a percentage, ``approximation`` the
    decimal written after the value and dropped from ``text`` (``0.1667`` of ``\\frac16 \\approx 0.1667``).

    >>> normalize(r"\\$1{,}000")
    Answer(text='1000', unit='', percent=False)
    """

    text: str
    unit: str = ""
    percent: bool = False
    approximation: str = field(default="", repr=False)


_UNICODE = {
    "−": "-", "–": "-", "—": "-", "π": "\\pi", "∞": "\\infty", "×": "\\times", "·": "\\cdot",
    "÷": "\\div", "≤": "\\le ", "≈": "\\approx ", "≥": "\\ge ", "≠": "\\ne ", "°": "^\\circ", "√": "\\sqrt", "∪": "\\cup ",
    "∩": "\\cap ", "∈": "\\in ", "½": "\\frac{1}{2}", "⅓": "\\frac{1}{3}", "⅔": "\\frac{2}{3}",
    "¼": "\\frac{1}{4}", "¾": "\\frac{3}{4}", "⅕": "\\frac{1}{5}", "⅛": "\\frac{1}{8}", "²": "^2", "³": "^3",
    "θ": "\\theta", "α": "\\alpha", "β": "\\beta", "\u2009": " ", "\u00a0": " ", "\u202f": " ", "＄": "$",
    "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "", "\u2060": "",  # zero-width characters
}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))
_ROOT_GLYPH = re.compile(r"√\s*(\d+(?:\.\d+)?|[a-zA-Z](?![a-zA-Z]))")
# "12^{\text{th}}", "3rd": an ordinal is its number ("the 12th grade" answers "which grade": 12)
_ORDINAL = re.compile(r"(?<![\w.])(\d+)\s*(?:\^\s*\{\s*\\(?:text|mathrm)\s*\{\s*(?:st|nd|rd|th)\s*\}\s*\}|(?:st|nd|rd|th)\b)")
# LaTeX's inline math delimiters inside an answer ("4\(\sqrt{30}\)")
_INLINE_DELIMITER = re.compile(r"(?<!\\)\\[()]")

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"  # kana and CJK ideographs: a character class body

# canonical unit -> spellings (matched case-sensitively as whole words at the end of the answer)
_UNITS = {
    "m": ("m", "meter", "meters", "metre", "metres"), "cm": ("cm", "centimeter", "centimeters", "centimetres"),
    "mm": ("mm", "millimeter", "millimeters"), "km": ("km", "kilometer", "kilometers", "kilometres"),
    "in": ("inch", "inches"), "ft": ("ft", "foot", "feet"), "yd": ("yd", "yard", "yards"),
    "mi": ("mile", "miles"), "g": ("g", "gram", "grams"), "kg": ("kg", "kilogram", "kilograms"),
    "mg": ("mg", "milligram", "milligrams"), "lb": ("lb", "lbs", "pound", "pounds"), "oz": ("oz", "ounce", "ounces"),
    "s": ("s", "sec", "second", "seconds"), "min": ("min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"), "day": ("day", "days"), "week": ("week", "weeks"),
    "year": ("year", "years"), "L": ("L", "liter", "liters", "litre", "litres"), "mL": ("mL", "ml", "milliliter", "milliliters"),
    "mph": ("mph", "miles per hour", "mi/h"), "km/h": ("km/h", "kmph", "kph", "km/hr", "kilometers per hour",
    "kilometres per hour"), "m/s": ("m/s", "meters per second", "metres per second"), "ft/s": ("ft/s", "feet per second"), "cent": ("cent", "cents"),
    "dollar": ("dollar", "dollars", "USD"), "degree": ("degree", "degrees", "deg"), "rad": ("rad", "radian", "radians"),
    "unit": ("unit", "units"),
}
_UNIT_OF = {spelling: canon for canon, spellings in _UNITS.items() for spelling in spellings}
# "in" is an inch only with a power or a "square"/"cubic" word (``5 in^2``, ``3 sq in``), never alone
_UNIT_WORDS = "|".join(sorted(map(re.escape, [*_UNIT_OF, "in"]), key=len, reverse=True))
_POWER_WORDS = {"square": "2", "sq": "2", "squared": "2", "cubic": "3", "cu": "3", "cubed": "3"}
_UNIT_PHRASE = re.compile(
    r"^(?:(?P<before>square|sq|cubic|cu)\.?\s+)?(?P<word>" + _UNIT_WORDS + r")\.?"
    r"(?:\s+(?P<after>squared|cubed)|\s*\^\s*\{?\s*(?P<pow>[23])\s*\}?)?$")
_TRAILING_UNIT = re.compile(
    r"(?<=[\d}\s)])\s*(?:\\(?:text|textnormal|mbox|mathrm|textrm|textbf|textit|mathbf|operatorname)\s*\{(?P<wrapped>[^{}]{1,40})\}"
    r"|(?P<plain>(?:(?:square|sq|cubic|cu)\.?\s+)?(?:" + _UNIT_WORDS + r")(?:\s+(?:squared|cubed))?(?![A-Za-z])))"
    r"(?P<pow>\s*\^\s*\{?\s*[23]\s*\}?)?\s*\.?\s*$"
)
_COMPOUND_UNIT = re.compile(r"\\(?:mathrm|text)\s*\{\s*~?\s*([A-Za-z]{1,4})\s*\}\s*/\s*\\(?:mathrm|text)\s*\{\s*~?\s*([A-Za-z]{1,4})\s*\}")
_ASSIGNED_UNIT = re.compile(
    r"(?<=[\d}])\s*\\(?:text|mathrm|mbox)\s*\{\s*~?\s*(?:" + _UNIT_WORDS + r")\s*\}(?:\s*\^\s*\{?\s*[23]\s*\}?)?"
    r"(?=\s*(?:,|;|\\quad|$))")
# a number before a counted noun: grouped thousands (2,500), decimals, a/b, a mixed number (2 1/2), \frac{a}{b}
_NOUN_NUMBER = r"[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s+\d+/\d+|/\d+)?|(?:\d+\s*)?\\frac\{\d+\}\{\d+\})"
_TRAILING_NOUN = re.compile(
    r"^(?P<number>" + _NOUN_NUMBER + r")"
    r"(?:\s*\\(?:text|textnormal|mbox|mathrm|textrm)\s*\{\s*(?P<noun>[A-Za-z][A-Za-z ]{1,30}?)\s*\}|\s+(?P<plain>(?:per|a|an|each|every)\s+[A-Za-z]{2,20}|[A-Za-z]{2,20}(?:/[A-Za-z]{1,10}|\s+(?:per|of|a|an|each|every)\s+[A-Za-z]{2,20}|\s+(?!(?:more|less|fewer|than|times|percent|plus|minus|or|and|to|over|under|squared|cubed)\b)[A-Za-z]{2,20})?)|\s*(?P<cjk>[" + CJK + r"]{1,6}))\s*[.。]?$"
)
_MATH_WORDS = {"pi", "sin", "cos", "tan", "ln", "log", "exp", "and", "or", "i", "e", "sqrt", "infty"}
_VECTOR = re.compile(r"\\begin\{pmatrix\}((?:(?!\\begin).)*?)\\end\{pmatrix\}", re.DOTALL)
_NUMBER_WORDS = {word: str(i) for i, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_ARRAY = re.compile(r"\[?\s*\\begin\{array\}\{[^{}]*\}(.*?)\\end\{array\}\s*\]?", re.DOTALL)
_TEXT_CMD = re.compile(r"\\(?:text|textnormal|textbf|textit|textrm|mbox|mathrm|mathbf|mathit|mathsf|mathtt|operatorname|rm|bf)\s*\{([^{}]*)\}")
_SPACES = re.compile(r"(?<!\\)\\[,;:!> ]|\\quad|\\qquad|~|\\hspace\s*\{[^{}]*\}")
# a space before a fraction is a mixed number (``12 345/678``), not a thousands separator
_THOUSANDS_MARKED = re.compile(
    r"(?<=\d)(?:(?:\{,\}|,\\!\s?|\\!,|\\!|\\,|\{\\,\}|,\{\}|\\ |')(?=\d{3}(?!\d))|[ \t](?=\d{3}(?![\d/])))")
_CONJUNCTION = re.compile(r"\s*,?\s*\b(?:and|or)\b\s*,?\s*")
_THOUSANDS_PLAIN = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DEGREE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|\\degree|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}")
_APPROX = re.compile(r"\s*(?:\\approx|\\simeq|\\sim(?![a-zA-Z])|\(?\s*(?:approximately|approx\.?|about|roughly)\b)")
# a value stated as an approximation ("approximately 7", "\approx 7") states that value; it equals only itself
_LEADING_APPROX = re.compile(r"^\s*(?:\\approx(?![a-zA-Z])|(?:approximately|approx\.|about|roughly|around)\s)\s*(?=\S)",
                             re.IGNORECASE)
# what an approximation sign may drop: a decimal (with ``...``, a power of ten, a unit or a percent mark)
_APPROXIMATION = re.compile(
    r"^\s*[-+]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:\s*(?:\.\.\.|\\[lc]?dots))?(?:\s*(?:\\times|\\cdot)\s*10\^\{?-?\d+\}?)?"
    r"(?:\s*(?:\\?%|\\(?:text|mathrm)\s*\{[^{}]*\}|(?:" + _UNIT_WORDS + r")(?![A-Za-z])(?:\^\{?\d\}?)?))*\s*\)?\s*\.?\s*$")
_TRIG = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)(?![a-zA-Z])")
_DEGREE_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\^\s*\{?\s*\\circ\s*\}?|\\degree)")
_PERCENT = re.compile(
    r"\s*(?:\\%|%|\\text\{\s*\\?%\s*\}|\\text\{\s*(?:percent|pct)\s*\}|\s*(?:percent|percentage|pct))\s*$")
_DOLLAR_PREFIX = re.compile(r"^(?:\\\$|\\text\{\s*\\\$\s*\}|\$|USD\s*|€|£|\\euro|\\pounds)\s*(?=[-\d.])")
_CURRENCY_SUFFIX = re.compile(r"(?<=\d)\s*(?:\\\$|€|£|\\euro)\s*$")
_WRAPPERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
# One-token \frac arguments as TeX reads them: a digit, a braced group, a command, or a letter (a letter
# as the first argument only after a space: ``\fracab`` is one unknown command, ``\frac ab`` is a/b).
_FRAC_SHORT = re.compile(r"\\frac\s*(\d|\{[^{}]*\}|\\[a-zA-Z]+|(?<=\s)[a-zA-Z])\s*(\d|\{[^{}]*\}|\\[a-zA-Z]+|[a-zA-Z])")
_SQRT_SHORT = re.compile(r"\\sqrt\s*(\[[^\]]*\])?\s*(\d+|\\[a-zA-Z]+|[a-zA-Z])")
# Plain-text math words (``pi/2``, ``3pi``, ``sqrt(2)``, ``(-inf, 3]``) as whole words, never inside a word or
# after a backslash; left alone next to a plain function (``sin(pi/6)``), which the plain-text reader takes whole.
_PLAIN_PI = re.compile(r"(?<![\\a-zA-Z])pi(?![a-zA-Z])")
_PLAIN_INFINITY = re.compile(r"(?<![\\a-zA-Z])(?:infinity|infty|inf)(?![a-zA-Z])")
_PLAIN_SQRT = re.compile(r"(?<![a-zA-Z\\])\\?sqrt(?![a-zA-Z])\s*(?=[({\d])")
_PLAIN_FUNCTION = re.compile(
    r"(?<![\\a-zA-Z])(?:a?(?:sin|cos|tan|cot|sec|csc)h?|arc(?:sin|cos|tan)|log|ln|lg|exp|abs)(?![a-zA-Z])")
_WHITESPACE = re.compile(r"\s+")
_ANGLE_TUPLE = re.compile(r"^<([^<>=]+,[^<>=]+)>$")
_MIXED_PLAIN = re.compile(r"(?:^|(?<=[,=(\[]))(\s*[-+]?\d+) +(\d+)/(\d+)(?=\s*(?:$|[,)\]]))")
_WHOLE_TEXT = re.compile(r"^\\(?:text|textrm|textnormal|mbox|mathrm)\s*\{([^{}]*)\}$")
_SET_BUILDER = re.compile(
    r"^\\\{\s*([a-z])\s*(?:\\in\s*\\mathbb\s*\{?R\}?\s*)?(?:\\mid|\||:|\\colon)\s*(\1\s*(?:[<>]|\\(?:leq|geq|neq)).*?)\s*\\\}$")
_DECIMAL_COMMA = re.compile(r"^([-+]?\d+),(\d{2})$")
_MONEY_DECIMAL_COMMA = re.compile(r"^\s*(?:\\?\$|€|£|USD)\s*[-+]?\d+,\d{2}\s*$|^\s*[-+]?\d+,\d{2}\s*(?:€|\\?\$|£)\s*$")
_BARE_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_WHOLE_BOX = re.compile(r"^\\(?:boxed|fbox)\s*\{(.*)\}$", re.DOTALL)
_MARKDOWN_BOLD = re.compile(r"^(?:\*\*|__|`+)\s*|\s*(?:\*\*|__|`+)$")  # "**(C)**", "`13`": markdown, never math
_SEMICOLON_TUPLE = re.compile(r"\(([^(),;]+(?:;[^(),;]+)+)\)")  # (0;-2;6): a tuple written with semicolons
_PLUS_MINUS_SET = re.compile(r"^\\\{([^{},]+?)\\pm([^{},]+)\\\}$")  # \{2 \pm 1\}: the set \{2+1, 2-1\}
_PREFIX = re.compile(r"^(?:final answer|answer|ans|the answer is|result)\s*[:=]?\s*", re.IGNORECASE)


def normalize(answer: str) -> Answer:
    r"""Canonical form of one answer string (extracted from a completion, or a gold answer).

    >>> normalize(r"\left( \dfrac{1}{2}, 3 \right)").text
    '(\\frac{1}{2},3)'
    >>> normalize(r"3\,\text{cm}")
    Answer(text='3', unit='cm', percent=False)
    >>> normalize(r"12.5\%").percent
    True
    """
    return _normalize(answer[:MAX_ANSWER_CHARS] if isinstance(answer, str) else "")


# the rewrites of _normalize, compiled once
_MATH_DOLLAR = re.compile(r"(?<!\\)\$")
_INNER_CURRENCY = re.compile(r"\\\$(?=\s*[-\d.])")
_MATRIX_BEGIN = re.compile(r"\\begin\{[bBvV]?matrix\}")
_MATRIX_END = re.compile(r"\\end\{[bBvV]?matrix\}")
_NEQ = re.compile(r"\\(?:ne|neq)(?![a-zA-Z])")
_LEQ = re.compile(r"\\(?:le|leqslant)(?![a-zA-Z])")
_GEQ = re.compile(r"\\(?:ge|geqslant)(?![a-zA-Z])")
_LT = re.compile(r"\\lt(?![a-zA-Z])")
_SIZING = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg|bigl|bigr|Bigl|Bigr)(?![a-zA-Z])\s*")
_STYLE = re.compile(r"\\(?:displaystyle|textstyle|limits)(?![a-zA-Z])")
_FRAC_VARIANT = re.compile(r"\\[dtc]frac(?![a-zA-Z])")
_ONE_CHAR_SUBSCRIPT = re.compile(r"_\{\s*([a-zA-Z0-9])\s*\}")
_EMPTY_SET = re.compile(r"\\varnothing(?![a-zA-Z])|^\\\{\s*\\\}$|^\{\s*\}$")
_MEMBER_OF = re.compile(r"^[a-zA-Z]\s*\\in\s*")
_DOUBLED_COMMA = re.compile(r"(?:\s*,\s*)+,")
_SPACE_RUN = re.compile(r"\s+")
_SPACE_AROUND_PUNCTUATION = re.compile(r"\s*([,=+\-*/^_(){}\[\]<>|&])\s*")
_SPACE_AROUND_ROW_BREAK = re.compile(r"\s*(\\\\)\s*")
_SPACE_AFTER_OPERATOR = re.compile(r"\\(le|ge|ne|leq|geq|neq|cup|cap|in|times|cdot|div|pm)\s+")


@lru_cache(maxsize=65536)
def _normalize(text: str) -> Answer:
    if _BARE_NUMBER.fullmatch(text):
        return Answer(text)  # "42", "-7", "18.00": already canonical (most GSM8K-style answers and golds)
    text = _ROOT_GLYPH.sub(r"\\sqrt{\1}", text)  # "2√2", "√117": the root of the number written after the sign
    text = _WHITESPACE.sub(" ", _UNICODE_RE.sub(lambda m: _UNICODE[m.group()], text))  # keeps every regex linear
    money = _MONEY_DECIMAL_COMMA.match(text) is not None  # "$57,00", "12,50 €": a decimal comma, not a list
    text = unwrap_math(text)
    text = _strip_trailing_backslashes(unwrap_math(_PREFIX.sub("", _MARKDOWN_BOLD.sub("", text.strip()))))
    text = _WHOLE_TEXT.sub(r"\1", text).strip()  # \text{12 apples}: the words inside are the answer
    text = _plain_math(text)
    text, approximation = _exact_value(_LEADING_APPROX.sub("", text, count=1))
    text = _MATH_DOLLAR.sub("", _INLINE_DELIMITER.sub("", _ORDINAL.sub(r"\1", text)))
    text = _INNER_CURRENCY.sub("", text)  # a currency sign inside an expression: 2 \times 9 = \$18
    text = _unwrapped_chain(text)
    text = _SEMICOLON_TUPLE.sub(lambda m: "(" + m.group(1).replace(";", ",") + ")", text)
    text = _MATRIX_BEGIN.sub(r"\\begin{pmatrix}", text)
    text = _MATRIX_END.sub(r"\\end{pmatrix}", text)
    text = text.replace("!=", "\\neq ").replace(">=", "\\geq ").replace("<=", "\\leq ")
    text = _NEQ.sub(r"\\neq ", text)
    text = _LEQ.sub(r"\\leq ", text)
    text = _GEQ.sub(r"\\geq ", text)
    text = _LT.sub("<", text).replace("\\gt ", ">").replace("\\gt", ">")
    text = _angle_tuples(text)
    text = _SIZING.sub("", text)
    text = _STYLE.sub("", text)
    text = _ARRAY.sub(r"\\begin{pmatrix}\1\\end{pmatrix}", text)
    text = _FRAC_VARIANT.sub(r"\\frac", text)
    text = _THOUSANDS_MARKED.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _CURRENCY_SUFFIX.sub("", _DOLLAR_PREFIX.sub("", text.strip()))
    if money:
        text = _DECIMAL_COMMA.sub(r"\1.\2", text)
    text, percent = _strip_percent(text)
    text = _COMPOUND_UNIT.sub(r"\\mathrm{\1/\2}", text)  # \mathrm{km} / \mathrm{h}: one unit, km/h
    if "=" in text:
        text = _ASSIGNED_UNIT.sub("", text)  # v_R = 4 \text{ km/h}, v_B = 10 \text{ km/h}: the values assigned
    text, unit = _strip_unit(text)
    text = _MIXED_PLAIN.sub(_mixed_number, text)
    text = _ONE_CHAR_SUBSCRIPT.sub(r"_\1", text)  # a_{1} is a_1 (one-character subscripts only)
    text = _degrees(text)
    text = _unwrap_text_commands(text)
    text = _short_forms(text)
    text = _conjunctions(text)
    text = _EMPTY_SET.sub(r"\\emptyset", text)
    text = _VECTOR.sub(_vector_as_tuple, text)
    text = _NUMBER_WORDS.get(text.lower(), text)
    text = _SET_BUILDER.sub(r"\2", text)  # {x | x > 2} is the condition on x, which reads as its interval
    text = _MEMBER_OF.sub("", text)
    if text.startswith("{") and text.endswith("}") and _balanced(text[1:-1]) and "," in text:
        text = "\\{" + text[1:-1] + "\\}"
    text = _DOUBLED_COMMA.sub(",", text)
    text = _SPACE_RUN.sub(" ", text).strip().rstrip(".").strip()
    if _THOUSANDS_PLAIN.match(text):
        text = text.replace(",", "")
    text = _PLUS_MINUS_SET.sub(r"\\{\1+\2,\1-\2\\}", text)
    text = _SPACE_AROUND_PUNCTUATION.sub(r"\1", text)
    text = _SPACE_AROUND_ROW_BREAK.sub(r"\1", text)  # a matrix row break
    text = _SPACE_AFTER_OPERATOR.sub(r"\\\1 ", text)
    return Answer(text=text, unit=unit, percent=percent, approximation=approximation)


_TEX_TOKEN = re.compile(r"\\[a-zA-Z]+|\\.|\s+|.", re.DOTALL)
_BARE_NUMBERS = re.compile(r"^[\d\s.,;:+\-/]*$")  # numbers and separators only: a space there may part two values


def typeset(text: str) -> tuple[str, ...]:
    r"""The TeX tokens of a normalized answer as TeX typesets them, so two spellings that only space or brace
    differently read alike: spaces dropped (except between two digits of a bare list of numbers, ``1 2``), and a
    brace group of one token (``x^{2}``, ``\bar{x}``) read as that token. Command names stay whole tokens.

    >>> typeset(r"x^{2} \sin y") == typeset(r"x^2\sin y"), typeset("m c") == typeset("mc"), typeset("1 2") == typeset("12")
    (True, True, False)
    """
    bare = _BARE_NUMBERS.match(text) is not None
    tokens: list[str] = []
    for match in _TEX_TOKEN.finditer(text):
        token = match.group()
        if not token.isspace():
            tokens.append(token)
        elif bare and tokens and tokens[-1][-1:].isdigit() and text[match.end(): match.end() + 1].isdigit():
            tokens.append(" ")
    out: list[str] = []
    for token in tokens:  # ``{`` T ``}`` -> T, innermost first as the closing brace arrives
        if token == "}" and len(out) >= 2 and out[-2] == "{" and out[-1] not in ("{", "}", " "):
            out[-2:] = [out[-1]]
        else:
            out.append(token)
    return tuple(out)


def _unwrapped_chain(text: str) -> str:
    """``(35 + 70 = 105)``: a chain of equal values in parentheses is the chain (never a tuple: no top-level comma)."""
    if not (text.startswith("(") and text.endswith(")") and "=" in text):
        return text
    depth = 0
    for i, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        if depth == 0 and i < len(text) - 1 or (depth == 1 and char == ","):
            return text
    return text[1:-1].strip()


@lru_cache(maxsize=8192)
def unwrap_math(text: str) -> str:
    r"""Strip ``$...$``, ``\(...\)``, ``\[...\]`` and a whole-answer ``\boxed{...}``.

    >>> unwrap_math(r"$\boxed{\frac{1}{2}}$")
    '\\frac{1}{2}'
    """
    text = text.strip()
    for _ in range(4):
        before = text
        for left, right in _WRAPPERS:
            if len(text) > len(left) + len(right) and text.startswith(left) and text.endswith(right):
                text = text[len(left): -len(right)].strip()
        boxed = _WHOLE_BOX.match(text)
        if boxed and _balanced(boxed.group(1)):
            text = boxed.group(1).strip()
        if text == before:
            break
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0


# A gold printed by a program as a float (``1.44444444444444`` for 13/9, ``4.64257581030492`` for 133π/90): ten or
# more digits after the point. Such a gold is the exact value rounded; an answer equals it within MACHINE_FLOAT_TOLERANCE
MACHINE_FLOAT = re.compile(r"(?<![\d.])\d+\.\d{10,}")
MACHINE_FLOAT_TOLERANCE = 1e-9  # relative: a program prints 12 to 17 significant digits


def against_printed_float(pred: Answer, gold: Answer) -> bool:
    """Whether the gold holds a number a program printed as a float (see ``MACHINE_FLOAT``) and the answer does not:
    the pair then compares within ``MACHINE_FLOAT_TOLERANCE`` (only a gold is read this way).

    >>> against_printed_float(Answer("13/9"), Answer("1.44444444444444")), against_printed_float(Answer("1/3"), Answer("0.0000672"))
    (True, False)
    """
    return MACHINE_FLOAT.search(gold.text) is not None and MACHINE_FLOAT.search(pred.text) is None


def _exact_value(text: str) -> tuple[str, str]:
    r"""An exact value followed by its decimal approximation is the exact value (and the approximation, kept
    apart); a relation such as ``f(x) \sim x^2`` or ``X \sim N(0, 1)`` stays whole.

    >>> _exact_value(r"\frac{1}{6} \approx 0.1667"), _exact_value(r"\frac13 (approximately 0.33)")
    (('\\frac{1}{6}', '0.1667'), ('\\frac13', '0.33'))
    >>> _exact_value(r"f(x) \sim x^{2}")
    ('f(x) \\sim x^{2}', '')
    """
    parts = _APPROX.split(text, maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and _APPROXIMATION.match(parts[1]):
        return parts[0].strip(), parts[1].strip().rstrip(".").rstrip(")").strip()
    return text, ""


def _degrees(text: str) -> str:
    r"""An angle answer (``30^\circ``) is its number; inside a trig function a degree becomes radians.

    >>> _degrees(r"30^\circ"), _degrees(r"\sin 30^\circ")
    ('30', '\\sin {\\frac{30\\pi}{180}}')
    """
    if _TRIG.search(text):
        return _DEGREE_NUMBER.sub(lambda m: "{\\frac{" + m.group(1) + "\\pi}{180}}", text)
    return _DEGREE.sub("", text)


def _strip_percent(text: str) -> tuple[str, bool]:
    stripped = _PERCENT.sub("", text)
    return stripped.strip(), stripped != text


def _strip_unit(text: str) -> tuple[str, str]:
    r"""A trailing unit after a number, in canonical form with its power: ``15 \text{ cm}^2``, ``15 cm²``,
    ``15 square centimeters`` and ``15 sq cm`` all read ``('15', 'cm^2')``; anything else may be a counted noun.

    >>> _strip_unit(r"15 \mathrm{cm}^{2}"), _strip_unit("8 cubic units")
    (('15', 'cm^2'), ('8', 'unit^3'))
    """
    match = _TRAILING_UNIT.search(text)
    unit = match and _unit_name(match.group("wrapped") or match.group("plain"), match.group("pow") or "")
    if not unit or not _numeric_looking(text[: match.start()]):
        return _strip_noun(text)
    return text[: match.start()].strip(), unit


def _unit_name(phrase: str, outer_power: str) -> str | None:
    """``square feet`` -> ``ft^2``, ``units^3`` -> ``unit^3``, ``cm`` -> ``cm``; None if no unit."""
    match = _UNIT_PHRASE.match(phrase.strip())
    if not match:
        return None
    power = (match.group("pow") or _POWER_WORDS.get(match.group("before") or match.group("after") or "")
             or re.sub(r"\D", "", outer_power))
    word = match.group("word")
    if word == "in" and not power:
        return None
    unit = _UNIT_OF.get(word, "in")
    return unit + (f"^{power}" if power else "")


def _strip_noun(text: str) -> tuple[str, str]:
    r"""A number followed by a counted noun (``156 \text{ apples}``, ``12 students``): the noun is the unit."""
    match = _TRAILING_NOUN.match(text)
    noun = match and (match.group("noun") or match.group("plain") or match.group("cjk")).strip().lower()
    if not match or noun in _MATH_WORDS:
        return text, ""
    return match.group("number"), noun[:-1] if noun.endswith("s") and len(noun) > 3 else noun


def _strip_trailing_backslashes(text: str) -> str:
    r"""A stray backslash at the end (``\boxed{5\}`` read as ``5\``, a row break ``12\\``) is dropped.

    >>> _strip_trailing_backslashes("12\\\\"), _strip_trailing_backslashes(r"\{1,2\}")
    ('12', '\\{1,2\\}')
    """
    text = text.rstrip()
    while text.endswith("\\"):
        text = text[:-1].rstrip()
    return text


def _plain_math(text: str) -> str:
    r"""``pi`` -> ``\pi``, ``sqrt(x+1)`` -> ``\sqrt{x+1}``, ``infinity``/``inf`` -> ``\infty``, as whole words only.

    >>> _plain_math("3pi/2"), _plain_math("sqrt(sqrt(2)+1)"), _plain_math("(-inf, 3]"), _plain_math("spine")
    ('3\\pi/2', '\\sqrt{\\sqrt{2}+1}', '(-\\infty, 3]', 'spine')
    """
    if _PLAIN_FUNCTION.search(text):
        return text
    text = _PLAIN_INFINITY.sub(r"\\infty", _PLAIN_PI.sub(r"\\pi", text))
    closing = _matching_parens(text)
    edits: dict[int, tuple[int, str]] = {}  # start -> (end, replacement)
    for match in _PLAIN_SQRT.finditer(text):
        edits[match.start()] = (match.end(), "\\sqrt")
        close = closing.get(match.end())
        if close is not None:
            edits[match.end()], edits[close] = (match.end() + 1, "{"), (close + 1, "}")
    out, pos = [], 0
    for start in sorted(edits):
        end, replacement = edits[start]
        out += [text[pos:start], replacement]
        pos = end
    return "".join(out) + text[pos:]


def _matching_parens(text: str) -> dict[int, int]:
    """Index of each ``(`` -> index of its matching ``)`` (unmatched ones are absent)."""
    stack, pairs = [], {}
    for index, char in enumerate(text):
        if char == "(":
            stack.append(index)
        elif char == ")" and stack:
            pairs[stack.pop()] = index
    return pairs


def _angle_tuples(text: str) -> str:
    r"""A vector written ``\langle 1, 2 \rangle`` or ``<1, 2>`` is the tuple ``(1, 2)``."""
    if text.count("\\langle") == text.count("\\rangle") > 0:
        text = re.sub(r"\\rangle(?![a-zA-Z])", ")", re.sub(r"\\langle(?![a-zA-Z])", "(", text))
    return _ANGLE_TUPLE.sub(r"(\1)", text)


def _mixed_number(match: re.Match) -> str:
    r"""``2 1/2`` -> ``2\frac{1}{2}`` (a proper fraction after a whole number); ``2 3/2`` stays as written."""
    whole, num, den = match.groups()
    return f"{whole}\\frac{{{num}}}{{{den}}}" if 0 < int(num) < int(den) else match.group(0)


def _vector_as_tuple(match: re.Match) -> str:
    r"""A one-column or one-row ``pmatrix`` is a vector, written as the tuple of its entries."""
    body = match.group(1).strip().rstrip("\\").strip()
    rows = [row.strip() for row in body.split("\\\\")]
    if len(rows) > 1 and all("&" not in row for row in rows):
        return "(" + ",".join(rows) + ")"
    if len(rows) == 1 and "&" in rows[0]:
        return "(" + ",".join(cell.strip() for cell in rows[0].split("&")) + ")"
    return match.group(0)


def _conjunctions(text: str) -> str:
    r"""``3 or 4`` / ``19, 46, and 82`` list items (a comma); between relations ``\lor``/``\land`` instead.

    >>> _conjunctions("x<1 or x>2"), _conjunctions("19, 46, and 82")
    ('x<1 \\lor x>2', '19, 46,82')
    """
    words = re.findall(r"[A-Za-z]{2,}", re.sub(r"\\[a-zA-Z]+", "", text))
    if len([w for w in words if w not in ("and", "or")]) > 1 or not _CONJUNCTION.search(text):
        return text
    if re.search(r"[<>]|\\(?:leq|geq|neq)", text):
        return re.sub(r"\s*\bor\b\s*", r" \\lor ", re.sub(r"\s*\band\b\s*", r" \\land ", text))
    return _CONJUNCTION.sub(",", text)


def _numeric_looking(prefix: str) -> bool:
    bare = re.sub(r"\\(?:frac|dfrac|sqrt|pi|cdot|times)", "", prefix)
    return bool(re.search(r"\d", bare)) and not re.search(r"[a-zA-Z]", bare)


def _unwrap_text_commands(text: str) -> str:
    for _ in range(4):
        new = _TEXT_CMD.sub(lambda m: _text_body(m.group(1)), text)
        if new == text:
            break
        text = new
    return text


def _text_body(body: str) -> str:
    words = body.strip()
    return {"or": " or ", "and": " and ", ",": ","}.get(words, words)


def _short_forms(text: str) -> str:
    r"""``\frac12`` -> ``\frac{1}{2}``, ``\frac1x`` -> ``\frac{1}{x}``, ``\frac\pi2`` -> ``\frac{\pi}{2}``, ``\sqrt3`` -> ``\sqrt{3}``, ``\mathrm{e}`` already unwrapped."""
    text = _FRAC_SHORT.sub(lambda m: r"\frac" + _brace(m.group(1)) + _brace(m.group(2)), text)
    return _SQRT_SHORT.sub(lambda m: r"\sqrt" + (m.group(1) or "") + _brace(m.group(2)), text)


def _brace(token: str) -> str:
    return token if token.startswith("{") else "{" + token + "}"
