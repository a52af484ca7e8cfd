"""The symbolic tail: the in-process algebra never says "not equal" with letters, SymPy comparison (exact checks, then
mpmath probing, then simplify) is right on radicals, physics, trig, branch cuts, structures and equations, guards every
power spelling, and tells "not equal" from "undecided" from a broken dependency."""

import sys

import pytest

from rewards import verify
from rewards.answers import algebra, probe, sympy_compare
from rewards.answers.normalize import normalize
from rewards.answers.size_guard import too_big


def _compare(pred: str, gold: str):
    return sympy_compare.compare(normalize(pred), normalize(gold))


# (pred, gold, verdict): each rule with varied siblings and near-misses that must stay "not equal"; a verdict of
# None is "undecided" (not equal for the reward).
NESTED_RADICALS = [
    (r"\frac{\sqrt{5}+\sqrt{2+\sqrt{3}}}{\sqrt{7-\sqrt{2}}}", r"\frac{\sqrt{2+\sqrt{3}}+\sqrt{5}}{\sqrt{7-\sqrt{2}}}", True),
    (r"\frac{-\sqrt{2}+\sqrt{3+\sqrt{5}}}{\sqrt{\sqrt{7}+11}}", r"\frac{\sqrt{3+\sqrt{5}}-\sqrt{2}}{\sqrt{11+\sqrt{7}}}", True),
    (r"\frac{\sqrt{3}+\sqrt{2}+1}{-\sqrt{3}+\sqrt{5}}", r"\frac{1+\sqrt{2}+\sqrt{3}}{\sqrt{5}-\sqrt{3}}", True),
    (r"\frac{\sqrt{6}+\sqrt{2}}{2}", r"\sqrt{2+\sqrt{3}}", True),
    (r"\sqrt{3}-1", r"\sqrt{4-2\sqrt{3}}", True),
    (r"\frac{\sqrt{5}+\sqrt{2+\sqrt{3}}}{\sqrt{7+\sqrt{2}}}", r"\frac{\sqrt{2+\sqrt{3}}+\sqrt{5}}{\sqrt{7-\sqrt{2}}}", False),
    (r"\frac{\sqrt{6}+\sqrt{3}}{2}", r"\sqrt{2+\sqrt{3}}", False),
    (r"\sqrt{3}+1", r"\sqrt{4-2\sqrt{3}}", False),
]
PHYSICS = [
    (r"\frac{(1+\mu) g m_1 m_2}{m_1+m_2}", r"\frac{m_1 m_2 g (1+\mu)}{(m_1+m_2)}", True),
    (r"\frac{2 g m_2 m_1}{m_2+m_1}", r"\frac{2 m_1 m_2 g}{m_1+m_2}", True),
    (r"m g h + \frac{m v^2}{2}", r"\frac{1}{2} m v^2 + m g h", True),
    (r"\frac{m(v^2-2gh)}{2}", r"\frac{1}{2} m v^2 - m g h", True),
    (r"\frac{GMm}{(h+R)^2}", r"\frac{G M m}{(R+h)^2}", True),
    (r"2\pi\sqrt{L/g}", r"2\pi\sqrt{\frac{L}{g}}", True),
    (r"\frac{q_2 q_1}{4 \pi r^2 \epsilon_0}", r"\frac{q_1 q_2}{4\pi\epsilon_0 r^2}", True),
    (r"\sqrt{\frac{2ghmr^2}{mr^2+I}}", r"\sqrt{\frac{2 g h}{1+\frac{I}{m r^2}}}", True),
    (r"\frac{2 v_0^2 \sin\theta\cos\theta}{g}", r"\frac{v_0^2 \sin 2\theta}{g}", True),
    (r"\frac{(1-\mu) g m_1 m_2}{m_1+m_2}", r"\frac{m_1 m_2 g (1+\mu)}{(m_1+m_2)}", False),
    (r"m g h + m v^2", r"\frac{1}{2} m v^2 + m g h", False),
    (r"\frac{GMm}{R^2+h^2}", r"\frac{G M m}{(R+h)^2}", False),
    (r"\frac{G m^2}{(R+h)^2}", r"\frac{G M m}{(R+h)^2}", False),  # M and m are two unknowns
    (r"2\pi\sqrt{g/L}", r"2\pi\sqrt{\frac{L}{g}}", False),
    (r"\frac{q_1 q_2}{4\pi\epsilon_0 r}", r"\frac{q_1 q_2}{4\pi\epsilon_0 r^2}", False),
]
TRIG = [
    (r"\sin^2 x + \cos^2 x", "1", True), (r"2\sin x \cos x", r"\sin 2x", True), (r"\cos^2 x - \sin^2 x", r"\cos 2x", True),
    (r"1-2\sin^2 x", r"\cos 2x", True), (r"\frac{\sin x}{\cos x}", r"\tan x", True), (r"\tan^2 x + 1", r"\sec^2 x", True),
    (r"\sin x\cos y+\cos x\sin y", r"\sin(x+y)", True), (r"\frac{\sin^{30}(2x)}{2^{30}}", r"\sin^{30}x\cos^{30}x", True),
    (r"\arcsin x + \arccos x", r"\frac{\pi}{2}", True),
    (r"\sin^2 x - \cos^2 x", "1", False), (r"2\sin x", r"\sin 2x", False), (r"2\cos^2 x + 1", r"\cos 2x", False),
    (r"\sin x\cos y-\cos x\sin y", r"\sin(x+y)", False), (r"\frac{\sin^{30}(2x)}{2^{29}}", r"\sin^{30}x\cos^{30}x", False),
    (r"\arctan x + \arctan\frac{1}{x}", r"\frac{\pi}{2}", False),  # true only for x > 0
]
CONSTANTS = [
    ("pi/2", r"\frac{\pi}{2}", True), ("3pi", r"3\pi", True), (r"\frac{1}{\sqrt{3}}", r"\frac{\sqrt{3}}{3}", True),
    (r"\frac{1}{\sqrt{2}}", r"\frac{\sqrt{2}}{2}", True), ("-1", r"e^{i\pi}", True), ("i", r"e^{i\pi/2}", True),
    (r"\sqrt{2}-1", r"\frac{1}{1+\sqrt{2}}", True), ("i", r"\frac{1+i}{1-i}", True), ("16", "(1+i)^8", True),
    (r"3\ln 2", r"\ln 8", True), ("3", r"\log_2 8", True), (r"\sqrt{8}\pi", r"2\sqrt{2}\pi", True),
    (r"\frac{\sqrt{8}}{2 \cdot 200!}", r"\frac{\sqrt{2}}{200!}", True),
    ("pi/3", r"\frac{\pi}{2}", False), (r"\frac{1}{\sqrt{3}}", r"\frac{\sqrt{3}}{2}", False), ("1", r"e^{i\pi}", False),
    (r"\sqrt{2}+1", r"\frac{1}{1+\sqrt{2}}", False), ("-16", "(1+i)^8", False),
    (r"\frac{\sqrt{2}}{201!}", r"\frac{\sqrt{2}}{200!}", False),
    # a decimal is its exact value: never equal to an irrational, however many digits it has
    ("0.866", r"\frac{\sqrt{3}}{2}", False), ("3.14", r"\pi", False), ("3.14159265358979", r"\pi", False),
    ("3.14159265358979323846264338327950288419716939937510582097494459", r"\pi", False),
    ("1.4142135623730950488", r"\sqrt{2}", False), ("2.718281828459045", "e", False), ("0.785", r"\frac{\pi}{4}", False),
    (r"3.14159265358979 x", r"\pi x", False),
]
BRANCHES = [  # equal only on part of the domain: not equal (negative and complex points are probed)
    (r"\sqrt{x^2}", "x", False), (r"\sqrt{x^2}", "|x|", None),  # undecided: |x| is not holomorphic
    ("|x|", "x", False), (r"2\log x", r"\log(x^2)", False),
    (r"2\ln x", r"\ln(x^2)", False), (r"\ln x+\ln y", r"\ln(xy)", False), (r"\sqrt{x}\sqrt{y}", r"\sqrt{xy}", False),
    (r"x\sqrt{x}", r"\sqrt{x^3}", False),
    # identities that hold everywhere (principal branches) stay equal
    (r"\sqrt{x}\sqrt{x}", "x", True), (r"\ln 2+\ln x", r"\ln(2x)", True), (r"e^x e^y", r"e^{x+y}", True),
    ("x^2", r"e^{2\ln x}", True), (r"\sqrt[3]{x}", r"x^{\frac{1}{3}}", True),
    (r"\frac{x\sqrt{x^2+1}}{x^2+1}", r"\frac{x}{\sqrt{x^2+1}}", True),
]
UNKNOWNS = [
    (r"x+\sin^2 y+\cos^2 y", "x+1", True), ("x+y-y", "x", True), (r"\frac{x^2-1}{x-1}", "x+1", True),
    ("(1+x)^{10}", "(x+1)^{10}", True), (r"\frac{n(n+1)}{2}", r"\binom{n+1}{2}", True), ("(n+1)n!", "(n+1)!", True),
    ("((x+1)^{10}-(x-1)^{10})((x+1)^{10}+(x-1)^{10})", "(x+1)^{20}-(x-1)^{20}", True),
    ("x+y", "x", False), ("xy", "x", False), (r"\frac{x^2-1}{x+1}", "x+1", False), ("x^{10}+1", "(x+1)^{10}", False),
    (r"\frac{n(n-1)}{2}", r"\binom{n+1}{2}", False), ("x+1", "x+2", False), ("(x-1)^2", "x^2+2x+1", False),
]
STRUCTURES = [
    (r"\begin{pmatrix}1+x&2\\3&2^2\end{pmatrix}", r"\begin{pmatrix}x+1&2\\3&4\end{pmatrix}", True),
    (r"\begin{pmatrix}1&3\\2&4\end{pmatrix}", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", False),
    (r"\begin{pmatrix}\sin 2x&0\\0&1\end{pmatrix}", r"\begin{pmatrix}2\sin x\cos x&0\\0&1\end{pmatrix}", True),
    # a set is not a tuple; a bare list is either (a set's members, or a tuple in order)
    (r"(1,2)", r"\{1,2\}", False), (r"(a,b)", r"\{a,b\}", False), (r"(\sqrt{2},\pi)", r"\{\sqrt{2},\pi\}", False),
    (r"2,1+x", r"\{x+1,2\}", True), (r"\{2,1+x\}", r"\{x+1,2\}", True), (r"x^2,1+x", r"(x^2,x+1)", True),
    (r"1+x,x^2", r"(x^2,x+1)", False), (r"(b+a,2)", r"(a+b,2)", True), (r"(2,a+b)", r"(a+b,2)", False),
    (r"(\sqrt{5},2)", r"(\sqrt{3},1)", False), (r"(\sqrt{12},\pi)", r"(2\sqrt{3},\pi)", True),
    (r"(\sqrt{2},3)", r"[\sqrt{2},3]", False), (r"\{\sqrt{2}\}", r"\sqrt{2}", True), (r"\{\sqrt{2},1\}", r"\sqrt{2}", False),
    (r"x=\sqrt{2},x=-\sqrt{2}", r"\pm\sqrt{2}", True),
]
EQUATIONS = [
    ("x+2y=4", "2x+4y=8", True), ("2x-y+1=0", "y=2x+1", True), (r"x=\frac{y-1}{2}", "y=2x+1", True),
    ("x+2y=8", "2x+4y=8", False), ("y=2x-1", "y=2x+1", False),
    # assignments with different names on the left compare their right-hand sides
    ("y=2x+1", "g(x)=2x+1", True), ("y=1+x^2", "f(x)=x^2+1", True), (r"h(t)=\sin 2t", r"y=2\sin t\cos t", True),
    ("y=2x+3", "g(x)=2x+1", False), ("f(x)=x^2-1", "y=x^2+1", False),
]
ALL_ROWS = NESTED_RADICALS + PHYSICS + TRIG + CONSTANTS + BRANCHES + UNKNOWNS + STRUCTURES + EQUATIONS


@pytest.mark.parametrize("pred,gold,expected", ALL_ROWS)
def test_compare_directly(pred, gold, expected):
    assert _compare(pred, gold) is expected


@pytest.mark.parametrize("pred,gold,expected", ALL_ROWS)
def test_through_verify(pred, gold, expected):
    assert verify(rf"So the answer is $\boxed{{{pred}}}$.", gold) is bool(expected)


@pytest.mark.parametrize("a,b,expected", [
    ("(x+1)^2", "x^2+2x+1", True), (r"\frac{\pi}{2}", "pi/2", True), (r"3\pi", "3pi", True), ("2", "3", False),
    (r"\frac{1}{2004!}", r"\frac{1}{2006!}", False), (r"\sqrt{12}", r"3\sqrt{2}", False), ("0.866", r"\frac{\sqrt{3}}{2}", False),
    # letters standing alone are unknowns (or a transcendental constant): different values prove "not equal"
    ("x+1", "x+2", False), ("2x-3", "2x+3", False), (r"1-\frac{1}{e}", r"1+\frac{1}{e}", False), (r"\pi", "3.14", False),
    # a run of letters may be read another way by SymPy (a constant, a word, a product): only "equal" or undecided
    ("pi/3", r"\frac{\pi}{2}", None), ("ab", "a+b", None), ("xy+1", "x+y", None), ("3pi", r"3\pi+1", None),
    # not polynomials: undecided, SymPy decides
    (r"\sqrt{x^2}", "x", None), (r"(x^2)^{\frac{1}{2}}", "x", None), (r"\sqrt{x}\sqrt{x}", "x", None), ("n!", "n", None),
])
def test_algebra_says_not_equal_only_where_no_letters_can_be_misread(a, b, expected):
    assert algebra.same_value(a, b) is expected


@pytest.mark.parametrize("text", [
    "9**9**9**9", "9**9**9", r"9^{9^{9^9}}", r"10^{10^{10}}", r"\sin(10^{10^{10}})", r"\frac{1}{\log(10^{10^{10}})}",
    r"(1+10^{-100})^{10^{100}}", r"e^{e^{e^e}}", r"\exp(\exp(\exp(x)))", r"exp(exp(exp(x)))", "pow(9, 99999)",
    r"\operatorname{pow}(9,9)", "2^{10000}", "x^{123456}", "(9^{999})^{999}", "3000!", "(10!)!", "1000!!",
    r"\binom{10^{9}}{10^{8}}",
])
def test_every_power_spelling_is_guarded(text):
    assert too_big(text) and not sympy_compare.parses(text)
    assert sympy_compare.compare(normalize(text), normalize("1")) is None  # undecided, not an answer
    assert verify(rf"\boxed{{{text}}}", "1", timeout=2.0) is False


@pytest.mark.parametrize("text", ["(" * 30 + "x" + ")" * 30, "x+" * 400 + "1", r"\sqrt{" * 30 + "2" + "}" * 30])
def test_deep_or_long_text_is_not_parsed(text):
    assert too_big(text) and not sympy_compare.parses(text)


@pytest.mark.parametrize("text", [
    "2^{10}", r"2^{2^{10}}", r"e^{-x^2/2}", r"\exp(\exp(x))", "(x+1)^{30}", r"\sin^{30}(2x)", "999!", "(5!)!",
    r"\binom{100}{50}", r"x^{\frac{1}{3}}", "2**2**3", "10^{-100}", r"e^{i\pi}",
])
def test_ordinary_powers_are_not_guarded(text):
    assert not too_big(text) and sympy_compare.parses(text)


def test_unparsable_is_undecided_and_the_gold_is_named():
    assert _compare(r"\frac{1}{", "2") is None and _compare("2", r"\frac{1}{") is None
    assert not sympy_compare.parses(r"\frac{1}{") and sympy_compare.parses(r"\frac{x}{2}")
    assert _compare("5", "6") is False and _compare(r"\sqrt{x}", r"\sqrt{y}") is False


def test_a_broken_latex_reader_raises_instead_of_saying_not_equal(monkeypatch):
    def broken(*args, **kwargs):
        raise AttributeError("module 'latex2sympy2_extended' has no attribute 'PSParser'")

    monkeypatch.setattr(sympy_compare, "_latex_reader", lambda: (broken, {}))
    sympy_compare.parse.cache_clear()
    try:
        with pytest.raises(AttributeError):
            _compare(r"\frac{x}{7}", r"\frac{x}{3}")
    finally:
        sympy_compare.parse.cache_clear()


def test_a_missing_latex_reader_raises_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "latex2sympy2_extended.latex2sympy2", None)
    sympy_compare._latex_reader.cache_clear()
    sympy_compare.parse.cache_clear()
    try:
        with pytest.raises(ImportError):
            _compare(r"\frac{x}{7}", r"\frac{x}{3}")
    finally:
        sympy_compare._latex_reader.cache_clear()
        sympy_compare.parse.cache_clear()


