"""Every shipped recipe pays its own ideal completion: built as the launcher builds them, the recipe's weighted
rewards give an ideal completion of its task the recipe's maximum, and a wrong answer in the right format less.

A recipe with no ideal completion here, or a reward with no documented maximum, fails the test: a new recipe cannot
train on a reward that is always 0 without someone writing down what a perfect completion of it looks like.
Maxima come from the rewards' documented formulas (docs/rewards.md) and the recipe's own params and weights; for a
length-shaped reward (``cosine``, ``length``, ``length_penalty``) it is the formula's best value at the ideal
completion's length L in its prompt group, since no completion has L = 0."""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import pytest

import rewards
from evalsuite.correctness import Correctness
from evalsuite.scoring import build_rewards as build_eval_rewards
from train import recipe as R
from train.evaluation import eval_rewards
from train.reward_funcs import build_rewards

RECIPES = sorted((Path(R.__file__).parent / "recipes").glob("*.yaml"))


def _params(name: str, given: dict) -> dict:
    defaults = {k: v for k, v in rewards.parameters(name).items() if v is not inspect.Parameter.empty}
    return {**defaults, **given}


def _lam(length: int, group: list[int]) -> float:
    low, high = min(group), max(group)
    return 0.0 if high == low else 0.5 - (length - low) / (high - low)


def _cosine_correct(p: dict, length: int, group: list[int]) -> float:
    lo, hi = p["min_value_correct"], p["max_value_correct"]
    return lo + 0.5 * (hi - lo) * (1 + math.cos(math.pi * min(length / p["max_len"], 1.0)))


# name -> best value of the documented formula for a completion of length L in a group of lengths G
MAXIMA = {
    "format": lambda p, L, G: 1.0,
    "format_partial": lambda p, L, G: sum(w for w in p["weights"] if w > 0),
    "tag_count": lambda p, L, G: 1.0,
    "reasoning_steps": lambda p, L, G: 1.0,
    "accuracy": lambda p, L, G: 1.0,
    "exact_match": lambda p, L, G: 1.0,
    "iou": lambda p, L, G: 1.0,
    "length": lambda p, L, G: _lam(L, G),  # a correct completion's lambda: 0.5 for the group's shortest
    "cosine": _cosine_correct,
    "soft_overlong": lambda p, L, G: 0.0,
    "length_penalty": lambda p, L, G: p["max_penalty"] * min(L / p["max_len"], 1.0),
    "repetition": lambda p, L, G: 0.0,
}

# recipe -> (prompt, gold, an ideal completion of its task, a wrong answer in the right format)
IDEAL = {
    "arithmetic_demo": ("What is 27+45?", "72",
                        "<think>7+5=12,2+4+1=7</think><answer>72</answer>",
                        "<think>7+5=12,2+4=6</think><answer>62</answer>"),
    "gsm_lora": ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
                 "How many clips did Natalia sell altogether in April and May?", "72",
                 "<think>In May she sold 48 / 2 = 24 clips. Altogether 48 + 24 = 72 clips.</think><answer>72</answer>",
                 "<think>In May she sold 48 / 2 = 24 clips, and in April she sold 48 clips, so altogether she sold "
                 "48 + 24 = 62 clips.</think><answer>62</answer>"),
    "latex_ocr_vl": ("Transcribe the formula.", r"\int_{0}^{1} x^{2} \, dx = \frac{1}{3}",
                     r"<latex>\int_{0}^{1} x^{2} \, dx = \frac{1}{3}</latex>",
                     r"<latex>\int_{0}^{1} x^{3} \, dx = \frac{1}{3}</latex>"),
    "clevr_count_sft_grpo": ("How many objects are there?", "3",
                             "<think>A red cube, a blue sphere and a green cylinder: 3 objects.</think><answer>3</answer>",
                             "<think>A red cube and a blue sphere: 2 objects.</think><answer>2</answer>"),
    "video_actions": ("Which actions happen in the clip, in order?", "(1) open door (2) sit down",
                      "<think>The person opens the door, then sits down.</think><answer>(1) open door (2) sit down"
                      "</answer>",
                      "<think>The person opens the window, then stands up.</think><answer>(1) open window "
                      "(2) stand up</answer>"),
    "r1v_multimodal_vllm": ("The triangle in the image is equilateral with side 2. What is its height?", r"\sqrt{3}",
                            r"<think>Half the base is 1, so the height is \sqrt{2^2 - 1^2} = \sqrt{3}.</think>"
                            r"<answer>\sqrt{3}</answer>",
                            r"<think>Half the base is 1, so the height is \sqrt{2^2 + 1^2} = \sqrt{5}.</think>"
                            r"<answer>\sqrt{5}</answer>"),
}


