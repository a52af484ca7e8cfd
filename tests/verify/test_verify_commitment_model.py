"""The commitment model (rewards/answers/commitment.py, docs/verify.md section 1): each candidate value of a statement
plays one role, and a hedge voids only what it qualifies. Every table row is a whole completion run through
``extract_answer`` and ``verify``: honest answers whose sentence holds a hedge word about something else are paid,
and every hedge that qualifies the answer itself still voids it."""

import pytest

from rewards import verify
from rewards.answers.commitment import Role, any_hedged, asserted_value, candidates, hedged, statement
from rewards.answers.extract import extract_answer
from rewards.answers.spans import mask_math

# (completion, extraction, gold): a hedge word in the sentence qualifies another quantity, not the answer
COMMITTED_DESPITE_A_HEDGE_WORD = [
    (r"Since $x$ is either positive or zero, $|x| = x$, so the answer is $\boxed{4}$.", "4", "4"),
    (r"The value lies between 3 and 5, and checking the endpoints shows it is exactly $\boxed{4}$.", "4", "4"),
    (r"The most likely outcome is heads, with probability $\boxed{\frac{1}{2}}$.", r"\frac{1}{2}", "0.5"),
    (r"The most likely number of heads is $\boxed{5}$.", "5", "5"),
    (r"Since n might be even, we check both cases, and the answer is $\boxed{6}$.", "6", "6"),
    (r"Perhaps surprisingly, the answer is $\boxed{0}$.", "0", "0"),
    (r"We could try either method; either way the answer is $\boxed{12}$.", "12", "12"),
    (r"The answer is \boxed{7}, which is probably what the question intended.", "7", "7"),
    ("Whether the coin lands heads or tails, maybe twice, the expected count is 3.", "3", "3"),
    (r"Either factor could vanish, so we test both: only $x = 2$ works, giving $\boxed{2}$.", "2", "2"),
    ("The probability that it rains is 0.3, so the answer is 0.3.", "0.3", "0.3"),
    ("A possible mistake is to add instead of multiply; the correct total is 42.", "42", "42"),
    (r"It may be tempting to answer 10, but the area is actually $\boxed{12}$.", "12", "12"),
    ("Maybe I should double-check: 6 * 7 = 42. The answer is 42.", "42", "42"),
    (r"The answer lies in the range between 40 and 50; it is $\boxed{45}$.", "45", "45"),
    ("<answer>Since x is either 2 or negative and x > 0, x = 2</answer>", "2", "2"),
]


@pytest.mark.parametrize("completion,expected,gold", COMMITTED_DESPITE_A_HEDGE_WORD)
def test_a_hedge_about_something_else_never_voids_the_answer(completion, expected, gold):
    assert extract_answer(completion) == expected
    assert verify(completion, gold) is True


# (completion, gold): the hedge qualifies the answer itself, or joins it with another candidate
HEDGED_ANSWERS = [
    ("It is probably 7.", "7"),
    ("The answer is probably \\boxed{7}.", "7"),
    ("Possibly the answer is 7.", "7"),
    ("Maybe, the answer is 7.", "7"),
    ("The answer is 7, maybe.", "7"),
    ("It is most likely 7.", "7"),
    ("The answer could be 7.", "7"),
    ("It might be 7 or 8.", "7"),
    ("Either 6 or 7.", "7"),
    (r"It is either $\boxed{6}$ or $\boxed{7}$.", "7"),
    (r"So the answer is $\boxed{2}$ or possibly $\boxed{3}$.", "2"),
    ("The answer is 7, but I'm not sure.", "7"),
    ("I'm not sure, but the answer is 7.", "7"),
    ("My best guess is 7.", "7"),
    ("Alternatively, the answer is 9.", "9"),
    ("Is the answer 7?", "7"),
    (r"Is it \boxed{7}?", "7"),
    ("<answer>maybe 7</answer>", "7"),
    ("<answer>7, probably</answer>", "7"),
    ("<answer>either B or C</answer>", "B"),
    ("The answer is either B or C.", "C"),
    ("Perhaps $x = 4$.", "4"),
    ("It is 7 or so.", "7"),
]