@pytest.mark.parametrize("pred,gold", [
    (r"\sin^{30}(x)\cos^{30}(x)", r"\frac{\sin^{30}(2x)}{2^{30}}"), ("(" * 300 + "1" + ")" * 300, "1"),
    (r"9^{9^{9^9}} - 9^{9^{9^9}} + 2", "2"),
])
def test_true_identities_among_hang_pairs_are_never_called_unequal(pred, gold):
    assert _compare(pred, gold) in (True, None)


@pytest.mark.parametrize("a,b,expected", [
    ("1", r"1+e^{-1000}", False), ("0", r"\frac{\sqrt{2}}{10^{300}}", False),  # tiny, but exactly known to be nonzero
    (r"\sqrt{2}", r"\sqrt{2}+10^{-60}", False), (r"\sqrt{2}e^{i\pi/4}", "1+i", True),
])
def test_letter_free_values_are_compared_far_below_rounding(a, b, expected):
    assert _compare(a, b) is expected


def test_the_numeric_probe_is_deterministic_and_symmetric():
    a, b = sympy_compare.parse(r"\sin 2x"), sympy_compare.parse(r"2\sin x\cos x")
    assert probe.numerically_equal(a, b) is True and probe.numerically_equal(b, a) is True
    c = sympy_compare.parse(r"\sin 2x + 10^{-30} x")
    assert probe.numerically_equal(a, c) is False and probe.numerically_equal(c, a) is False
