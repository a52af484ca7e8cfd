"""Exact values of the format family: format, format_partial, tag_count, reasoning_steps."""

import pytest

import rewards

GOOD = "<think>\n2+2\n</think>\n<answer>\n4\n</answer>"


@pytest.mark.parametrize(
    "text,expected",
    [
        (GOOD, 1.0),
        ("<think>a</think><answer>4</answer>", 1.0),
        ("  \n<think>a</think>\n\n<answer>4</answer>\n  ", 1.0),
        ("<think>multi\nline\nreasoning</think><answer>4</answer>", 1.0),  # DOTALL anchor bug
        ("<think>a</think><answer>4</answer>\ntrailing", 0.0),  # `$` with MULTILINE anchor bug
        ("<think>a</think><answer>4</answer>\n<answer>5</answer>", 0.0),  # duplicate answer block
        ("<think>a</think><think>b</think><answer>4</answer>", 0.0),
        ("<think><think>a</think></think><answer>4</answer>", 0.0),  # nested same tag
        ("<answer>4</answer><think>a</think>", 0.0),  # wrong order
        ("preamble <think>a</think><answer>4</answer>", 0.0),
        ("<think>a</think> between <answer>4</answer>", 0.0),
        ("<think>a<answer>4</answer></think>", 0.0),
        ("<think>a</think><answer>4", 0.0),
        ("<think>a</think>", 0.0),
        ("", 0.0),
        ("</think><think><answer></answer>", 0.0),
        ("<think></think><answer></answer>", 1.0),  # empty blocks still have the layout
        ("<THINK>a</THINK><answer>4</answer>", 0.0),
    ],
)
def test_format(text, expected):
    assert rewards.format()([text]) == [expected]
    assert rewards.format()([[{"role": "assistant", "content": text}]]) == [expected]


@pytest.mark.parametrize(
    "text,prefilled,expected",
    [
        ("2+2</think>\n<answer>4</answer>", True, 1.0),
        ("\n2+2\n</think><answer>4</answer>", True, 1.0),
        ("<think>2+2</think><answer>4</answer>", True, 0.0),  # re-opening think duplicates the prefilled tag
        ("2+2</think>\n<answer>4</answer>", False, 0.0),
        ("<answer>4</answer>", True, 0.0),
    ],
)
def test_format_prefilled_think(text, prefilled, expected):
    assert rewards.format(prefilled_think=prefilled)([text]) == [expected]


@pytest.mark.parametrize(
    "tags,text,expected",
    [
        (("latex",), "<latex>x^2</latex>", 1.0),
        (("latex",), " <latex>x^2</latex>\n", 1.0),
        (("latex",), "<latex>x^2</latex> extra", 0.0),
        ("latex", "<latex>x^2</latex>", 1.0),
        (("a", "b", "c"), "<a>1</a><b>2</b><c>3</c>", 1.0),
        (("a", "b", "c"), "<a>1</a><c>3</c><b>2</b>", 0.0),
        (("think", "answer"), "<thinking>a</thinking><answer>4</answer>", 0.0),
    ],
)
def test_format_custom_tags(tags, text, expected):
    assert rewards.format(tags=tags)([text]) == [expected]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("<think>a</think><answer>4</answer>", 1.0),
        ("<think>a</think>", 0.3),
        ("<answer>4</answer>", 0.3),
        ("<answer>4</answer><think>a</think>", 0.6),
        ("<think>a<answer>4</answer></think>", 0.6),  # answer opens before think closes
        ("<think>a</think>x<answer>4</answer> trailing", 1.0),
        ("<answer>0</answer><think>a</think><answer>4</answer>", 1.0),
        ("<think>a", 0.0),
        ("</think><think>", 0.0),
        ("</answer><answer>", 0.0),
        ("", 0.0),
    ],
)
def test_format_partial(text, expected):
    assert rewards.format_partial()([text]) == [pytest.approx(expected)]


def test_format_partial_weights_and_prefill():
    fn = rewards.format_partial(weights=(0.1, 0.2, 0.7), prefilled_think=True)
    assert fn(["a</think><answer>4</answer>", "a</think>", "<answer>4</answer>"]) == pytest.approx([1.0, 0.1, 0.2])


@pytest.mark.parametrize(
    "text,expected",
    [
        ("<think>a</think><answer>4</answer>", 1.0),
        ("<think>a</think>", 0.5),
        ("<think>", 0.25),
        ("<think><think></think><answer></answer>", 0.75),
        ("</answer></answer><answer>", 0.25),
        ("no tags", 0.0),
    ],
)
def test_tag_count(text, expected):
    assert rewards.tag_count()([text]) == [expected]


def test_tag_count_one_tag_and_prefill():
    assert rewards.tag_count(tags=("latex",))(["<latex>x", "<latex>x</latex>"]) == [0.5, 1.0]
    assert rewards.tag_count(prefilled_think=True)(["a</think><answer>4</answer>"]) == [1.0]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Step 1: a\nStep 2: b\nStep 3: c", 1.0),
        ("1. a\n2. b", 2 / 3),
        ("- a\n* b\n• c\n- d", 1.0),
        ("First, a. Then, b.", 2 / 3),
        ("no steps at all 1.5", 0.0),
        ("", 0.0),
    ],
)
def test_reasoning_steps(text, expected):
    assert rewards.reasoning_steps()([text]) == [pytest.approx(expected)]
    assert rewards.reasoning_steps(min_steps=1)([text]) == [1.0 if expected else 0.0]
