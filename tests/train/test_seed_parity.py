"""Seed parity on tiny random models: a vision tower joined to another text model, pattern freezing, videos.
Every model here is built locally; nothing may reach a hub, and files stay under pytest's tmp_path."""

from __future__ import annotations

import json

import pytest

from train import modeling
from train import recipe as R
from train.join_vision import main as join_main

pytestmark = pytest.mark.slow

CLEVR_TRAINABLE = [r"^model\.language_model\.layers\.[0-1]\.", "embed_tokens", r"^model\.visual\.merger\.mlp\.2\."]


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    """A tiny Qwen2.5-VL's vision tower (text hidden size 64) joined to a 3-layer text model of hidden size 48."""
    import torch
    from transformers import AutoProcessor, Qwen2Config, Qwen2ForCausalLM

    from fixtures import tiny_vlm

    tiny_vlm.require_vlm()

    root = tmp_path_factory.mktemp("join")
    vlm = tiny_vlm.build_vlm(root / "vlm")
    tokenizer = AutoProcessor.from_pretrained(vlm, trust_remote_code=True).tokenizer
    torch.manual_seed(1)
    text = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), hidden_size=48, intermediate_size=96,
                                        num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
                                        tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id,
                                        pad_token_id=tokenizer.pad_token_id))
    text.save_pretrained(root / "text")
    tokenizer.save_pretrained(root / "text")
    assert join_main(["--vision", str(vlm), "--text", str(root / "text"), "--out", str(root / "joined"),
                      "--trust-remote-code"]) == 0
    return {"vlm": vlm, "text": root / "text", "joined": root / "joined", "root": root}


def _weights(path):
    """The state dict of the model saved in ``path``, under the module names it loads with."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForImageTextToText

    vlm = getattr(AutoConfig.from_pretrained(path), "vision_config", None) is not None
    return (AutoModelForImageTextToText if vlm else AutoModelForCausalLM).from_pretrained(path).state_dict()


def test_joined_model_keeps_both_parts_and_resizes_the_merger(joined):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(joined["joined"], trust_remote_code=True)
    assert config.text_config.hidden_size == 48 and config.text_config.num_hidden_layers == 3
    assert config.vision_config.out_hidden_size == 48
    out, vlm, text = _weights(joined["joined"]), _weights(joined["vlm"]), _weights(joined["text"])
    assert out["model.visual.merger.mlp.2.weight"].shape[0] == 48  # resized to the text model
    for key in ("model.visual.blocks.0.attn.qkv.weight", "model.visual.merger.mlp.0.weight"):
        assert out[key].equal(vlm[key])
    assert out["model.language_model.layers.2.mlp.up_proj.weight"].equal(text["model.layers.2.mlp.up_proj.weight"])
    assert out["model.language_model.embed_tokens.weight"].equal(text["model.embed_tokens.weight"])


def test_joined_model_trains_what_the_clevr_seed_trains(joined, tmp_path):
    """Loadable by the launcher, and the seed's trainable parts (first layers, embeddings, merger output)."""
    from fixtures import tiny_vlm

    data = tiny_vlm.build_counting_set(tmp_path / "squares", n=4)
    recipe = R.from_dict({"model": {"path": str(joined["joined"]), "trust_remote_code": True,
                                    "trainable": CLEVR_TRAINABLE},
                          "data": {"train": str(data)}, "rewards": ["accuracy"]}, source="clevr.yaml")
    model, processor, is_vlm = modeling.load_model(recipe)
    assert is_vlm
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {n for n, _ in model.named_parameters()
                         if n.startswith(("model.language_model.layers.0.", "model.language_model.layers.1.",
                                          "model.visual.merger.mlp.2.")) or "embed_tokens" in n}
    groups = {name: (t, total) for name, t, total in modeling.trainable_groups(model)}
    assert groups["model.language_model.layers.0-1"][0] == groups["model.language_model.layers.0-1"][1] > 0
    assert groups["model.language_model.layers.2"][0] == 0
    assert groups["model.visual.blocks.0-1"][0] == 0
    # and it generates from an image through its processor
    from evalsuite.backends import Prompt, Sampling
    from evalsuite.backends.transformers import TransformersBackend
    from train.data import grpo_rows

    row = grpo_rows(recipe, str(data), limit=1, key="data.train")[0]
    backend = TransformersBackend.create(None, model=model, tokenizer=processor)
    out = backend.generate([Prompt(row["prompt"], row["images"], 0)], Sampling(max_tokens=4))
    assert len(out[0][0].token_ids) >= 1


