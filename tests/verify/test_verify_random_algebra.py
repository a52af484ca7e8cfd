"""Random algebra against SymPy ground truth: equivalent rewrites (expanded, factored) must be equal, perturbed
ones must not; no false "equal" is tolerated (a few false "not equal" are, for exotic spellings)."""

import random

import pytest
import sympy

from rewards.answers.engine import verify_batch

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
