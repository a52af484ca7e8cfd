"""Commitment semantics (docs/verify.md section 1): an answer is read only where the text commits to one.
Each rule is a table of varied strings run through ``extract_answer`` and ``verify``: what a policy could try
is never paid, honest answers are read and paid."""

import dataclasses
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

from rewards import verify
from rewards.answers.extract import ExtractionConfig, extract_answer, gold_answer
from rewards.testing import texts

# (completion, gold): the text commits to no answer, so extraction is None and the verdict "not equal"
NO_ANSWER = {
    "ends inside <think>": [
        ("<think>the sum is 4 + 5, so 9", "9"),
        ("<think>\nLet me compute. 12 * 3 = 36. So the answer is \\boxed{36}.", "36"),
        ("<think>a</think> ok <think>\nAnswer: 7", "7"),
        ("Sure.<think>Hmm, x = -2 works", "-2"),
    ],
    "nothing after </think>": [
        ("<think>... so 9</think>", "9"),
        ("<think>The answer is \\boxed{\\frac{1}{2}}.</think>\n\n", r"\frac12"),
        ("<think>so <answer>15</answer></think>", "15"),
        ("<think>x = 3</think>   \n", "3"),
    ],
    "unclosed box": [
        (r"\boxed{12", "12"),
        (r"Therefore the answer is $\boxed{\frac{3}{4}", r"\frac34"),
        (r"So \fbox{42", "42"),
        (r"$\boxed{12$.", "12"),
        (r"First $\boxed{7}$. Wait, I made an error: $\boxed{9", "9"),
        (r"The answer is \boxed", "5"),
    ],
    "unclosed tag": [
        ("<answer>12", "12"),
        ("<think>done</think><answer>12", "12"),
        ("<answer>1</answer> then <answer>2", "2"),
        ("<think>ok</think>\n<answer>\\frac{3}{4}\n", r"\frac34"),
    ],
    "hedge in plain text": [
        ("Either 6 or 7 works.", "7"),
        ("It could be 6 or 7.", "6"),
        ("Maybe 5, maybe 7.", "7"),
        ("maybe 5, maybe 7", "5"),
        ("The answer is probably 12.", "12"),
        ("Perhaps x = 4.", "4"),
        ("I'm not sure, but it might be 8.", "8"),
        ("Candidates: 3, 5, 7. So 7?", "7"),
        ("So the answer is 7?", "7"),
        ("It is between 5 and 7.", "7"),
        ("The answer is at least 5.", "5"),
        ("It is nearly 7.", "7"),
        ("<answer>almost 15</answer>", "15"),
        ("Alternatively, the answer is 9.", "9"),
    ],
    "hedge in a box or tag": [
        (r"It is either $\boxed{3}$ or $\boxed{4}$.", "4"),
        (r"So the answer is $\boxed{2}$ or possibly $\boxed{3}$.", "2"),
        (r"The answer is probably \boxed{7}.", "7"),
        (r"\boxed{\text{maybe } 7}", "7"),
        (r"Is it \boxed{7}?", "7"),
        ("<answer>maybe 7</answer>", "7"),
        ("<answer>7?</answer>", "7"),
        ("<answer>either 6 or 7</answer>", "6"),
        ("<answer>Either 41 or 42 apples.</answer>", "42"),
    ],
    "negated value": [
        ("<answer>not 15</answer>", "15"),
        ("It can't be 15.", "15"),
        ("the answer is not 15", "15"),
        ("The answer isn't 15.", "15"),
        (r"\boxed{\text{not } 15}", "15"),
        (r"\boxed{\neq 15}", "15"),
        ("<answer>≠ 15</answer>", "15"),
        ("15 is wrong.", "15"),
        ("<answer>15 is incorrect</answer>", "15"),
        ("Not 15.", "15"),
        ("It is 15, not 15.", "15"),
        ("x cannot equal 3.", "3"),
        ("The result is never 0.", "0"),
    ],
    "unfinished or rambling": [
        ("Step 1: add the 3 groups. Step 2: multiply by 4. Let me think about part (3)", "3"),
        ("Let me consider part 2 of the question. In step 3 we first", "3"),
        ("First, 15 - 4 = 11. Then we multiply 11 by", "11"),
        ("We have 12 eggs in 3 cartons, and now we need to", "12"),
        ("Next, we substitute x = 2 into the second equation.", "2"),
        ("Consider case 2.", "2"),
        ("The remaining task is to compute 7 times 8", "8"),
        ("We get 12 apples, then 15 apples.", "15"),
        ("It is .5 of the total and so -3 remains", "-3"),
        ("There are 5 cases to check:", "5"),
        ("If x = 3, then y = 5.", "5"),
        ("So far we have 24 and", "24"),
        ("Let me set up the problem. There are 3 groups with 12 items each, so 36 items, and 7 are removed, which "
         "leaves 29 before we apply the second condition. Checking the constraint again carefully,", "29"),
        ("Okay, so I need to compute this carefully. Hmm, 15 - 4 = 11, then 11 * 2 = 22. Wait, I should "
         "double-check the setup.", "22"),
    ],
    "a placeholder or a list of bare candidates": [
        (r"We get 42, so the answer is \boxed{}.", "42"),
        (r"The total is 7. $\boxed{ }$", "7"),
        ("We get 5.\n<answer></answer>", "5"),
        ("- -1\n- 1\n- 0", "0"),
        ("Options:\n* 3\n* 5\n* 7", "7"),
        ("1. 12\n2. 15", "15"),
    ],
    "words without a value": [
        ("no answer", "4"),
        ("I don't know.", "4"),
        ("It cannot be determined from the given information.", "4"),
    ],
    "answer then a retraction": [
        (r"\boxed{7}. Wait, that's wrong.", "7"),
        ("The answer is 8. Hmm, that is incorrect.", "8"),
        ("<think>x</think> So x = 5. Oops, I made a mistake.", "5"),
        (r"Final answer: $\boxed{12}$. Scratch that, I miscalculated.", "12"),
    ],
}
NO_ANSWER_ROWS = [pytest.param(c, g, id=f"{rule}: {c[:40]}") for rule, rows in NO_ANSWER.items() for c, g in rows]


