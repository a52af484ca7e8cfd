"""Property tests: verify, grade and extract_answer are total on any text (unicode, tag and brace soup, huge,
nested LaTeX), always answer a bool / an Outcome that is no internal error / str-or-None, and are reflexive on
well-formed numbers."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

from rewards import Status, extract_answer, grade, verify
from rewards.answers.engine import verify_batch
from rewards.testing import texts

SETTINGS = settings(max_examples=examples(400), suppress_health_check=list(HealthCheck))

_LATEX = ("\\frac{", "\\sqrt{", "\\sqrt", "}", "{", "^", "_", "\\left(", "\\right)", "(", ")", "[", "]",
          "\\boxed{", "\\pi", "x", "i", "e", "=", "<", "\\le", ",", "\\{", "\\}", "\\cup", "\\infty", "-",
          "+", "\\cdot", "\\%", "^\\circ", "\\text{ cm}", "0", "1", "2", "9", ".", "\\overline{3}", "\\in")
latex = st.lists(st.sampled_from(_LATEX), max_size=25).map("".join)
answers = st.one_of(texts(latex_bombs=False), latex)


@SETTINGS
@given(answers, answers)
def test_verify_is_total_and_returns_a_bool(pred, gold):
    assert type(verify(pred, gold, timeout=1.0)) is bool


@SETTINGS
@given(answers, answers)
@example("0<i", "<think>")  # make fuzz: SymPy raised ordering the imaginary unit (an error, not "not equal")
def test_grade_never_ends_in_an_internal_error(pred, gold):
    outcome = grade(pred, gold, timeout=1.0)
    assert outcome.status is not Status.ERROR, outcome
    assert outcome.equal is (outcome.status is Status.EQUAL)


@SETTINGS
@given(answers)
def test_extract_answer_is_total(text):
    answer = extract_answer(text)
    assert answer is None or isinstance(answer, str)


@SETTINGS
@given(st.fractions(max_denominator=10_000), st.sampled_from(["{}", "$ {} $", "\\boxed{{{}}}", "<answer>{}</answer>"]))
def test_a_number_equals_itself_in_any_wrapping(value, wrapping):
    pred = f"The computation gives {wrapping.format(value)}" if "\\boxed" in wrapping or "<" in wrapping else wrapping.format(value)
    assert verify(pred, str(value)) is True


@SETTINGS
@given(st.fractions(max_denominator=1_000), st.fractions(max_denominator=1_000))
def test_different_rationals_are_not_equal(a, b):
    assert verify(f"\\boxed{{{a}}}", str(b)) is (Fraction(a) == Fraction(b))


@SETTINGS
@given(st.lists(st.tuples(answers, answers), max_size=6))
def test_batch_path_agrees_with_single_calls(pairs):
    assert verify_batch(pairs, timeout=1.0) == [verify(p, g, timeout=1.0) for p, g in pairs]


@pytest.mark.parametrize("bad", [None, b"3", ["3"], {"a": 1}, True, float("nan"), float("inf")])
def test_inputs_that_are_not_text_or_numbers_are_not_equal(bad):
    assert verify(bad, "3") is False
    assert verify("3", bad) is False


@pytest.mark.parametrize("number", [3, 3.0, Fraction(3), Decimal("3")])
def test_numbers_are_read_as_their_text(number):
    assert verify("\\boxed{3}", number) is True
    assert verify(number, "3") is True
    assert verify("\\boxed{4}", number) is False
