"""Whole formulas, as an OCR model transcribes them, through ``accuracy(tag="latex")`` and ``verify``: spacing,
``\\left``/``\\right``, ``\\mathrm{d}`` and braces never change a verdict, and a formula that differs is never equal."""

import pytest

import rewards
from rewards.answers.normalize import normalize, typeset
from rewards.testing import probe_hacking

# (transcription, gold): the same formula. Byte-identical, spacing-only and brace-only differences first, then
# different spellings SymPy reads alike. Golds are written as LaTeX-OCR datasets write them, some tokenized
# with a space between every token (im2latex style).
EQUAL = [
    (r"E = m c^{2}", r"E=mc^2"),
    (r"\alpha+\beta", r"\beta+\alpha"),
    (r"\frac{\partial f}{\partial x}", r"\frac{\partial f}{\partial x}"),
    (r"\frac{\partial f}{\partial x}", r"\frac { \partial f } { \partial x }"),
    (r"\frac{\partial^{2} u}{\partial t^{2}} = c^{2} \nabla^{2} u", r"\frac{\partial^2u}{\partial t^2}=c^2\nabla^2u"),
    (r"y = 2x + 1", r"y=2x+1"),
    (r"y = 2 x + 1", r"y = 1 + 2x"),
    (r"\left( a + b \right)^{2}", r"(a+b)^2"),
    (r"\left( a + b \right)^{2}", r"\Big( a + b \Big) ^ { 2 }"),
    (r"\int_{0}^{1} x^{2} \, \mathrm{d}x", r"\int_0^1 x^2\,dx"),
    (r"\int_{0}^{1} x^{2} \, \mathrm{d}x", r"\int _ { 0 } ^ { 1 } x ^ { 2 } \, d x"),
    (r"\int_{a}^{b} f(x) \; dx", r"\int_a^b f(x)dx"),
    (r"\oint \vec{B} \cdot d\vec{l} = \mu_{0} I", r"\oint\vec{B}\cdot d\vec{l}=\mu_0I"),
    (r"x_{1} + x_{2}", r"x_1+x_2"),
    (r"a^{2} + b^{2} = c^{2}", r"a^2+b^2=c^2"),
    (r"\sin^{2}\theta + \cos^{2}\theta = 1", r"\sin^2\theta+\cos^2\theta=1"),
    (r"\sum_{i=1}^{n} i", r"\sum_{i=1}^n i"),
    (r"\sum_{n=0}^{\infty} \frac{x^{n}}{n!}", r"\sum _ { n = 0 } ^ { \infty } \frac { x ^ { n } } { n ! }"),
    (r"\sqrt{x^{2}+y^{2}}", r"\sqrt{x^2+y^2}"),
    (r"e^{i \pi} + 1 = 0", r"e^{i\pi}+1=0"),
    (r"F = G \frac{m_{1} m_{2}}{r^{2}}", r"F=G\frac{m_1m_2}{r^2}"),
    (r"\nabla \cdot \mathbf{E} = \frac{\rho}{\varepsilon_{0}}", r"\nabla \cdot \mathbf{E} = \frac{\rho}{\varepsilon_{0}}"),
    (r"\lim_{x \to 0} \frac{\sin x}{x} = 1", r"\lim_{x\to0}\frac{\sin x}{x}=1"),
    (r"\frac{dy}{dx} = 2x", r"\frac{d y}{d x}=2 x"),
    (r"\Gamma(n) = (n-1)!", r"\Gamma ( n ) = ( n - 1 ) !"),
    (r"\hat{H} \psi = E \psi", r"\hat H\psi=E\psi"),
    (r"\bar{x} = \frac{1}{n} \sum_{i=1}^{n} x_{i}", r"\bar x=\frac1n\sum_{i=1}^n x_i"),
    (r"x = \frac{-b \pm \sqrt{b^{2} - 4ac}}{2a}", r"x=\frac{-b\pm\sqrt{b^2-4ac}}{2a}"),
    (r"\dfrac{1}{2} m v^{2}", r"\frac{1}{2}mv^2"),
    (r"\Delta x \, \Delta p \geq \frac{\hbar}{2}", r"\Delta x\Delta p\ge\frac{\hbar}{2}"),
    (r"\left[ x , y \right] = i \hbar", r"[x,y]=i\hbar"),
    (r"\omega = 2 \pi f", r"\omega=2\pi f"),
    (r"P(A|B) = \frac{P(B|A) P(A)}{P(B)}", r"P(A|B)=\frac{P(B|A)P(A)}{P(B)}"),
    (r"\alpha_{i}^{2}", r"\alpha_i^2"),
    (r"10^{-3}", r"1 0 ^ { - 3 }"),
    (r"x^{12}", r"x ^ { 1 2 }"),
    (r"f(x) \sim x^{2}", r"f(x)\sim x^2"),
    (r"\frac{a}{b} + \frac{c}{d}", r"\frac{c}{d}+\frac{a}{b}"),
    (r"2 \pi r", r"2r\pi"),
    (r"\pi \approx 3.14", r"\pi\approx3.14"),
    (r"\vec{F} = m \vec{a}", r"\vec F=m\vec a"),
    (r"\frac{d^{2}x}{dt^{2}} = -\omega^{2} x", r"\frac{d^2x}{dt^2}=-\omega^2x"),
]

