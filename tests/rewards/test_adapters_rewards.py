"""Adapters: ms-swift ORMs without swift installed, verl compute_score, plain batch scoring; and, where their
environments exist, verl, ms-swift and OpenRLHF themselves loading and calling our adapters."""

import collections
import collections.abc
import json
import logging
import os
import pickle
import subprocess
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import pytest
from trainer_clients import needs_trainer, python_of

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


def test_swift_honours_prefix_and_soft_overlong_takes_ms_swift_flags():
    orms = {}
    swift.register_all(orms, prefix="grpokit_")
    assert "grpokit_format" in orms and "grpokit_soft_overlong" in orms  # its lengths come from ms-swift's args
    orm = orms["grpokit_soft_overlong"](args=SimpleNamespace(soft_max_length=10, soft_cache_length=4))
    assert orm.params == {"max_len": 10, "cache_len": 4}
    assert orm(["x"], completion_ids=[[1] * 8]) == [pytest.approx(-0.5)]  # 2 tokens into the 4-token cache
    with pytest.raises(ValueError, match="needs max_len, cache_len: pass ms-swift's --soft_max_length, --soft_cache_length"):
        orms["grpokit_soft_overlong"]()


def test_swift_flags_that_disagree_with_the_plugin_params_are_refused_in_one_line():
    orms = {}
    swift.register_all(orms, params={"soft_overlong": {"max_len": 100, "cache_len": 10}})
    agree = orms["soft_overlong"](args=SimpleNamespace(soft_max_length=100, soft_cache_length=10))
    assert agree.params == {"max_len": 100, "cache_len": 10}
    assert orms["soft_overlong"](args=SimpleNamespace(soft_max_length=None, soft_cache_length=None)).params["max_len"] == 100
    with pytest.raises(ValueError, match=r"--soft_max_length 512 vs max_len=100\); set them in one place") as err:
        orms["soft_overlong"](args=SimpleNamespace(soft_max_length=512, soft_cache_length=10))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("end", ["<|im_end|>", "<|im_end|>\n<|endoftext|>", "<|eot_id|>", "</s>"])
def test_swift_strips_the_end_of_turn_tokens_ms_swift_leaves(end):
    assert swift.orm_class("format")()([GOOD + end]) == [1.0]
    assert swift.orm_class("accuracy")()([GOOD + end], solution=["4"]) == [1.0]


def test_swift_orm_kwargs_override_and_validation():
    assert swift.orm_class("repetition")(ngram_size=1)(["a a"]) == [pytest.approx(-0.5)]
    with pytest.raises(ValueError, match="ngram_size=0"):
        swift.orm_class("repetition", ngram_size=0)


def test_verl_compute_score_float_fields_and_defaults():
    assert verl.compute_score("gsm8k", GOOD, "4") == {"score": 1.0, "accuracy": 1.0, "acc": 1.0, "unscored": 0.0}
    out = verl.compute_score("gsm8k", "<answer>5</answer>", "4", extra_info={"index": 3},
                             rewards={"accuracy": 1.0, "format": 0.5, "soft_overlong": -1.0},
                             params={"soft_overlong": {"max_len": 10, "cache_len": 5}})
    assert out == {"score": 1.0, "accuracy": 0.0, "format": 0.0, "soft_overlong": -1.0, "acc": 0.0, "unscored": 0.0}
    assert verl.compute_score("x", GOOD, "", rewards={"format": 1.0}) == {"score": 1.0, "format": 1.0, "acc": 0.0,
                                                                          "unscored": 0.0}


def test_verl_warns_and_counts_a_missing_gold(caplog):
    before = verl.counts()["missing_gold"]
    with caplog.at_level(logging.WARNING, logger="rewards.adapters.verl"):
        out = verl.compute_score("openai/gsm8k", GOOD, "", extra_info={"index": 7})
    assert out == {"score": 0.0, "accuracy": 0.0, "acc": 0.0, "unscored": 1.0}  # marked, not a silent 0
    assert verl.counts()["missing_gold"] == before + 1
    [message] = [r.getMessage() for r in caplog.records if "no ground truth" in r.getMessage()]
    assert "accuracy" in message and "'openai/gsm8k'" in message and "index 7" in message


def test_verl_builds_its_rewards_once_per_configuration(monkeypatch):
    built = []
    real_get = verl.get
    monkeypatch.setattr(verl, "get", lambda name, **params: built.append(name) or real_get(name, **params))
    verl._built.cache_clear()
    for _ in range(5):
        verl.compute_score("x", GOOD, "4", rewards={"accuracy": 1.0, "format": 0.5}, params={"format": {}})
    verl.compute_score("x", GOOD, "4", rewards={"accuracy": 2.0})
    assert built == ["accuracy", "format", "accuracy"]


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


def test_swift_columns_map_prompt_ids_to_groups_and_response_tokens_to_lengths():
    orm = swift.orm_class("length")()
    kwargs = {"solution": ["4", "4", "4", "4"], "prompt_id": ["a", "a", "b", "b"],
              "response_token_ids": [[[1, 2]], [[1, 2, 3, 4]], [[1], [2, 3]], [[1, 2, 3, 4, 5]]]}
    texts = ["<answer>4</answer>", "<answer>4</answer>", "<answer>4</answer>", "<answer>4</answer>"]
    assert orm(texts, **kwargs) == [0.5, -0.5, 0.5, -0.5]  # two groups, token lengths 2/4 and 3/5
    tokens = swift.orm_class("soft_overlong", max_len=4, cache_len=2)()
    assert tokens(["x" * 100], response_token_ids=[[[1, 2]]]) == [0.0]  # 2 tokens, not 100 characters
    assert tokens(["x" * 100], response_token_ids=[[[1, 2]]], completion_ids=[[1, 2, 3, 4, 5]]) == [-1.0]


