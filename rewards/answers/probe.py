"""Decides equality of two SymPy expressions numerically: exact zero tests for constants, mpmath at random points.
Runs only in worker processes; it must never call equal two values that differ at a point it looked at, nor trust
a precision that the digits written in the answers could fool (``3.14159`` is not ``\\pi``)."""

from __future__ import annotations

import logging
import random
from fractions import Fraction

import mpmath
import sympy
from sympy.core.evalf import PrecisionExhausted
from sympy.core.function import AppliedUndef

log = logging.getLogger(__name__)

CONSTANT_DIGITS = 60  # letter-free values: the gap must stay below 10^-(CONSTANT_DIGITS - 10) relative
POINT_DIGITS = 50  # working precision at each random point (plus twice the digits written in the answers)
MAX_DIGITS = 1000
ZERO_SEARCH_DIGITS = 200  # an exact difference counts as zero once it cancels to this many digits
MIN_VALID = 5  # of the 8 points below, where both sides are finite, needed to call two expressions equal
# Functions that are not holomorphic (or not even continuous): probed at real points only, and agreement
# there never proves equality (``|x - 1000|`` and ``1000 - x`` agree at every small point).
_NOT_HOLOMORPHIC = (sympy.Abs, sympy.sign, sympy.floor, sympy.ceiling, sympy.frac, sympy.re, sympy.im, sympy.arg,
                    sympy.conjugate, sympy.Piecewise, sympy.Min, sympy.Max, sympy.Mod, sympy.Heaviside)
# Not evaluable at a point, or zero almost everywhere (``x + \delta(x)`` would agree with ``x`` everywhere we look).
_NOT_NUMERIC = (AppliedUndef, sympy.Derivative, sympy.Integral, sympy.Sum, sympy.Product, sympy.Limit, sympy.Order,
                sympy.DiracDelta, sympy.KroneckerDelta)
_EVALUATION_ERRORS = (ArithmeticError, ValueError, TypeError, NameError)  # NameError: no mpmath twin of a function
# One kind per point, for every unknown: "+" positive, "-" negative, "±" either, "c" complex (any quadrant).
_HOLOMORPHIC_KINDS = ("+", "+", "-", "-", "c", "c", "c", "c")
_REAL_KINDS = ("+", "-", "+", "-", "±", "±", "+", "-")


def numerically_equal(a: sympy.Expr, b: sympy.Expr) -> bool | None:
    r"""``True``/``False`` when evaluation decides, ``None`` when it cannot (then SymPy must prove it).

    Letter-free: the exact difference must cancel to ``ZERO_SEARCH_DIGITS`` digits and the values agree to
    50 digits; a difference with a known nonzero value is "not equal". With unknowns: both sides at 8 random exact
    points (positive, negative, complex; seeded by the unknowns' names), ``50 + 2 * digits written`` significant
    digits: any point where they differ proves "not equal" (checked again exactly at that point); agreement
    far below the working precision at ``MIN_VALID`` or more points where both are finite means "equal".

    >>> x = sympy.Symbol("x")
    >>> numerically_equal(sympy.sin(2 * x), 2 * sympy.sin(x) * sympy.cos(x))
    True
    >>> numerically_equal(sympy.sqrt(x**2), x), numerically_equal(sympy.Rational(866, 1000), sympy.sqrt(3) / 2)
    (False, False)
    """
    if a.has(*_NOT_NUMERIC) or b.has(*_NOT_NUMERIC):
        return None
    if a.is_number and b.is_number:
        return _constants_equal(a, b)
    return _functions_equal(a, b)


def _constants_equal(a: sympy.Expr, b: sympy.Expr) -> bool | None:
    digits = _working_digits(CONSTANT_DIGITS, a, b)
    zero = is_zero(a - b, ZERO_SEARCH_DIGITS + digits)
    if zero is not True:
        return zero  # False: a nonzero difference; None: not evaluable
    va, vb = _value(a, digits), _value(b, digits)
    if va is None or vb is None:
        return None
    return True if _gap(va, vb) < mpmath.mpf(10) ** (10 - CONSTANT_DIGITS) else None


