"""Decides symbolic equality with SymPy (expressions, equations, inequalities, intervals, sets, tuples, matrices).
Runs only in worker processes; it must never call a decimal equal to another exact value, never guess (``None``:
undecided), and never turn a broken dependency into "not equal" (unexpected exceptions propagate)."""

from __future__ import annotations

import contextvars
import logging
import math
import re
from dataclasses import dataclass
from functools import lru_cache

import sympy
from sympy import Basic, FiniteSet, Interval, MatrixBase, Tuple
from sympy.core.function import AppliedUndef
from sympy.core.relational import Relational
from sympy.parsing.sympy_parser import TokenError
from sympy.polys.polyerrors import PolynomialError

from rewards.answers import latex_reader, numbers
from rewards.answers.normalize import MACHINE_FLOAT_TOLERANCE, Answer, against_printed_float
from rewards.answers.probe import numerically_equal
from rewards.answers.size_guard import too_big

log = logging.getLogger(__name__)

# set while the gold is a machine-printed float: numbers then compare within this relative tolerance
_TOLERANCE: contextvars.ContextVar[float | None] = contextvars.ContextVar("tolerance", default=None)
MAX_EXPANDED_TERMS = 400  # ``expand`` only runs when the expanded form has at most this many terms
_DECIMAL = re.compile(r"(?<![\d.\\a-zA-Z])(\d*)\.(\d+)(?![\d.])")
_SAFE_TEXT = re.compile(r"^[\w\s+\-*/^(),=<>!]*$")
_WORD = re.compile(r"[A-Za-z_]\w*")
_ALLOWED_WORDS = {"sqrt", "pi", "exp", "log", "ln", "sin", "cos", "tan", "oo", "I", "E", "e", "i", "abs"}
_PLAIN_FUNCTION = re.compile(r"(?<![\\a-zA-Z])(?:sqrt|pi|sin|cos|tan|log|ln|exp)(?![a-zA-Z])")
_UNSUPPORTED = re.compile(r"\\(?:lim|sum|prod|int)(?![a-zA-Z])")
# What the readers raise on text they cannot read. latex2sympy's own syntax errors are plain ``Exception``s
# (matched by exact type in ``_from_latex``); anything else (ImportError, AttributeError, ...) propagates.
_PARSE_ERRORS = (ArithmeticError, ValueError, TypeError, NotImplementedError, IndexError, KeyError, RecursionError,
                 PolynomialError)
_TEXT_PARSE_ERRORS = (*_PARSE_ERRORS, SyntaxError, TokenError)
_CONSTANTS = {sympy.Symbol("i"): sympy.I, sympy.Symbol("e"): sympy.E, sympy.Symbol("pi"): sympy.pi}
_NOT_MINE = object()  # a comparator's answer when the pair is not its kind; ``equal`` tries the next one


@dataclass(frozen=True)
class Group:
    r"""A comma list as written: ``kind`` is ``"set"`` (``\{a, b\}``), ``"list"`` (bare ``a, b``) or its
    brackets (``"()"``, ``"[]"``, ``"(]"``, ``"[)"``: a tuple or an interval), ``items`` the parsed entries."""

    kind: str
    items: tuple


def compare(pred: Answer, gold: Answer) -> bool | None:
    r"""Is ``pred`` mathematically equal to ``gold``? ``True``/``False`` when decided; ``None`` when undecided:
    either side does not parse (see ``parses``) or neither numbers nor SymPy could settle it. Exceptions other
    than the readers' parse errors propagate (the worker reports them as "error").

    >>> from rewards.answers.normalize import normalize
    >>> compare(normalize(r"\frac{\sqrt{3}}{2}"), normalize(r"\frac{\sqrt3}{2}"))
    True
    >>> compare(normalize("x=3"), normalize("3")), compare(normalize(r"\{1,2\}"), normalize("(1,2)"))
    (True, False)
    >>> compare(normalize(r"\frac{1}{"), normalize("2")) is None
    True
    """
    if pred.unit and gold.unit and pred.unit != gold.unit:
        return False
    a, b = parse(pred.text), parse(gold.text)
    if a is None or b is None:
        return None
    close = against_printed_float(pred, gold)
    token = _TOLERANCE.set(MACHINE_FLOAT_TOLERANCE if close else None)
    try:
        return _any(equal(x, y) for x in _percent_forms(a, pred, gold) for y in _percent_forms(b, gold, pred))
    finally:
        _TOLERANCE.reset(token)


