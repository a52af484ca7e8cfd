"""Random algebra against SymPy ground truth: equivalent rewrites (expanded, factored) must be equal, perturbed
ones must not; no false "equal" is tolerated (a few false "not equal" are, for exotic spellings). Decimals never
equal irrationals, however many digits they carry."""

import random

import pytest
import sympy
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

from rewards.answers.engine import verify_batch
from rewards.answers.normalize import normalize
from rewards.answers.sympy_compare import compare

X, Y = sympy.symbols("x y")


def _expression(rng: random.Random, depth: int = 0) -> sympy.Expr:
    if depth > 2 or rng.random() < 0.3:
        return rng.choice([X, Y, sympy.Integer(rng.randint(-9, 9)), sympy.Rational(rng.randint(1, 9), rng.randint(2, 9)),
                           sympy.sqrt(rng.choice([2, 3, 5, 8, 12])), sympy.pi, sympy.I])
    a, b = _expression(rng, depth + 1), _expression(rng, depth + 1)
    return rng.choice([a + b, a - b, a * b, a / b if b != 0 else a, a ** rng.randint(2, 3)])


def _pairs(seed: int, count: int):
    rng = random.Random(seed)
    for _ in range(count):
        gold = _expression(rng)
        if rng.random() < 0.5:
            pred = sympy.expand(gold) if rng.random() < 0.5 else sympy.factor(gold)
        else:
            pred = gold + rng.choice([1, -1, sympy.Rational(1, 2), X, sympy.sqrt(2)]) * rng.choice([1, X, Y])
        yield f"$\\boxed{{{sympy.latex(pred)}}}$", sympy.latex(gold), sympy.simplify(gold - pred) == 0


@pytest.mark.parametrize("seed", [1, 2])
def test_random_rewrites_against_sympy(seed):
    rows = list(_pairs(seed, 80))
    verdicts = verify_batch([(pred, gold) for pred, gold, _ in rows], timeout=5.0)
    false_equal = [row for row, verdict in zip(rows, verdicts, strict=True) if verdict and not row[2]]
    false_not_equal = [row for row, verdict in zip(rows, verdicts, strict=True) if not verdict and row[2]]
    assert not false_equal
    assert len(false_not_equal) <= 0.05 * len(rows), false_not_equal


# Property tests straight through the SymPy comparison (in-process here; workers run the same function).
_MONOMIALS = st.lists(st.tuples(st.integers(-9, 9).filter(bool), st.integers(0, 3), st.integers(0, 2)),
                      min_size=1, max_size=4)
_SETTINGS = settings(max_examples=examples(30), suppress_health_check=[HealthCheck.too_slow])
_ONE = [(1, 0, 0)]  # the polynomial 1


def _polynomial(monomials) -> sympy.Expr:
    return sum((c * X**i * Y**j for c, i, j in monomials), sympy.Integer(0))


def _compare(pred: str, gold: str):
    return compare(normalize(pred), normalize(gold))


@_SETTINGS
@given(_MONOMIALS, _MONOMIALS)
@example(_ONE, _ONE)  # issue 15: \left(1\right)\left(1\right) read as the mixed number 1 1 = 2
def test_a_product_of_random_polynomials_equals_its_expansion(p, q):
    p, q = _polynomial(p), _polynomial(q)
    assume(p != 0 and q != 0)
    factored = rf"\left({sympy.latex(p)}\right)\left({sympy.latex(q)}\right)"
    assert _compare(factored, sympy.latex(sympy.expand(p * q))) is True


@_SETTINGS
@given(_MONOMIALS, _MONOMIALS, st.integers(-5, 5).filter(bool), st.integers(0, 4), st.integers(0, 3))
@example(_ONE, _ONE, 1, 0, 0)  # the same misreading made (1)(1) equal to 2
def test_a_perturbed_expansion_is_never_equal(p, q, c, i, j):
    p, q = _polynomial(p), _polynomial(q)
    assume(p != 0 and q != 0)
    factored = rf"\left({sympy.latex(p)}\right)\left({sympy.latex(q)}\right)"
    assert _compare(factored, sympy.latex(sympy.expand(p * q + c * X**i * Y**j))) is False


@_SETTINGS
@given(st.sampled_from([sympy.sqrt(2), sympy.pi, sympy.E, sympy.sqrt(3) / 2, sympy.log(2), sympy.pi**2 / 6]),
       st.integers(2, 60), st.booleans())
def test_a_decimal_is_never_equal_to_an_irrational(constant, digits, rounded):
    scaled = constant * 10**digits
    decimal = sympy.Integer(sympy.floor(scaled + sympy.Rational(1, 2)) if rounded else sympy.floor(scaled))
    whole, fraction = divmod(int(decimal), 10**digits)
    assert _compare(f"{whole}.{fraction:0{digits}d}", sympy.latex(constant)) is False


@_SETTINGS
@given(_MONOMIALS, st.integers(5, 45))
def test_a_tiny_perturbation_is_still_a_difference(p, k):
    p = _polynomial(p)
    assume(p.free_symbols)
    assert _compare(sympy.latex(p), rf"{sympy.latex(p)} + 10^{{-{k}}} x") is False
