"""Decides symbolic equality with SymPy (expressions, equations, inequalities, intervals, sets, tuples, matrices).
Runs only in worker processes (SymPy may hang); it must never call a decimal equal to another exact value, nor guess."""

from __future__ import annotations

import re
from functools import lru_cache

import sympy
from sympy import Basic, FiniteSet, Interval, MatrixBase, Tuple
from sympy.core.function import AppliedUndef
from sympy.core.relational import Relational

from rewards.answers.normalize import Answer

_DECIMAL = re.compile(r"(?<![\d.\\a-zA-Z])(\d*)\.(\d+)(?![\d.])")
_SAFE_TEXT = re.compile(r"^[\w\s+\-*/^().,=<>!]*$")
_WORD = re.compile(r"[A-Za-z_]\w*")
_ALLOWED_WORDS = {"sqrt", "pi", "exp", "log", "ln", "sin", "cos", "tan", "oo", "I", "E", "e", "i", "abs"}
MAX_CHARS = 600
MAX_DEPTH = 24
_PLAIN_FUNCTION = re.compile(r"(?<![\\a-zA-Z])(?:sqrt|pi|sin|cos|tan|log|ln|exp)(?![a-zA-Z])")
_HUGE = re.compile(r"\^\s*\{?\s*[-+(]*\s*\d+\s*\^|\^\s*\{?\s*\d{5,}|\d{4,}\s*!|\\(?:lim|sum|prod|int)\b")
# Comparators return ``_UNKNOWN`` when the kinds do not match; ``compare`` then falls through.
_UNKNOWN = None


def compare(pred: Answer, gold: Answer) -> bool:
    r"""Is ``pred`` mathematically equal to ``gold``? False when either does not parse.

    >>> from rewards.answers.normalize import normalize
    >>> compare(normalize(r"\frac{\sqrt{3}}{2}"), normalize(r"\frac{\sqrt3}{2}"))
    True
    >>> compare(normalize("x=3"), normalize("3"))
    True
    """
    if pred.unit and gold.unit and pred.unit != gold.unit:
        return False
    a, b = parse(pred.text), parse(gold.text)
    if a is None or b is None:
        return False
    return any(equal(x, y) for x in _percent_forms(a, pred, gold) for y in _percent_forms(b, gold, pred))


def _percent_forms(obj, answer: Answer, other: Answer) -> list:
    if answer.percent and not other.percent and isinstance(obj, sympy.Expr):
        return [obj, obj / 100]
    return [obj]


@lru_cache(maxsize=4096)
def parse(text: str):
    """SymPy object for a normalized answer, or None (decimals become exact fractions first)."""
    if not text or len(text) > MAX_CHARS or _HUGE.search(text) or _depth(text) > MAX_DEPTH:
        return None
    if ":" in text:
        return None
    exact = _DECIMAL.sub(lambda m: r"\frac{" + (m.group(1) + m.group(2)).lstrip("0").rjust(1, "0") + "}{1"
                         + "0" * len(m.group(2)) + "}", text)
    for joiner, combine in (("\\lor", sympy.Or), ("\\land", sympy.And)):
        if joiner in exact:
            parts = [parse(part) for part in exact.split(joiner)]
            return None if any(p is None or not _is_relation(p) for p in parts) else combine(*parts)
    readers = (_from_text, _from_latex) if _PLAIN_FUNCTION.search(exact) else (_from_latex, _from_text)
    for reader in readers:
        obj = reader(exact)
        if obj is not None:
            obj = _tidy(obj)
            return None if obj is None or _undefined(obj) else obj
    return None


def _depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        depth += (ch in "({[") - (ch in ")}]")
        deepest = max(deepest, depth)
    return deepest


def _undefined(obj) -> bool:
    try:
        return bool(obj.has(sympy.zoo, sympy.nan))
    except Exception:
        return False


def _from_latex(text: str):
    from latex2sympy2_extended.latex2sympy2 import latex2sympy
    from latex2sympy2_extended.math_normalization import NormalizationConfig

    config = NormalizationConfig(basic_latex=True, units=False, malformed_operators=False, nits=False,
                                 boxed="none", equations=False)
    try:
        return latex2sympy(text, normalization_config=config)
    except Exception:
        return None