@pytest.mark.parametrize("module,attribute", [("swift.rewards", "orms"), ("swift.plugin", "orms")])
def test_swift_register_all_finds_the_orm_table_of_either_ms_swift_major(monkeypatch, module, attribute):
    table = {}
    fake = types.ModuleType(module)
    setattr(fake, attribute, table)
    monkeypatch.setitem(sys.modules, "swift", types.ModuleType("swift"))
    monkeypatch.setitem(sys.modules, "swift.rewards" if module == "swift.plugin" else "swift.plugin", None)
    monkeypatch.setitem(sys.modules, module, fake)
    swift.register_all(prefix="grpokit_")
    assert "grpokit_accuracy" in table


def test_swift_register_all_without_ms_swift_says_so(monkeypatch):
    for module in ("swift", "swift.rewards", "swift.plugin"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ModuleNotFoundError, match="needs ms-swift"):
        swift.register_all()


@pytest.mark.parametrize(
    "value,expected",
    [({"a": {"b": ("x", "y")}}, {"a": {"b": ["x", "y"]}}), ("text", "text"), (b"raw", b"raw"), (3, 3), (None, None),
     (collections.OrderedDict(a=[1, (2,)]), {"a": [1, [2]]})],
)
def test_verl_plain_containers(value, expected):
    assert verl.plain(value) == expected


def test_verl_reward_kwargs_in_mapping_and_sequence_wrappers():
    class ConfigDict(collections.abc.Mapping):  # stands in for OmegaConf's DictConfig
        def __init__(self, data):
            self.data = data

        def __getitem__(self, key):
            return self.data[key]

        def __iter__(self):
            return iter(self.data)

        def __len__(self):
            return len(self.data)

    rewards = ConfigDict({"format": 1.0})
    params = ConfigDict({"format": ConfigDict({"tags": collections.UserList(["think", "answer"])})})
    assert verl.compute_score("x", GOOD, "4", rewards=rewards, params=params) == {"score": 1.0, "format": 1.0,
                                                                                   "acc": 0.0, "unscored": 0.0}


# ---- the trainers' own code calling our adapters (in their own virtual environments) -----------

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "tests" / "rewards" / "trainer_clients.py"
VERL_PYTHON = python_of("verl")  # built by `make trainer-envs` (tests/rewards/trainer_envs.py); CI requires them
SWIFT_PYTHON = python_of("swift")


def run_client(python: Path, *args: str) -> dict:
    """Run trainer_clients.py in the trainer's environment; the RESULT line it prints, parsed."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "HOME": os.environ.get("HOME", "/tmp")}
    done = subprocess.run([str(python), str(CLIENTS), *args], capture_output=True, text=True, timeout=900, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-4000:]
    return json.loads(lines[-1][len("RESULT "):])


@needs_trainer(VERL_PYTHON, "verl")
def test_verl_loads_and_calls_our_compute_score_through_its_reward_managers():
    result = run_client(VERL_PYTHON, "verl")
    assert result["reward_manager"] == "verl.experimental.reward_loop.reward_manager.naive.NaiveRewardManager"
    expected = [(1.5, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 1.0, 0.0), (0.5, 0.0, 1.0)]  # no gold counts 0
    assert [(o["score"], o["extra"]["accuracy"], o["extra"]["format"]) for o in result["loop"]] == expected
    assert result["legacy_scores"] == [score for score, _, _ in expected]
    assert result["legacy_extra"] == {"score": [1.5, 0.0, 1.0, 0.5], "accuracy": [1.0, 0.0, 1.0, 0.0],
                                      "format": [1.0, 0.0, 0.0, 1.0], "acc": [1.0, 0.0, 1.0, 0.0],
                                      "unscored": [0.0, 0.0, 0.0, 0.0]}
    assert [o["extra"]["acc"] for o in result["loop"]] == [1.0, 0.0, 1.0, 0.0]  # what verl's validation reads


@needs_trainer(SWIFT_PYTHON, "swift")
def test_ms_swift_loads_our_plugin_and_scores_through_its_grpo_reward_call():
    result = run_client(SWIFT_PYTHON, "swift")
    assert result["orm_classes"] == [f"rewards.adapters.swift.{name}" for name in result["names"]]
    # accuracy, format, soft_overlong (12 tokens, 4 of cache: lengths are ms-swift's response tokens), and
    # length, grouped by ms-swift's prompt_id (samples 0-1, 2-3); no gold is None (NaN in ms-swift)
    assert result["token_lengths"] == [8, 3, 10, 6]
    assert result["rewards"] == [[1.0, 1.0, 0.0, -0.5], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, -0.5, -0.5],
                                 [None, 1.0, 0.0, None]]


@needs_trainer(VERL_PYTHON, "openrlhf")
def test_openrlhf_loads_our_reward_file_through_its_single_turn_executor():
    result = run_client(VERL_PYTHON, "openrlhf")
    assert [s["reward"] for s in result["samples"]] == [[1.5], [0.0], [1.0], [0.5]]
    assert [s["score"] for s in result["samples"]] == [[1.0], [0.0], [1.0], [0.0]]
    assert all(s["reward_type"] == "Tensor" for s in result["samples"])
    assert [s["extra"] for s in result["samples"]][0] == {"accuracy": 1.0, "format": 1.0, "unscored": 0.0}
