"""Normalization and the exact-number path, called directly: canonical text and unit for each spelling rule,
in-process verdicts (True / False / None = left to SymPy), totality on any text, and a bound on hostile input."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

from rewards.answers import numbers
from rewards.answers.normalize import Answer, normalize

SETTINGS = settings(max_examples=examples(300), suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("raw,text,unit", [
    # thousands separators before a unit or a counted noun
    ("2,500 marbles", "2500", "marble"), (r"2{,}500\text{ marbles}", "2500", "marble"),
    (r"2\,500 \text{ dollars}", "2500", "dollar"), ("2 500 people", "2500", "people"), ("1,234", "1234", ""),
    ("1,2", "1,2", ""), ("1,234 apples", "1234", "apple"), ("12 345/678", r"12\frac{345}{678}", ""),
    # plain-text math words, never inside a word
    ("pi/2", r"\pi/2", ""), ("3pi", r"3\pi", ""), ("pi r^2", r"\pi r^2", ""), ("sqrt(2)/2", r"\sqrt{2}/2", ""),
    ("sqrt2", r"\sqrt{2}", ""), (r"\sqrt(3)", r"\sqrt{3}", ""), ("sqrt(sqrt(2)+1)", r"\sqrt{\sqrt{2}+1}", ""),
    ("(-inf, 3]", r"(-\infty,3]", ""), ("infinity", r"\infty", ""), ("infinitely many", "infinitely many", ""),
    ("spin", "spin", ""), ("pine", "pine", ""), ("happiness", "happiness", ""), (r"\text{spine}", "spine", ""),
    ("sin(pi/6)", "sin(pi/6)", ""), (r"\inf S", r"\inf S", ""),
    # area and volume units
    ("15 cm^2", "15", "cm^2"), (r"15\mathrm{cm}^{2}", "15", "cm^2"), ("15 cm²", "15", "cm^2"),
    ("15 square feet", "15", "ft^2"), ("15 sq ft", "15", "ft^2"), ("8 cubic units", "8", "unit^3"),
    ("8 units^3", "8", "unit^3"), ("12 in^2", "12", "in^2"), ("3 meters squared", "3", "m^2"), ("15 cm", "15", "cm"),
    (r"12\text{ square units}", "12", "unit^2"), ("4 cubic centimeters", "4", "cm^3"),
    # mixed numbers
    ("2 1/2", r"2\frac{1}{2}", ""), ("-3 3/4", r"-3\frac{3}{4}", ""), ("2 3/2", "2 3/2", ""), ("1 2", "1 2", ""),
    ("(1 1/2, 2)", r"(1\frac{1}{2},2)", ""), ("2 1/2 cups", r"2\frac{1}{2}", "cup"), ("x^2 1/2", "x^2 1/2", ""),
    # a stray trailing backslash; an escaped brace stays
    ("5\\", "5", ""), ("12\\\\", "12", ""), (r"\frac{1}{2}\\", r"\frac{1}{2}", ""), (r"\{1,2\}", r"\{1,2\}", ""),
    # vectors and one-character subscripts
    (r"\langle 1, 2 \rangle", "(1,2)", ""), ("<1, 2>", "(1,2)", ""), (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", "(1,2)", ""),
    ("a_{1}=3", "a_1=3", ""), ("a_{12}", "a_{12}", ""),
])
def test_normalized_text_and_unit(raw, text, unit):
    answer = normalize(raw)
    assert (answer.text, answer.unit) == (text, unit)


@pytest.mark.parametrize("pred,gold,expected", [
    ("(a+b,2)", "(b+a,2)", True), (r"\{1,2\}", "(1,2)", False), (r"\{x,y\}", "(x,y)", False),
    (r"(\sqrt2,3)", r"\{\sqrt2,3\}", False), ("(x,2)", "(x,3)", False), ("(x,2)", "(x,2,3)", False),
    ("(1,2),(3,4)", r"\{(3,4),(1,2)\}", True), ("(1,2)", "(1,2),(3,4)", False),
    (r"(\sin^2 x+\cos^2 x,2)", "(1,2)", None),  # an entry outside the exact algebra: SymPy decides
    ("x=3", "y=3", False), ("x=3", "x=3.0", True), ("g(x)=2x+1", "y=2x+1", True), ("f(x)=x^2", "x=x^2", None),
    ("a=1,b=2", "b=2,a=1", True), ("a=1,b=2", "a=1,b=3", False), ("a=1,b=2", "a=1", False),
    ("x=1,x=2", "1,2", True), ("1 2", "12", False), ("2 3/2", "3", False),
    ("x=y", "y=x", True),  # proportional sides (x-y = -(y-x)): settled in-process, as SymPy settles it
])
def test_exact_path_verdicts(pred, gold, expected):
    assert numbers.decide(normalize(pred), normalize(gold)) is expected


_PIECES = ("pi", "sqrt(", "sqrt", "inf", "infinity", "\\langle", "\\rangle", "<", ">", " ", "1", "2", "500", "/",
           ",", "=", "x", "y", "f(x)", "(", ")", "\\{", "\\}", "\\", "\\\\", "cm", "^2", "^{3}", "square ", "cubic ",
           "units", "marbles", "\\text{", "}", "{", "\\frac", "a_{1}", "or", "\\begin{pmatrix}", "\\end{pmatrix}", "²")
pieces = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@SETTINGS
@given(st.one_of(pieces, st.text(max_size=60)))
def test_normalize_is_total(text):
    answer = normalize(text)
    assert isinstance(answer, Answer) and isinstance(answer.text, str) and isinstance(answer.unit, str)


@SETTINGS
@given(pieces, pieces)
def test_exact_path_is_total_and_reflexive(pred, gold):
    a, b = normalize(pred), normalize(gold)
    assert numbers.decide(a, b) in (True, False, None)
    assert numbers.decide(a, a) is True


_ENTRIES = ("1", "2", "0.5", r"\frac{1}{2}", "x", "x+1", "1+x", "2x", r"\sqrt{2}", r"\sin x", r"\infty", "(1,2)", "(2,1)")
structures = st.tuples(st.sampled_from(["({})", "[{})", r"\{{{}\}}", "{}"]),
                       st.lists(st.sampled_from(_ENTRIES), min_size=2, max_size=4)).map(lambda t: t[0].format(",".join(t[1])))


@SETTINGS
@given(structures, structures)
def test_structures_compare_the_same_both_ways(a, b):
    ea, eb = numbers.entries(a), numbers.entries(b)
    assert numbers.compare_entries(ea, eb) is numbers.compare_entries(eb, ea)


@pytest.mark.parametrize("hostile", [
    "sqrt(" * 400, "(" * 1000 + "1", "pi" * 1000, "1 " * 1000, "2,500 " * 300, "a=1," * 400,
    ",".join(f"(x+{i},y-{i},{i})" for i in range(12)), "2 1/2," * 300, "\\" * 2000, "\\langle" * 250,
    "1" + " " * 1998 + "q", "and " * 500, ", " * 1000 + "and", " ( " * 600 + "x", "1" + " %" * 900, "\\ " * 1000 + "x",
])
def test_hostile_answers_are_bounded(hostile):
    start = time.perf_counter()
    numbers.decide(normalize(hostile), normalize(hostile[::-1]))
    numbers.decide(normalize(hostile), normalize(hostile + "0"))
    assert time.perf_counter() - start < 2.0