def parses(text: str) -> bool:
    r"""Can ``text`` (a normalized answer) be read at all? ``False`` for guarded sizes and unreadable text.

    >>> parses(r"\frac{x}{2}"), parses("9**9**9**9"), parses(r"\frac{1}{")
    (True, False, False)
    """
    return parse(text) is not None


def _percent_forms(obj, answer: Answer, other: Answer) -> list:
    if answer.percent and not other.percent and isinstance(obj, sympy.Expr):
        return [obj, obj / 100]
    return [obj]


@lru_cache(maxsize=4096)
def parse(text: str):
    """SymPy object (or ``Group``) for a normalized answer, or None (decimals become exact fractions first)."""
    if not text or ":" in text or too_big(text) or _UNSUPPORTED.search(text):
        return None
    text = numbers.unwrap_doubled(text)  # ``((1, 2))`` is the tuple ``(1, 2)``, as in-process
    group = _group(text)
    if group is not _NOT_MINE:
        return group
    for joiner, combine in (("\\lor", sympy.Or), ("\\land", sympy.And)):
        if joiner in text:
            parts = [parse(part) for part in text.split(joiner)]
            return None if any(p is None or not _is_relation(p) for p in parts) else combine(*parts)
    readers = (_from_text, _from_latex) if _PLAIN_FUNCTION.search(text) else (_from_latex, _from_text)
    for reader in readers:
        obj = reader(text)
        if obj is not None:
            obj = _tidy(obj)
            return None if obj is None or obj.has(sympy.zoo, sympy.nan) or _differentiates_unknown(obj) else obj
    return None


def _differentiates_unknown(obj) -> bool:
    r"""A derivative of a letter it does not name as a variable (``\frac{dy}{dx}``, ``\frac{\partial f}{\partial x}``):
    latex2sympy reads the letter as a constant and the derivative as 0, so such a formula is no value to compare."""
    return isinstance(obj, Basic) and any(
        derivative.expr.free_symbols - set(derivative.variables) for derivative in obj.atoms(sympy.Derivative))


def _group(text: str):
    """A ``Group`` for a bracketed or bare comma list (None if an entry does not parse), else ``_NOT_MINE``."""
    kind, inner = numbers.bracketed(text)
    if kind is None:
        kind, inner = "list", text
    items = numbers.split_top(inner)
    if items is None:
        return None
    if len(items) < (1 if kind == "set" else 2):
        return _NOT_MINE
    parsed = tuple(parse(item.strip()) for item in items)
    return None if any(item is None for item in parsed) else Group(kind, parsed)


def _exact_decimals(text: str, latex: bool) -> str:
    r"""``0.125`` -> ``\frac{125}{1000}`` (or ``(125/1000)`` for the text reader): a decimal is its exact value."""
    def fraction(match: re.Match) -> str:
        numerator, denominator = (match.group(1) + match.group(2)).lstrip("0") or "0", "1" + "0" * len(match.group(2))
        return f"\\frac{{{numerator}}}{{{denominator}}}" if latex else f"({numerator}/{denominator})"

    return _DECIMAL.sub(fraction, text)


_SIDE_BY_SIDE = re.compile(r"\\(?:left|right)(?=[()\[\]])")  # ``\left(`` is ``(`` for the library
_NUMERIC_COMMAND = re.compile(r"\\(?:frac|dfrac|tfrac|cdot|times|div|sqrt)(?![a-zA-Z])")
_FACTOR_COMMAND = re.compile(r"\\(?:frac|dfrac|tfrac|binom)(?![a-zA-Z])")  # commands that may build a number