@pytest.mark.parametrize("completion,gold", NO_ANSWER_ROWS)
def test_text_that_commits_to_nothing_has_no_answer_and_is_not_paid(completion, gold):
    assert extract_answer(completion) is None
    assert verify(completion, gold) is False


# (completion, extraction, members, multi-valued gold): several boxes, and-joined values and or-hedges read as
# one list, which never equals one of its members and equals a gold with the same members
LISTS = [
    (r"\boxed{3} or \boxed{4}", "3, 4", ["3", "4"], "3, 4"),
    (r"$\boxed{6}$, $\boxed{7}$", "6, 7", ["6", "7"], r"\{6, 7\}"),
    (r"The roots are $\boxed{2}$ and $\boxed{-5}$.", "2, -5", ["2", "-5"], "-5, 2"),
    ("For the first case we find \\boxed{6}.\n\nFor the second case we find \\boxed{7}.", "6, 7", ["6", "7"], "6, 7"),
    (r"\boxed{(1, 2)} \text{ and } \boxed{(3, 4)}", "(1, 2), (3, 4)", ["(1, 2)", "(3, 4)"], "(1, 2), (3, 4)"),
    (r"x = \boxed{5}, so y = \boxed{7}. Let me double check: \boxed{7}", "5, 7", ["5", "7"], "5, 7"),
    (r"So \boxed{a = 1} and \boxed{b = 2}.", "a = 1, b = 2", ["1", "2", "a = 1"], "a = 1, b = 2"),
    (r"\boxed{6 \text{ or } 7}", r"6 \text{ or } 7", ["6", "7"], "7, 6"),
    ("<answer>6 or 7</answer>", "6 or 7", ["6", "7"], r"\{6, 7\}"),
    ("6 or 7", "6 or 7", ["6", "7"], "6, 7"),
    ("<answer>41</answer> or <answer>42</answer>", "41, 42", ["41", "42"], "41, 42"),
    ("<answer>1</answer> then <answer>2</answer>", "1, 2", ["1", "2"], "1, 2"),
    ("The answer is 6 or 7.", "6 or 7", ["6", "7"], "6, 7"),
    ("The possible values are 3, 5 and 7.", "3, 5, 7", ["3", "5", "7"], "3, 5, 7"),
    ("The roots are 2 and 3.", "2, 3", ["2", "3"], "2, 3"),
    ("x = 2 or x = -2", "x = 2 or x = -2", ["2", "-2"], r"\pm 2"),
    ("$x = 2$ or $x = -2$", "$x = 2$ or $x = -2$", ["2", "-2"], r"\pm 2"),
]


