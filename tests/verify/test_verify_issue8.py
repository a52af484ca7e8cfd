"""Every example of issue 8's "Why", with the verdict a careful grader gives: what a policy could learn to game
(never paid), honest answers (always paid), and pairs that used to stall a batch (decided, not timed out)."""

import pytest

from rewards import grade, verify

HACKS = [  # (completion, gold): each scored 1.0 before; none commits to the gold
    ("Either 6 or 7 works.", "7"),
    ("The possible values are 3, 5 and 7.", "7"),
    ("<answer>not 15</answer>", "15"),
    ("It can't be 15.", "15"),
    ("<think>the sum is 4 + 5, so 9</think>", "9"),
    ("<think>the sum is 4 + 5, so 9", "9"),
    (r"Therefore the answer is \boxed{12", "12"),
    ("<think>done</think><answer>12", "12"),
    ("Let me consider part 2 of the question. In step 3 we first", "3"),
]

HONEST = [  # (completion, gold): each scored 0.0 before
    ("It is 9, not 8.", "9"),
    ("<answer>9, surely</answer>", "9"),
    ("<answer>2,500 marbles</answer>", "2500"),
    (r"<answer>2\,500 \text{ marbles}</answer>", "2500"),
    ("<answer>2 500 marbles</answer>", "2500"),
    (r"\boxed{pi/2}", r"\frac{\pi}{2}"),
    (r"\boxed{3pi}", r"3\pi"),
    (r"The area is \boxed{36 \text{ cm}^2}.", "36"),
    ("The volume is 8 cubic feet.", "8"),
    (r"\boxed{(1, 2)} \text{ and } \boxed{(3, 4)}", "(1, 2), (3, 4)"),
    (r"So \boxed{a = 1} and \boxed{b = 2}.", "a = 1, b = 2"),
    ("The answer is 2 1/2.", r"\frac{5}{2}"),
    ("<answer>5\\</answer>", "5"),
    (r"\boxed{\frac{3}{4} \cdot 8 = 6}", "6"),
    (r"\boxed{g(x) = 2x + 1}", "y = 2x + 1"),
    (r"\boxed{\begin{pmatrix} a + b \\ 2 \end{pmatrix}}", "(b + a, 2)"),
    (r"\boxed{\begin{pmatrix} 1 \\ 2 \end{pmatrix}}", "(1, 2)"),
]

STALLS = [  # (completion, gold): equal, and must be decided rather than run into the timeout
    (r"\boxed{\frac{\sqrt{2+\sqrt{3}}+\sqrt{5}}{\sqrt{7-\sqrt{2}}}}", r"\frac{\sqrt{5}+\sqrt{2+\sqrt{3}}}{\sqrt{7-\sqrt{2}}}"),
    (r"\boxed{\frac{m_1 m_2 g (1 + \mu)}{m_1 + m_2} + \frac{1}{2} m v^2}",
     r"\frac{1}{2} m v^2 + \frac{g m_2 m_1 (\mu + 1)}{m_2 + m_1}"),
]


@pytest.mark.parametrize("completion,gold", HACKS)
def test_gaming_is_never_paid(completion, gold):
    assert verify(completion, gold) is False


@pytest.mark.parametrize("completion,gold", HONEST)
def test_honest_answers_are_paid(completion, gold):
    assert verify(completion, gold) is True


@pytest.mark.parametrize("completion,gold", STALLS)
def test_hard_equal_pairs_are_decided_not_timed_out(completion, gold):
    outcome = grade(completion, gold)
    assert outcome.status == "equal", outcome


@pytest.mark.parametrize("tuple_,set_", [("(1, 2)", r"\{1, 2\}"), ("(x, y)", r"\{x, y\}"), (r"(\sqrt2, 3)", r"\{\sqrt2, 3\}")])
def test_a_set_is_not_a_tuple_whatever_its_entries(tuple_, set_):
    assert verify(rf"\boxed{{{tuple_}}}", set_) is False
    assert verify(rf"\boxed{{{set_}}}", tuple_) is False