# (transcription, gold): a different formula, however alike it looks.
NOT_EQUAL = [
    (r"E = mc^3", r"E=mc^2"),
    (r"E = m c^{3}", r"E=mc^2"),
    (r"E = m c", r"E=mc^2"),
    (r"y = 2x - 1", r"y=2x+1"),
    (r"y = -2x + 1", r"y=2x+1"),
    (r"\alpha-\beta", r"\alpha+\beta"),
    (r"a^{2} + b^{2}", r"a^2+b^2+c^2"),
    (r"a^{2} - b^{2} = c^{2}", r"a^2+b^2=c^2"),
    (r"\int_{0}^{1} x^{3} \, dx", r"\int_0^1 x^2\,dx"),
    (r"\int_{0}^{2} x^{2} \, dx", r"\int_0^1 x^2\,dx"),
    (r"\int_{0}^{1} x^{2}", r"\int_0^1 x^2\,dx"),
    (r"x_{1} + x_{3}", r"x_1+x_2"),
    (r"\sin^{2}\theta - \cos^{2}\theta = 1", r"\sin^2\theta+\cos^2\theta=1"),
    (r"\frac{\partial f}{\partial y}", r"\frac{\partial f}{\partial x}"),
    (r"\frac{\partial g}{\partial x}", r"\frac{\partial f}{\partial x}"),
    (r"\frac{\partial^{2} u}{\partial t^{2}} = c \nabla^{2} u", r"\frac{\partial^2u}{\partial t^2}=c^2\nabla^2u"),
    (r"\frac{dy}{dx} = 3x", r"\frac{dy}{dx}=2x"),
    (r"\frac{dy}{dx}", r"\frac{y}{x}"),
    (r"\frac{d}{dx} f", r"\frac{d}{dy} f"),
    (r"F = G \frac{m_{1} m_{2}}{r^{3}}", r"F=G\frac{m_1m_2}{r^2}"),
    (r"\sum_{i=1}^{n} i^{2}", r"\sum_{i=1}^n i"),
    (r"\sum_{i=1}^{m} i", r"\sum_{i=1}^n i"),
    (r"\lim_{x \to 1} \frac{\sin x}{x} = 1", r"\lim_{x\to0}\frac{\sin x}{x}=1"),
    (r"e^{-i \pi} + 1 = 0", r"e^{i\pi}+1=0"),
    (r"\sqrt{x^{2}-y^{2}}", r"\sqrt{x^2+y^2}"),
    (r"\sqrt{x^{2}+y^{2}}", r"\sqrt{x^2}+y^2"),
    (r"\Delta x \, \Delta p \leq \frac{\hbar}{2}", r"\Delta x\Delta p\ge\frac{\hbar}{2}"),
    (r"\left[ x , y \right] = - i \hbar", r"[x,y]=i\hbar"),
    (r"\hat{H} \psi = E \phi", r"\hat H\psi=E\psi"),
    (r"\frac{1}{2} m v", r"\frac{1}{2}mv^2"),
    (r"x^{2}3", r"x^{23}"),
    (r"x^{1 2}", r"x^{1}2"),
    (r"f(x) \sim x^{3}", r"f(x)\sim x^2"),
    (r"X \sim N(0, 2)", r"X\sim N(0,1)"),
    (r"x = \frac{-b + \sqrt{b^{2} - 4ac}}{2a}", r"x=\frac{-b\pm\sqrt{b^2-4ac}}{2a}"),
    (r"\bar{x} = \frac{1}{n} \sum_{i=1}^{n} x_{i}^{2}", r"\bar x=\frac1n\sum_{i=1}^n x_i"),
    (r"\alpha_{1}^{2}", r"\alpha_i^2"),
    (r"\pi \approx 3.15", r"\pi\approx3.14"),  # the approximation is part of the formula
    (r"\frac{d^{2}x}{dt^{2}} = \omega^{2} x", r"\frac{d^2x}{dt^2}=-\omega^2x"),
    (r"1 + 2 + \cdots + n = \frac{n(n-1)}{2}", r"1+2+\cdots+n=\frac{n(n+1)}{2}"),
]