@pytest.mark.parametrize("completion,expected,members,multi", LISTS)
def test_several_values_are_one_multi_valued_answer(completion, expected, members, multi):
    assert extract_answer(completion) == expected
    assert [verify(completion, member) for member in members] == [False] * len(members)
    assert verify(completion, multi) is True


@pytest.mark.parametrize("completion,gold", [
    ("Candidates: 3, 5, 7.", "7"),
    ("7 (or 8)", "7"),
    ("7 (or 8)", "8"),
    ("It is 6, or else 7.", "7"),
])
def test_a_list_of_candidates_is_not_its_last_member(completion, gold):
    assert verify(completion, gold) is False


# (completion, extraction, gold): honest answers, read and paid
HONEST = {
    "a later box retracts an earlier one": [
        (r"\boxed{7}. Wait, that's wrong... the answer is \boxed{9}", "9", "9"),
        (r"$\boxed{12}$. Actually, I misread the question; it asks for the perimeter: $\boxed{16}$.", "16", "16"),
        (r"First \boxed{3}. I made an error in the second step; correcting it gives \boxed{5}.", "5", "5"),
        ("\\boxed{\\frac{1}{2}}\n\nLet me recheck: the probability is \\boxed{\\frac{1}{3}}.", r"\frac{1}{3}", r"\frac13"),
        (r"So \boxed{20}. Let me redo the count: there are \boxed{24} ways.", "24", "24"),
        ("The answer is 8. Wait, that's wrong, it's 9.", "9", "9"),
        ("<answer>4</answer> Wait, that is wrong. <answer>5</answer>", "5", "5"),
        ("<answer>4</answer>\n<answer>4</answer>", "4", "4"),
    ],
    "a rejected alternative or a trailing assertion word": [
        ("It is 9, not 8.", "9", "9"),
        ("<answer>9, surely</answer>", "9", "9"),
        ("The answer is 9 (not 8).", "9", "9"),
        ("The answer is not 8 but 9.", "9", "9"),
        ("x is 12, rather than 10.", "12", "12"),
        ("<answer>4, definitely</answer>", "4", "4"),
        (r"<answer>\frac{1}{2}, clearly</answer>", r"\frac{1}{2}", "0.5"),
        ("The answer is (C), not (B).", "C", "C"),
        ("<answer>yes</answer>", "yes", "yes"),
        ("<answer>does not exist</answer>", "does not exist", r"\text{does not exist}"),
    ],
    "GSM8K-style final statements": [
        ("... so she makes 9 * 2 = $18 every day.", "18", "18"),
        ("#### 18", "18", "18"),
        ("16 - 3 - 4 = 9 eggs are left.\n#### 18", "18", "18"),
        ("So the total is 42 apples.", "42 apples", "42"),
        ("Natalia sold 48 + 24 = 72 clips altogether in April and May.", "72 clips", "72"),
        ("In total, she spent $3 + $4 = $7.", "7", "7"),
        ("Therefore, James writes 624 pages a year.", "624 pages", "624"),
        ("She sells 9 eggs at 2 dollars each, so she makes 18 dollars.", "18 dollars", "18"),
        ("He has 5 + 3 = 8 marbles now.", "8 marbles", "8"),
        ("Thus there are 20 ways. Actually, I recount: there are 24 ways.", "24 ways", "24"),
        ("She has 1,250 dollars left.", "1,250 dollars", "1250"),
        ("The answer is: 72", "72", "72"),
        ("Steps:\n1. Compute 3 * 4.\n2. So the total is 12.", "12", "12"),
        ("We find:\n- 42", "42", "42"),
        ("In conclusion, the speed of the train is 60 km/h.", "60 km/h", "60"),
        ("The area is 12 cm^2.", "12 cm^2", "12"),
    ],
    "math-style final statements": [
        ("Therefore, the sum of the 10 terms is $55$.", "55", "55"),
        ("So $n = 10$.", "n = 10", "10"),
        ("Thus x = 3", "x = 3", "3"),
        (r"Therefore $x \geq 5$ is the solution.", r"x \geq 5", "x >= 5"),
        ("The probability is 1/6 ≈ 0.1667.", "1/6", r"\frac16"),
        ("The point is \\((1, 2)\\).", "(1, 2)", "(1, 2)"),
        (r"Answer \[ 9 \]", "9", "9"),
        ("\\begin{pmatrix} 1 \\\\\n 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\\n 2 \\end{pmatrix}", "(1, 2)"),
    ],
    "an approximation states its value (which must equal the gold exactly)": [
        ("The answer is approximately 3.14.", "approximately 3.14", "3.14"),
        ("It is about 15.", "15", "15"),
        (r"\boxed{\approx 7}", r"\approx 7", "7"),
        ("The total is roughly $1,200.", "1,200", "1200"),
    ],
    "an answer written first, then its explanation": [
        ("$5\nExplanation: 20 divided by 4 is 5. Each of the 4 siblings got $5.", "$5", "5"),
        ("1200 gallons of blood\nStep-by-step explanation: 30 x 40 = 1200\nThe number of gallons", "1200 gallons",
         "1200"),
        ("John is missing $100.\nLet's look at this problem step by step.\nJohn has $50.\nThe trip", "100", "100"),
    ],
    "the result of a sentence's main clause": [
        ("If he trained for a month, he would have run 6000 * 30 = 180,000 meters in June.", "180,000 meters",
         "180000"),
        ("The zebras have an average of 22 stripes each.", "22 stripes", "22"),
        ("Each of the 4 siblings got $5.", "5", "5"),
        ("Answer: 23 + 16 = 39 minutes\n39 x 2 = 78 minutes\nPeter exercises 78 minutes on Tuesday.", "78 minutes", "78"),
        ("Willy has 48 toys. </think>\nanswer> Therefore, Willy has 48 toys in total. </answer>", "48 toys", "48"),
        ("The answer is (c) $J_g = 2J_f$.", "c", "(c)"),
    ],
    "boxes, tags and choices": [
        (r"\boxed 5$.", "5", "5"),
        (r"\fbox{12}", "12", "12"),
        (r"So \boxed{\boxed{5}}", "5", "5"),
        (r"$\boxed{3}$, $\boxed{3}$", "3", "3"),
        (r"$\boxed{3}$ is the answer. \boxed{}", "3", "3"),
        ("The answer is (B).", "B", "B"),
        ("<think>maybe 3</think><answer> 7 </answer>", "7", "7"),
        ("<think>maybe <answer>3</answer></think> The answer is 4.", "4", "4"),
        ("<answer>The total is 42 apples.</answer>", "42 apples", "42"),
    ],
}
HONEST_ROWS = [pytest.param(c, a, g, id=f"{rule}: {c[:40]}") for rule, rows in HONEST.items() for c, a, g in rows]