@pytest.mark.parametrize("completion,gold", HEDGED_ANSWERS)
def test_a_hedge_that_qualifies_the_answer_voids_it(completion, gold):
    assert extract_answer(completion) is None
    assert verify(completion, gold) is False


# (masked sentence, value, role): one row per role, as docs/verify.md tabulates them
ROLES = [
    ("so the answer is 42", "42", Role.ASSERTED),
    ("It is 9, not 8", "8", Role.REJECTED),
    ("x cannot equal 3", "3", Role.REJECTED),
    ("15 is wrong", "15", Role.REJECTED),
    ("It is at least 5", "5", Role.BOUND),
    ("It is about 15", "15", Role.ASSERTED),
    ("The probability is 1/6 ≈ 0.1667", "0.1667", Role.BOUND),
    ("It is nearly 15", "15", Role.BOUND),
    ("It lies between 3 and 5", "3", Role.BOUND),
    ("It lies between 3 and 5", "5", Role.BOUND),
    ("In step 2 we add", "2", Role.LABEL),
    ("By part (3) the total is 12", "3", Role.LABEL),
]


@pytest.mark.parametrize("sentence,value,role", ROLES)
def test_each_candidate_gets_its_role(sentence, value, role):
    found = {c.text: c.role for c in candidates(sentence, [])}
    assert found[value] is role


@pytest.mark.parametrize("sentence,expected", [
    ("Natalia sold 48 + 24 = 72 clips altogether", "72 clips"),  # 48 and 24 are intermediate
    ("We get 12 apples, then 15 apples", None),  # a narrative: every value intermediate, no result
    ("The roots are 2 and 3", "2, 3"),  # a list of asserted values
    ("It is 9, not 8", "9"),
    ("It is 15, not 15", None),  # asserted and rejected at once
    ("It lies between 3 and 5, and it is exactly 4", "4"),
    ("It might be 6 or 7", None),  # alternatives
])
def test_the_asserted_value_of_a_statement(sentence, expected):
    assert asserted_value(sentence, []) == expected


@pytest.mark.parametrize("sentence,roles", [
    ("Natalia sold 48 + 24 = 72 clips", {"48": Role.INTERMEDIATE, "24": Role.INTERMEDIATE, "72 clips": Role.ASSERTED}),
    ("It might be 6 or 7", {"6": Role.ALTERNATIVE, "7": Role.ALTERNATIVE}),
    ("It is 9, not 8", {"9": Role.ASSERTED, "8": Role.REJECTED}),
    ("Tom has 91 trees left after 10 years", {"91 trees": Role.ASSERTED, "10 years": Role.CONTEXT}),
    ("We get 12 apples, then 15 apples", {"12 apples": Role.INTERMEDIATE, "15 apples": Role.INTERMEDIATE}),
    ("It lies between 3 and 5, and it is exactly 4", {"3": Role.BOUND, "5": Role.BOUND, "4": Role.ASSERTED}),
])
def test_each_value_gets_its_final_role(sentence, roles):
    assert {c.text: c.role for c in statement(sentence, [])} == roles


def test_hedge_scope_ends_at_its_clause():
    sentence = "x might be 0 in general, so the answer is 4"
    assert hedged(sentence, sentence.index("0"), sentence.index("0") + 1)
    assert not hedged(sentence, sentence.index("4"), sentence.index("4") + 1)


@pytest.mark.parametrize("text,expected", [
    ("maybe 7", True), ("7 or 8", False), ("9, surely", False), (r"6 \text{ or } 7", False), ("7?", True),
    ("either 6 or 7", True), ("probably x = 2", True), ("x = 2", False),
])
def test_a_box_or_tag_body_is_hedged_only_by_a_hedge_on_its_values(text, expected):
    assert any_hedged(text) is expected


def test_math_inside_a_span_is_one_candidate():
    masked, spans = mask_math(r"The matrix is $\begin{pmatrix} 1 & 2 \end{pmatrix}$")
    assert [c.role for c in candidates(masked, spans)] == [Role.ASSERTED]
    assert asserted_value(masked, spans) == r"\begin{pmatrix} 1 & 2 \end{pmatrix}"


