r"""Products of bracketed factors (``(2)(3)``, ``\left(1\right)\left(1\right)``, ``2(\frac{1}{2})``) are products on
every path: SymPy in-process, a real worker, and the public ``verify``. latex2sympy alone reads an integer beside a
positive rational as a mixed number (``(1)(1)`` = 2, ``2(3)`` = 5); ``2\frac{1}{2}`` stays the mixed number 5/2."""

from __future__ import annotations

import pytest

from rewards import verify
from rewards.answers.normalize import normalize
from rewards.answers.pool import pool
from rewards.answers.sympy_compare import compare, products_as_written

# (pred, gold, equal)
PRODUCTS = [
    # numbers in brackets, with and without \left \right (the hypothesis counterexample of issue 15 first)
    (r"\left(1\right)\left(1\right)", "1", True),
    ("(1)(1)", "1", True),
    ("(1)(1)", "2", False),
    ("(2)(3)", "6", True),
    ("(2)(3)", "5", False),
    (r"\left(2\right)\left(3\right)", "6", True),
    ("(-1)(1)", "-1", True),
    ("(-2)(3)", "-6", True),
    ("(-2)(3)", "-5", False),
    ("[2][3]", "6", True),
    ("(2)(3)(4)", "24", True),
    ("(2)3", "6", True),
    # a number beside a bracket
    ("2(3)", "6", True),
    ("2(3)", "5", False),
    ("-2(3)", "-6", True),
    ("2[3]", "6", True),
    ("2[3]", "5", False),
    ("2(3)(4)", "24", True),
    ("2(3)(4)", "9", False),
    # fractions and other numbers in brackets
    (r"2(\frac{1}{2})", "1", True),
    (r"2\left(\frac{1}{2}\right)", r"\frac{5}{2}", False),
    (r"(2)\frac{1}{2}", "1", True),
    (r"\left(\frac{1}{2}\right)\left(\frac{1}{2}\right)", r"\frac{1}{4}", True),
    ("(0.5)(4)", "2", True),
    ("(1+1)(3)", "6", True),
    (r"(\sqrt{2})(\sqrt{2})", "2", True),
    (r"\binom{4}{2}(3)", "18", True),
    (r"(2)\binom{4}{2}", "12", True),
    ("3!(2)", "12", True),
    (r"\frac{1}{(2)(3)}", r"\frac{1}{6}", True),
    # powers of brackets
    ("(2)^{2}(3)", "12", True),
    ("(2)(3)^2", "18", True),
    # expressions
    (r"\left(x+1\right)\left(x-1\right)", "x^2-1", True),
    ("(x+1)(x-1)", "x^2-2", False),
    (r"\left(x\right)\left(x\right)", "x^2", True),
    ("(2)(x)", "2x", True),
    ("(1)(x+1)", "x+1", True),
    ("(x+1)(2)", "2x+2", True),
    ("(2)(3)(x)", "6x", True),
    (r"\left(1\right)\left(1\right)", "1+1", False),
    # the mixed number stays one
    (r"2\frac{1}{2}", r"\frac{5}{2}", True),
    (r"2\frac{1}{2}", "1", False),
]


@pytest.mark.parametrize("pred,gold,equal", PRODUCTS)
def test_a_product_of_bracketed_factors_is_a_product_in_sympy(pred, gold, equal):
    assert compare(normalize(pred), normalize(gold)) is equal


@pytest.mark.parametrize("pred,gold,equal", PRODUCTS)
def test_the_public_verify_agrees(pred, gold, equal):
    assert verify(pred, gold) is equal


def test_a_worker_process_agrees():
    verdicts = pool().run([(normalize(pred), normalize(gold)) for pred, gold, _ in PRODUCTS], timeout=10.0)
    expected = [("equal" if equal else "not_equal") for _, _, equal in PRODUCTS]
    assert [status for status, _ in verdicts] == expected


@pytest.mark.parametrize("text", ["(x+1)(x-1)", "f(2)", r"x^{2}(3)", r"\sqrt[3]{8}", "x(2)", r"2\frac{1}{2}",
                                  "(2)", "((2))", "(1, 2)(3, 4)", "(a)(b)"])
def test_brackets_that_no_mixed_number_can_reach_are_left_as_written(text):
    assert products_as_written(text) == text