def is_zero(expr: sympy.Expr, search_digits: int = ZERO_SEARCH_DIGITS) -> bool | None:
    r"""Is a letter-free ``expr`` zero? SymPy's ``evalf`` raises its precision while terms cancel: ``True`` once
    it has cancelled to ``search_digits`` digits, ``False`` with a nonzero value known to 15 digits, else ``None``.

    >>> is_zero(sympy.sqrt(2) * sympy.exp(sympy.I * sympy.pi / 4) - 1 - sympy.I), is_zero(sympy.pi - 3)
    (True, False)
    """
    if expr == 0:
        return True
    try:
        value = expr.evalf(15, maxn=min(search_digits, MAX_DIGITS), strict=True)
    except PrecisionExhausted:
        return True
    except _EVALUATION_ERRORS as error:
        log.debug("cannot evaluate %s: %r", expr, error)
        return None
    if not value.is_number or value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return None
    return value == 0


def _functions_equal(a: sympy.Expr, b: sympy.Expr) -> bool | None:
    unknowns = sorted(a.free_symbols | b.free_symbols, key=str)
    holomorphic = not (a.has(*_NOT_HOLOMORPHIC) or b.has(*_NOT_HOLOMORPHIC))
    digits = _working_digits(POINT_DIGITS, a, b)
    try:
        both = sympy.lambdify(unknowns, (a, b), modules="mpmath", docstring_limit=0)
    except _EVALUATION_ERRORS as error:  # a function the mpmath printer does not know
        log.debug("cannot lambdify %s, %s: %r", a, b, error)
        return None
    agree = 0
    for point in _points(unknowns, holomorphic):
        verdict = _agree_at(both, a - b, unknowns, point, digits)
        if verdict is False:
            return False
        agree += verdict is True
    return True if holomorphic and agree >= MIN_VALID else None


def _agree_at(both, difference: sympy.Expr, unknowns: list, point: list, digits: int) -> bool | None:
    """Do both sides agree at one point? ``None`` where either side is not finite there."""
    with mpmath.workdps(digits):
        try:
            va, vb = (mpmath.mpmathify(v) for v in both(*(_to_mpmath(z) for z in point)))
        except _EVALUATION_ERRORS:
            return None
        if not (mpmath.isfinite(va) and mpmath.isfinite(vb)):
            return None
        if _gap(va, vb) < mpmath.mpf(10) ** (15 - digits):
            return True
    # Apart, or a near-tie lost to rounding (``\sin(\pi x)`` near a root, a branch cut): decide exactly.
    exact = {unknown: sympy.Rational(re) + sympy.I * sympy.Rational(im) for unknown, (re, im) in zip(unknowns, point,
                                                                                                    strict=True)}
    return is_zero(difference.xreplace(exact))


def _points(unknowns: list, holomorphic: bool) -> list[list[tuple[Fraction, Fraction]]]:
    """(real, imaginary) coordinates of size in [0.25, 2.75] per unknown, seeded by the unknowns' names."""
    rng = random.Random(",".join(map(str, unknowns)))

    def size() -> Fraction:
        return Fraction(rng.randint(250, 2750), 1009)

    def coordinate(kind: str, unknown: sympy.Symbol) -> tuple[Fraction, Fraction]:
        if unknown.is_positive:
            kind = "+"
        elif unknown.is_real and kind == "c":
            kind = "±"
        if kind == "c":
            return rng.choice((1, -1)) * size(), rng.choice((1, -1)) * size()
        return size() * (1 if kind == "+" else -1 if kind == "-" else rng.choice((1, -1))), Fraction(0)

    kinds = _HOLOMORPHIC_KINDS if holomorphic else _REAL_KINDS
    return [[coordinate(kind, unknown) for unknown in unknowns] for kind in kinds]


def _to_mpmath(z: tuple[Fraction, Fraction]):
    re, im = (mpmath.mpf(part.numerator) / part.denominator for part in z)
    return re if not im else mpmath.mpc(re, im)


def _value(expr: sympy.Expr, digits: int):
    """``expr`` as an mpmath number, correct to ``digits`` significant digits (SymPy's adaptive ``evalf``)."""
    try:
        re, im = expr.evalf(digits).as_real_imag()
        with mpmath.workdps(digits):
            return mpmath.mpc(mpmath.mpmathify(re), mpmath.mpmathify(im))
    except _EVALUATION_ERRORS:
        return None


def _gap(x, y):
    """|x - y| / max(|x|, |y|), 0 when both are 0."""
    scale = max(abs(x), abs(y))
    return abs(x - y) / scale if scale else mpmath.mpf(0)


def _working_digits(base: int, a: sympy.Expr, b: sympy.Expr) -> int:
    """``base`` plus twice the digits written in both answers: a p/q of D digits can mimic an irrational to 2D."""
    written = sum(len(str(abs(q.p))) + len(str(q.q)) for q in (a.atoms(sympy.Rational) | b.atoms(sympy.Rational)))
    return min(MAX_DIGITS, base + 2 * written)
