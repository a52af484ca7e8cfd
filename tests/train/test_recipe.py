"""Recipe validation and `--check`: every shipped recipe loads, and bad recipes fail naming the file and the key.
None of these tests may load model weights: a model load during `--check` is itself a failure."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml

from train import recipe as R
from train.cli import main as cli_main
from train.cli import split_overrides
from train.fields import GRPO_CHOICES, coerce_field

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


@pytest.fixture
def no_model_loads(monkeypatch):
    """Any attempt to read model weights fails the test."""
    import transformers

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded during --check")

    for cls in (transformers.AutoModelForCausalLM, transformers.AutoModelForImageTextToText):
        monkeypatch.setattr(cls, "from_pretrained", refuse)


class TestShippedRecipes:
    def test_there_is_one_per_seed_and_the_demo(self):
        names = {p.stem for p in RECIPES}
        assert {"arithmetic_demo", "latex_ocr_vl", "clevr_count_sft_grpo", "gsm_lora", "video_actions",
                "r1v_multimodal_vllm"} <= names

    @pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
    def test_loads_and_builds_trl_configs(self, path):
        recipe = R.load(path, {"device": "cpu"})
        config = R.grpo_config(recipe, cpu=True)  # GPU-only switches are turned off on CPU
        assert config.reward_weights == [spec.weight for spec in recipe.rewards]
        assert config.save_strategy == "steps" and config.save_total_limit  # resumable by default
        if recipe.sft is not None:
            assert R.sft_config(recipe, cpu=True).completion_only_loss is True
        if recipe.lora is not None:
            from peft import LoraConfig

            assert LoraConfig(**recipe.lora.config).r == recipe.lora.config["r"]
            assert recipe.lora.save == "merged"

    @pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
    def test_resolved_recipe_loads_back_unchanged(self, path, tmp_path):
        recipe = R.load(path)
        again = R.load(write(tmp_path, recipe.to_dict()))
        assert again.to_dict() == recipe.to_dict()

    def test_seed_settings(self):
        folder = RECIPES[0].parent
        latex = R.load(folder / "latex_ocr_vl.yaml")
        assert [(s.name, s.weight) for s in latex.rewards] == [("format", 0.5), ("exact_match", 2.0),
                                                                ("accuracy", 1.0), ("length_penalty", 1.0)]
        assert latex.rewards[0].params == {"tags": ["latex"]} and latex.eval.config["correct"] == "exact_match"
        assert R.load(folder / "video_actions.yaml").eval.config["correct"] == "iou>=1"
        clevr = R.load(folder / "clevr_count_sft_grpo.yaml")
        assert clevr.sft is not None and clevr.grpo["beta"] == 0.06 and clevr.grpo["num_generations"] == 8
        assert clevr.grpo["max_completion_length"] == 500 and clevr.grpo["learning_rate"] == 1e-5
        assert clevr.model.trainable  # the seed trains named parts only
        gsm = R.load(folder / "gsm_lora.yaml")
        assert gsm.lora.config["r"] == 32 and gsm.grpo["num_generations"] == 6
        assert gsm.grpo["per_device_train_batch_size"] == 24
        assert gsm.rewards[-1].params == {"ngram_size": 40, "max_penalty": -0.05}
        video = R.load(folder / "video_actions.yaml")
        assert [(s.name, s.weight) for s in video.rewards] == [("format_partial", 0.3), ("iou", 0.7)]
        r1v = R.load(folder / "r1v_multimodal_vllm.yaml")
        assert r1v.grpo["use_vllm"] and r1v.grpo["num_iterations"] == 2 and r1v.grpo["beta"] == 0.001

    def test_readme_gsm_command_checks_once_the_files_exist(self, tmp_path, monkeypatch, capsys, no_model_loads):
        """README: grpo-train train/recipes/gsm_lora.yaml --model.path Qwen/Qwen3-0.6B --data.train ... --data.eval ..."""
        monkeypatch.chdir(tmp_path)
        for name in ("gsm_train.jsonl", "gsm_val.jsonl"):
            (tmp_path / name).write_text('{"prompt": "What is 6*7?", "solution": "42"}\n')
        recipe = RECIPES[0].parent / "gsm_lora.yaml"
        args = [str(recipe), "--model.path", "Qwen/Qwen3-0.6B", "--data.train", "gsm_train.jsonl",
                "--data.eval", "gsm_val.jsonl", "--check"]
        import torch

        if not torch.cuda.is_available():  # a bf16 GPU recipe on this CPU machine: one line, unless device: cpu
            assert cli_main(args) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and err[0].startswith(f"grpo-train: {recipe}: grpo.bf16: true needs a CUDA device")
            assert "set device: cpu (--device cpu)" in err[0]
            args.append("--device=cpu")
        code = cli_main(args)
        assert code == 0, capsys.readouterr().err
        assert "data.train: 1 rows" in capsys.readouterr().out


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

    @pytest.mark.parametrize("section, key, bad", [
        ({}, "rewrds", "rewards"),
        ({"model": {"path": "m", "freeze_vision": True}}, r"model\.freeze_vision", "freeze_vision_tower"),
        ({"data": {"train": "t.jsonl", "solution": "x"}}, r"data\.solution", "solution_key"),
        ({"preflight": {"promts": 4}}, r"preflight\.promts", "prompts"),
        ({"watchdog": {"patiense": 4}}, r"watchdog\.patiense", "patience"),
    ])
    def test_unknown_keys_get_the_closest_name(self, tmp_path, section, key, bad):
        raw = {**MINIMAL, "rewrds": []} if not section else with_(**section)
        with pytest.raises(R.RecipeError, match=rf"recipe\.yaml: {key}: unknown key.*'{bad}'"):
            R.load(write(tmp_path, raw))

    def test_reward_weights_and_stage_folders_are_the_launchers(self, tmp_path):
        with pytest.raises(R.RecipeError, match=r"grpo\.reward_weights: .*weight"):
            R.load(write(tmp_path, with_(grpo={"reward_weights": [1.0]})))
        with pytest.raises(R.RecipeError, match=r"grpo\.output_dir: .*top-level"):
            R.load(write(tmp_path, with_(grpo={"output_dir": "elsewhere"})))

    @pytest.mark.parametrize("sections, key, message", [
        ({"grpo": {"use_vllm": "yes please"}}, r"grpo\.use_vllm", "valid boolean"),
        ({"grpo": {"num_generations": 2.5}}, r"grpo\.num_generations", "valid integer"),
        ({"grpo": {"max_completion_length": "long"}}, r"grpo\.max_completion_length", "valid integer"),  # int | None
        ({"grpo": {"epsilon_high": "wide"}}, r"grpo\.epsilon_high", "valid number"),  # float | None
        ({"grpo": {"loss_type": "dapoo"}}, r"grpo\.loss_type", "not one of.*did you mean 'dapo'"),
        ({"grpo": {"vllm_mode": "colocated"}}, r"grpo\.vllm_mode", "not one of.*'colocate'"),
        ({"grpo": {"scale_rewards": "groups"}}, r"grpo\.scale_rewards", "not one of.*'group'"),
        ({"grpo": {"scale_rewards": 1}}, r"grpo\.scale_rewards", "not one of"),
        ({"grpo": {"importance_sampling_level": "word"}}, r"grpo\.importance_sampling_level", "not one of"),
        ({"rewards": [{"name": "accuracy", "weight": "heavy"}]}, r"rewards\.0\.weight", "valid number"),
        ({"rewards": [{"name": "accuracy", "params": {"timeout": "abc"}}]}, r"rewards\.0\.params\.timeout",
         "invalid timeout"),
        ({"rewards": [{"name": "repetition", "params": {"max_penalty": 1}}]}, r"rewards\.0\.params\.max_penalty",
         "invalid max_penalty"),
        ({"model": {"path": "m", "dtype": "fp8"}}, r"model\.dtype", "'auto'"),
        ({"model": {"path": "m", "freeze_layers": -1}}, r"model\.freeze_layers", "greater than or equal to 0"),
        ({"model": {"path": "m", "trainable": ["layers.[0-4"]}}, r"model\.trainable", "not a regular expression"),
        ({"data": {"train": "t.jsonl", "limit": 0}}, r"data\.limit", "greater than or equal to 1"),
        ({"data": {"train": "t.jsonl", "min_frames": 8, "max_frames": 4}}, "data", "above max_frames"),
        ({"lora": {"r": "eight"}}, r"lora\.r", "valid integer"),
        ({"lora": {"r": 0}}, r"lora\.r", "at least 1"),
        ({"lora": {"save": "both"}}, r"lora\.save", "'merged' or 'adapter'"),
        ({"sft": {"learning_rate": "fast"}}, r"sft\.learning_rate", "valid number"),
        ({"eval": {"data": "v.jsonl", "max_tokens": "many"}}, r"eval\.max_tokens", "valid integer"),
        ({"eval": {"data": "v.jsonl", "every_n_steps": 0}}, r"eval\.every_n_steps", "greater than or equal to 1"),
        ({"preflight": {"max_truncation": 2}}, r"preflight\.max_truncation", "less than or equal to 1"),
        ({"seed": "lucky"}, "seed", "valid integer"),
    ])
    def test_wrong_types_and_values(self, tmp_path, sections, key, message):
        with pytest.raises(R.RecipeError, match=rf"recipe\.yaml: {key}: .*{message}"):
            R.load(write(tmp_path, with_(**sections)))

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


class TestCheck:
    """`grpo-train RECIPE --check` reports what the run would reject, as one line, with no model loaded."""

    @pytest.fixture
    def files(self, tmp_path):
        (tmp_path / "train.jsonl").write_text('{"prompt": "What is 1+1?", "solution": "2", "answer": "2"}\n' * 8)
        model = tmp_path / "model"
        model.mkdir()
        (model / "config.json").write_text("{}")
        (tmp_path / "empty-model").mkdir()
        return tmp_path

    def recipe(self, files, **sections):
        base = {"model": {"path": str(files / "model")}, "data": {"train": "train.jsonl"},
                "rewards": ["accuracy"], "grpo": {"per_device_train_batch_size": 8, "num_generations": 4}}
        for key, value in sections.items():
            base[key] = {**base[key], **value} if isinstance(base.get(key), dict) else value
        return write(files, base)

    @pytest.mark.parametrize("sections, key, message", [
        ({"model": {"path": "./models/missing"}}, r"model\.path", "does not exist"),
        ({"model": {"path": "path/to/Qwen3-0.6B"}}, r"model\.path", "placeholders"),
        ({"model": {"path": "empty-model"}}, r"model\.path", "no config.json"),
        ({"model": {"path": "train.jsonl"}}, r"model\.path", "is a file, not a model folder"),
        ({"model": {"path": "not a hub id!"}}, r"model\.path", "neither a local folder nor a hub id"),
        ({"grpo": {"per_device_train_batch_size": 6}}, "grpo", "divisible by num_generations"),
        ({"grpo": {"num_generations": 1}}, "grpo", "at least 2 generations"),
        ({"grpo": {"lr_scheduler_type": "cosin"}}, "grpo", "not a valid SchedulerType"),
        ({"grpo": {"resume_from_checkpoint": "nowhere"}}, r"grpo\.resume_from_checkpoint", "not a TRL checkpoint"),
        ({"data": {"solution_key": "gold"}}, r"data\.solution_key", "column 'gold' not found.*answer, prompt"),
        ({"rewards": [{"name": "accuracy", "params": {"gold_key": "truth"}}]}, r"rewards\.0\.params\.gold_key",
         "column 'truth' not found"),
        ({"data": {"train": "missing.jsonl"}}, r"data\.train", r"missing\.jsonl"),
        ({"eval": {"data": "train.jsonl", "temperature": -1}}, "eval", "temperature must be >= 0"),
        ({"lora": {"r": 8, "layers_pattern": "layers"}}, "lora", "`layers_to_transform` must also be specified"),
    ])
    def test_reports_before_any_model_loads(self, files, capsys, no_model_loads, sections, key, message):
        code = cli_main([str(self.recipe(files, **sections)), "--check"])
        err = capsys.readouterr().err
        assert code == 2
        assert re.search(rf"^grpo-train: .*recipe\.yaml: {key}: .*{message}", err), err
        assert len(err.strip().splitlines()) == 1

    def test_good_recipe_passes_with_row_counts(self, files, capsys, no_model_loads):
        assert cli_main([str(self.recipe(files)), "--check"]) == 0
        assert "data.train: 8 rows" in capsys.readouterr().out

    def test_missing_data_column_names_key_and_file(self, tmp_path):
        from train import launcher

        data = tmp_path / "train.jsonl"
        data.write_text('{"prompt": "What is 1+1?", "answer": "2"}\n')
        recipe = R.load(write(tmp_path, with_(data={"train": str(data)})))
        with pytest.raises(R.RecipeError) as err:
            launcher.check(recipe)
        message = str(err.value)
        assert "recipe.yaml: data.solution_key" in message and "'solution'" in message and str(data) in message
        assert "answer" in message  # lists the columns there are
        fixed = R.load(write(tmp_path, with_(data={"train": str(data), "solution_key": "answer"})))
        assert launcher.check(fixed) == {"data.train": 1}

    def test_missing_prompt_column(self, tmp_path):
        from train import launcher

        data = tmp_path / "train.jsonl"
        data.write_text('{"question": "What is 1+1?", "solution": "2"}\n')
        recipe = R.load(write(tmp_path, with_(data={"train": str(data)})))
        with pytest.raises(R.RecipeError, match=r"data\.prompt_key: neither 'prompt' nor 'messages'.*question"):
            launcher.check(recipe)


class TestFieldTypes:
    @pytest.mark.parametrize("key, given, expected", [
        ("learning_rate", "1e-4", 1e-4),          # YAML reads 1e-4 as a string
        ("epsilon_high", "1e-4", 1e-4),           # float | None: checked and converted too
        ("max_completion_length", "256", 256),    # int | None
        ("max_steps", 10.0, 10),
        ("num_generations", None, None),          # int | None left unset
        ("use_vllm", True, True),
        ("loss_type", "grpo", "grpo"),
        ("scale_rewards", False, False),          # TRL takes True/False besides the names
        ("lr_scheduler_type", "cosine", "cosine"),  # SchedulerType | str: the written name is kept
        ("report_to", ["none"], ["none"]),
    ])
    def test_grpo_fields(self, key, given, expected):
        from trl import GRPOConfig

        value = coerce_field(GRPOConfig, key, given, GRPO_CHOICES)
        assert value == expected and type(value) is type(expected)

    @pytest.mark.parametrize("field_name", sorted(GRPO_CHOICES))
    def test_choice_table_matches_the_installed_trl(self, field_name):
        from trl import GRPOConfig

        field = {f.name: f for f in dataclasses.fields(GRPOConfig)}[field_name]
        help_text = field.metadata["help"]
        for value in GRPO_CHOICES[field_name]:
            if isinstance(value, str):
                assert re.search(rf"['`]{value}['`]", help_text), f"{value!r} no longer documented by TRL"
        assert field.default in GRPO_CHOICES[field_name]
        listed = re.search(r"Supported (?:values|options) are:?\s+(.*?)\.\s", help_text)
        if listed and field_name == "loss_type":
            assert set(re.findall(r"'(\w+)'", listed.group(1))) == set(GRPO_CHOICES[field_name])


class TestOverridesAndPaths:
    def test_cli_style_overrides_are_yaml_parsed(self, tmp_path):
        path = write(tmp_path, with_(grpo={"learning_rate": 1e-6}, rewards=["format", "accuracy"]))
        recipe = R.load(path, ["--grpo.learning_rate", "1e-5", "--rewards.1.weight", "2",
                               "--model.freeze_layers=1", "--grpo.beta", "-0.0"])
        assert recipe.grpo["learning_rate"] == pytest.approx(1e-5)
        assert recipe.rewards[1].weight == 2.0 and recipe.model.freeze_layers == 1
        assert R.grpo_config(recipe, cpu=True).reward_weights == [1.0, 2.0]

    def test_top_level_keys_are_overridable(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        ours, overrides = split_overrides(["r.yaml", "--output_dir", "runs/a", "--seed=7", "--resume"])
        assert ours == ["r.yaml", "--resume"] and overrides == ["--output_dir", "runs/a", "--seed=7"]
        recipe = R.load(write(tmp_path, MINIMAL), overrides)
        assert recipe.output_dir == str(tmp_path / "runs" / "a") and recipe.seed == 7

    def test_input_paths_are_read_against_the_recipe_folder(self, tmp_path, monkeypatch):
        project = tmp_path / "project"
        (project / "data").mkdir(parents=True)
        (project / "ckpt").mkdir()
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        path = write(project, with_(model={"path": "ckpt"}, data={"train": "data/train.jsonl",
                                                                  "eval": "data/val.parquet::test"},
                                    sft={"data": "./data/sft.jsonl"}, output_dir="out"))
        recipe = R.load(path)
        assert recipe.model.path == str(project / "ckpt")
        assert recipe.data.train == str(project / "data" / "train.jsonl")
        assert recipe.data.eval == str(project / "data" / "val.parquet") + "::test"
        assert recipe.sft.data == str(project / "data" / "sft.jsonl")
        assert recipe.output_dir == str(elsewhere / "out")  # outputs go where the command runs
        overridden = R.load(path, ["--data.train", "mine.jsonl"])  # typed on the command line: the cwd
        assert overridden.data.train == str(elsewhere / "mine.jsonl")

    @pytest.mark.parametrize("written, kept", [
        ("Qwen/Qwen3-0.6B", True),           # a hub id with no such folder beside the recipe
        ("gpt2", True),
        ("./Qwen/Qwen3-0.6B", False),        # explicitly relative: a path
        ("path/to/Qwen3-0.6B", False),       # two slashes: a path
    ])
    def test_model_path_or_hub_id(self, tmp_path, written, kept):
        recipe = R.load(write(tmp_path, with_(model={"path": written})))
        assert (recipe.model.path == written) is kept

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
        with pytest.raises(R.RecipeError, match=r"rewards\.0\.params: .*make_constant.*bad parameters for the factory.*nope"):
            R.load(write(tmp_path, with_(rewards=[{"name": "helper_rewards:make_constant", "params": {"nope": 1}}])))

    def test_cpu_config_turns_off_gpu_only_switches(self, tmp_path):
        raw = with_(grpo={"bf16": True, "num_generations": 4, "per_device_train_batch_size": 8})
        with pytest.raises(R.RecipeError, match=r"grpo\.bf16: true needs a CUDA device, but .*set device: cpu"):
            R.grpo_config(R.load(write(tmp_path, raw)), cpu=True)  # never a silent fp32 CPU run of a GPU recipe
        with pytest.raises(R.RecipeError, match=r"recipe\.yaml: device: cuda, but "):
            R.grpo_config(R.load(write(tmp_path, {**raw, "device": "cuda", "grpo": {}})), cpu=True)
        recipe = R.load(write(tmp_path, {**raw, "device": "cpu"}))
        assert R.grpo_config(recipe, cpu=False).use_cpu  # device: cpu also on a GPU machine
        config = R.grpo_config(recipe, cpu=True)
        assert config.use_cpu and not config.bf16 and not config.gradient_checkpointing
        assert config.num_generations == 4 and config.report_to in ([], "none", ["none"])

    def test_trl_rejections_name_the_section(self, tmp_path):
        recipe = R.load(write(tmp_path, with_(grpo={"num_generations": 3, "per_device_train_batch_size": 8})))
        with pytest.raises(R.RecipeError, match=r"recipe\.yaml: grpo: GRPOConfig rejected"):
            R.grpo_config(recipe, cpu=True)

    def test_print_shows_the_resolved_recipe(self, tmp_path, capsys, tiny_text_model):
        path = write(tmp_path, with_(model={"path": str(tiny_text_model), "freeze_layers": 1}))
        assert cli_main([str(path), "--print"]) == 0
        captured = capsys.readouterr()
        assert json.loads(captured.out)["model"]["freeze_layers"] == 1
        assert re.search(r"model\.layers\.0 +0 / +[\d,]+ trainable", captured.err)
        assert re.search(r"model\.layers\.1 +([\d,]+) / +\1 trainable", captured.err)


class TestPrecision:
    """Full-parameter training in pure bf16 loses small updates: the seeds load float32 weights and autocast."""

    @pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
    def test_no_seed_trains_in_pure_half_precision(self, path):
        from train.modeling import precision_warning

        recipe = R.load(path)
        assert precision_warning(recipe) is None
        assert recipe.model.dtype in ("float32", "fp32") or recipe.lora is not None

    def test_a_full_parameter_bf16_recipe_gets_one_line_saying_what_to_change(self, tmp_path):
        from train.modeling import precision_warning

        full = R.load(write(tmp_path, with_(model={"path": "m", "dtype": "bfloat16"}, grpo={"learning_rate": 1e-5})))
        message = precision_warning(full)
        assert "\n" not in message and "pure bfloat16" in message and "learning rate 1e-05" in message
        assert "model.dtype: float32 with grpo.bf16: true" in message
        lora = R.load(write(tmp_path, with_(model={"path": "m", "dtype": "bf16"}, lora={"r": 4}), "lora.yaml"))
        assert precision_warning(lora) is None

    def test_check_logs_it(self, tmp_path, caplog, no_model_loads):
        (tmp_path / "train.jsonl").write_text('{"prompt": "1+1?", "solution": "2"}\n' * 4)
        (tmp_path / "model").mkdir()
        (tmp_path / "model" / "config.json").write_text("{}")
        path = write(tmp_path, {"model": {"path": "model", "dtype": "bfloat16"}, "data": {"train": "train.jsonl"},
                                "rewards": ["accuracy"], "grpo": {"per_device_train_batch_size": 4,
                                                                  "num_generations": 4}})
        with caplog.at_level("WARNING", logger="grpo-train"):
            assert cli_main([str(path), "--check"]) == 0
        assert sum("pure bfloat16" in r.getMessage() for r in caplog.records) == 1


def test_eval_settings_reach_evalsuite(tmp_path):
    """eval.correct and the model's trust_remote_code become the evaluations' EvalConfig."""
    from train.evaluation import Evaluator

    (tmp_path / "val.jsonl").write_text('{"prompt": "Which actions?", "solution": "(1) sit"}\n')
    recipe = R.load(write(tmp_path, with_(model={"path": "m", "trust_remote_code": True},
                                          rewards=["format_partial", "iou"],
                                          eval={"data": str(tmp_path / "val.jsonl"), "correct": "iou>=1"})))
    config = Evaluator(recipe).config("after")
    assert config.correct == "iou>=1" and config.trust_remote_code is True
    with pytest.raises(R.RecipeError, match=r"eval: --correct 'iou>=x'"):
        Evaluator(R.load(write(tmp_path, with_(eval={"data": str(tmp_path / "val.jsonl"), "correct": "iou>=x"}),
                               "bad.yaml")))
