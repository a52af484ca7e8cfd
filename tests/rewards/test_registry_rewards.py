"""Registry, parameter validation, names, pickling, and the no-torch import rule."""

import inspect
import pickle
import subprocess
import sys

import pytest

import rewards

DESIGN_NAMES = {"format", "format_partial", "tag_count", "accuracy", "exact_match", "iou", "length", "cosine",
                "repetition", "soft_overlong"}
REQUIRED = {"soft_overlong": {"max_len": 100, "cache_len": 20}}


def build(name):
    return rewards.get(name, **REQUIRED.get(name, {}))


def test_names_cover_design_table_and_extras():
    assert DESIGN_NAMES | {"length_penalty", "reasoning_steps"} <= set(rewards.names())


@pytest.mark.parametrize("name", sorted(DESIGN_NAMES | {"length_penalty", "reasoning_steps"}))
def test_each_reward_is_named_picklable_and_exported(name):
    fn = build(name)
    assert fn.__name__ == name
    assert pickle.loads(pickle.dumps(fn))(["<answer>4</answer>"], solution="4") == fn(["<answer>4</answer>"], solution="4")
    assert getattr(rewards, name)(**REQUIRED.get(name, {})).__name__ == name
    assert name in repr(fn)


@pytest.mark.parametrize(
    "name,params",
    [
        ("format", {"tags": ("think",)}),
        ("format_partial", {"weights": [0.5, 0.25, 0.25]}),
        ("tag_count", {"tags": ["a", "b", "c"]}),
        ("accuracy", {"gold_key": "answer", "timeout": 1.0}),
        ("exact_match", {"tag": "latex"}),
        ("iou", {"fuzzy": 0.9}),
        ("length", {"gold_key": "answer"}),
        ("cosine", {"max_len": 1, "min_value_wrong": 0, "max_value_correct": 3}),
        ("repetition", {"ngram_size": 1, "max_penalty": 0.0, "unit": "tokens"}),
        ("soft_overlong", {"max_len": 10, "cache_len": 10}),
        ("length_penalty", {"max_len": 5, "max_penalty": 0}),
        ("reasoning_steps", {"min_steps": 1}),
    ],
)
def test_valid_parameters_accepted(name, params):
    assert rewards.get(name, **params).__name__ == name


@pytest.mark.parametrize(
    "name,params,message",
    [
        ("repetition", {"ngram_size": 0}, "ngram_size=0; valid values: an integer >= 1"),
        ("repetition", {"ngram_size": -2}, "an integer >= 1"),
        ("repetition", {"ngram_size": 2.5}, "an integer >= 1"),
        ("repetition", {"ngram_size": True}, "an integer >= 1"),
        ("repetition", {"max_penalty": 0.5}, "max_penalty=0.5; valid values: a finite number <= 0"),
        ("repetition", {"max_penalty": float("nan")}, "a finite number <= 0"),
        ("repetition", {"unit": "chars"}, "'words' or 'tokens'"),
        ("cosine", {"max_len": 0}, "an integer > 0"),
        ("cosine", {"max_len": -5}, "an integer > 0"),
        ("cosine", {"min_value_wrong": float("inf")}, "a finite number"),
        ("cosine", {"min_value_correct": "high"}, "a finite number"),
        ("soft_overlong", {"max_len": 10, "cache_len": 11}, "an integer >= 0 and <= 10"),
        ("soft_overlong", {"max_len": 10, "cache_len": -1}, "an integer >= 0 and <= 10"),
        ("soft_overlong", {"max_len": 0, "cache_len": 0}, "an integer > 0"),
        ("length_penalty", {"max_penalty": 1.0}, "a finite number <= 0"),
        ("accuracy", {"timeout": 0}, "a finite number > 0"),
        ("accuracy", {"gold_key": ""}, "a dataset column name"),
        ("length", {"timeout": -1}, "a finite number > 0"),
        ("format", {"tags": ()}, "distinct tag names"),
        ("format", {"tags": ("think", "think")}, "distinct tag names"),
        ("format", {"tags": ("<think>",)}, "distinct tag names"),
        ("format", {"prefilled_think": "yes"}, "True or False"),
        ("format_partial", {"tags": ("think",)}, "exactly 2 names"),
        ("format_partial", {"weights": (1, 2)}, "three finite numbers"),
        ("tag_count", {"tags": [1, 2]}, "distinct tag names"),
        ("iou", {"fuzzy": 90}, "a similarity in (0, 1]"),
        ("iou", {"fuzzy": 0}, "a similarity in (0, 1]"),
        ("exact_match", {"tag": "<latex>"}, "a tag name"),
        ("reasoning_steps", {"min_steps": 0}, "an integer >= 1"),
    ],
)
def test_bad_parameter_values_raise_value_error_listing_valid_ones(name, params, message):
    with pytest.raises(ValueError, match="valid values") as info:
        rewards.get(name, **params)
    assert message in str(info.value)
    assert name in str(info.value)