@pytest.mark.parametrize("completion,expected,gold", HONEST_ROWS)
def test_honest_answers_are_read_and_paid(completion, expected, gold):
    assert extract_answer(completion) == expected
    assert verify(completion, gold) is True


@pytest.mark.parametrize("completion,gold", [
    ("250 pounds\nExplanation: x = 4(125) - 2 = 498\nThe combined weight is 125 + 498 = 623 pounds.", "623"),
    ("250 pounds\nExplanation: x = 4(125) - 2 = 498\nThe combined weight is 125 + 498 = 623 pounds.", "250"),
    ("5\nExplanation: 5 x 5 = 25 petals\n4 x 10 = 40 petals\n40 - 25 = 15 more petals", "15"),
    ("$200\nExplanation: The remaining amount is 720 - 480 = 240.", "240"),
    ("Answer: 23 + 16 = 39 minutes\n39 x 2 = 78 minutes\nPeter exercises 78 minutes on Tuesday.", "39"),
    ("The probability is approximately 0.1667.", r"\frac16"),
    ("If he trained for a month, he would have run 6000 * 30 = 180,000 meters in June.", "6000"),
])
def test_an_answer_contradicted_by_its_own_explanation_or_an_intermediate_value_is_not_paid(completion, gold):
    assert verify(completion, gold) is False


