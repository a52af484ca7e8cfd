"""Extraction: which answer a grader reads (tags, boxes, phrases, choices, final statements), and verdicts on it."""

import pytest

from rewards.answers.engine import verify
from rewards.answers.extract import extract_answer


@pytest.mark.parametrize("text,expected", [
    ("<think>maybe \\boxed{3}</think><answer>\\boxed{4}</answer>", "4"),
    ("<think>maybe 3</think><answer> 7 </answer>", "7"),
    ("<think>x</think>\n<answer>1/2</answer>", "1/2"),
    ("<answer>The answer is 5</answer>", "5"),
    ("<answer>1</answer> then <answer>2</answer>", "1, 2"),  # several blocks, as several boxes, are one list
    (r"so $\boxed{\frac{3}{4}}$.", r"\frac{3}{4}"),
    (r"so $\boxed{\frac{\sqrt{a^{2}}}{2}}$.", r"\frac{\sqrt{a^{2}}}{2}"),
    (r"\boxed {5}", "5"),
    (r"\boxed 5$.", "5"),
    (r"\fbox{12}", "12"),
    ("#### 18", "18"),  # GSM8K's answer marker, as models fine-tuned on GSM8K write it
    ("16-3-4=9 eggs, 9*2=18\n#### 18\n", "18"),
    ("<answer>#### 1/2</answer>", "1/2"),
    (r"\boxed{3}. Wait, that is wrong. Recomputing: \boxed{4}", "4"),
    (r"\boxed{3} or \boxed{4}", "3, 4"),
    (r"$\boxed{3}$ and $\boxed{4}$", "3, 4"),
    (r"$\boxed{3}$, $\boxed{3}$", "3"),
    (r"we get \boxed{\frac{3}{56}.", None),  # an unclosed box: the model may have been about to write more
    ("The answer is (B).", "B"),
    ("Therefore, the correct option is C.", "C"),
    ("The final answer is: 42", "42"),
    ("**Final Answer:** 12", "12"),
    ("We get 12 apples, then 15 apples.", None),  # a narrative with two values states no one result
    ("She has 1,250 dollars left.", "1,250 dollars"),
    ("It is .5 of the total and so -3 remains", None),
    (r"\frac{\sqrt3}{2}", r"\frac{\sqrt3}{2}"),
    ("x^2 - 1 = 0", "x^2 - 1 = 0"),
    ("no numbers here at all", None),
    ("", None),
])
def test_extract_answer(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize("text", [None, 5, b"\\boxed{1}", ["\\boxed{1}"], "\\boxed{" * 5000, "{" * 10000 + "}"])
def test_extract_never_raises(text):
    extract_answer(text)


@pytest.mark.parametrize("gold,pred,expected", [
    ("5", "<think>it is \\boxed{5}</think><answer>7</answer>", False),
    ("7", "<think>it is \\boxed{5}</think><answer>7</answer>", True),
    ("1", r"Adding up gives $\boxed{\frac{3}{56}.", False),
    (r"\frac{3}{56}", r"Adding up gives $\boxed{\frac{3}{56}.", False),
    ("5", r"$\boxed {5}$", True),
    ("5", r"$\fbox{5}$", True),
    (r"\frac{1}{2}", "<answer>1/2</answer>", True),
    ("B", "Looking at each option... The answer is (B).", True),
    ("B", "Looking at each option... The answer is (D).", False),
    ("4", r"First $\boxed{3}$. Hmm, I dropped a term; redoing it gives $\boxed{4}$.", True),
    ("3", r"First $\boxed{3}$. Hmm, I dropped a term; redoing it gives $\boxed{4}$.", False),
    ("3", r"It is either $\boxed{3}$ or $\boxed{4}$.", False),
    ("4", r"It is either $\boxed{3}$ or $\boxed{4}$.", False),
    ("3", r"$\boxed{3 \text{ or } 4}$", False),
    ("3, 4", r"The roots are $\boxed{3}$ and $\boxed{4}$.", True),
    ("42", "<answer>The total is 42 apples.</answer>", True),
    ("42", "<answer>Either 41 or 42 apples.</answer>", False),
    ("18", "She sells 9 eggs at 2 dollars each, so she makes 18 dollars.", True),
    ("18", "Janet keeps 9 eggs.\n#### 18", True),
    ("7", "I cannot solve this.", False),
    ("7", "", False),
    (r"\boxed{16}", r"So $\boxed{16}$.", True),
    (r"$\frac{7}{2}$", r"So $\boxed{3.5}$.", True),
    ("<answer>12</answer>", "<answer>12</answer>", True),
])
def test_verify_reads_the_committed_answer(gold, pred, expected):
    assert verify(pred, gold) is expected


@pytest.mark.parametrize("gold,pred,expected", [
    ("Natalia sold 48/2 = 24 clips in May.\nAltogether 48+24 = 72 clips.\n#### 72", "<answer>72</answer>", True),
    ("Natalia sold 48/2 = 24 clips in May.\nAltogether 48+24 = 72 clips.\n#### 72", "<answer>24</answer>", False),
    (r"Since $14{,}916$ is divisible by 12, $\boxed{14{,}916}$ is our answer.", r"$\boxed{14916}$", True),
    ("We add the two numbers given in the problem.\nThe answer is 5.", "so 5", True),
    (r"$\frac{5}{8}$", r"$\boxed{\frac{5}{8} = 0.625}$", True),
    (r"$\frac{1}{3}$", r"$\boxed{\frac{1}{3} = 0.333}$", False),
    (r"\text{Tuesday}", "Tuesday", True),
    ("3", "Thus x = 3", True),
])
def test_gold_formats_and_value_chains(gold, pred, expected):
    assert verify(pred, gold) is expected