def products_as_written(latex: str) -> str:
    r"""A product of bracketed factors, spelled so latex2sympy reads it as a product: a bracketed number written
    beside another factor gets the exponent 1 (``(2)(3)`` -> ``(2)^{1}(3)^{1}``; the same value).

    latex2sympy reads an integer and a positive rational written side by side as a mixed number (its rule for
    ``2\frac{1}{2}`` = 5/2), whatever their spelling, so there ``(1)(1)`` is 2, ``2(3)`` is 5 and
    ``2(\frac{1}{2})`` is 5/2; a power is neither, so the rule no longer applies. ``2\frac{1}{2}`` (no bracket)
    stays a mixed number, and a bracket with a letter, a comma, a script or a call before it is left as written.

    >>> products_as_written(r"(1)(1)"), products_as_written(r"2(\frac{1}{2})"), products_as_written(r"2\frac{1}{2}")
    ('(1)^{1}(1)^{1}', '2(\\frac{1}{2})^{1}', '2\\frac{1}{2}')
    >>> products_as_written("(x+1)(x-1)"), products_as_written("f(2)(3)"), products_as_written("[2][3]")
    ('(x+1)(x-1)', 'f(2)(3)^{1}', '[2]^{1}[3]^{1}')
    """
    if "(" not in latex and "[" not in latex:
        return latex
    text = _SIDE_BY_SIDE.sub("", latex)
    closes = [close for opening, close in _bracket_pairs(text) if _numeric_factor(text, opening, close)]
    if not closes:
        return latex
    for close in sorted(closes, reverse=True):
        text = text[:close + 1] + "^{1}" + text[close + 1:]
    return text


def _bracket_pairs(text: str) -> list[tuple[int, int]]:
    """``(opening, closing)`` indices of the matched ``( )`` and ``[ ]`` pairs (``\\{``, ``[1, 2)`` are none)."""
    pairs, stack = [], []
    for index, char in enumerate(text):
        if char in "([" and text[index - 1:index] != "\\":
            stack.append(index)
        elif char in ")]" and stack:
            opening = stack.pop()
            if text[opening] + char in ("()", "[]"):
                pairs.append((opening, index))
    return pairs


def _numeric_factor(text: str, opening: int, close: int) -> bool:
    """Is the bracket a number (no letter, no comma) written beside another factor, with no script after it?"""
    inside = _NUMERIC_COMMAND.sub("", text[opening + 1:close])
    if "," in inside or re.search(r"[a-zA-Z\\]", inside):
        return False
    before, after = text[:opening].rstrip(), text[close + 1:].lstrip()
    if after[:1] in ("^", "_", "!", "'") or re.search(r"(?:[a-zA-Z]|\\sqrt)$", before):
        return False  # a power, a call's argument (``f(2)``), the index of ``\sqrt[3]``
    return _ends_factor(before) or bool(re.match(r"[\d(\[]", after) or _FACTOR_COMMAND.match(after))


def _ends_factor(before: str) -> bool:
    r"""Does ``before`` end with a factor (a number, a bracket, a braced argument), not with a script?"""
    if re.search(r"[)\]]$", before):
        return True
    digits = re.search(r"\d+$", before)
    if digits:
        return not before[:digits.start()].endswith(("^", "_"))
    if not before.endswith("}"):
        return False
    depth = 0
    for index in range(len(before) - 1, -1, -1):
        depth += (before[index] == "}") - (before[index] == "{")
        if depth == 0:
            return not before[:index].endswith(("^", "_"))
    return False


@lru_cache(maxsize=1)
def _latex_reader():
    """latex2sympy (two-stage parsing, ``latex_reader``) and its options, checked once against the API we call."""
    return latex_reader.make_reader()


def _from_latex(text: str):
    read, options = _latex_reader()
    try:
        return read(products_as_written(_exact_decimals(text, latex=True)), **options)
    except _PARSE_ERRORS as error:
        log.debug("latex2sympy cannot read %r: %r", text, error)
        return None
    except Exception as error:
        if type(error) is not Exception:  # latex2sympy's syntax errors are plain Exceptions; others are bugs
            raise
        log.debug("latex2sympy cannot read %r: %s", text, str(error).split("\n")[0])
        return None


def _from_text(text: str):
    text = _exact_decimals(text, latex=False)
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
    except _TEXT_PARSE_ERRORS as error:
        log.debug("parse_expr cannot read %r: %r", text, error)
        return None