@pytest.mark.parametrize("completion,superseded", [
    (r"\boxed{7}. Wait, that's wrong... the answer is \boxed{9}", "7"),
    (r"$\boxed{12}$. Actually, I misread the question; it asks for the perimeter: $\boxed{16}$.", "12"),
    (r"First \boxed{3}. I made an error in the second step; correcting it gives \boxed{5}.", "3"),
    ("The answer is 8. Wait, that's wrong, it's 9.", "8"),
    ("It is 9, not 8.", "8"),
    ("The answer is 9 (not 8).", "8"),
    ("x is 12, rather than 10.", "10"),
])
def test_a_retracted_or_rejected_value_is_not_paid(completion, superseded):
    assert verify(completion, superseded) is False


@pytest.mark.parametrize("completion,gold,expected", [
    # a box the text denies is no answer; the boxes beside it still are
    (r"It is not $\boxed{15}$.", "15", False), (r"Thus $x \neq \boxed{2}$.", "2", False),
    (r"$\boxed{15}$ is wrong.", "15", False), (r"We get \boxed{3} and not \boxed{3}.", "3", False),
    (r"The answer is not \boxed{15} but \boxed{16}.", "16", True),
    (r"The answer is not \boxed{15} but \boxed{16}.", "15", False),
    (r"So the answer is $\boxed{5}$, not 4.", "5", True),  # the denial is of 4, after the box
    (r"The number of non-negative solutions is $\boxed{15}$.", "15", True),
])
def test_a_denied_box_is_not_an_answer(completion, gold, expected):
    assert verify(completion, gold) is expected


@pytest.mark.parametrize("completion,gold", [
    ("The side is 5 cm.", "5 m"),
    ("In conclusion, the speed of the train is 60 km/h.", "60 mph"),
    ("So she walks 3 miles every day.", "3 km"),
])
def test_a_unit_stated_with_the_value_still_decides(completion, gold):
    assert verify(completion, gold) is False


@pytest.mark.parametrize("completion,relation", [
    (r"y \ne 15", r"y \neq 15"),
    (r"x \neq 15", r"x \ne 15"),
    ("y ≠ 15", r"y \ne 15"),
    (r"So $x \ne 15$.", r"x \neq 15"),
])
def test_a_not_equal_relation_is_a_relation_never_its_value(completion, relation):
    assert extract_answer(completion) is not None
    assert verify(completion, "15") is False
    assert verify(completion, relation) is True


