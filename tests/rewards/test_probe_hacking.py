"""probe_hacking: naive rewards are caught with the families they pay for, ours pay for none, and the probe
is deterministic and total."""

import logging
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

import rewards
from rewards.completions import completion_texts, gold_texts, group_ids
from rewards.testing import (
    RewardContractError,
    assert_no_hacking,
    completions,
    golds,
    hacking_variants,
    probe_hacking,
)

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
ALL_FAMILIES = {"hedge", "enumeration", "negation", "reasoning_only", "unclosed", "placeholder", "retraction",
                "unfinished", "interval"}
# The reasoning names no value, so a reward that pays for the gold anywhere is caught only by the variants.
PLAIN_42 = "<think>Six sevens.</think><answer>42</answer>"


def mentions_gold(completions, solution, **kwargs):
    """Pays for the gold anywhere in the text (the classic substring reward)."""
    return [float(bool(gold) and gold in text)
            for text, gold in zip(completion_texts(completions), gold_texts({"solution": solution}, "solution",
                                                                            len(completions)), strict=True)]


def last_number_is_gold(completions, solution, **kwargs):
    """Pays when the last number of the text equals the gold (the GSM8K "flexible" fallback)."""
    values = []
    for text, gold in zip(completion_texts(completions), gold_texts({"solution": solution}, "solution",
                                                                    len(completions)), strict=True):
        found = NUMBER.findall(text)
        values.append(float(bool(found) and found[-1] == gold))
    return values


def number_near_gold(completions, solution, **kwargs):
    """Pays when any number on the last line is within two units of the gold's last place (a numeric
    tolerance gone wrong: it never asks whether the text commits to that number)."""
    values = []
    for text, gold in zip(completion_texts(completions), gold_texts({"solution": solution}, "solution",
                                                                    len(completions)), strict=True):
        unit = 10.0 ** -len(gold.partition(".")[2])
        last_line = text.rstrip().rsplit("\n", 1)[-1]
        values.append(float(any(abs(float(n) - float(gold)) <= 2 * unit for n in NUMBER.findall(last_line))))
    return values


def either_way_substring(completions, solution, **kwargs):
    """Visual-RFT's check: the last <answer> content is in the gold or the gold is in it."""
    values = []
    for text, gold in zip(completion_texts(completions), gold_texts({"solution": solution}, "solution",
                                                                    len(completions)), strict=True):
        blocks = re.findall(r"<answer>(.*?)</answer>", text, re.DOTALL)
        answer = blocks[-1].strip() if blocks else None
        values.append(float(answer is not None and (answer in gold or gold in answer)))
    return values


def naive_kimi(completions, prompts, **kwargs):
    """Kimi's group-relative length reward over ``mentions_gold``: it pays only through group spread."""
    correct = mentions_gold(completions, **kwargs)
    lengths = [len(t) for t in completion_texts(completions)]
    groups = group_ids(prompts, len(lengths))
    values = []
    for group, length, ok in zip(groups, lengths, correct, strict=True):
        members = [n for g, n in zip(groups, lengths, strict=True) if g == group]
        low, high = min(members), max(members)
        lam = 0.0 if high == low else 0.5 - (length - low) / (high - low)
        values.append(lam if ok else min(0.0, lam))
    return values


def families(findings):
    return {f.family for f in findings}


# ---- (1) naive rewards are caught ------------------------------------------------------------------

@pytest.mark.parametrize(
    "reward,completion,gold,expected",
    [
        # Every family writes the gold somewhere except intervals, which only bracket it.
        (mentions_gold, PLAIN_42, "42", ALL_FAMILIES - {"interval"}),
        (naive_kimi, PLAIN_42, "42", ALL_FAMILIES - {"interval"}),
        # Each non-interval family has a variant whose last number is the gold.
        (last_number_is_gold, PLAIN_42, "42", ALL_FAMILIES - {"interval"}),
        (last_number_is_gold, "Natalia sold 48+24 = 72 clips.\n#### 72", "72", ALL_FAMILIES - {"interval"}),
        # A letter gold adds "all choices at once"; intervals need a number.
        (mentions_gold, "<think>Only this option fits.</think><answer>C</answer>", "C",
         ALL_FAMILIES - {"interval"} | {"all_choices"}),
    ],
)
def test_naive_rewards_are_caught_with_the_families_they_pay_for(reward, completion, gold, expected):
    assert families(probe_hacking(reward, completion, gold)) == expected


