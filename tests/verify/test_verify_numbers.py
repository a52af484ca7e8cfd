"""Numbers: exact rationals, decimals, scientific notation, repeating decimals, mixed numbers, percent, thousands."""

import pytest

from rewards.answers.engine import verify


@pytest.mark.parametrize("gold,pred,expected", [
    ("42", "42", True), ("42", "42.0", True), ("42", "41", False), ("42", "-42", False),
    ("0.5", r"\frac{1}{2}", True), (r"\frac{1}{2}", ".5", True), (r"\frac{1}{2}", "0.50", True),
    (r"\frac{1}{3}", "0.333", False), (r"\frac{1}{3}", "0.3333333333", False), (r"\frac{2}{3}", "0.67", False),
    (r"\frac{-5}{2}", "-2.5", True), (r"-\frac{5}{2}", r"\frac{5}{-2}", True), (r"\frac{5}{2}", "-2.5", False),
    ("3/8", r"\frac{3}{8}", True), ("3/8", "0.375", True), ("3/8", "0.38", False),
    ("2.5e-4", "0.00025", True), ("2.5e-4", r"2.5\times10^{-4}", True), ("2.5e-4", "0.0025", False),
    ("6.02e23", r"6.02 \times 10^{23}", True), ("1e6", "1000000", True), ("1E-3", "0.001", True),
    (r"0.\overline{3}", r"\frac{1}{3}", True), (r"0.\overline{3}", "0.33", False),
    (r"0.1\overline{6}", r"\frac{1}{6}", True), (r"0.\overline{142857}", r"\frac{1}{7}", True),
    (r"1\frac{1}{10}", "1.1", True), (r"1\frac{1}{10}", r"\frac{11}{10}", True), (r"1\frac{1}{10}", r"\frac{1}{10}", False),
    (r"2\frac{3}{4}", "2.75", True), (r"-1\frac{1}{2}", "-1.5", True),
    (r"\frac{1}{2004!}", r"\frac{1}{2006!}", False), (r"\frac{1}{2^{99}}", r"\frac{1}{2^{98}}", False),
    (r"\frac{1}{2^{99}}", r"2^{-99}", True), ("2^{100}", "1267650600228229401496703205376", True),
    ("2^{100}", "1267650600228229401496703205375", False), ("120", "5!", True), ("10", r"\binom{5}{2}", True),
    (r"\frac{2^{2005}+1}{3 \cdot 2^{2006}}", r"\frac{1}{3 \cdot 2^{2006}}", False),
    ("10{,}000", "10000", True), (r"3,\!250", "3250", True), (r"1\,000", "1000", True), ("1,000,000", "1000000", True),
    ("10{,}000", "1000", False), (r"3,\!250", "3.25", False), ("1 000", "1000", True), ("12,345.5", "12345.5", True),
    (r"12.5\%", "12.5", True), (r"12.5\%", "0.125", True), ("12.5", r"12.5\%", True), (r"12.5\%", "125", False),
    (r"40\%", r"\frac{2}{5}", True), (r"40\%", "40 percent", True), (r"40\%", "4", False), ("0.3", r"30\%", True),
    (r"\$18.90", "18.9", True), ("18", r"\$18", True), ("18", r"\$19", False),
    ("3.14", r"\pi", False), (r"\pi", "3.14159", False), (r"\sqrt{2}", "1.41421356", False),
    (r"\frac{\sqrt3}{2}", "0.866", False), (r"e", "2.718", False),
    ("0", "-0", True), ("0", "0.000", True), ("1", "1.0000001", False),
])
def test_numbers(gold, pred, expected):
    assert verify(rf"The answer is $\boxed{{{pred}}}$.", gold) is expected


@pytest.mark.parametrize("gold,answer,expected", [
    # thousands separators inside an answer that carries a unit or a counted noun
    ("2500", "2,500 marbles", True), ("2500", r"2{,}500\text{ marbles}", True), ("2500", r"2\,500 \text{ dollars}", True),
    ("2500", "2 500 people", True), ("1234567", "1,234,567 grains", True), ("12500.5", "12,500.5 meters", True),
    ("2500", "2,500 m", True), ("3000", r"3,000 \text{ students}", True), ("250", "2,500 marbles", False),
    ("1.234", "1,234", False), ("1.234", "1,234 apples", False), ("12", "1,2", False), ("2500", "2,50 marbles", False),
    # mixed numbers in plain text: a whole number, a space, a proper fraction
    ("5/2", "2 1/2", True), (r"2\frac12", "2 1/2", True), ("3.75", "3 3/4", True), ("-2.5", "-2 1/2", True),
    (r"\frac{7}{3}", "2 1/3 cups", True), ("(1.5, 2)", "(1 1/2, 2)", True), ("5/2", "x = 2 1/2", True),
    ("1", "2 1/2", False), ("2/2", "2 1/2", False), ("2.5", "2 1/3", False), ("0.5", "2 1/2", False),
    ("3", "2 3/2", False), ("12", "1 2", False), ("2", "1 2", False), ("1, 2", "1 2", False),
    # a stray trailing backslash (a row break or a broken \} at the end)
    ("5", "5\\", True), ("12", "12\\\\", True), ("0.5", r"\frac{1}{2}\\", True), ("7", "7 \\", True),
    ("6", "5\\", False), ("(1, 2)", r"\{1, 2\}", False),
])
def test_numbers_in_an_answer_tag(gold, answer, expected):
    assert verify(f"Working done.\n<answer>{answer}</answer>", gold) is expected