def _from_text(text: str):
    if not _SAFE_TEXT.match(text) or "__" in text or any(w not in _ALLOWED_WORDS and len(w) > 1
                                                         for w in _WORD.findall(text)):
        return None
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    transformations = (*standard_transformations, implicit_multiplication_application, convert_xor)
    try:
        return parse_expr(text.replace("ln", "log"), transformations=transformations, evaluate=True)
    except Exception:
        return None


def _tidy(obj):
    """Symbols ``i``/``e``/``pi`` spelled as letters become the constants; ``\\%`` wrappers are evaluated."""
    if isinstance(obj, (list, tuple)):
        return Tuple(*[_tidy(o) for o in obj])
    if not isinstance(obj, (Basic, MatrixBase)):
        return None
    subs = {sympy.Symbol("i"): sympy.I, sympy.Symbol("e"): sympy.E, sympy.Symbol("pi"): sympy.pi}
    try:
        obj = obj.xreplace({k: v for k, v in subs.items() if k in getattr(obj, "free_symbols", ())})
        return obj.doit() if isinstance(obj, Basic) and obj.has(sympy.UnevaluatedExpr) else obj
    except Exception:
        return obj


def equal(a, b) -> bool:
    """One comparator per kind, dispatched on the pair of types."""
    for comparator in (_matrices, _relations, _sets, _tuples, _exprs):
        verdict = comparator(a, b)
        if verdict is not _UNKNOWN:
            return bool(verdict)
    return False


def _exprs(a, b):
    if not (isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr)):
        return _UNKNOWN
    return expr_equal(a, b)


def expr_equal(a: sympy.Expr, b: sympy.Expr) -> bool:
    """Exact equality: a numeric probe rejects fast, then SymPy must prove the difference is zero."""
    if a == b:
        return True
    if a.has(sympy.oo, -sympy.oo, sympy.zoo) or b.has(sympy.oo, -sympy.oo, sympy.zoo):
        return False
    if _numerically_apart(a, b):
        return False
    diff = a - b
    for attempt in (sympy.expand, _expand_logs, sympy.simplify):
        if attempt(diff) == 0:
            return True
    if diff.free_symbols:
        return False
    return diff.equals(0) is True and _numerically_zero(diff, abs(a) + abs(b), digits=60)


def _expand_logs(expr: sympy.Expr) -> sympy.Expr:
    """``log 8 - 3 log 2`` -> 0: logs of products and powers split, then expanded."""
    return sympy.expand(sympy.expand_log(expr, force=True)) if expr.has(sympy.log) else expr


