"""iou pays only for an answer the completion commits to: never for items read from tags or reasoning."""

from __future__ import annotations

import pytest

import rewards

GOLD = "(1) open door (2) sit down"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("<think>(1) open door (2) sit down</think>", 0.0),  # think only: reasoning is not an answer
        ("<think>open door, sit down", 0.0),  # unclosed think
        ("<think>x</think><answer>(1) open door (2) sit down", 0.0),  # unclosed answer
        ("<think>a</think>\n<think>b</think>", 0.0),  # no '<think>' items (paid 0.25 before)
        ("<answer>(1) open door</answer> <think>", 0.5),  # a closed answer block is the answer
        ("<think>watch the clip</think> (1) open door (2) sit down", 1.0),  # committed after the reasoning
        ("(1) open door (2) sit down", 1.0),  # plain text is still the answer
        ("<b>open door</b>, sit down", 0.0),  # a tag outside an answer block: no answer
        ("<think>a</think><answer>(1) Sit down (2) open door</answer>", 1.0),
    ],
)
def test_iou_reads_only_a_committed_answer(text, expected):
    assert rewards.iou()([text], solution=GOLD) == [pytest.approx(expected)]


def test_iou_explain_shows_no_items_for_a_think_only_completion():
    rows = rewards.get("iou").rows(["<think>(1) open door</think>"], solution=GOLD)
    assert rows[0]["items"] == [] and rows[0]["value"] == 0.0
