"""A user's own rewards: `module:function` from the recipe's folder, with params, in a project whose own
`train.py` and `rewards.py` must not shadow grpokit's; a gold column under another name reaches the reward."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from train_helpers import tiny_recipe

from train import recipe as R
from train.data import grpo_rows
from train.reward_funcs import build_rewards

USER_REWARDS = '''
import rewards  # grpokit's registry, not the project's rewards.py


def bonus(completions, value=0.1, **kwargs):
    return [value] * len(completions)


def make_digits(weight=1.0):
    def digits(completions, **kwargs):
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        return [weight * sum(ch.isdigit() for ch in t) / max(len(t), 1) for t in texts]
    return digits


assert hasattr(rewards, "verify")
'''


@pytest.fixture
def project(tmp_path, arithmetic_data):
    """A user's project: its own train.py and rewards.py (which must never run), my_rewards.py beside the
    recipe, and data whose gold column is called `answer`."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "train.py").write_text("raise SystemExit(\"the project's train.py was imported\")\n")
    (root / "rewards.py").write_text("raise SystemExit(\"the project's rewards.py was imported\")\n")
    (root / "my_rewards.py").write_text(USER_REWARDS)
    rows = [json.loads(line) for line in Path(arithmetic_data["train"]).read_text().splitlines()[:32]]
    (root / "train.jsonl").write_text("".join(json.dumps({"prompt": r["prompt"], "answer": r["solution"]}) + "\n"
                                              for r in rows))
    return root


def _recipe(model, project, out):
    raw = tiny_recipe(model, {"train": "train.jsonl"}, out,
                      rewards=[{"name": "accuracy", "params": {"gold_key": "answer"}},
                               {"name": "my_rewards:bonus", "params": {"value": 0.25}},
                               {"name": "my_rewards:make_digits", "params": {"weight": 2.0}}],
                      grpo={"max_steps": 1})
    raw["data"]["solution_key"] = "answer"
    path = project / "recipe.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_rewards_resolve_from_the_recipe_folder_and_keep_their_names(tiny_text_model, project, tmp_path,
                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the project: the recipe's folder is searched
    recipe = R.load(_recipe(tiny_text_model, project, tmp_path / "run"))
    funcs = build_rewards(recipe)
    # one name everywhere: the recipe's (TRL logs rewards/my_rewards:bonus/mean, evalsuite reward/my_rewards:bonus)
    assert [f.__name__ for f in funcs] == ["accuracy", "my_rewards:bonus", "my_rewards:make_digits"]
    assert pickle.loads(pickle.dumps(funcs[1]))(["x", "y"]) == [0.25, 0.25]  # params applied, picklable
    assert funcs[1](["x"], value=9) == [0.25]  # the recipe's params win over a same-named column
    import train

    assert Path(train.__file__).parent == Path(R.__file__).parent  # still grpokit's `train`


def test_gold_column_keeps_its_name_for_gold_key(tiny_text_model, project, tmp_path):
    recipe = R.load(_recipe(tiny_text_model, project, tmp_path / "run"))
    row = grpo_rows(recipe, recipe.data.train, limit=1, key="data.train")[0]
    assert row["answer"] == row["solution"]  # under its own name and as `solution`
    accuracy = build_rewards(recipe)[0]
    right = [[{"role": "assistant", "content": f"<think>x</think><answer>{row['answer']}</answer>"}]]
    wrong = [[{"role": "assistant", "content": "<think>x</think><answer>-1</answer>"}]]
    columns = {k: [v] for k, v in row.items() if k != "prompt"}
    assert accuracy(right, **columns) == [1.0] and accuracy(wrong, **columns) == [0.0]


@pytest.mark.slow
def test_console_script_in_a_project_with_its_own_train_py(tiny_text_model, project, tmp_path):
    """The real user path: `grpo-train recipe.yaml` from the project folder, no PYTHONPATH."""
    path = _recipe(tiny_text_model, project, tmp_path / "run")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    script = Path(sys.executable).parent / "grpo-train"
    done = subprocess.run([str(script), str(path.name), "--preflight.stop", "false"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    logged = [e for e in summary["log_history"]["grpo"] if "reward" in e][0]
    assert logged["rewards/my_rewards:bonus/mean"] == pytest.approx(0.25)
    assert logged["rewards/accuracy/mean"] == logged["rewards/accuracy/mean"]  # a number, not NaN: gold found
    assert "rewards/my_rewards:make_digits/mean" in logged


@pytest.mark.parametrize("entry, key, message", [
    ({"name": "my_rewards:bonus", "params": {"valu": 1}}, r"rewards\.0\.params\.valu", "did you mean 'value'"),
    ({"name": "my_rewards:make_digits", "params": {"wieght": 1}}, r"rewards\.0\.params", "bad parameters"),
    ({"name": "my_rewards:bonsu"}, r"rewards\.0\.name", "has no attribute 'bonsu'.*'bonus'"),
    ({"name": "their_rewards:bonus"}, r"rewards\.0\.name", "no module named 'their_rewards'"),
])
def test_user_reward_mistakes_name_the_key(project, entry, key, message):
    raw = {"model": {"path": "some/model"}, "data": {"train": "train.jsonl"}, "rewards": [entry]}
    path = project / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(R.RecipeError, match=rf"bad\.yaml: {key}: .*{message}"):
        R.load(path)