def test_a_pattern_that_matches_nothing_is_an_error(tiny_text_model):
    recipe = R.from_dict({"model": {"path": str(tiny_text_model), "frozen": ["embed_tokns"]},
                          "data": {"train": "t.jsonl"}, "rewards": ["accuracy"]}, source="typo.yaml")
    with pytest.raises(R.RecipeError, match=r"typo\.yaml: model\.frozen\.0: 'embed_tokns' matches no parameter"):
        modeling.load_model(recipe)


def test_frozen_patterns_apply_after_trainable(tiny_text_model):
    recipe = R.from_dict({"model": {"path": str(tiny_text_model), "trainable": [r"\.layers\."],
                                    "frozen": [r"\.mlp\."]},
                          "data": {"train": "t.jsonl"}, "rewards": ["accuracy"]}, source="p.yaml")
    model, _, _ = modeling.load_model(recipe)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(".layers." in n and ".mlp." not in n for n in trainable)
    assert any(".self_attn." in n for n in trainable)


def test_video_files_become_uniformly_sampled_frames(tmp_path):
    from PIL import Image

    from train.data import grpo_rows

    clip = tmp_path / "clip.gif"  # 40 frames of 100 ms: 4 s, each frame a distinct grey level
    frames = [Image.new("RGB", (28, 28), (i * 6, i * 6, i * 6)) for i in range(40)]
    frames[0].save(clip, save_all=True, append_images=frames[1:], duration=100, loop=0)
    data = tmp_path / "videos.jsonl"
    data.write_text(json.dumps({"prompt": "What happens?", "videos": "clip.gif", "solution": "(1) fade"}) + "\n")
    for fps, low, high, expected in ((2.0, 4, 16, 8), (1.0, 6, 16, 6), (10.0, 4, 5, 5)):
        recipe = R.from_dict({"model": {"path": "m"}, "rewards": ["iou"],
                              "data": {"train": str(data), "video_fps": fps, "min_frames": low, "max_frames": high}},
                             source="video.yaml")
        images = grpo_rows(recipe, str(data), limit=None, key="data.train")[0]["images"]
        assert len(images) == expected
        levels = [image.getpixel((0, 0))[0] // 6 for image in images]
        assert levels[0] == 0 and levels[-1] == 39 and levels == sorted(levels)  # first to last, evenly


def test_join_vision_leaves_no_folder_when_it_fails(joined, tmp_path, monkeypatch, capsys):
    from transformers import Qwen2_5_VLProcessor

    def full_disk(self, *args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(Qwen2_5_VLProcessor, "save_pretrained", full_disk)
    out = tmp_path / "joined"
    assert join_main(["--vision", str(joined["vlm"]), "--text", str(joined["text"]), "--out", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # neither the model folder nor the staging folder is left


def test_join_vision_refuses_a_folder_that_holds_something(joined, tmp_path, capsys):
    out = tmp_path / "joined"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert join_main(["--vision", str(joined["vlm"]), "--text", str(joined["text"]), "--out", str(out)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


TORCHVISION_MISSING = ("\nQwen2VLVideoProcessor requires the Torchvision library but it was not found in your "
                       "environment. Check out the instructions on the\ninstallation page: ...")


def test_a_processor_dependency_that_is_missing_is_one_line_before_anything_is_written(joined, tmp_path,
                                                                                        monkeypatch, capsys):
    """Without torchvision transformers cannot build Qwen2.5-VL's processor: join_vision and grpo-train --check
    say so in one line, and write nothing (before, join_vision saved the weights first and --check said ok)."""
    import transformers
    import yaml

    from fixtures import tiny_vlm
    from train.cli import main as cli_main

    def no_torchvision(*args, **kwargs):
        raise ImportError(TORCHVISION_MISSING)

    data = tiny_vlm.build_counting_set(tmp_path / "squares", n=2)
    monkeypatch.setattr(transformers.AutoProcessor, "from_pretrained", no_torchvision)
    out = tmp_path / "joined"
    assert join_main(["--vision", str(joined["vlm"]), "--text", str(joined["text"]), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "requires the Torchvision library" in err and "grpokit[vlm]" in err
    assert not out.exists()
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"output_dir": str(tmp_path / "run"), "model": {"path": str(joined["joined"])},
                                      "data": {"train": str(data)}, "rewards": ["accuracy"]}))
    assert cli_main([str(recipe), "--check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.path: cannot load the processor" in err and "grpokit[vlm]" in err
    assert not (tmp_path / "run").exists()