# (completion, gold): formats real prompts produce (issue 15 item 3), each paid when right and not when wrong
FORMATS = [
    ("Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.\nA: 72", "72"),
    ("She sold 1,500 cupcakes over the month.\nA: 1,500", "1500"),
    ("Q: How many?\nA: 72", "72"),
    ("There are 3 + 4 = 7 birds.\nA: 7\n\nQ: A farmer has 12 cows and sells 5. How many are left?\nA: 7", "7"),
    ("The answer is 72.\n\nQuestion: Tom has 3 cars and buys 2 more. How many cars?\nAnswer: 5", "72"),
    ("Adding the two amounts gives the total.\nAnswer: 85", "85"),
    ("48 + 24 = 72\n#### 72", "72"),
    ("So she has 15 left. The answer is 15.\n#### 16", "16"),  # the later marker is the final commitment
    (r"The population is $12\!345$.", "12345"),
    ("The population is 12\u2009345 people.", "12345"),
    ("The population is 12\u202f345.", "12345"),
    (r"So $\boxed{3,\!000}$.", "3000"),
    (r"The total is $1{,}500$ dollars.", "1500"),
    (r"The inverse is $\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}$.", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"),
    (r"So $A^{-1} = \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}$.", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"),
    (r"The answer is $\left[\begin{array}{cc} 1 & 2 \\ 3 & 4 \end{array}\right]$.",
     r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"),
    (r"Thus $M = \begin{Bmatrix} 1 & 0 \\ 0 & 1 \end{Bmatrix}$.", r"\begin{pmatrix}1&0\\0&1\end{pmatrix}"),
    (r"The solution is $(x, y) = (1, 5)$.", "(1, 5)"),
    (r"\boxed{(1, 5)}", "(x,y)=(1,5)"),
    (r"\boxed{x = 1, y = 5}", "(x, y) = (1, 5)"),
    (r"The answer is B.", "(B) 12 apples"),
    (r"\boxed{12 \text{ apples}}", "(B) 12 apples"),
    ("Option B", "B"),
    ("B is correct.", "B"),
    ("**(C)**", "C"),
    (r"\boxed{\text{12 apples}}", "12"),
    (r"The speed is 90 miles per hour.", r"90 \text{ mph}"),
    (r"$\boxed{5\text{ cm}}$", r"5 \text{ cm}"),
    ('{"reasoning": "3 + 4 = 7", "answer": "7"}', "7"),
    ('```json\n{\n  "reasoning": "half of 84",\n  "answer": 42\n}\n```', "42"),
    ('{"solution": "...", "answer": "\\\\frac{1}{2}"}', "0.5"),
    ('{"answer": "\\frac{3}{4}"}', "0.75"),
]


@pytest.mark.parametrize("completion,gold", FORMATS)
def test_formats_real_prompts_produce_are_read(completion, gold):
    assert verify(completion, gold) is True


@pytest.mark.parametrize("completion,gold", [
    ("She sold 1,400 cupcakes.\nA: 1,400", "1500"),
    ("A: 72\n\nQ: Next question?\nA: 5", "5"),  # the answer to the asked question is 72, not the made-up one's
    ("A: 12\nB: 15\nC: 18", "12"),  # a list of options, not an answer line
    (r"The population is $12\!346$.", "12345"),
    (r"The solution is $(x, y) = (5, 1)$.", "(1, 5)"),
    (r"\boxed{x = 5, y = 1}", "(x, y) = (1, 5)"),
    (r"\boxed{C}", "(B) 12 apples"),
    (r"\boxed{13 \text{ apples}}", "(B) 12 apples"),
    ("C is correct.", "B"),
    ("The speed is 90 km/h.", r"90 \text{ mph}"),
    ('{"reasoning": "3 + 4 = 7", "answer": "8"}', "7"),
    ('{"answer": "___"}', "7"),
    (r"So $A^{-1} = \begin{pmatrix} 1 & 2 \\ 3 & 5 \end{pmatrix}$.", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"),
    ("So she has 16 left.\n#### 15", "16"),
])
def test_the_same_formats_with_a_wrong_value_are_not_paid(completion, gold):
    assert verify(completion, gold) is False
