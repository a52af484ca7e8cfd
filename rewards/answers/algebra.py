"""Evaluates small LaTeX expressions exactly, in-process: rationals, square roots, i, pi, e and letters as unknowns.
It must never round, never run unbounded (sizes, exponents and depth are capped), never call two expressions with
letters "not equal" (only SymPy may), and gives ``None`` for anything else."""

from __future__ import annotations

import math
import random
import re
from fractions import Fraction

MAX_TOKENS = 200
MAX_BITS = 60_000
MAX_EXPONENT = 4096
MAX_RADICAND = 10**9
MAX_DEPTH = 40
MAX_TERMS = 32
_TOKEN = re.compile(r"\s*(\d+\.\d*|\.\d+|\d+|\\[a-zA-Z]+|[a-zA-Z]|[-+*/^(){}!])")
_FUNCTIONS_ABORT = {"\\sin", "\\cos", "\\tan", "\\log", "\\ln", "\\exp", "\\sec", "\\csc", "\\cot", "\\arcsin",
                    "\\arccos", "\\arctan", "\\lim", "\\sum", "\\int", "\\prod", "\\operatorname"}
_CONSTANT_SYMBOLS = {"\\pi": "pi"}
_PI_WORD = re.compile(r"(?<![\\a-zA-Z])pi(?![a-zA-Z])")
_LETTER_RUN = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{2,}")
# Leibniz notation (``\frac{dy}{dx}``, ``\frac{d}{dt}``, ``\frac{d^{2}y}{dx^{2}}``): ``d`` is no unknown factor there
_LEIBNIZ = re.compile(r"\\frac\{d(?:[^{}]|\{[^{}]*\})*\}\{d[a-zA-Z]")
_FUNCTION_NAMES = {"sin", "cos", "tan", "sec", "csc", "cot", "log", "ln", "exp", "lg", "abs", "max", "min", "gcd",
                   "lcm", "mod", "det", "deg", "arg"}
SHORT_WORDS = {"yes", "no", "not", "odd", "and", "or", "all", "any", "one", "two", "six", "ten", "red", "top", "off",
               "on", "in", "out", "up", "is", "it", "am", "pm", "ok", "dne", "nan", "inf", "oo", "nor", "new"}


class _Abort(Exception):
    """Outside the supported grammar or past a size cap: the caller falls back to SymPy."""


# A value is a dict {(radicand, imaginary): Fraction}: sum of coefficient * sqrt(radicand) * (i if imaginary).
def _const(q) -> dict:
    q = Fraction(q)
    return {(1, False): q} if q else {}


def _add(a: dict, b: dict, sign: int = 1) -> dict:
    out = dict(a)
    for key, coef in b.items():
        total = out.get(key, 0) + sign * coef
        if total:
            out[key] = total
        else:
            out.pop(key, None)
    return out


