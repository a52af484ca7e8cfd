"""Each seed setup end to end on CPU: the shipped recipe, with a tiny local stand-in for its model and data, trains a
few steps through the launcher and its final/ is evaluated with evalsuite. Nothing here may reach a hub or skip in CI.

Stand-ins: LaTeX OCR on rendered formula images (tiny Qwen2.5-VL); CLEVR counting on a vision tower joined to a
text model (join_vision) with the write-up's freezing, SFT then GRPO; video actions from mp4 clips generated
with PyAV, evaluated with --correct iou>=1; LoRA math on the arithmetic set (tiny Qwen2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalsuite.cli import main as evalsuite_main
from train import launcher
from train import recipe as R

pytestmark = pytest.mark.slow

RECIPES = Path(R.__file__).parent / "recipes"
# A few steps of everything: the recipe's own rewards, freezing, stages and eval settings stay as shipped.
SMALL = {
    "grpo.max_steps": 2, "grpo.per_device_train_batch_size": 4, "grpo.num_generations": 2,
    "grpo.gradient_accumulation_steps": 1, "grpo.max_completion_length": 8, "grpo.logging_steps": 1,
    "grpo.disable_tqdm": True,
    "eval.limit": 2, "eval.max_tokens": 8,
    "preflight.prompts": 2, "preflight.stop": False,  # a random model's rewards rarely vary: report only
    "device": "cpu",  # the seeds train in bf16 on GPUs; here on purpose on the CPU
}


def _vlm_stack(*modules: str):
    from fixtures.tiny_vlm import require_vlm

    require_vlm(*modules)


def _train(name: str, tmp_path: Path, **overrides):
    recipe = R.load(RECIPES / f"{name}.yaml", {**SMALL, "output_dir": str(tmp_path / "run"), **overrides})
    result = launcher.run(recipe, progress=False, compact=True)
    final = Path(result.final_model)
    assert (final / "config.json").is_file() and "after" in result.metrics
    steps = [e for e in result.log_history["grpo"] if "loss" in e]
    assert len(steps) == 2, result.log_history["grpo"]
    return recipe, result, final


def _evaluate(final: Path, data: Path, out: Path, *args: str) -> dict:
    """`evalsuite run` on the trained model's folder, as a user would."""
    code = evalsuite_main(["run", "--model", str(final), "--data", str(data), "--n", "2", "--temperature", "1.0",
                           "--max-tokens", "8", "--k", "1,2", "--output-dir", str(out), "--no-progress", *args])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["samples"] == 2 * summary["counts"]["prompts"] > 0
    return summary


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


# ----------------------------------------------------------------------------------------------- LaTeX OCR

FORMULAS = [("x^2+1", "x^{2}+1"), ("a/b", r"\frac{a}{b}"), ("sqrt(2)", r"\sqrt{2}"), ("e^(i pi)", r"e^{i\pi}"),
            ("x_1+x_2", "x_{1}+x_{2}"), ("2ab", "2ab"), ("n!", "n!"), ("y=3x", "y=3x")]


def _formula_images(folder: Path) -> Path:
    from PIL import Image, ImageDraw

    folder.mkdir()
    rows = []
    for i, (shown, latex) in enumerate(FORMULAS):
        image = Image.new("RGB", (112, 28), "white")
        ImageDraw.Draw(image).text((4, 8), shown, fill="black")
        image.save(folder / f"formula_{i}.png")
        rows.append({"prompt": "Transcribe the formula.", "images": [f"formula_{i}.png"], "solution": latex})
    return _jsonl(folder / "ocr.jsonl", rows)


def test_latex_ocr(tmp_path):
    _vlm_stack()
    from fixtures.tiny_vlm import build_vlm

    model = build_vlm(tmp_path / "vlm")
    data = _formula_images(tmp_path / "formulas")
    recipe, result, final = _train("latex_ocr_vl", tmp_path, **{"model.path": str(model), "data.train": str(data),
                                                                "data.eval": str(data)})
    assert [s.name for s in recipe.rewards] == ["format", "exact_match", "accuracy", "length_penalty"]
    assert recipe.model.dtype == "float32" and recipe.model.freeze_vision_tower
    logs = [e for e in result.log_history["grpo"] if "loss" in e]
    assert all(f"rewards/{name}/mean" in logs[0] for name in ("format", "exact_match", "accuracy", "length_penalty"))
    summary = _evaluate(final, data, tmp_path / "eval", "--correct", "exact_match", "--rewards", "exact_match,format",
                        "--reward-params", json.dumps({"exact_match": {"tag": "latex"}, "format": {"tags": ["latex"]}}))
    assert summary["correct"]["reward"] == "exact_match" and summary["metrics"]["reward/exact_match"] is not None


# ----------------------------------------------------------------------------------------------- CLEVR counting