def _tidy(obj):
    """``i``/``e``/``pi`` spelled as letters become the constants, floats their exact decimal value, and
    ``\\%`` wrappers are evaluated; a list becomes a ``Tuple``. None where that leaves no value (``0 < i``: SymPy
    cannot order a non-real number)."""
    if isinstance(obj, (list, tuple)):
        items = [_tidy(o) for o in obj]
        return None if any(item is None for item in items) else Tuple(*items)
    if not isinstance(obj, (Basic, MatrixBase)):
        return None
    replacements = {k: v for k, v in _CONSTANTS.items() if k in obj.free_symbols}
    replacements.update({f: sympy.Rational(str(f)) for f in obj.atoms(sympy.Float)})
    try:
        obj = obj.xreplace(replacements) if replacements else obj
    except TypeError as error:  # a relation re-evaluated with a constant it cannot compare
        log.debug("no value for %s: %r", obj, error)
        return None
    return obj.doit() if isinstance(obj, Basic) and obj.has(sympy.UnevaluatedExpr) else obj


def equal(a, b) -> bool | None:
    """One comparator per kind, dispatched on the pair of types; two different kinds are not equal."""
    for comparator in (_groups, _matrices, _relations, _sets, _tuples, _exprs):
        verdict = comparator(a, b)
        if verdict is not _NOT_MINE:
            return verdict
    return False


def _any(verdicts) -> bool | None:
    """True if any verdict is True; else None if any is undecided; else False."""
    undecided = False
    for verdict in verdicts:
        if verdict is True:
            return True
        undecided = undecided or verdict is None
    return None if undecided else False


def _all(verdicts) -> bool | None:
    """False if any verdict is False; else None if any is undecided; else True."""
    undecided = False
    for verdict in verdicts:
        if verdict is False:
            return False
        undecided = undecided or verdict is None
    return None if undecided else True


def _groups(a, b):
    if not (isinstance(a, Group) or isinstance(b, Group)):
        return _NOT_MINE
    if isinstance(a, Group) and isinstance(b, Group):
        return _groups_equal(a, b)
    group, other = (a, b) if isinstance(a, Group) else (b, a)
    if isinstance(other, sympy.Set) or _is_relation(other):
        as_set = _group_as_set(group)
        return None if as_set is None else equal(as_set, other)
    if group.kind == "set" and len(group.items) == 1:  # ``\{5\}`` is the answer 5
        return equal(group.items[0], other)
    return False


def _groups_equal(a: Group, b: Group) -> bool | None:
    r"""Sets and bare lists unordered; tuples and intervals ordered, same brackets; a bare list is also a tuple."""
    if a.kind in ("set", "list") and b.kind in ("set", "list"):
        return _unordered_equal(a.items, b.items)
    if a.kind != b.kind and {a.kind, b.kind} != {"list", "()"}:
        return False
    return len(a.items) == len(b.items) and _all(equal(x, y) for x, y in zip(a.items, b.items, strict=True))


def _group_as_set(group: Group):
    """``\\{1, 2\\}`` as a FiniteSet (``x=2, x=-2`` as {2, -2}), ``(2, \\infty)`` as an Interval; None when
    that is not a set."""
    if group.kind in ("set", "list"):
        values = [_assigned_value(item) if isinstance(item, sympy.Eq) else item for item in group.items]
        return FiniteSet(*values) if all(isinstance(v, sympy.Expr) for v in values) else None
    if not all(isinstance(item, sympy.Expr) for item in group.items):
        return None
    if len(group.items) != 2:
        return None
    try:
        return Interval(*group.items, left_open=group.kind[0] == "(", right_open=group.kind[1] == ")")
    except (ValueError, TypeError):  # complex or non-comparable ends
        return None


def _unordered_equal(xs, ys) -> bool | None:
    """Same members both ways: every x equals some y and every y some x (tri-state)."""
    table = [[equal(x, y) for y in ys] for x in xs]
    rows = [_any(row) for row in table]
    columns = [_any(column) for column in zip(*table, strict=True)] if table else []
    return _all(rows + columns) if xs and ys else not xs and not ys


def _matrices(a, b):
    if not (isinstance(a, MatrixBase) or isinstance(b, MatrixBase)):
        return _NOT_MINE
    if not (isinstance(a, MatrixBase) and isinstance(b, MatrixBase)) or a.shape != b.shape:
        return False
    return _all(equal(x, y) for x, y in zip(a, b, strict=True))