def _mul(a: dict, b: dict) -> dict:
    if len(a) * len(b) > MAX_TERMS * 4:
        raise _Abort("too many terms")
    out: dict = {}
    for (r1, i1), c1 in a.items():
        for (r2, i2), c2 in b.items():
            square = math.gcd(r1, r2)  # both squarefree: r1*r2 = square**2 * (r1/square)*(r2/square)
            key = ((r1 // square) * (r2 // square), i1 != i2)
            total = out.get(key, 0) + c1 * c2 * square * (-1 if i1 and i2 else 1)
            if total:
                out[key] = total
            else:
                out.pop(key, None)
    if len(out) > MAX_TERMS:
        raise _Abort("too many terms")
    _check_size(out)
    return out


def _inverse(a: dict) -> dict:
    if len(a) != 1:
        raise _Abort("division by a sum of surds")
    (radicand, imaginary), coef = next(iter(a.items()))
    # 1/(c sqrt(r) i^k) = sqrt(r) / (c r) * (-i if imaginary)
    return {(radicand, imaginary): (-1 if imaginary else 1) / (coef * radicand)}


def _rational(a: dict) -> Fraction | None:
    if not a:
        return Fraction(0)
    if list(a) == [(1, False)]:
        return a[(1, False)]
    return None


def _split_square(n: int) -> tuple[int, int]:
    """n = square**2 * rest with rest squarefree (n <= MAX_RADICAND**2 after products; trial division)."""
    if n > MAX_RADICAND:
        raise _Abort("radicand too large")
    square, rest, p = 1, n, 2
    while p * p <= rest:
        while rest % (p * p) == 0:
            rest //= p * p
            square *= p
        p += 1 if p == 2 else 2
    return square, rest


def _sqrt(a: dict) -> dict:
    q = _rational(a)
    if q is None:
        raise _Abort("sqrt of a non-rational")
    imaginary = q < 0
    q = abs(q)
    square, rest = _split_square(q.numerator * q.denominator)
    return {(rest, imaginary): Fraction(square, q.denominator)} if q else {}


def _power(base: dict, exponent: dict) -> dict:
    e = _rational(exponent)
    if e is None:
        raise _Abort("non-rational exponent")
    if e.denominator == 2:
        return _power(_sqrt(base), _const(e.numerator))
    if e.denominator != 1 or abs(e) > MAX_EXPONENT:
        raise _Abort("exponent")
    if not base:
        if e <= 0:
            raise ZeroDivisionError
        return {}
    q = _rational(base)
    if q is not None:
        if abs(e) * max(q.numerator.bit_length(), q.denominator.bit_length()) > MAX_BITS:
            raise _Abort("too large")
        return _const(q ** int(e))
    result, factor, n = _const(1), base if e > 0 else _inverse(base), abs(int(e))
    if n > 64:
        raise _Abort("exponent of a surd")
    for _ in range(n):
        result = _mul(result, factor)
    return result


def _check_size(value: dict) -> None:
    for coef in value.values():
        if coef.numerator.bit_length() > MAX_BITS or coef.denominator.bit_length() > MAX_BITS:
            raise _Abort("too large")


class _Parser:
    """Recursive descent over normalized LaTeX, evaluating at one assignment of the unknowns."""

    def __init__(self, tokens: list[str], point: dict):
        self.tokens, self.point, self.pos, self.depth = tokens, point, 0, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise _Abort(f"expected {expected}")
        self.pos += 1
        return token

    def parse(self) -> dict:
        value = self.expr()
        if self.peek() is not None:
            raise _Abort("trailing tokens")
        return value

    def expr(self) -> dict:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Abort("too deep")
        value = self.term()
        while self.peek() in ("+", "-"):
            sign = 1 if self.take() == "+" else -1
            value = _add(value, self.term(), sign)
        self.depth -= 1
        return value

    def term(self) -> dict:
        value = self.unary()
        while True:
            token = self.peek()
            if token in ("*", "\\cdot", "\\times"):
                self.take()
                value = _mul(value, self.unary())
            elif token in ("/", "\\div"):
                self.take()
                value = _mul(value, _inverse(self.unary()))
            elif token is not None and self._starts_atom(token):
                if token == "\\frac" and self._mixed_number_ahead():
                    raise _Abort("2\\frac{1}{2}: a mixed number or a product?")
                value = _mul(value, self.power())
            else:
                return value

    def unary(self) -> dict:
        if self.peek() in ("-", "+"):
            sign = -1 if self.take() == "-" else 1
            value = self.unary()
            return _mul(_const(sign), value)
        return self.power()

    def power(self) -> dict:
        start = self.pos
        value = self.atom()
        while self.peek() in ("^", "!"):
            base_depends = self._depends(start)
            if self.take() == "!":
                if base_depends:
                    raise _Abort("factorial of an unknown")
                value = _factorial(value)
                continue
            exponent_start = self.pos
            exponent = self.exponent()
            if self._depends(exponent_start) or (base_depends and _rational(exponent) is not None
                                                  and _rational(exponent).denominator != 1):
                raise _Abort("a power that is no polynomial in the unknowns")
            value = _power(value, exponent)
        return value

    def _depends(self, start: int) -> bool:
        """Do the tokens read since ``start`` hold an unknown? Roots and powers of unknowns are not polynomials:
        at the positive sample points ``\\sqrt{x^2}`` would agree with ``x``."""
        return any(token in self.point or _CONSTANT_SYMBOLS.get(token) in self.point
                   for token in self.tokens[start:self.pos])

    def exponent(self) -> dict:
        if self.peek() == "-":
            self.take()
            return _mul(_const(-1), self.atom())
        return self.atom()

    def _mixed_number_ahead(self) -> bool:
        before = self.tokens[self.pos - 1] if self.pos else ""
        ahead = self.tokens[self.pos + 1: self.pos + 7]
        return before[:1].isdigit() and len(ahead) == 6 and ahead[1].isdigit() and ahead[4].isdigit()

    @staticmethod
    def _starts_atom(token: str) -> bool:
        return token[0].isdigit() or token[0] == "." or token.isalpha() or token in ("(", "{", "\\frac", "\\sqrt",
                                                                                     "\\pi")

    def atom(self) -> dict:
        token = self.take()
        if token[0].isdigit() or token[0] == ".":
            if self.peek() is not None and (self.peek()[0].isdigit() or self.peek()[0] == "."):
                raise _Abort("adjacent numbers")
            return _const(Fraction(token))
        if token in ("(", "{"):
            value = self.expr()
            self.take(")" if token == "(" else "}")
            return value
        if token == "\\frac":
            num = self.group()
            return _mul(num, _inverse(self.group()))
        if token == "\\sqrt":
            if self.peek() == "[":
                raise _Abort("nth root")
            start = self.pos
            radicand = self.group()
            if self._depends(start):
                raise _Abort("root of an unknown")
            return _sqrt(radicand)
        if token == "i":
            return {(1, True): Fraction(1)}
        if token.isalpha() and len(token) == 1 or token in _CONSTANT_SYMBOLS:
            return _const(self.point[_CONSTANT_SYMBOLS.get(token, token)])
        raise _Abort(f"unsupported token {token}")

    def group(self) -> dict:
        self.take("{")
        value = self.expr()
        self.take("}")
        return value


def _factorial(value: dict) -> dict:
    q = _rational(value)
    if q is None or q.denominator != 1 or not 0 <= q <= 3000:
        raise _Abort("factorial")
    return _const(math.factorial(int(q)))


def tokens(text: str) -> list[str] | None:
    r"""Tokens of a normalized answer, or None if it holds anything outside the grammar.

    >>> tokens(r"\frac{x+1}{2}")
    ['\\frac', '{', 'x', '+', '1', '}', '{', '2', '}']
    """
    out, pos = [], 0
    text = _PI_WORD.sub(r"\\pi", text.strip())
    if _LEIBNIZ.search(text):
        return None  # a derivative, not a ratio of products
    for run in _LETTER_RUN.findall(text):
        if len(run) > 3 or run.lower() in SHORT_WORDS or run.lower() in _FUNCTION_NAMES:
            return None  # a word or a function name, not a product of letters
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or len(out) >= MAX_TOKENS:
            return None
        token = match.group(1)
        if token in _FUNCTIONS_ABORT or (token.startswith("\\") and token not in (
                "\\frac", "\\sqrt", "\\cdot", "\\times", "\\div", "\\pi")):
            return None
        out.append(token)
        pos = match.end()
    return out or None


def unknowns(toks: list[str]) -> set[str]:
    return {t for t in toks if len(t) == 1 and t.isalpha() and t != "i"} | {"pi" for t in toks if t == "\\pi"}


def evaluate(text: str, points: list[dict]) -> list[dict] | None:
    r"""Exact values of ``text`` at each point (unknown -> Fraction), or None when outside the grammar.

    >>> evaluate(r"2\sqrt{2}", [{}]) == evaluate(r"\sqrt{8}", [{}])
    True
    """
    toks = tokens(text)
    return None if toks is None else _evaluate_tokens(toks, points)


def _evaluate_tokens(toks: list[str], points: list[dict]) -> list | None:
    try:
        return [_Parser(toks, point).parse() for point in points]
    except (_Abort, KeyError, ZeroDivisionError, ValueError, OverflowError, RecursionError):
        return None


def _at_random_points(a: str, b: str, count: int, salt: str = "") -> tuple[list, list, list[str]] | None:
    """The exact values of ``a`` and ``b`` at ``count`` random rational points for their unknowns (seeded by
    ``salt`` and the unknowns' names, so a verdict is reproducible), and those names; None outside the grammar."""
    ta, tb = tokens(a), tokens(b)
    if ta is None or tb is None:
        return None
    names = sorted(unknowns(ta) | unknowns(tb))
    rng = random.Random(salt + ",".join(names))
    points = [{n: Fraction(rng.randrange(10**6, 10**9), rng.randrange(1, 10**3)) for n in names}
              for _ in range(count)]
    va, vb = _evaluate_tokens(ta, points), _evaluate_tokens(tb, points)
    return None if va is None or vb is None else (va, vb, names)


def same_value(a: str, b: str) -> bool | None:
    r"""Are two expressions equal? Exact at two random rational points for the unknowns (polynomial identity
    testing: unequal rational functions agree at a random point with probability ~1e-15). ``True`` when they
    agree. ``False`` when they differ and every letter stands alone (``2x-3`` vs ``2x+3``, ``\pi`` vs ``3.14``):
    distinct rational functions, or a transcendental constant against a rational, are unequal everywhere.
    ``None`` (undecided: SymPy decides) when a run of letters could be read another way there (``pi``, ``ab``,
    ``xy``: a constant, a word, a product), so no misreading here can pre-empt SymPy with "not equal".

    >>> same_value("(x+1)^2", "x^2+2x+1"), same_value(r"\frac{1}{2004!}", r"\frac{1}{2006!}")
    (True, False)
    >>> same_value("pi/2", r"\frac{\pi}{2}"), same_value("x+1", "x+2"), same_value("ab", "a+b") is None
    (True, False, True)
    """
    values = _at_random_points(a, b, 2)
    if values is None:
        return None
    va, vb, _ = values
    if va == vb:
        return True
    return None if _LETTER_RUN.search(a) or _LETTER_RUN.search(b) else False


def proportional(a: str, b: str) -> bool | None:
    r"""Is ``a`` a nonzero constant times ``b`` (the two sides ``lhs - rhs`` of two equations)? ``True`` when
    ``a(P) b(P0) = a(P0) b(P)`` at two random points P beside a random P0 (polynomial identity testing, as in
    ``same_value``); ``False`` when that fails and every letter is an unknown for SymPy too (no ``e``, ``\pi``
    or run of letters); ``None`` when either is outside the grammar, has no unknown, or is zero at P0.

    >>> proportional("(y)-(2x+1)", "(2x-y+1)-(0)"), proportional("(x+2y)-(4)", "(2x+4y)-(6)")
    (True, False)
    >>> proportional(r"(e x)-(1)", r"(x)-(\frac{1}{e})") is None  # e is a constant there: the ratio is e
    True
    """
    values = _at_random_points(a, b, 3, salt="=")
    if values is None or not values[2]:
        return None
    va, vb, names = values
    if not va[0] or not vb[0]:
        return None
    try:
        if all(_mul(va[k], vb[0]) == _mul(va[0], vb[k]) for k in (1, 2)):
            return True
    except _Abort:
        return None
    constants = {"e", "pi"} & set(names)
    return None if constants or _LETTER_RUN.search(a) or _LETTER_RUN.search(b) else False