def test_clevr_counting_on_a_joined_model_with_sft_then_grpo(tmp_path):
    _vlm_stack()
    import torch
    from transformers import AutoProcessor, Qwen2Config, Qwen2ForCausalLM

    from fixtures import tiny_vlm
    from train.join_vision import main as join_main

    vlm = tiny_vlm.build_vlm(tmp_path / "vlm")
    tokenizer = AutoProcessor.from_pretrained(vlm).tokenizer
    torch.manual_seed(1)
    Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), hidden_size=48, intermediate_size=96, num_hidden_layers=6,
                                 num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                                 eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
                     ).save_pretrained(tmp_path / "text")
    tokenizer.save_pretrained(tmp_path / "text")
    joined = tmp_path / "joined"
    assert join_main(["--vision", str(vlm), "--text", str(tmp_path / "text"), "--out", str(joined)]) == 0
    data = tiny_vlm.build_counting_set(tmp_path / "squares", n=8)
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    sft = _jsonl(tmp_path / "squares" / "sft.jsonl", [
        {**r, "completion": f"<think>I count the squares.</think><answer>{r['solution']}</answer>"} for r in rows])
    recipe, result, final = _train("clevr_count_sft_grpo", tmp_path, **{
        "model.path": str(joined), "data.train": str(data), "data.eval": str(data), "sft.data": str(sft),
        "sft.max_steps": 1, "sft.per_device_train_batch_size": 4})
    assert list(result.metrics) == ["before", "after_sft", "after"]
    # the write-up's freezing: the first five decoder layers, the embeddings and the merger's last projection train
    model = result.model
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any(".layers.4." in n for n in trainable) and not any(".layers.5." in n for n in trainable)
    assert any("merger.mlp.2" in n for n in trainable) and not any(".visual.blocks." in n for n in trainable)
    from transformers import AutoModelForImageTextToText

    start = AutoModelForImageTextToText.from_pretrained(joined).state_dict()
    end = AutoModelForImageTextToText.from_pretrained(final).state_dict()
    assert end["model.visual.blocks.0.attn.qkv.weight"].equal(start["model.visual.blocks.0.attn.qkv.weight"])
    assert end["model.language_model.layers.5.mlp.up_proj.weight"].equal(
        start["model.language_model.layers.5.mlp.up_proj.weight"])
    assert not end["model.language_model.layers.0.mlp.up_proj.weight"].equal(
        start["model.language_model.layers.0.mlp.up_proj.weight"])
    summary = _evaluate(final, data, tmp_path / "eval")
    assert summary["correct"]["reward"] == "accuracy" and summary["metrics"]["accuracy"] is not None


# ----------------------------------------------------------------------------------------------- video actions

ACTIONS = ["open door", "sit down", "wave", "pick up cup"]


def _clips(folder: Path, count: int) -> Path:
    """mp4 clips (MPEG-4 Part 2, 8 fps, 2 s) whose brightness ramps; golds are two actions each."""
    _vlm_stack("av")
    import av
    import numpy as np

    folder.mkdir()
    rows = []
    for i in range(count):
        name = f"clip_{i}.mp4"
        with av.open(str(folder / name), "w") as out:
            stream = out.add_stream("mpeg4", rate=8)
            stream.width, stream.height, stream.pix_fmt = 56, 56, "yuv420p"
            for t in range(16):
                pixels = np.full((56, 56, 3), (i * 40 + t * 10) % 256, dtype=np.uint8)
                for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        first, second = ACTIONS[i % 4], ACTIONS[(i + 1) % 4]
        rows.append({"prompt": "Which actions happen in the clip, in order?", "videos": name,
                     "solution": f"(1) {first} (2) {second}"})
    return _jsonl(folder / "clips.jsonl", rows)


def test_video_actions_from_mp4_clips(tmp_path):
    _vlm_stack()
    from evalsuite import EvalConfig, run
    from fixtures.tiny_vlm import build_vlm
    from train.data import eval_rows

    data = _clips(tmp_path / "clips", 4)
    model = build_vlm(tmp_path / "vlm")
    recipe, result, final = _train("video_actions", tmp_path, **{
        "model.path": str(model), "data.train": str(data), "data.eval": str(data), "data.max_frames": 4})
    assert result.metrics["after"]["accuracy"] is not None  # eval.correct: iou>=1, as shipped
    rows = eval_rows(recipe)  # the clips sampled into frames as in training (2 per second: 4)
    assert len(rows[0]["images"]) == 4
    summary = run(EvalConfig(model=str(final), n=2, temperature=1.0, max_tokens=8, k=(1, 2), correct="iou>=1",
                             rewards=("iou", "format_partial"), output_dir=str(tmp_path / "eval")),
                  rows=rows, progress=False)
    assert summary["correct"]["spec"] == "iou>=1" and summary["counts"]["samples"] == 2 * len(rows)
    assert "reward/accuracy" not in summary["metrics"]


# ----------------------------------------------------------------------------------------------- LoRA math


def test_lora_math(tmp_path, tiny_text_model, arithmetic_data):
    recipe, result, final = _train("gsm_lora", tmp_path, **{
        "model.path": str(tiny_text_model), "data.train": str(arithmetic_data["train"]),
        "data.eval": str(arithmetic_data["heldout"]), "data.limit": 16, "lora.r": 4, "lora.lora_alpha": 8})
    assert recipe.lora is not None and recipe.lora.save == "merged"
    assert not (final / "adapter_config.json").exists()  # merged into a plain model
    logs = [e for e in result.log_history["grpo"] if "loss" in e]
    assert {"rewards/cosine/mean", "rewards/length/mean", "rewards/repetition/mean"} <= set(logs[0])
    summary = _evaluate(final, arithmetic_data["heldout"], tmp_path / "eval", "--limit", "4")
    assert summary["metrics"]["accuracy"] is not None