def _relations(a, b):
    if not (_is_relation(a) or _is_relation(b)):
        return _NOT_MINE
    if isinstance(a, sympy.Eq) and isinstance(b, sympy.Eq):
        return _equations_equal(a, b)
    if isinstance(a, sympy.Eq) or isinstance(b, sympy.Eq):
        eq, other = (a, b) if isinstance(a, sympy.Eq) else (b, a)
        value = _assigned_value(eq)
        return False if value is None else equal(value, other)
    return _as_sets_equal(a, b)


def _is_relation(x) -> bool:
    return isinstance(x, (Relational, sympy.And, sympy.Or))


def _assigned_value(eq: sympy.Eq):
    r"""``x = 3`` -> 3, ``g(x) = 2x+1`` -> 2x+1, ``AB = 5`` -> 5: the side opposite a lone symbol, a function
    call or a named geometric quantity (as ``numbers`` reads them)."""
    lhs, rhs = eq.lhs, eq.rhs
    if isinstance(lhs, (sympy.Symbol, AppliedUndef)) and not rhs.has(lhs):
        return rhs
    if _names_quantity(lhs) and not rhs.free_symbols & lhs.free_symbols:
        return rhs
    if isinstance(rhs, sympy.Symbol) and rhs not in lhs.free_symbols and not lhs.free_symbols:
        return lhs
    return None


_ANGLE_WORDS = {"angle", "measuredangle"}


def _names_quantity(expr) -> bool:
    r"""``AB``, ``[ABC]``, ``\angle ABC``, ``m\angle A`` as latex2sympy reads them: a product of 2-3 points
    (capital letters), or of 1-3 points after ``\angle`` (optionally ``m``)."""
    if not isinstance(expr, sympy.Mul) or not all(isinstance(f, sympy.Symbol) for f in expr.args):
        return False
    names = [f.name for f in expr.args]
    points = [n for n in names if len(n) == 1 and n.isupper()]
    words = set(names) - set(points)
    if not words:
        return 2 <= len(points) <= 3
    return words & _ANGLE_WORDS != set() and words <= _ANGLE_WORDS | {"m"} and 1 <= len(points) <= 3


def _equations_equal(a: sympy.Eq, b: sympy.Eq) -> bool | None:
    r"""Two assignments compare their values (``g(x) = 2x+1`` = ``y = 2x+1``); otherwise, or when the values
    differ under different names, the equations are equal when ``(lhs - rhs) / (lhs' - rhs')`` is a nonzero
    constant (``2x+4y=8`` = ``x+2y=4``; ``y = 2x+1`` = ``x = (y-1)/2``)."""
    va, vb = _assigned_value(a), _assigned_value(b)
    if va is not None and vb is not None:
        verdict = equal(va, vb)
        if verdict is True or a.lhs == b.lhs or isinstance(a.lhs, AppliedUndef) or isinstance(b.lhs, AppliedUndef):
            return verdict  # a function's definition is its value; ``y = 2x+1`` may also be ``x = (y-1)/2``
    p, q = a.lhs - a.rhs, b.lhs - b.rhs
    if p == 0 or q == 0:
        return p == q
    return _constant_ratio(p, q)


def _constant_ratio(p: sympy.Expr, q: sympy.Expr) -> bool | None:
    """Is ``p / q`` a nonzero constant? ``cancel`` settles rational functions; otherwise the ratio is probed
    against its own value at a fixed point (``\\sin^2 x = 1 - \\cos^2 x`` vs ``\\sin^2 x + \\cos^2 x = 2 - \\cos^2 x``)."""
    try:
        ratio = sympy.cancel(p / q)
    except PolynomialError:
        return None
    unknowns = sorted(ratio.free_symbols, key=str)
    if not unknowns:
        return ratio != 0 and ratio.is_finite is True
    if ratio.is_rational_function(*unknowns):
        return False  # in lowest terms and not constant
    at_point = ratio.xreplace({u: sympy.Rational(7 + 2 * k, 10) for k, u in enumerate(unknowns)})
    if not at_point.is_number or at_point == 0 or _unbounded(at_point) or abs(sympy.N(at_point, 30)) < 1e-20:
        return None  # zero at the point: ``p`` may be identically 0 (``\sin^2 x + \cos^2 x = 1``), a ratio of 0
    return numerically_equal(ratio, at_point)