@pytest.mark.parametrize("gold,expected", [
    ("The total is 42 apples.", "42 apples"),
    ("does not exist", "does not exist"),
    (r"\text{Evelyn}", r"\text{Evelyn}"),
    (r"Since $14{,}916$ is divisible by 12, $\boxed{14{,}916}$ is our answer.", "14{,}916"),
    (r"$\boxed{3}$ and $\boxed{4}$", "3, 4"),
    ("Natalia sold 24 clips.\n#### 72", "72"),
    (r"\boxed{5", None),
])
def test_gold_answer_reads_the_gold(gold, expected):
    assert gold_answer(gold) == expected


def test_the_final_statement_rule_can_be_switched_off():
    config = ExtractionConfig(final_statement=False)
    assert extract_answer("So the total is 42 apples.", config) is None
    assert extract_answer(r"So the total is $\boxed{42}$.", config) == "42"
    assert extract_answer("The answer is 42.", config) == "42"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.final_statement = True


@pytest.mark.parametrize("text,expected", [
    ("<solution>5</solution>", "5"),
    ("<think>x</think><solution>5", None),
    ("<solution>\\boxed{4}</solution> and later \\boxed{5}", "4"),
])
def test_the_answer_tag_is_configurable(text, expected):
    assert extract_answer(text, ExtractionConfig(answer_tag="solution")) == expected


N = 200_000
HUGE = [
    r"\boxed{" + "a" * N + "}",
    "".join(rf"\boxed{{{i}}} " for i in range(N // 12)),
    r"Wait, \boxed{1}. " * (N // 17),
    "$" * N,
    "$a" * (N // 2),
    "the answer is " * (N // 14),
    "between " + "x" * N + " and",
    "not " * (N // 4) + "15",
    r"\boxed{" + "x" * 1000 + "ly" * (N // 2) + "}",
    "1, " * (N // 3),
    "{" * N,
    "1\nExplanation: " * (N // 15),
]


@pytest.mark.parametrize("text", HUGE, ids=range(len(HUGE)))
def test_extraction_of_huge_adversarial_text_is_bounded(text):
    start = time.perf_counter()
    extract_answer(text)
    gold_answer(text)
    assert time.perf_counter() - start < 5.0  # a hang bound (linear scans), not a speed target


SETTINGS = settings(max_examples=examples(300), suppress_health_check=list(HealthCheck))
_WORDS = ("the answer is ", "Answer: ", "so ", "not ", "maybe ", " or ", " and ", "Wait, ", "actually ", "wrong",
          "is ", "= ", "$", "\\(", "\\)", "\\boxed{", "\\boxed ", "}", "{", "<answer>", "</answer>", "<think>",
          "</think>", "####", ". ", "? ", ", ", "\n", "7", "15", "-3", "1/2", "\\frac{1}{2}", "\\ne ", "x", "(B)",
          "\\text{ or }", "step ", "surely", "apples", "approximately ")
commitment_soup = st.lists(st.sampled_from(_WORDS), max_size=30).map("".join)
any_text = st.one_of(texts(latex_bombs=False), commitment_soup)


@SETTINGS
@given(any_text)
def test_extraction_is_total_on_commitment_vocabulary(text):
    answer = extract_answer(text)
    assert answer is None or (isinstance(answer, str) and answer.strip())
    gold = gold_answer(text)
    assert gold is None or isinstance(gold, str)


@SETTINGS
@given(any_text, st.sampled_from(["<think>", "<think>\nso 7", "<answer>7", "<answer>\n\\frac{1}{2}"]))
def test_text_ending_inside_reasoning_or_an_open_tag_has_no_answer(text, ending):
    assert extract_answer(text + ending) is None


@SETTINGS
@given(any_text.filter(lambda t: "<answer>" not in t and "</answer>" not in t),
       st.sampled_from(["\\boxed{7", "\\boxed{\\frac{1}{2}", "$\\boxed{12$.", "\\fbox{3"]))
def test_text_ending_inside_an_open_box_has_no_answer(text, ending):
    assert extract_answer(text + ending) is None
