"""Adapters: ms-swift ORMs without swift installed, verl compute_score, plain batch scoring."""

import pickle

import pytest

from rewards.adapters import batch, swift, verl
from rewards.testing import check_reward

GOOD = "<think>2+2</think><answer>4</answer>"


def test_swift_register_all_into_a_plain_dict():
    orms = {"format": object}
    added = swift.register_all(orms, params={"soft_overlong": {"max_len": 100, "cache_len": 10}})
    assert orms["format"] is added["format"] and "soft_overlong" in added
    orm = orms["accuracy"]()  # ms-swift builds ORMs with no arguments
    assert orm.__name__ == "accuracy" and type(orm).__name__ == "accuracy"
    assert orm([GOOD, "<answer>5</answer>"], solution=["4", "4"]) == [1.0, 0.0]
    assert pickle.loads(pickle.dumps(orm))([GOOD], solution=["4"]) == [1.0]
    assert check_reward(orm).problems == []


def test_swift_skips_rewards_missing_required_params_and_honours_prefix():
    orms = {}
    swift.register_all(orms, prefix="grpokit_")
    assert "grpokit_format" in orms and "grpokit_soft_overlong" not in orms


def test_swift_orm_kwargs_override_and_validation():
    assert swift.orm_class("repetition")(ngram_size=1)(["a a"]) == [pytest.approx(-0.5)]
    with pytest.raises(ValueError, match="ngram_size=0"):
        swift.orm_class("repetition", ngram_size=0)


def test_verl_compute_score_float_fields_and_defaults():
    assert verl.compute_score("gsm8k", GOOD, "4") == {"score": 1.0, "accuracy": 1.0}
    out = verl.compute_score("gsm8k", "<answer>5</answer>", "4", extra_info={"index": 3},
                             rewards={"accuracy": 1.0, "format": 0.5, "soft_overlong": -1.0},
                             params={"soft_overlong": {"max_len": 10, "cache_len": 5}})
    assert out == {"score": 1.0, "accuracy": 0.0, "format": 0.0, "soft_overlong": -1.0}
    assert verl.compute_score("x", GOOD, "") == {"score": 0.0, "accuracy": 0.0}  # no gold: None counts 0


def test_batch_score_rows_groups_by_prompt_in_any_order():
    rows = [
        {"prompt": "a", "completion": "<answer>4</answer>", "solution": "4"},
        {"prompt": "b", "completion": "<answer>7</answer>", "solution": "7"},
        {"prompt": "a", "completion": "<answer>4</answer> longer", "solution": "4"},
        {"prompt": "b", "completion": [{"role": "assistant", "content": "<answer>7</answer> long"}], "solution": "7"},
    ]
    scores = batch.score_rows(rows, {"length": {}, "accuracy": {}})
    assert [s["length"] for s in scores] == [0.5, 0.5, -0.5, -0.5]
    assert [s["accuracy"] for s in scores] == [1.0] * 4


def test_batch_completion_ids_only_when_every_row_has_them():
    rows = [{"completion": "abc", "completion_ids": [1]}, {"completion": "abcdef", "completion_ids": None}]
    assert batch.score_rows(rows, [batch.build_rewards(["length_penalty"])[0]]) == [
        {"length_penalty": pytest.approx(-0.003)}, {"length_penalty": pytest.approx(-0.006)}]
