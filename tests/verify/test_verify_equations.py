"""Expressions and equations: symbolic equality, equations as equations, assignments, complex numbers, infinity."""

import pytest

from rewards.answers.engine import verify


@pytest.mark.parametrize("gold,pred,expected", [
    ("x^2+2x+1", "(x+1)^2", True), ("x^2+2x+1", "(x-1)^2", False), ("2x+3", "3+2x", True),
    (r"\frac{x+1}{x-1}", r"\frac{1+x}{x-1}", True), ("(x-2)(x+3)", "x^2+x-6", True), ("a^2-b^2", "(a-b)^2", False),
    (r"\sin^2 x+\cos^2 x", "1", True), (r"2\sin x\cos x", r"\sin 2x", True), (r"2\sin x\cos x", r"\cos 2x", False),
    (r"\sqrt{x^2}", "x", False), (r"\frac{n(n+1)}{2}", r"\frac{n^2+n}{2}", True), (r"\ln 8", r"3\ln 2", True),
    (r"\log_2 8", "3", True), (r"\sqrt{2}+\sqrt{3}", r"\sqrt{5+2\sqrt{6}}", True), (r"e^{i\pi}", "-1", True),
    ("x=3", "3", True), ("3", "x=3", True), ("x=3", "x=4", False), ("y=2x+1", "2x+1", True),
    ("y=2x+1", "2x-y+1=0", True), ("y=2x+1", "y=2x-1", False), ("x^2+y^2=25", "x^2+y^2-25=0", True),
    ("2x+4y=8", "x+2y=4", True), ("x^2-5x+6=0", "x^2-6x+5=0", False), ("x-y+1=0", "x+y-1=0", False),
    ("3x-2y+7=0", "3x+2y-7=0", False), ("x+y=0", "y=-x", True), ("n=2,3,4", "n=1,2,3", False),
    ("D=(0,1)", "D=(0,1.5)", False), ("k=-2", "-2", True),
    ("2+3i", "3i+2", True), ("2+3i", "2-3i", False), ("i", "i", True), ("-i", "i", False),
    (r"\frac{1+i\sqrt3}{2}", r"\frac12+\frac{\sqrt3}{2}i", True), ("1+i", r"\sqrt{2}e^{i\pi/4}", True),
    (r"\infty", r"\infty", True), (r"\infty", r"-\infty", False), (r"\infty", "10^{100}", False),
])
def test_expressions_and_equations(gold, pred, expected):
    assert verify(rf"Thus $\boxed{{{pred}}}$.", gold) is expected


@pytest.mark.parametrize("gold,pred", [
    ("x^2-1=0", "x^2-4=0"), ("x+1=0", "x+2=0"), ("2x-3y+1=0", "2x+3y+1=0"), ("x^3-x=0", "x^3+x=0"),
])
def test_two_different_plain_text_equations_are_not_equal(gold, pred):
    assert verify(pred, gold) is False
