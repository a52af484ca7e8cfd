"""Rows with images on the transformers backend: a tiny LLaVA is loaded with its AutoProcessor and the
images reach the vision tower (paths from a JSONL file, PIL images from in-memory rows)."""

from __future__ import annotations

import json

import pytest

from evalsuite import EvalConfig, run

pytestmark = pytest.mark.slow


def _images(tmp_path):
    from PIL import Image

    paths = []
    for name, color in (("red", (220, 20, 20)), ("blue", (20, 20, 220)), ("noise", None)):
        if color is None:
            import random

            rnd = random.Random(0)
            image = Image.new("RGB", (36, 30))
            image.putdata([tuple(rnd.randrange(256) for _ in range(3)) for _ in range(36 * 30)])
        else:
            image = Image.new("RGB", (36, 30), color)
        image.save(tmp_path / f"{name}.png")
        paths.append(str(tmp_path / f"{name}.png"))
    return paths


def test_images_from_a_jsonl_file(tiny_vlm, tmp_path, write_jsonl):
    paths = _images(tmp_path)
    rows = [{"prompt": "What color is it?", "solution": name, "images": [p]}
            for name, p in zip(("red", "blue", "noise"), paths, strict=True)]
    data = write_jsonl(tmp_path / "vlm.jsonl", rows)
    summary = run(EvalConfig(model=str(tiny_vlm), data=str(data), max_tokens=6, output_dir=str(tmp_path / "o")), progress=False)
    assert summary["counts"]["samples"] == 3
    records = [json.loads(line) for line in (tmp_path / "o" / "samples.jsonl").read_text().splitlines()]
    assert [r["images"] for r in records] == [[p] for p in paths]
    assert all(len(r["completion_ids"][0]) >= 1 for r in records)


def test_pil_images_in_memory_rows(tiny_vlm, tmp_path):
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    model = AutoModelForImageTextToText.from_pretrained(tiny_vlm)
    processor = AutoProcessor.from_pretrained(tiny_vlm)
    rows = [{"messages": [{"role": "user", "content": "Color?"}], "solution": "red",
             "images": Image.new("RGB", (28, 28), (255, 0, 0))}] * 1
    rows += [{"messages": [{"role": "user", "content": "Color?"}], "solution": "blue",
              "images": [Image.new("RGB", (28, 28), (0, 0, 255))], "id": "b"}]
    seen = []
    tower = next(m for name, m in model.named_modules() if name.endswith("vision_tower"))
    tower.register_forward_hook(lambda module, args, kwargs_or_out: seen.append(args[0].shape[0]) if args else None)
    processor.tokenizer.padding_side = "right"
    summary = run(EvalConfig(n=2, temperature=1.0, max_tokens=4, output_dir=str(tmp_path / "o")),
                  rows=rows, model=model, tokenizer=processor, progress=False)
    assert summary["counts"]["samples"] == 4
    assert seen and seen[0] == 4  # both prompts' images, once per sample, went through the vision tower
    assert processor.tokenizer.padding_side == "right"  # restored


def test_a_processor_that_needs_a_missing_library_is_one_line(tiny_vlm, tmp_path, write_jsonl, monkeypatch, capsys):
    """transformers raises ImportError when a processor's backend (Qwen2.5-VL's torchvision) is missing: one line
    naming it and the extra, before any weights load."""
    import transformers

    from evalsuite.cli import main

    def no_torchvision(*args, **kwargs):
        raise ImportError("\nQwen2VLVideoProcessor requires the Torchvision library but it was not found in your "
                          "environment. Check out the instructions on the\ninstallation page: ...")

    def no_weights(*args, **kwargs):
        raise AssertionError("weights loaded before the processor")

    monkeypatch.setattr(transformers.AutoProcessor, "from_pretrained", no_torchvision)
    monkeypatch.setattr(transformers.AutoModelForImageTextToText, "from_pretrained", no_weights)
    data = write_jsonl(tmp_path / "d.jsonl", [{"prompt": "Color?", "solution": "red", "images": _images(tmp_path)[:1]}])
    assert main(["run", "--model", str(tiny_vlm), "--data", str(data), "--output-dir", str(tmp_path / "o"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "requires the Torchvision library" in err and "grpokit[vlm]" in err
