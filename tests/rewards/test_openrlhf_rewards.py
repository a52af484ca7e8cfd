"""OpenRLHF adapter: the response cut out of each decoded query, the reward set from the environment or a file,
and the result in OpenRLHF's shape (tensors only when torch is already imported)."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from rewards.adapters import openrlhf
from rewards.adapters.openrlhf import response_text, reward_func, score_queries, strip_end_tokens
from rewards.adapters.reward_set import RewardSet, parse_spec

GOOD = "<think>2+2</think><answer>4</answer>"
CHATML_PROMPT = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
LLAMA3_PROMPT = ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\n")
A = "<|im_start|>assistant\n"  # an assistant turn: where a response starts when the prompt is not given
ENV_KEYS = ("GRPOKIT_REWARDS", "GRPOKIT_REWARD_PARAMS", "GRPOKIT_REWARD_CONFIG", "GRPOKIT_REWARD_SCORE",
            "GRPOKIT_TOKENIZER")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.mark.parametrize(
    "query,prompt,expected",
    [
        # the prompt as OpenRLHF passes it (chat template applied) is found and cut off
        (CHATML_PROMPT + GOOD + "<|im_end|>", CHATML_PROMPT, GOOD),
        (CHATML_PROMPT + GOOD + "<|im_end|>\n<|endoftext|>", CHATML_PROMPT, GOOD),
        ("<|endoftext|>" + CHATML_PROMPT + GOOD, CHATML_PROMPT, GOOD),  # a BOS-like token before the prompt
        (LLAMA3_PROMPT + GOOD + "<|eot_id|>", LLAMA3_PROMPT, GOOD),
        ("Q: 2+2? A: 4", "Q: 2+2? A: ", "4"),  # no chat template at all
        # the prompt does not decode back exactly: the last assistant marker decides
        (CHATML_PROMPT + GOOD + "<|im_end|>", CHATML_PROMPT.replace("Be brief.", "Be  brief."), GOOD),
        (LLAMA3_PROMPT + GOOD + "<|eot_id|>", None, GOOD),
        ("<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>\nadd</think>4<｜end▁of▁sentence｜>", "", "<think>\nadd</think>4"),
        ("<bos><start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>", None, "4"),
        ("<s>[INST] 2+2? [/INST] 4</s>", None, " 4"),
        ("<|user|>\n2+2?<|end|>\n<|assistant|>\n4<|end|>", None, "4"),
        ("<|start_of_role|>user<|end_of_role|>2+2?<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>4"
         "<|end_of_text|>", None, "4"),
        # multi-turn: the last assistant turn is the response
        ("<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\nold<|im_end|>\n<|im_start|>user\nb<|im_end|>\n"
         "<|im_start|>assistant\nnew<|im_end|>", None, "new"),
        (CHATML_PROMPT + GOOD + "<|im_end|> and more", CHATML_PROMPT, GOOD + "<|im_end|> and more"),  # mid-text stays
        (CHATML_PROMPT, CHATML_PROMPT, ""),  # an empty response is a response
        # neither the prompt nor an assistant turn: not located, never the whole query (it holds the prompt)
        ("plain text, no template", None, None),
        ("plain text", "a prompt that is not in it", None),
        (GOOD + "<|im_end|> and more", "", None),
        ("", CHATML_PROMPT, None),
        (None, CHATML_PROMPT, None),
    ],
)
def test_response_text(query, prompt, expected):
    assert response_text(query, prompt) == expected


# A prompt with a worked example whose answer is gold-bearing, and a wrong response after it.
WORKED = "Example: what is 2+2? Answer: \\boxed{4}\nNow: what is 3+1? Answer:"
WRONG = " I think it is 6"


@pytest.mark.parametrize("prompt", [WORKED + "  ", WORKED.replace("Example", "Examples"), None, ""])
def test_a_prompt_not_found_leaves_the_sample_unscored_never_paid_from_the_prompt(prompt, caplog):
    before = openrlhf.counts()["response_not_found"]
    with caplog.at_level(logging.WARNING, logger="rewards.adapters.openrlhf"):
        out = score_queries([WORKED + WRONG, CHATML_PROMPT + "<answer>4</answer>"], [prompt, CHATML_PROMPT],
                            ["4", "4"], RewardSet("accuracy,format:0.5"))
    assert out["rewards"] == [0.0, 1.0] and out["scores"] == [0.0, 1.0]
    assert out["extra_logs"]["unscored"] == [1.0, 0.0] and out["extra_logs"]["accuracy"] == [0.0, 1.0]
    assert openrlhf.counts()["response_not_found"] == before + 1
    warning = next(r.getMessage() for r in caplog.records if "response not found" in r.getMessage())
    assert "Example: what is 2+2" in warning and "GRPOKIT_TOKENIZER" in warning


def test_a_prompt_not_found_through_reward_func(monkeypatch):
    monkeypatch.setenv("GRPOKIT_REWARDS", "accuracy")
    out = reward_func([WORKED + WRONG], [WORKED + "!"], ["4"])
    assert _plain(out["rewards"]) == [0.0] and _plain(out["extra_logs"]["unscored"]) == [1.0]


def test_the_found_prompt_is_never_scored():
    out = score_queries([WORKED + WRONG], [WORKED], ["4"], RewardSet("accuracy"))
    assert out["rewards"] == [0.0] and out["extra_logs"]["unscored"] == [0.0]  # scored, and wrong


def test_a_tokenizer_template_locates_the_response_where_no_known_marker_does(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    from fixtures.tiny import build_tokenizer

    tokenizer = build_tokenizer()
    tokenizer.chat_template = ("{% for m in messages %}<<{{ m['role'] }}>>{{ m['content'] }}<<done>>{% endfor %}"
                               "{% if add_generation_prompt %}<<assistant>>{% endif %}")
    tokenizer.save_pretrained(tmp_path / "tok")
    template = openrlhf.tokenizer_template(str(tmp_path / "tok"))
    assert template.markers[0] == "<<assistant>>" and template.end_tokens[0] == "<<done>>"
    query = "<<user>>" + WORKED + "<<done>><<assistant>>" + "<answer>4</answer><<done>>"
    assert response_text(query, "not the prompt", template) == "<answer>4</answer>"
    assert response_text(query, "not the prompt") is None  # without the template: unscored
    monkeypatch.setenv("GRPOKIT_TOKENIZER", str(tmp_path / "tok"))
    monkeypatch.setenv("GRPOKIT_REWARDS", "accuracy")
    assert _plain(reward_func([query], ["not the prompt"], ["4"])["rewards"]) == [1.0]


def test_a_tokenizer_that_cannot_be_read_is_one_line(tmp_path):
    pytest.importorskip("transformers")
    with pytest.raises(ValueError, match="cannot read its chat template"):
        openrlhf.tokenizer_template(str(tmp_path / "missing"))


@pytest.mark.parametrize(
    "text,expected",
    [
        ("4<|im_end|>", "4"),
        ("4\n<|im_end|>\n<|endoftext|>\n", "4\n"),
        ("4</s></s></s>", "4"),
        ("4 ", "4 "),
        ("<|im_end|>", ""),
        ("4<|im_end|>x", "4<|im_end|>x"),
        ("</answer>", "</answer>"),  # a tag is not an end token
    ],
)
def test_strip_end_tokens(text, expected):
    assert strip_end_tokens(text) == expected


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("accuracy", {"accuracy": 1.0}),
        ("accuracy, format:0.5", {"accuracy": 1.0, "format": 0.5}),
        ("format:-1e-1,soft_overlong:2", {"format": -0.1, "soft_overlong": 2.0}),
        ("my_rewards:brevity", {"my_rewards:brevity": 1.0}),
        ("my_rewards:brevity:0.25", {"my_rewards:brevity": 0.25}),
    ],
)
def test_parse_spec(spec, expected):
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    "spec,message",
    [("", "is empty"), ("accuracy,,format", "empty entry"), (":0.5", "has no name"),
     ("accuracy,accuracy:2", "names 'accuracy' twice"), ("accuracy:inf", "finite number"), ("acuracy", "did you mean 'accuracy'")],
)
def test_bad_specs_fail_before_scoring(spec, message):
    with pytest.raises(ValueError, match=message):
        RewardSet(spec)


def test_bad_params_and_score_reward():
    with pytest.raises(ValueError, match="params for 'cosine', which the reward set does not hold"):
        RewardSet("accuracy", {"cosine": {"max_len": 10}})
    with pytest.raises(ValueError, match="unknown parameter"):
        RewardSet("cosine", {"cosine": {"max_length": 10}})
    with pytest.raises(ValueError, match="score reward 'format' is not in the reward set"):
        RewardSet("accuracy", score_reward="format")


def test_score_queries_shape_values_and_per_reward_logs():
    queries = [CHATML_PROMPT + GOOD + "<|im_end|>", CHATML_PROMPT + "<answer>5</answer><|im_end|>",
               CHATML_PROMPT + "\\boxed{4}<|im_end|>", CHATML_PROMPT + GOOD + "<|im_end|>"]
    out = score_queries(queries, [CHATML_PROMPT] * 4, ["4", "4", "4", ""], RewardSet("accuracy,format:0.5"))
    assert out["rewards"] == [1.5, 0.0, 1.0, 0.5]
    assert out["scores"] == [1.0, 0.0, 1.0, 0.0]  # accuracy's value: what dynamic filtering needs
    assert out["extra_logs"] == {"accuracy": [1.0, 0.0, 1.0, 0.0], "format": [1.0, 0.0, 0.0, 1.0],
                                 "unscored": [0.0, 0.0, 0.0, 0.0]}


@pytest.mark.parametrize(
    "spec,score_reward,values,scores",
    [
        ("format:2", None, [2.0, 0.0], [1.0, 0.0]),  # no correctness reward: the combined value, clamped
        ("format:-1", None, [-1.0, -0.0], [0.0, 0.0]),
        ("format,accuracy:2", "format", [3.0, 0.0], [1.0, 0.0]),
    ],
)
def test_scores_stay_in_unit_interval(spec, score_reward, values, scores):
    out = score_queries([A + GOOD, A + "<answer>5</answer>"], ["", ""], ["4", "4"], RewardSet(spec, score_reward=score_reward))
    assert out["rewards"] == values and out["scores"] == scores


def test_unscored_samples_are_counted_not_hidden():
    out = score_queries([A + GOOD, A + GOOD], ["", ""], ["4", ""], RewardSet("accuracy"))
    assert out["rewards"] == [1.0, 0.0] and out["extra_logs"]["unscored"] == [0.0, 1.0]


def test_empty_labels_warn_once_naming_label_key(caplog):
    openrlhf._warn_once.cache_clear()
    with caplog.at_level(logging.WARNING, logger="rewards.adapters.openrlhf"):
        for _ in range(3):
            score_queries([A + GOOD], [""], [""], RewardSet("accuracy,format"))
    messages = [r.getMessage() for r in caplog.records if "label_key" in r.getMessage()]
    assert len(messages) == 1 and "accuracy give no reward" in messages[0]


def test_no_warning_for_rewards_without_gold(caplog):
    openrlhf._warn_once.cache_clear()
    with caplog.at_level(logging.WARNING, logger="rewards.adapters.openrlhf"):
        score_queries([A + GOOD], [""], [""], RewardSet("format"))
    assert not caplog.records


def test_labels_reach_each_gold_key_and_mapping_labels_spread():
    out = score_queries([A + GOOD], [""], ["4"], RewardSet("accuracy", {"accuracy": {"gold_key": "answer"}}))
    assert out["rewards"] == [1.0]
    out = score_queries([A + GOOD, A + GOOD], ["", ""], [{"answer": "4", "topic": "add"}, {"answer": "5", "completions": "x"}],
                        RewardSet("exact_match", {"exact_match": {"gold_key": "answer"}}))
    assert out["rewards"] == [1.0, 0.0]


def test_a_reward_failing_on_one_sample_leaves_it_unscored_and_counted(caplog):
    before = openrlhf.counts()["reward_error"]
    with caplog.at_level(logging.WARNING, logger="rewards.adapters.openrlhf"):
        out = score_queries([A + GOOD, A + GOOD], ["", ""], ["4", "4"], RewardSet({NAN_REWARD: 1.0}))
    assert out["rewards"] == [1.0, 0.0] and out["extra_logs"]["unscored"] == [0.0, 1.0]
    assert openrlhf.counts()["reward_error"] == before + 1
    assert any("a reward failed on them" in r.getMessage() for r in caplog.records)


def test_missing_labels_fail_loudly_with_the_flag_to_set():
    with pytest.raises(ValueError, match=r"--label_key.*no gold column 'solution'"):
        score_queries([A + GOOD], [""], None, RewardSet("accuracy"))
    assert score_queries([A + GOOD], [""], None, RewardSet("format"))["rewards"] == [1.0]  # no gold needed


@pytest.mark.parametrize("prompts,labels", [(["a"], ["4", "4"]), (["a", "b", "c"], ["4", "4"]), (["a", "b"], ["4"])])
def test_mismatched_lengths(prompts, labels):
    with pytest.raises(ValueError, match="one per sample"):
        score_queries([GOOD, GOOD], prompts, labels, RewardSet("accuracy"))


def test_reward_func_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GRPOKIT_REWARDS", "accuracy,format:0.5")
    monkeypatch.setenv("GRPOKIT_REWARD_PARAMS", json.dumps({"format": {"prefilled_think": True}}))
    out = reward_func([A + "2+2</think><answer>4</answer>"], [""], ["4"])
    assert _plain(out["rewards"]) == [1.5] and sorted(out["extra_logs"]) == ["accuracy", "format", "unscored"]
    monkeypatch.setenv("GRPOKIT_REWARDS", "format")
    assert _plain(reward_func([A + "2+2</think><answer>4</answer>"], [""], ["4"])["rewards"]) == [1.0]


def test_reward_func_defaults_to_accuracy_and_ignores_extra_kwargs():
    assert _plain(reward_func([A + GOOD, A + "<answer>5</answer>"], ["", ""], ["4", "4"], images=None)["rewards"]) == [1.0, 0.0]


def test_config_file_and_environment_precedence(monkeypatch, tmp_path):
    config = tmp_path / "rewards.yaml"
    config.write_text("rewards: {accuracy: 1.0, format: 0.25}\nparams:\n  format: {prefilled_think: true}\nscore: format\n")
    monkeypatch.setenv("GRPOKIT_REWARD_CONFIG", str(config))
    out = reward_func([A + "a</think><answer>4</answer>"], [""], ["4"])
    assert _plain(out["rewards"]) == [1.25] and _plain(out["scores"]) == [1.0]
    monkeypatch.setenv("GRPOKIT_REWARDS", "accuracy:2,format")  # the environment wins over the file
    assert _plain(reward_func([A + "a</think><answer>4</answer>"], [""], ["4"])["rewards"]) == [3.0]
    monkeypatch.setenv("GRPOKIT_REWARDS", "accuracy")  # the file's params now name a reward not in the set
    with pytest.raises(ValueError, match="params for 'format', which the reward set does not hold"):
        reward_func([GOOD], [""], ["4"])


@pytest.mark.parametrize(
    "env,message",
    [
        ({"GRPOKIT_REWARDS": "acuracy"}, "did you mean 'accuracy'"),
        ({"GRPOKIT_REWARD_PARAMS": "{not json"}, "GRPOKIT_REWARD_PARAMS: not valid JSON"),
        ({"GRPOKIT_REWARD_PARAMS": "[1]"}, "GRPOKIT_REWARD_PARAMS: expected a JSON object"),
        ({"GRPOKIT_REWARD_CONFIG": "/nonexistent/rewards.yaml"}, "cannot read it"),
    ],
)
def test_bad_environment_names_the_setting(monkeypatch, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match=message):
        reward_func([GOOD], [""], ["4"])


@pytest.mark.parametrize("text,message", [("rewards: [1\n", "not valid YAML"), ("- a\n", "expected a mapping"),
                                          ("rewards: accuracy\nweights: {}\n", "unknown key")])
def test_bad_config_files(monkeypatch, tmp_path, text, message):
    config = tmp_path / "rewards.yaml"
    config.write_text(text)
    monkeypatch.setenv("GRPOKIT_REWARD_CONFIG", str(config))
    with pytest.raises(ValueError, match=message):
        reward_func([GOOD], [""], ["4"])


def test_tensors_when_torch_is_loaded_as_openrlhf_expects():
    torch = pytest.importorskip("torch")
    out = reward_func([A + GOOD, A + "<answer>5</answer>"], ["", ""], ["4", "4"])
    assert isinstance(out["rewards"], torch.Tensor) and out["rewards"].dtype == torch.float32
    assert out["rewards"].shape == out["scores"].shape == (2,)
    assert all(v.shape == (2,) for v in out["extra_logs"].values())  # OpenRLHF concatenates them per sample
    assert torch.tensor([out["rewards"][:1]]).shape == (1,)  # OpenRLHF >= 0.10 stores torch.tensor([reward])


def test_loaded_as_openrlhf_loads_a_reward_file_and_never_imports_torch(tmp_path):
    script = f"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("reward_func", {str(Path(openrlhf.__file__))!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
out = module.reward_func(["<|im_start|>assistant\\n<answer>4</answer><|im_end|>"], [""], ["4"])
print(json.dumps([out, "torch" in sys.modules]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == 0, done.stderr
    out, torch_loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"rewards": [1.0], "scores": [1.0], "extra_logs": {"accuracy": [1.0], "unscored": [0.0]}}
    assert torch_loaded is False


def nan_on_second(completions, **kwargs):
    return [1.0] + [float("nan")] * (len(completions) - 1)


NAN_REWARD = f"{__name__}:nan_on_second"


def _plain(values):
    return values.tolist() if hasattr(values, "tolist") else values