def _numerically_apart(a: sympy.Expr, b: sympy.Expr) -> bool:
    """True when a 30-digit evaluation shows a relative gap (at a shared random point if symbolic)."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    points = [dict(zip(symbols, values, strict=False)) for values in ((0.31, 0.57, 0.73, 0.19), (1.7, 2.3, 0.9, 1.3))]
    for point in points if symbols else [{}]:
        try:
            x, y = a.evalf(30, subs=point), b.evalf(30, subs=point)
            if _relative_gap(x, y) > sympy.Float("1e-20"):
                return True
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
            continue
    return False


def _relative_gap(x, y):
    """|x - y| / max(|x|, |y|) on SymPy floats (no underflow to 0.0 like Python floats)."""
    gap, scale = abs(x - y), max(abs(x), abs(y))
    if not (gap.is_number and scale.is_number) or gap.free_symbols:
        raise TypeError("not numeric")
    if scale == 0:
        return gap
    return gap / scale


def _numerically_zero(diff: sympy.Expr, scale: sympy.Expr, digits: int) -> bool:
    try:
        value, size = abs(diff.evalf(digits)), abs(scale.evalf(digits))
        return bool(value == 0 or value < size * sympy.Float(10) ** (-digits + 10))
    except (TypeError, ValueError):
        return False


def _relations(a, b):
    if not (_is_relation(a) or _is_relation(b)):
        return _UNKNOWN
    if isinstance(a, sympy.Eq) and isinstance(b, sympy.Eq):
        return _equations_equal(a, b)
    if isinstance(a, sympy.Eq) or isinstance(b, sympy.Eq):
        eq, other = (a, b) if isinstance(a, sympy.Eq) else (b, a)
        value = _assigned_value(eq)
        return value is not None and isinstance(other, Basic) and equal(value, other)
    return _as_sets_equal(a, b)


def _is_relation(x) -> bool:
    return isinstance(x, (Relational, sympy.And, sympy.Or))


def _assigned_value(eq: sympy.Eq):
    """``x = 3`` -> 3 and ``y = 2x+1`` -> 2x+1: the side opposite a lone symbol (an assignment)."""
    lhs, rhs = eq.lhs, eq.rhs
    if isinstance(lhs, (sympy.Symbol, AppliedUndef)) and not rhs.has(lhs):
        return rhs
    if isinstance(rhs, sympy.Symbol) and rhs not in lhs.free_symbols and not lhs.free_symbols:
        return lhs
    return None


def _equations_equal(a: sympy.Eq, b: sympy.Eq) -> bool:
    if isinstance(a.lhs, sympy.Symbol) and a.lhs == b.lhs:
        return equal(a.rhs, b.rhs)
    p, q = a.lhs - a.rhs, b.lhs - b.rhs
    if p == 0 or q == 0:
        return p == q
    ratio = sympy.simplify(p / q)
    return not ratio.free_symbols and ratio != 0 and ratio.is_finite is True


def _as_sets_equal(a, b) -> bool:
    x, y = _as_set(a), _as_set(b)
    return x is not None and y is not None and _set_equal(x, y)


def _as_set(obj):
    if isinstance(obj, sympy.Set):
        return obj
    if _is_relation(obj) and len(obj.free_symbols) == 1:
        try:
            return obj.as_set()
        except Exception:
            return None
    return None


def _set_equal(x: sympy.Set, y: sympy.Set) -> bool:
    if x == y:
        return True
    if isinstance(x, FiniteSet) and isinstance(y, FiniteSet):
        return _unordered_equal(list(x), list(y))
    if isinstance(x, Interval) and isinstance(y, Interval):
        return (x.left_open, x.right_open) == (y.left_open, y.right_open) and \
            _ends_equal(x.start, y.start) and _ends_equal(x.end, y.end)
    try:
        return sympy.Complement(x, y).is_empty is True and sympy.Complement(y, x).is_empty is True
    except Exception:
        return False


def _ends_equal(a, b) -> bool:
    return a == b or (a.is_finite and b.is_finite and expr_equal(a, b))


def _unordered_equal(xs: list, ys: list) -> bool:
    return all(any(equal(x, y) for y in ys) for x in xs) and all(any(equal(x, y) for x in xs) for y in ys)


def _sets(a, b):
    if not (isinstance(a, sympy.Set) or isinstance(b, sympy.Set)):
        return _UNKNOWN
    if isinstance(a, sympy.Set) and isinstance(b, sympy.Set):
        return _set_equal(a, b)
    one, other = (a, b) if isinstance(a, sympy.Set) else (b, a)
    if isinstance(one, FiniteSet) and isinstance(other, Tuple):
        return _unordered_equal(list(one), list(other))
    if isinstance(one, FiniteSet) and len(one) == 1 and isinstance(other, sympy.Expr):
        return equal(next(iter(one)), other)
    return False


def _tuples(a, b):
    if not (isinstance(a, Tuple) or isinstance(b, Tuple)):
        return _UNKNOWN
    if isinstance(a, Tuple) and isinstance(b, Tuple):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return False


def _matrices(a, b):
    if not (isinstance(a, MatrixBase) or isinstance(b, MatrixBase)):
        return _UNKNOWN
    if not (isinstance(a, MatrixBase) and isinstance(b, MatrixBase)) or a.shape != b.shape:
        return False
    return all(equal(x, y) for x, y in zip(a, b, strict=True))

