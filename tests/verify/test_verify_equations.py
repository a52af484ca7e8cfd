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


@pytest.mark.parametrize("gold,pred,expected", [
    # a value given as "(expression) = value": equal when every side agrees with the gold
    ("6", r"\frac{3}{4} \cdot 8 = 6", True), ("5", "(12+8)/4 = 5", True), ("7", r"2 \times 3 + 1 = 7", True),
    ("32", "2^5 = 32", True), ("7", r"\sqrt{49} = 7", True), ("0.5", r"\frac{2}{4} = \frac{1}{2}", True),
    ("9", "5 + 3 = 9", False), ("9", "5+3=8", False), ("7", r"2 \times 3 = 7", False), ("4", "12/4 = 3", False),
    # two names for one function: y = f(x), f(x), g(x), h(x) compare their right sides
    ("y = 2x+1", "g(x) = 2x+1", True), ("h(x) = x^2", "f(x)=x^2", True), ("y = x^2 - 1", "f(x) = (x-1)(x+1)", True),
    ("f(x) = 3x", "g(x) = 3x", True), ("f(2) = 5", "5", True), ("5", "f(2) = 5", True),
    ("y = 2x+1", "g(x) = 2x-1", False), ("f(x) = x^2", "f(x) = x^3", False), ("f(2) = 5", "f(3) = 5", False),
    # constants assigned to different variables are different answers (the lines x = 3 and y = 3)
    ("y = 3", "x = 3", False), ("x = 3", "y = 3", False), ("x_1 = 3", "x_2 = 3", False), ("a_1 = 3", "a_{1} = 3", True),
])
def test_values_with_their_derivation_and_function_names(gold, pred, expected):
    assert verify(rf"Thus $\boxed{{{pred}}}$.", gold) is expected


@pytest.mark.parametrize("gold,answer,expected", [
    # a list of assignments compares as a mapping name -> value(s)
    ("a=1, b=2", "a = 1, b = 2", True), (r"a = 1, \ b = 2", "a = 1, b = 2", True), ("b=2, a=1", "a = 1, b = 2", True),
    ("x=1, y=-2", "y = -2, x = 1", True), (r"p=\frac12, q=3", "q = 3, p = 0.5", True), ("x=2, x=1", "x = 1, x = 2", True),
    ("1, 2", "x = 1 or x = 2", True), ("x = 1, 2", "x = 2, x = 1", True), ("a=x+1, b=2", "b = 2, a = 1+x", True),
    ("a=1, b=2", "a = 1, b = 3", False), ("a=1, b=2", "a = 1", False), ("a=1, b=2", "a = 1, b = 2, c = 3", False),
    ("a=1, b=2", "a = 2, b = 1", False), ("a=1, b=2", "x = 1, y = 2", False), ("x = 1", "x = 1, x = 2", False),
    ("1, 2", "x = 1, x = 3", False),
])
def test_lists_of_assignments(gold, answer, expected):
    assert verify(f"<answer>{answer}</answer>", gold) is expected


@pytest.mark.parametrize("gold,answer,expected", [
    # a named geometric quantity before "=" says what the value is, like a variable: its value is the answer
    ("5", "AB = 5", True), ("30", r"\angle ABC = 30^\circ", True), ("30", r"m\angle A = 30", True),
    (r"2\sqrt{3}", r"BC = 2\sqrt{3}", True), ("12", "[ABC] = 12", True), ("5", r"\overline{AB} = 5", True),
    ("2x", "AB = 2x", True), ("AB=5", "AB = 5", True), ("AB=3, BC=4", "BC = 4, AB = 3", True),
    ("5", "AB = 6", False), ("5", "2AB = 5", False), ("5", "AB + BC = 5", False), ("BC=5", "AB = 5", False),
    ("5", "xy = 5", False),  # a product of unknowns, not a name
])
def test_named_quantities(gold, answer, expected):
    assert verify(f"<answer>{answer}</answer>", gold) is expected


@pytest.mark.parametrize("gold,pred", [
    ("x^2-1=0", "x^2-4=0"), ("x+1=0", "x+2=0"), ("2x-3y+1=0", "2x+3y+1=0"), ("x^3-x=0", "x^3+x=0"),
])
def test_two_different_plain_text_equations_are_not_equal(gold, pred):
    assert verify(pred, gold) is False