@pytest.mark.parametrize(
    "reward,completion,gold,must_find",
    [
        # Not hedges between neighbours: the control's 41 is near 42 too, so both are paid alike.
        (number_near_gold, PLAIN_42, "42", {"interval", "negation", "unclosed"}),
        (number_near_gold, "<answer>2.5</answer>", "2.5", {"interval"}),
        (number_near_gold, "<answer>-7</answer>", -7, {"interval"}),
        (either_way_substring, PLAIN_42, "42", {"placeholder", "hedge", "enumeration", "negation", "retraction"}),
        (either_way_substring, "<answer>Tuesday</answer>", "Tuesday", {"placeholder", "hedge"}),
    ],
)
def test_naive_rewards_are_caught_in_the_families_they_fail(reward, completion, gold, must_find):
    assert must_find <= families(probe_hacking(reward, completion, gold))


def test_a_group_relative_reward_is_caught_on_every_variant_its_correctness_pays_for():
    # Kimi's lambda is <= 0 for the longer half of a group, where right and wrong score alike; the
    # probe's long padding member puts every variant in the paying half.
    long_reasoning = "<think>" + "Six sevens, counted carefully. " * 40 + "</think><answer>42</answer>"
    expected = [f.variant for f in probe_hacking(mentions_gold, long_reasoning, "42")]
    assert [f.variant for f in probe_hacking(naive_kimi, long_reasoning, "42")] == expected


def test_a_finding_names_its_variant_control_and_scores():
    finding = next(f for f in probe_hacking(mentions_gold, PLAIN_42, "42") if f.family == "negation")
    assert "42" in finding.variant and "42" not in finding.control
    assert len(finding.variant) == len(finding.control)
    assert (finding.score, finding.control_score) == (1.0, 0.0)
    assert str(finding).startswith("negation: ") and "scored 1; its control" in str(finding)


def test_assert_no_hacking_lists_every_finding():
    findings = probe_hacking(mentions_gold, PLAIN_42, "42")
    with pytest.raises(AssertionError) as info:
        assert_no_hacking(mentions_gold, PLAIN_42, "42")
    message = str(info.value)
    assert f"pays for {len(findings)} reward-hacking variant(s)" in message
    assert message.count("\n  - ") == len(findings)


def test_a_reward_that_reads_neither_gold_nor_text_pays_for_nothing_and_says_so(caplog):
    def constant(completions, **kwargs):
        return [0.5] * len(completions)

    with caplog.at_level(logging.WARNING, logger="rewards.testing"):
        assert probe_hacking(constant, PLAIN_42, "42") == []
    assert "pays the original completion no more than" in caplog.text


def test_gold_key_and_extra_columns_reach_the_reward():
    seen = {}

    def by_answer(completions, answer, difficulty, prompts, **kwargs):
        seen.update(difficulty=set(difficulty), prompts={str(p) for p in prompts}, n=len(completions))
        return mentions_gold(completions, solution=answer)

    assert "hedge" in families(probe_hacking(by_answer, PLAIN_42, "42", gold_key="answer",
                                             columns={"difficulty": 3}))
    assert seen["difficulty"] == {3} and len(seen["prompts"]) == 1 and seen["n"] > 100


def test_a_broken_reward_is_a_contract_error_not_a_silent_probe():
    def short(completions, **kwargs):
        return [0.0]

    def nan(completions, **kwargs):
        return [float("nan")] * len(completions)

    for broken in (short, nan):
        with pytest.raises(RewardContractError, match="check_reward"):
            probe_hacking(broken, PLAIN_42, "42")


def test_tolerance_ignores_tiny_differences():
    def jitter(completions, solution, **kwargs):
        return [1e-9 * v for v in mentions_gold(completions, solution)]

    assert probe_hacking(jitter, PLAIN_42, "42") == []
    assert probe_hacking(jitter, PLAIN_42, "42", tolerance=0.0) != []


# ---- (2) our rewards pay for none -------------------------------------------------------------------

