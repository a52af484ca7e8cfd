"""One regression per anchor bug named in issue 2: each input that a copied reward gets wrong, scored right here."""

import math

import pytest

import rewards


def test_format_needs_no_dotall_multiline_reasoning_passes():
    assert rewards.format()(["<think>\nline one\nline two\n</think>\n<answer>4</answer>"]) == [1.0]


def test_format_dollar_with_multiline_does_not_accept_trailing_lines():
    assert rewards.format()(["<think>a</think><answer>4</answer>\nextra line"]) == [0.0]


def test_format_rejects_a_duplicate_answer_block():
    assert rewards.format()(["<think>a</think><answer>4</answer><answer>5</answer>"]) == [0.0]


def test_kimi_length_is_normalised_per_prompt_group_not_per_batch():
    right = "<answer>4</answer>"
    ids = [[0] * n for n in (10, 20, 1000, 2000)]
    out = rewards.length()([right] * 4, prompts=["short", "short", "long", "long"], solution="4", completion_ids=ids)
    assert out == [0.5, -0.5, 0.5, -0.5]  # batch-wide Lmin/Lmax would give the short group ~0.5 twice


def test_cosine_progress_is_clamped_past_max_len():
    fn = rewards.cosine(max_len=100)
    at_max, far_past = fn(["<answer>4</answer>"] * 2, solution="4", completion_ids=[[0] * 100, [0] * 200])
    assert at_max == far_past == 0.5  # unclamped, cos(2π) = 1 would pay 1.0 for doubling the length


@pytest.mark.parametrize("ngram_size", [0, -1])
def test_repetition_rejects_bad_ngram_size_when_built_not_mid_training(ngram_size):
    with pytest.raises(ValueError, match="valid values: an integer >= 1"):
        rewards.repetition(ngram_size=ngram_size)


def test_repetition_with_ngram_size_longer_than_text():
    assert rewards.repetition(ngram_size=10)(["too short"]) == [0.0]


@pytest.mark.parametrize("name", ["format", "format_partial", "tag_count", "accuracy", "exact_match", "iou", "length",
                                  "cosine", "repetition", "reasoning_steps", "length_penalty"])
def test_string_and_conversational_completions_score_the_same(name):
    fn = rewards.get(name)
    texts = ["<think>a</think><answer>4</answer>", "<answer>5</answer> tail", ""]
    chats = [[{"role": "user", "content": "q"}, {"role": "assistant", "content": t}] for t in texts]
    assert fn(texts, solution="4") == fn(chats, solution="4")


def test_missing_gold_is_none_not_a_free_point():
    assert rewards.accuracy()(["<answer>4</answer>"], solution=[""]) == [None]
    assert all(v is None for v in rewards.cosine()(["x"], solution=[None]))
    assert not any(isinstance(v, float) and math.isnan(v) for v in rewards.length()(["x", "y"], solution=["", ""]))