def _as_sets_equal(a, b) -> bool | None:
    if not (_has_set(a) and _has_set(b)):  # before any solving: ``x \ne 5`` against ``5`` is no set comparison
        return None
    x, y = _as_set(a), _as_set(b)
    return None if x is None or y is None else _set_equal(x, y)


def _has_set(obj) -> bool:
    """A set, or a relation in one unknown (not of an unknown function's value: ``0<f(x)<1`` is no set of x)."""
    if isinstance(obj, sympy.Set):
        return True
    return _is_relation(obj) and len(obj.free_symbols) == 1 and not obj.atoms(AppliedUndef)


def _as_set(obj):
    if isinstance(obj, sympy.Set):
        return obj
    if not _has_set(obj):
        return None
    simple = _interval_of(obj)
    if simple is not None:
        return simple
    try:
        return obj.as_set()  # SymPy's inequality solver: correct but slow (0.1-0.5 s)
    except (NotImplementedError, TypeError, ValueError) as error:
        log.debug("no set for %s: %r", obj, error)
    return None


def _interval_of(relation):
    r"""``x > 3``, ``-2 \le x \le 2``, ``x < -2 \lor x > 3``, ``x \ne 3``: the interval (or union) of a lone
    symbol compared with real constants, without the solver; None for anything else (``|x| \le 2``)."""
    if isinstance(relation, (sympy.And, sympy.Or)):
        parts = [_interval_of(arg) for arg in relation.args]
        if any(part is None for part in parts):
            return None
        return sympy.Intersection(*parts) if isinstance(relation, sympy.And) else sympy.Union(*parts)
    if isinstance(relation, sympy.Ne):  # ``x \ne 3``: everything but 3
        lone, point = (relation.lhs, relation.rhs) if isinstance(relation.lhs, sympy.Symbol) else \
            (relation.rhs, relation.lhs)
        if isinstance(lone, sympy.Symbol) and point.is_number and point.is_extended_real and point.is_finite:
            return sympy.Union(Interval.open(-sympy.oo, point), Interval.open(point, sympy.oo))
        return None
    if not isinstance(relation, (sympy.StrictLessThan, sympy.LessThan, sympy.StrictGreaterThan, sympy.GreaterThan)):
        return None
    low, high = (relation.lhs, relation.rhs) if isinstance(relation, (sympy.StrictLessThan, sympy.LessThan)) \
        else (relation.rhs, relation.lhs)
    strict = isinstance(relation, (sympy.StrictLessThan, sympy.StrictGreaterThan))
    if isinstance(low, sympy.Symbol) and high.is_number and high.is_extended_real:
        return Interval(-sympy.oo, high, right_open=strict)
    if isinstance(high, sympy.Symbol) and low.is_number and low.is_extended_real:
        return Interval(low, sympy.oo, left_open=strict)
    return _linear_interval(high - low, strict)


def _linear_interval(difference: sympy.Expr, strict: bool):
    r"""The set where ``difference > 0`` (``>= 0`` unless ``strict``) when it is ``a x + b`` with real numbers
    ``a != 0`` and ``b``: ``-x > -1`` is ``x < 1``, ``2x+1 \le 5`` is ``x \le 2`` (what ``as_set`` finds, without
    its solver); None for anything else."""
    unknowns = difference.free_symbols
    if len(unknowns) != 1:
        return None
    unknown = next(iter(unknowns))
    try:
        poly = sympy.Poly(difference, unknown)
    except PolynomialError:
        return None
    if poly.degree() != 1 or not all(c.is_number and c.is_extended_real for c in poly.all_coeffs()):
        return None
    slope, intercept = poly.all_coeffs()
    edge = -intercept / slope
    if slope.is_positive:
        return Interval(edge, sympy.oo, left_open=strict)
    return Interval(-sympy.oo, edge, right_open=strict) if slope.is_negative else None


