"""Recipe validation: every shipped recipe loads, and bad recipes fail naming the file and the key.
None of these tests may need model weights or a data file's model: they run in well under a second each."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from train import recipe as R
from train.cli import split_overrides

RECIPES = sorted((Path(R.__file__).parent / "recipes").glob("*.yaml"))
MINIMAL = {
    "model": {"path": "some/model"},
    "data": {"train": "train.jsonl"},
    "rewards": [{"name": "accuracy"}],
}


def write(tmp_path: Path, data: dict, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def with_(**sections) -> dict:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in MINIMAL.items()}
    out.update(sections)
    return out


class TestShippedRecipes:
    def test_there_is_one_per_seed_and_the_demo(self):
        names = {p.stem for p in RECIPES}
        assert {"arithmetic_demo", "latex_ocr_vl", "clevr_count_sft_grpo", "gsm_lora", "video_actions",
                "r1v_multimodal_vllm"} <= names

    @pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
    def test_loads_and_builds_trl_configs(self, path):
        recipe = R.load(path)
        config = R.grpo_config(recipe, cpu=True)  # GPU-only switches are turned off on CPU
        assert config.reward_weights == [spec.weight for spec in recipe.rewards]
        if recipe.sft is not None:
            assert R.sft_config(recipe, cpu=True).completion_only_loss is True
        if recipe.lora is not None:
            from peft import LoraConfig

            assert LoraConfig(**recipe.lora).r == recipe.lora["r"]

    def test_seed_settings(self):
        latex = R.load(RECIPES[0].parent / "latex_ocr_vl.yaml")
        assert [(s.name, s.weight) for s in latex.rewards][:3] == [("format", 1.0), ("exact_match", 2.0),
                                                                    ("accuracy", 1.0)]
        assert latex.rewards[0].params == {"tags": ["latex"]}
        clevr = R.load(RECIPES[0].parent / "clevr_count_sft_grpo.yaml")
        assert clevr.sft is not None and clevr.grpo["beta"] == 0.06 and clevr.grpo["num_generations"] == 8
        assert clevr.grpo["max_completion_length"] == 500 and clevr.grpo["learning_rate"] == 1e-5
        gsm = R.load(RECIPES[0].parent / "gsm_lora.yaml")
        assert gsm.lora["r"] == 32 and gsm.grpo["num_generations"] == 6
        assert gsm.grpo["per_device_train_batch_size"] == 24
        assert gsm.rewards[-1].params == {"ngram_size": 40, "max_penalty": -0.05}
        video = R.load(RECIPES[0].parent / "video_actions.yaml")
        assert [(s.name, s.weight) for s in video.rewards] == [("format_partial", 0.3), ("iou", 0.7)]
        r1v = R.load(RECIPES[0].parent / "r1v_multimodal_vllm.yaml")
        assert r1v.grpo["use_vllm"] and r1v.grpo["num_iterations"] == 2 and r1v.grpo["beta"] == 0.001


class TestErrors:
    def test_removed_trl_key_names_file_key_and_what_to_do(self, tmp_path):
        path = write(tmp_path, with_(grpo={"max_prompt_length": 512}))
        with pytest.raises(R.RecipeError) as err:
            R.load(path)
        message = str(err.value)
        assert str(path) in message and "grpo.max_prompt_length" in message
        assert "removed" in message

    def test_typo_gets_the_closest_valid_name(self, tmp_path):
        path = write(tmp_path, with_(grpo={"num_generation": 4}))
        with pytest.raises(R.RecipeError, match=r"grpo\.num_generation: .*did you mean 'num_generations'"):
            R.load(path)

    def test_unknown_reward(self, tmp_path):
        path = write(tmp_path, with_(rewards=[{"name": "acuracy"}]))
        with pytest.raises(R.RecipeError, match=r"recipe\.yaml: rewards\.0\.name: unknown reward 'acuracy'.*'accuracy'"):
            R.load(path)

    def test_unknown_reward_parameter(self, tmp_path):
        path = write(tmp_path, with_(rewards=[{"name": "cosine", "params": {"max_length": 10}}]))
        with pytest.raises(R.RecipeError, match=r"rewards\.0\.params\.max_length: .*'max_len'"):
            R.load(path)

    def test_missing_required_reward_parameter(self, tmp_path):
        path = write(tmp_path, with_(rewards=["soft_overlong"]))
        with pytest.raises(R.RecipeError, match=r"rewards\.0\.params: .*max_len"):
            R.load(path)

    def test_unknown_section_and_section_key(self, tmp_path):
        with pytest.raises(R.RecipeError, match=r"recipe\.yaml: rewrds: unknown key.*'rewards'"):
            R.load(write(tmp_path, {**MINIMAL, "rewrds": []}))
        with pytest.raises(R.RecipeError, match=r"model\.freeze_vision: unknown key.*freeze_vision_tower"):
            R.load(write(tmp_path, with_(model={"path": "m", "freeze_vision": True})))

    def test_reward_weights_belong_in_rewards(self, tmp_path):
        with pytest.raises(R.RecipeError, match=r"grpo\.reward_weights: .*weight"):
            R.load(write(tmp_path, with_(grpo={"reward_weights": [1.0]})))

    def test_wrong_types(self, tmp_path):
        with pytest.raises(R.RecipeError, match=r"grpo\.use_vllm: must be true or false"):
            R.load(write(tmp_path, with_(grpo={"use_vllm": "yes please"})))
        with pytest.raises(R.RecipeError, match=r"grpo\.num_generations: must be an integer"):
            R.load(write(tmp_path, with_(grpo={"num_generations": 2.5})))
        with pytest.raises(R.RecipeError, match=r"rewards\.0\.weight: must be a number"):
            R.load(write(tmp_path, with_(rewards=[{"name": "accuracy", "weight": "heavy"}])))

    def test_bad_lora_and_sft_keys(self, tmp_path):
        with pytest.raises(R.RecipeError, match=r"lora\.rank: .*'r'|lora\.rank: not a field"):
            R.load(write(tmp_path, with_(lora={"rank": 8})))
        with pytest.raises(R.RecipeError, match=r"sft\.max_seq_length: not a field of SFTConfig"):
            R.load(write(tmp_path, with_(sft={"max_seq_length": 64})))

    def test_eval_needs_a_validation_set_and_known_fields(self, tmp_path):
        with pytest.raises(R.RecipeError, match=r"eval\.data: no validation set"):
            R.load(write(tmp_path, with_(eval={"every_n_steps": 5})))
        with pytest.raises(R.RecipeError, match=r"eval\.max_new_tokens: .*'max_tokens'"):
            R.load(write(tmp_path, with_(eval={"data": "v.jsonl", "max_new_tokens": 5})))

    def test_missing_required_paths(self, tmp_path):
        with pytest.raises(R.RecipeError, match=r"model\.path: required"):
            R.load(write(tmp_path, {k: v for k, v in MINIMAL.items() if k != "model"}))
        with pytest.raises(R.RecipeError, match=r"rewards: at least one reward"):
            R.load(write(tmp_path, with_(rewards=[])))

    def test_bad_yaml_and_missing_file(self, tmp_path):
        bad = tmp_path / "bad.yaml"
        bad.write_text("model: [unclosed\n")
        with pytest.raises(R.RecipeError, match=r"bad\.yaml: \(yaml\)"):
            R.load(bad)
        with pytest.raises(R.RecipeError, match="not found"):
            R.load(tmp_path / "nope.yaml")

    def test_missing_data_column_names_key_and_file(self, tmp_path):
        from train import launcher

        data = tmp_path / "train.jsonl"
        data.write_text('{"prompt": "What is 1+1?", "answer": "2"}\n')
        recipe = R.load(write(tmp_path, with_(data={"train": str(data)})))
        with pytest.raises(R.RecipeError) as err:
            launcher.check_data(recipe)
        message = str(err.value)
        assert "recipe.yaml: data.solution_key" in message and "'solution'" in message and str(data) in message
        assert "answer" in message  # lists the columns there are
        # pointing solution_key at the real column fixes it
        fixed = R.load(write(tmp_path, with_(data={"train": str(data), "solution_key": "answer"})))
        assert launcher.check_data(fixed) == {"data.train": 1}

    def test_missing_prompt_column(self, tmp_path):
        from train import launcher

        data = tmp_path / "train.jsonl"
        data.write_text('{"question": "What is 1+1?", "solution": "2"}\n')
        recipe = R.load(write(tmp_path, with_(data={"train": str(data)})))
        with pytest.raises(R.RecipeError, match=r"data\.prompt_key: neither 'prompt' nor 'messages'.*question"):
            launcher.check_data(recipe)

    def test_unreadable_data_file(self, tmp_path):
        from train import launcher

        recipe = R.load(write(tmp_path, with_(data={"train": str(tmp_path / "missing.jsonl")})))
        with pytest.raises(R.RecipeError, match=r"data\.train: .*missing\.jsonl"):
            launcher.check_data(recipe)


class TestOverridesAndCoercion:
    def test_cli_style_overrides_are_yaml_parsed(self, tmp_path):
        path = write(tmp_path, with_(grpo={"learning_rate": 1e-6}, rewards=["format", "accuracy"]))
        recipe = R.load(path, ["--grpo.learning_rate", "1e-5", "--rewards.1.weight", "2",
                               "--model.freeze_layers=1", "--grpo.beta", "-0.0"])
        assert recipe.grpo["learning_rate"] == pytest.approx(1e-5)
        assert recipe.rewards[1].weight == 2.0 and recipe.model.freeze_layers == 1
        assert R.grpo_config(recipe, cpu=True).reward_weights == [1.0, 2.0]

    def test_override_of_missing_list_index(self, tmp_path):
        with pytest.raises(R.RecipeError, match=r"rewards\.5: list index out of range"):
            R.load(write(tmp_path, MINIMAL), {"rewards.5.weight": 1})

    def test_yaml_exponent_strings_become_numbers(self, tmp_path):
        recipe = R.load(write(tmp_path, with_(grpo={"learning_rate": "1e-4", "max_steps": "10"})))
        assert recipe.grpo["learning_rate"] == 1e-4 and recipe.grpo["max_steps"] == 10

    def test_split_overrides_keeps_negative_values(self):
        ours, overrides = split_overrides(["r.yaml", "--check", "--rewards.0.params.max_penalty", "-0.5"])
        assert ours == ["r.yaml", "--check"]
        assert overrides == ["--rewards.0.params.max_penalty", "-0.5"]

    def test_module_function_rewards(self, tmp_path):
        recipe = R.load(write(tmp_path, with_(rewards=[
            "helper_rewards:digit_count",
            {"name": "helper_rewards:make_constant", "params": {"value": 0.5}, "weight": 3},
        ])))
        assert [s.weight for s in recipe.rewards] == [1.0, 3.0]
        with pytest.raises(R.RecipeError, match=r"rewards\.0\.name: .*no_such_module"):
            R.load(write(tmp_path, with_(rewards=["no_such_module:fn"])))
        with pytest.raises(R.RecipeError, match=r"rewards\.0\.params\.nope: not a parameter of make_constant"):
            R.load(write(tmp_path, with_(rewards=[{"name": "helper_rewards:make_constant", "params": {"nope": 1}}])))

    def test_cpu_config_turns_off_gpu_only_switches(self, tmp_path):
        recipe = R.load(write(tmp_path, with_(grpo={"bf16": True, "num_generations": 4,
                                                    "per_device_train_batch_size": 8})))
        config = R.grpo_config(recipe, cpu=True)
        assert config.use_cpu and not config.bf16 and not config.gradient_checkpointing
        assert config.num_generations == 4 and config.report_to in ([], "none", ["none"])

    def test_trl_rejections_name_the_section(self, tmp_path):
        recipe = R.load(write(tmp_path, with_(grpo={"num_generations": 3, "per_device_train_batch_size": 8})))
        with pytest.raises(R.RecipeError, match=r"recipe\.yaml: grpo: GRPOConfig rejected"):
            R.grpo_config(recipe, cpu=True)