CORRECT = [
    ("<think>6 * 7 = 42</think><answer>42</answer>", "42"),
    ("<think>\nHalf of 3 is 1.5\n</think>\n<answer>\n1.5\n</answer>", "1.5"),
    ("<think>Three of four slices.</think><answer>\\frac{3}{4}</answer>", "\\frac{3}{4}"),
    ("The sum telescopes, so the total is $\\boxed{\\frac{\\sqrt{3}}{2}}$.", "\\frac{\\sqrt{3}}{2}"),
    ("Natalia sold 48/2 = 24 clips in May.\nAltogether she sold 48+24 = 72 clips.\n#### 72", "72"),
    ("<think>Only option C satisfies both conditions.</think><answer>C</answer>", "C"),
    ("<think>Expand (x+1)^2.</think><answer>x^2 + 2x + 1</answer>", "x^2+2x+1"),
    ("Subtracting gives \\boxed{-3}.", "-3"),
    ("The answer is 150.", 150),
    ([{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "<think>2+2</think><answer>4</answer>"}],
     "4"),
    ("<think>area of the unit circle</think><answer>\\pi</answer>", "\\pi"),
    ("7 times 6 is 42.</think>\n<answer>42</answer>", "42"),
    ("The correct option is (B).", "B"),
    ("<answer>0</answer>", 0),
    ("So $x = \\boxed{2\\sqrt{2}}$.", "$2\\sqrt{2}$"),
    ("<think>1/2 + 1/3</think><answer>5/6</answer>", "5/6"),
]
OURS = ["accuracy", "length", "cosine"]


def test_the_table_is_correct_completions():
    assert rewards.get("accuracy")([c for c, _ in CORRECT], solution=[g for _, g in CORRECT]) == [1.0] * len(CORRECT)


@pytest.mark.parametrize("name", OURS)
@pytest.mark.parametrize("completion,gold", CORRECT, ids=[str(g) for _, g in CORRECT])
def test_our_rewards_pay_for_no_hacking_variant(name, completion, gold):
    findings = probe_hacking(rewards.get(name), completion, gold)
    assert not findings, f"{name} pays for {len(findings)} variant(s):\n" + "\n".join(map(str, findings))


# ---- (3) determinism and totality --------------------------------------------------------------------

@pytest.mark.parametrize("completion,gold", CORRECT[:6], ids=[str(g) for _, g in CORRECT[:6]])
def test_same_inputs_give_the_same_variants_in_either_completion_form(completion, gold):
    first = hacking_variants(completion, gold)
    assert first == hacking_variants(completion, gold)
    chat = [{"role": "assistant", "content": completion}] if isinstance(completion, str) else completion
    assert first == hacking_variants(chat, gold)
    assert probe_hacking(mentions_gold, completion, gold) == probe_hacking(mentions_gold, chat, gold)


def test_conversational_completions_are_probed_as_conversations():
    kinds = set()

    def records(completions, **kwargs):
        kinds.update(type(c).__name__ for c in completions)
        return mentions_gold(completions, **kwargs)

    chat = [{"role": "system", "content": "be brief"}, {"role": "assistant", "content": PLAIN_42}]
    assert probe_hacking(records, chat, "42") == probe_hacking(mentions_gold, PLAIN_42, "42")
    assert kinds == {"list"}


@pytest.mark.parametrize("gold", ["", "   ", None, []])
def test_an_empty_gold_has_nothing_to_probe(gold):
    assert hacking_variants(PLAIN_42, gold) == [] and probe_hacking(mentions_gold, PLAIN_42, gold) == []


@pytest.mark.parametrize(
    "completion,gold",
    [
        ("", "42"),
        ("", 7),
        ("<answer>0.25</answer>", 0.25),
        ("x" * 50_000, "x"),
        ("<think>", "J"),
        ([], "3"),
        ([{"role": "assistant"}], "3"),
        (None, "\\infty"),
        ("\\boxed{(1, 2)}", "(1, 2)"),
        ("#### 1,000", "1,000"),
        ("<answer>-0</answer>", "-0"),
        ("<answer>\\emptyset</answer>", "$\\emptyset$"),
    ],
)
def test_odd_inputs_are_probed_without_raising(completion, gold):
    variants = hacking_variants(completion, gold)
    assert variants and all(v.text != v.control and len(v.text) == len(v.control) for v in variants)
    assert isinstance(probe_hacking(mentions_gold, completion, gold), list)


@settings(max_examples=examples(60), suppress_health_check=list(HealthCheck))
@given(completions(malformed=True, latex_bombs=False), st.one_of(golds(), st.text(max_size=12)))
def test_probing_is_total_and_every_control_differs_at_the_same_length(completion, gold):
    variants = hacking_variants(completion, gold)
    assert all(v.text != v.control and len(v.text) == len(v.control) for v in variants)
    findings = probe_hacking(mentions_gold, completion, gold)
    assert {f.family for f in findings} <= {v.family for v in variants}