ACCURACY = rewards.get("accuracy", tag="latex")


def _rows(table):
    return [pytest.param(pred, gold, id=f"{pred} | {gold}") for pred, gold in table]


@pytest.mark.parametrize("pred,gold", _rows(EQUAL))
def test_the_same_formula_is_equal(pred, gold):
    assert ACCURACY([f"<latex>{pred}</latex>"], solution=[gold]) == [1.0]
    assert rewards.verify(pred, gold)


@pytest.mark.parametrize("pred,gold", _rows(EQUAL))
def test_the_same_formula_is_equal_either_way(pred, gold):
    assert ACCURACY([f"<latex>{gold}</latex>"], solution=[pred]) == [1.0]
    assert rewards.verify(gold, pred)


@pytest.mark.parametrize("pred,gold", _rows(NOT_EQUAL))
def test_a_different_formula_is_not_equal(pred, gold):
    assert ACCURACY([f"<latex>{pred}</latex>"], solution=[gold]) == [0.0]
    assert ACCURACY([f"<latex>{gold}</latex>"], solution=[pred]) == [0.0]
    assert not rewards.verify(pred, gold) and not rewards.verify(gold, pred)


FORMULAS = sorted({text for pair in EQUAL + NOT_EQUAL for text in pair})


def _im2latex(text: str) -> str:
    """``text`` with a space between every token and spacing commands added, as OCR datasets write golds."""
    return " ".join(typeset(normalize(text).text)).replace(" = ", r" \, = \; ")


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_formula_equals_itself_and_its_respacing(formula):
    assert ACCURACY([f"<latex>{formula}</latex>"], solution=[formula]) == [1.0]
    assert ACCURACY([f"<latex> {_im2latex(formula)} </latex>"], solution=[formula]) == [1.0]
    assert ACCURACY([f"<latex>{formula}</latex>"], solution=[_im2latex(formula)]) == [1.0]


def test_a_bare_formula_ending_in_a_letter_is_an_answer():
    """A formula ends in a letter (``m\vec a``) where a sentence would end in the article "a"."""
    assert rewards.extract_answer(r"\vec F=m\vec a") == r"\vec F=m\vec a"
    assert rewards.extract_answer("Then we multiply 11 by a") is None


def test_a_spaced_factorial_inside_a_tag_block_is_no_sentence_end():
    """im2latex golds space every token (``{ n ! }``): that ``!`` is a factorial, not the end of a sentence."""
    assert rewards.extract_answer(r"<answer>\frac { x ^ { n } } { n ! }</answer>") == r"\frac { x ^ { n } } { n ! }"


@pytest.mark.parametrize("a,b,same", [
    (r"x^{2}3", r"x^23", True),  # one token after ^: TeX reads both alike
    (r"x^{23}", r"x^23", False),
    (r"\sin x", r"\sinx", False),  # a space ends a command name
    (r"m c", r"mc", True),
    (r"1 2", r"12", False),  # a list of numbers, not a formula
    (r"2 3/2", r"23/2", False),
    (r"\{1 2\}", r"\{12\}", True),
    (r"\alpha {x}", r"\alpha x", True),
    (r"{{x}}^{2}", r"x^2", True),
    (r"\frac{1}{2}", r"\frac12", True),
    (r"\frac{1}{23}", r"\frac123", False),
])
def test_typeset_reads_tokens_as_tex_does(a, b, same):
    assert (typeset(normalize(a).text) == typeset(normalize(b).text)) is same


@pytest.mark.parametrize("gold", ["E=mc^2", r"\int_0^1 x^2 dx", r"\frac{\partial f}{\partial x}", r"\frac{1}{2}"])
@pytest.mark.parametrize("name", ["accuracy", "length", "cosine"])
def test_a_tagged_reward_pays_for_no_hacking_variant(name, gold):
    assert not probe_hacking(rewards.get(name, tag="latex"), f"<latex>{gold}</latex>", gold)