def _set_equal(x: sympy.Set, y: sympy.Set) -> bool | None:
    if x == y:
        return True
    if isinstance(x, FiniteSet) and isinstance(y, FiniteSet):
        return _unordered_equal(list(x), list(y))
    if isinstance(x, Interval) and isinstance(y, Interval):
        if (x.left_open, x.right_open) != (y.left_open, y.right_open):
            return False
        return _all((_ends_equal(x.start, y.start), _ends_equal(x.end, y.end)))
    try:
        empties = [sympy.Complement(x, y).is_empty, sympy.Complement(y, x).is_empty]
    except (NotImplementedError, TypeError, ValueError) as error:
        log.debug("cannot compare sets %s, %s: %r", x, y, error)
        return None
    return False if False in empties else True if all(empties) else None


def _ends_equal(a, b) -> bool | None:
    if a == b:
        return True
    if not (a.is_finite and b.is_finite):
        return False
    return expr_equal(a, b)


def _sets(a, b):
    if not (isinstance(a, sympy.Set) or isinstance(b, sympy.Set)):
        return _NOT_MINE
    if isinstance(a, sympy.Set) and isinstance(b, sympy.Set):
        return _set_equal(a, b)
    one, other = (a, b) if isinstance(a, sympy.Set) else (b, a)
    if isinstance(one, FiniteSet) and len(one) == 1 and isinstance(other, sympy.Expr):
        return equal(next(iter(one)), other)
    return False


def _tuples(a, b):
    if not (isinstance(a, Tuple) or isinstance(b, Tuple)):
        return _NOT_MINE
    if isinstance(a, Tuple) and isinstance(b, Tuple):
        return len(a) == len(b) and _all(equal(x, y) for x, y in zip(a, b, strict=True))
    return False


def _exprs(a, b):
    if not (isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr)):
        return _NOT_MINE
    return expr_equal(a, b)


def expr_equal(a: sympy.Expr, b: sympy.Expr) -> bool | None:
    r"""Cheapest first: the same canonical form, two different rationals, the same ``expand`` (when small),
    then ``probe.numerically_equal`` (decides almost everything), and ``simplify`` only when it cannot.
    ``\infty`` equals only itself.

    >>> x = sympy.Symbol("x")
    >>> expr_equal((x + 1)**2, x**2 + 2*x + 1), expr_equal(sympy.sqrt(x**2), x), expr_equal(sympy.pi, sympy.Rational(314, 100))
    (True, False, False)
    """
    if a == b:
        return True
    tolerance = _TOLERANCE.get()
    if tolerance is not None and not a.free_symbols and not b.free_symbols:
        return _close(a, b, tolerance)  # against a gold a program printed as a float (``4.64257581030492``)
    if _unbounded(a) or _unbounded(b) or (a.is_Rational and b.is_Rational):
        return False
    if _expansion_terms(a) + _expansion_terms(b) <= MAX_EXPANDED_TERMS and sympy.expand(a - b) == 0:
        return True
    verdict = numerically_equal(a, b)
    if verdict is not None:
        return verdict
    return True if sympy.simplify(a - b) == 0 else None


def _close(a: sympy.Expr, b: sympy.Expr, tolerance: float) -> bool | None:
    """``|a - b| <= tolerance * max(1, |b|)`` at 30 digits, complex values too; ``None`` when either has no value."""
    try:
        x, y = complex(sympy.N(a, 30)), complex(sympy.N(b, 30))
    except (TypeError, ValueError):
        return None
    return abs(x - y) <= tolerance * max(1.0, abs(y))


def _unbounded(expr: sympy.Expr) -> bool:
    return bool(expr.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan))


def _expansion_terms(expr: sympy.Expr) -> int:
    """How many terms ``expand`` would write: sums add, products multiply, ``(a+b+...)^n`` is multinomial."""
    if expr.is_Add:
        return sum(_expansion_terms(term) for term in expr.args)
    if expr.is_Mul:
        return math.prod(_expansion_terms(factor) for factor in expr.args)
    if expr.is_Pow and expr.exp.is_Integer and expr.base.is_Add:
        n, k = abs(int(expr.exp)), _expansion_terms(expr.base)
        return math.comb(n + k - 1, n) if n * k < 10_000 else MAX_EXPANDED_TERMS + 1
    return 1