def test_unknown_reward_and_parameter_errors_list_valid_ones():
    with pytest.raises(ValueError, match="did you mean 'cosine'") as info:
        rewards.get("cosin")
    assert "valid rewards: accuracy" in str(info.value)
    with pytest.raises(ValueError, match="valid parameters: ngram_size, max_penalty, unit"):
        rewards.get("repetition", n=3)
    with pytest.raises(ValueError, match="needs parameter"):
        rewards.get("soft_overlong", max_len=10)


def test_parameters_match_the_factories():
    assert rewards.parameters("cosine")["max_len"] == 1000
    assert rewards.parameters("soft_overlong")["cache_len"] is inspect.Parameter.empty
    assert rewards.parameters("repetition") == {"ngram_size": 3, "max_penalty": -1.0, "unit": "words"}


def test_register_a_user_reward_and_overwrite_guard(monkeypatch):
    from rewards import registry

    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))

    @rewards.register("test_registry_shout", overwrite=True)
    def shout(completions, **kwargs):
        return [float(str(c).isupper()) for c in completions]

    assert rewards.get("test_registry_shout")(["HI", "hi"]) == [1.0, 0.0]
    with pytest.raises(ValueError, match="already registered"):
        rewards.register("test_registry_shout", lambda completions, **kw: [])
    with pytest.raises(ValueError, match="already registered"):
        rewards.register("format", lambda completions, **kw: [])


def test_unknown_kwargs_and_trainer_extras_are_ignored():
    fn = rewards.get("format")
    out = fn(["<think>a</think><answer>4</answer>"], prompts=["p"], completion_ids=[[1]], trainer_state=object(),
             log_extra=print, log_metric=print, some_column=["x"], images=[None])
    assert out == [1.0]


def test_importing_rewards_never_imports_torch_or_transformers():
    code = ("import sys, rewards, rewards.adapters.swift, rewards.adapters.verl, rewards.adapters.batch; "
            "rewards.get('accuracy')(['<answer>4</answer>'], solution='4'); "
            "print(sorted(m for m in ('torch', 'transformers', 'trl', 'swift', 'verl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.hypothesis  # its @given is inside: marked so that `make fuzz` (-m hypothesis) runs it
@pytest.mark.parametrize("name", sorted(DESIGN_NAMES | {"length_penalty", "reasoning_steps"}))
def test_any_parameter_value_builds_a_reward_or_raises_value_error(name):
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis_profiles import examples

    anything = st.one_of(
        st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8), st.lists(st.one_of(st.text(max_size=5), st.floats(), st.lists(st.integers())), max_size=4),
        st.tuples(st.text(max_size=5)), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )

    @settings(max_examples=examples(200))
    @given(st.sampled_from(sorted(rewards.parameters(name))), anything)
    def run(param, value):
        params = {**REQUIRED.get(name, {}), param: value}
        try:
            fn = rewards.get(name, **params)
        except ValueError:
            return
        columns = {params["gold_key"]: "4"} if "gold_key" in params else {"solution": "4"}
        assert fn.__name__ == name and len(fn(["<think>a</think><answer>4</answer>"], **columns)) == 1

    run()