def _case(path: Path):
    if path.stem not in IDEAL:
        pytest.fail(f"{path.name}: no ideal completion in {Path(__file__).name}'s IDEAL; write one (and a wrong "
                    "answer in the right format) so the test can show its rewards pay a perfect completion")
    return IDEAL[path.stem]


def _score(fns: list, completions: list[str], prompt: str, gold: str) -> list[list[float | None]]:
    """Each reward's values for ``completions`` of one prompt, called as TRL calls them (conversational)."""
    n = len(completions)
    kwargs = {"prompts": [[{"role": "user", "content": prompt}]] * n, "solution": [gold] * n}
    conversations = [[{"role": "assistant", "content": text}] for text in completions]
    return [fn(conversations, **kwargs) for fn in fns]


def _maximum(name: str, params: dict, length: int, group: list[int], where: str) -> float:
    if name not in MAXIMA:
        pytest.fail(f"{where}: reward {name!r} has no documented maximum in {Path(__file__).name}'s MAXIMA")
    return MAXIMA[name](_params(name, params), length, group)


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_the_ideal_completion_scores_the_recipes_maximum_and_a_wrong_one_less(path):
    prompt, gold, ideal, wrong = _case(path)
    recipe = R.load(path)
    fns, weights = build_rewards(recipe), [spec.weight for spec in recipe.rewards]
    values = _score(fns, [ideal, wrong], prompt, gold)
    lengths = [len(ideal), len(wrong)]
    best = [_maximum(spec.name, spec.params, lengths[0], lengths, f"{path.name}: rewards.{i}")
            for i, spec in enumerate(recipe.rewards)]
    got = [v[0] for v in values]
    assert got == pytest.approx(best), [spec.name for spec in recipe.rewards]
    total = sum(w * v for w, v in zip(weights, got, strict=True))
    assert total == pytest.approx(sum(w * m for w, m in zip(weights, best, strict=True)))
    assert total > 0, "a perfect completion earns nothing: GRPO could not learn from these rewards"
    wrong_total = sum(w * v[1] for w, v in zip(weights, values, strict=True) if v[1] is not None)
    assert wrong_total < total


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_the_recipes_evaluation_rewards_pay_the_ideal_completion(path):
    """The rewards evalsuite scores the recipe's evaluations with (``eval.rewards``/``eval.reward_params``, or the
    training rewards by name; format and the ``eval.correct`` reward, accuracy by default, always) give the ideal completion their maximum, the wrong
    answer no more."""
    prompt, gold, ideal, wrong = _case(path)
    recipe = R.load(path)
    config = recipe.eval.config if recipe.eval is not None else {}
    if "rewards" in config:
        names, params = list(config["rewards"]), dict(config.get("reward_params") or {})
    else:
        names, params = eval_rewards(recipe)
    fns = build_eval_rewards(names, params, correct=Correctness.parse(config.get("correct")))
    lengths = [len(ideal), len(wrong)]
    for name, fn in fns.items():
        [[best_value, wrong_value]] = _score([fn], [ideal, wrong], prompt, gold)
        expected = _maximum(name, params.get(name, {}), lengths[0], lengths, f"{path.name}: eval reward {name}")
        assert best_value == pytest.approx(expected), name
        assert wrong_value is None or wrong_value <= best_value, name


def test_every_ideal_completion_belongs_to_a_shipped_recipe():
    assert set(IDEAL) <= {path.stem for path in RECIPES}
