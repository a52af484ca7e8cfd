"""LaTeX spelling: \\dfrac, \\left/\\right, \\text, \\mathrm, short forms, unicode, degrees, bare and wrapped gold."""

import pytest

from rewards.answers.engine import verify
from rewards.answers.normalize import normalize


@pytest.mark.parametrize("gold,pred,expected", [
    (r"\frac{\sqrt3}{2}", r"\frac{\sqrt{3}}{2}", True), (r"\frac{\sqrt3}{2}", r"\dfrac{\sqrt{3}}{2}", True),
    (r"\frac{\sqrt3}{2}", r"\tfrac{1}{2}\sqrt3", True), (r"\frac{\sqrt3}{2}", r"\frac{\sqrt2}{2}", False),
    (r"\frac12", "0.5", True), (r"\frac12", r"\frac{1}{2}", True), (r"\frac1{2}", "0.5", True),
    (r"\sqrt3", r"\sqrt{3}", True), (r"\sqrt3", r"3^{1/2}", True), (r"\sqrt3", "1.732", False),
    (r"2\sqrt{5}", r"\sqrt{20}", True), (r"\sqrt{8}", r"2\sqrt2", True), (r"\sqrt{12}", r"3\sqrt{2}", False),
    (r"\sqrt[3]{8}", "2", True),
    (r"\pi", r"\pi", True), (r"\pi", "π", True), (r"2\pi", "2π", True), (r"\frac{\pi}{2}", r"\pi/2", True),
    ("½", r"\frac{1}{2}", True), ("−5", "-5", True), ("√2", r"\sqrt{2}", True), ("∞", r"\infty", True),
    (r"\left( 1, 2 \right)", "(1,2)", True), (r"\left[ 1, 2 \right]", "[1,2]", True),
    (r"\text{5}", "5", True), (r"\mathrm{5}", "5", True), (r"\textbf{7}", "7", True),
    (r"\text{Tuesday}", "tuesday", True), (r"\text{Tuesday}", "Monday", False),
    (r"1-\frac{1}{\mathrm{e}}", r"1+\frac{1}{\mathrm{e}}", False), (r"1-\frac{1}{\mathrm{e}}", r"1-e^{-1}", True),
    (r"30^\circ", "30", True), (r"30^{\circ}", "30°", True), (r"30^\circ", r"30\degree", True), (r"30^\circ", "60", False),
    (r"$\frac{\sqrt3}{2}$", r"\frac{\sqrt{3}}{2}", True), (r"\boxed{\frac{\sqrt3}{2}}", r"\frac{\sqrt{3}}{2}", True),
    (r"\(x^2+1\)", "x^2+1", True), (r"$$7$$", "7", True), ("x^2+2x+1", "(x+1)^2", True),
    (r"\displaystyle\frac{1}{4}", "0.25", True), (r"\frac{1}{4}", r"\frac{1}{4}.", True),
    # one-token \frac arguments as TeX reads them: letters and commands too
    (r"1+\frac1x", r"\frac{x+1}{x}", True), (r"\frac\pi2", r"\frac{\pi}{2}", True), (r"\frac\pi2", r"\frac{\pi}{3}", False),
    (r"\frac{1}x", r"\frac{1}{x}", True), (r"\frac ab", r"a/b", True), (r"\frac1x", r"\frac{1}{y}", False),
])
def test_latex_spellings(gold, pred, expected):
    assert verify(rf"Hence $\boxed{{{pred}}}$", gold) is expected


@pytest.mark.parametrize("gold,pred,expected", [
    # plain-text math words read as their LaTeX: pi, sqrt(...), infinity / inf
    (r"\frac{\pi}{2}", "pi/2", True), (r"3\pi", "3pi", True), (r"2\pi", "2 pi", True), (r"\pi r^2", "pi r^2", True),
    (r"\frac{\sqrt2}{2}", "sqrt(2)/2", True), (r"2\sqrt{3}", "2sqrt(3)", True), (r"\sqrt{\sqrt2+1}", "sqrt(sqrt(2)+1)", True),
    (r"\frac{\pi}{4}", r"\frac{pi}{4}", True), (r"\pi", "pi", True), ("pi/6", r"\frac{\pi}{6}", True),
    (r"(-\infty, 3]", "(-inf, 3]", True), (r"[0,\infty)", "[0, infinity)", True), (r"\infty", "infinity", True),
    (r"\frac12", "sin(pi/6)", True),  # next to a plain function the plain-text reader takes the whole answer
    (r"\frac{\pi}{2}", "pi/3", False), (r"3\pi", "3p", False), (r"2\pi", "2pi^2", False), (r"\pi", "pi^2", False),
    (r"\frac{\sqrt2}{2}", "sqrt(3)/2", False), (r"\pi", "3.14", False), (r"(-\infty,3]", "(-inf, 3)", False),
    (r"\infty", "-infinity", False), (r"\frac12", "sin(pi/3)", False),
])
def test_plain_text_math_words(gold, pred, expected):
    assert verify(rf"Hence $\boxed{{{pred}}}$", gold) is expected


@pytest.mark.parametrize("raw,text", [
    (r"10{,}000", "10000"), (r"3,\!250", "3250"), (r"1\,000", "1000"), ("1,000", "1000"),
    (r"\left(1,2\right)", "(1,2)"), (r"\dfrac{1}{2}", r"\frac{1}{2}"), (r"\frac12", r"\frac{1}{2}"),
    (r"\sqrt3", r"\sqrt{3}"), (r"$\boxed{5}$", "5"), ("−3", "-3"), (r"30^\circ", "30"), ("x = 3", "x=3"),
])
def test_normalize_text(raw, text):
    assert normalize(raw).text == text


def test_normalize_marks_units_and_percent():
    assert normalize(r"3\,\text{cm}").unit == "cm"
    assert normalize(r"12.5\%").percent and normalize(r"12.5\%").text == "12.5"
