"""n sampled completions of a VLM prompt all see that prompt's own images: the vision tower is hooked and every
image it receives is checked against the prompt it belongs to, for two processor layouts (Qwen2.5-VL's flattened
patches with per-image grids, LLaVA's one tensor per image), in evalsuite and in grpo-train's preflight."""

from __future__ import annotations

import pytest

from evalsuite import EvalConfig, run

pytestmark = pytest.mark.slow

N = 4


def distinct_images(count: int, size: int):
    """``count`` images no two of which share a pixel value (a noise pattern per image)."""
    import random

    from PIL import Image

    images = []
    for i in range(count):
        rnd = random.Random(i)
        image = Image.new("RGB", (size, size))
        image.putdata([tuple(rnd.randrange(256) for _ in range(3)) for _ in range(size * size)])
        images.append(image)
    return images


class TowerSpy:
    """Records, for every call of a model's vision tower, the pixels of each image it received (one tensor per
    image, split with the grid sizes where the processor flattens patches)."""

    def __init__(self, model, family: str):
        self.family, self.calls = family, []
        tower = model.model.visual if family == "qwen2_5_vl" else model.model.vision_tower
        self.handle = tower.register_forward_pre_hook(self._record, with_kwargs=True)

    def _record(self, module, args, kwargs):
        pixels = args[0] if args else kwargs.get("pixel_values", kwargs.get("hidden_states"))
        if self.family == "qwen2_5_vl":
            grid = kwargs["grid_thw"]
            self.calls.append(list(pixels.split([int(t * h * w) for t, h, w in grid.tolist()])))
        else:
            self.calls.append(list(pixels.unbind(0)))

    def close(self):
        self.handle.remove()


def own_pixels(processor, image, family: str):
    """What the vision tower receives for ``image`` processed alone."""
    template = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "x"}]}]
    text = processor.apply_chat_template(template, tokenize=False, add_generation_prompt=True)
    out = processor(text=[text], images=[[image]], return_tensors="pt")
    return out["pixel_values"] if family == "qwen2_5_vl" else out["pixel_values"][0]


def check_every_sample_saw_its_prompt(spy: TowerSpy, processor, images, family: str, n: int) -> None:
    assert spy.calls, "the vision tower never ran"
    first = spy.calls[0]  # the prefill step: later decoding steps reuse the cache
    assert len(first) == len(images) * n
    expected = [own_pixels(processor, image, family) for image in images]
    for row, got in enumerate(first):
        prompt = row // n
        assert got.shape == expected[prompt].shape and got.allclose(expected[prompt]), (
            f"sample {row % n} of prompt {prompt} did not receive its prompt's image")


@pytest.fixture(scope="module", params=["qwen2_5_vl", "llava"])
def vlm(request, tiny_vlm, tiny_qwen_vlm):
    """(family, model, processor, image size) of each processor layout."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    path, size = (tiny_qwen_vlm, 56) if request.param == "qwen2_5_vl" else (tiny_vlm, 28)
    model = AutoModelForImageTextToText.from_pretrained(path)
    processor = AutoProcessor.from_pretrained(path)
    return request.param, model, processor, size


def test_sampled_evaluation_gives_each_sample_its_prompts_images(vlm, tmp_path):
    family, model, processor, size = vlm
    images = distinct_images(3, size)
    rows = [{"prompt": f"Describe picture {i}.", "solution": "x", "images": [image]} for i, image in enumerate(images)]
    spy = TowerSpy(model, family)
    try:
        summary = run(EvalConfig(n=N, temperature=1.0, max_tokens=3, output_dir=str(tmp_path / "o")),
                      rows=rows, model=model, tokenizer=processor, progress=False)
    finally:
        spy.close()
    assert summary["counts"]["samples"] == 3 * N
    check_every_sample_saw_its_prompt(spy, processor, images, family, N)


def test_the_preflight_gives_each_sample_its_prompts_images_and_rewards_the_images(vlm, tmp_path):
    from types import SimpleNamespace

    from train import recipe as R
    from train.preflight import run_preflight

    family, model, processor, size = vlm
    images = distinct_images(2, size)
    rows = [{"prompt": [{"role": "user", "content": f"Describe picture {i}."}], "solution": "x", "images": [image]}
            for i, image in enumerate(images)]
    seen = {}

    def spy_reward(completions, **kwargs):
        seen.update(kwargs)
        return [float(len(c[0]["content"])) for c in completions]

    recipe = R.from_dict({"model": {"path": "org/model"}, "data": {"train": "t.jsonl"}, "rewards": ["accuracy"],
                          "preflight": {"prompts": 2}}, source="vlm.yaml")
    args = SimpleNamespace(num_generations=N, max_completion_length=3, temperature=1.0, top_p=1.0, top_k=0,
                           reward_weights=[1.0])
    spy = TowerSpy(model, family)
    try:
        report = run_preflight(recipe, model, processor, rows, [spy_reward], args)
    finally:
        spy.close()
    assert report.prompts == 2 and report.generations == N
    chosen = [row["images"][0] for row in rows]  # two rows of two: both, in data order
    check_every_sample_saw_its_prompt(spy, processor, chosen, family, N)
    # the rewards get the columns TRL hands them: images per completion, multimodal prompts, the loggers
    assert [imgs[0] for imgs in seen["images"]] == [im for im in chosen for _ in range(N)]
    assert seen["prompts"][0][0]["content"][0]["type"] == "image"
    assert callable(seen["log_extra"]) and callable(seen["log_metric"]) and "trainer_state" in seen
