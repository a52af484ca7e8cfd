"""Wires a validated recipe into TRL: model, freezing, LoRA, datasets, rewards, SFT stage, GRPO stage, evals.
It must never reimplement what TRL does (losses, generation, advantage maths): it only builds and connects."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from train.recipe import Recipe, RecipeError, resolve_function

log = logging.getLogger("grpo-train")


@dataclass
class RunResult:
    """What a run produced: evalsuite metrics per stage, TRL's log history per stage, timings."""

    output_dir: Path
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> evalsuite metrics
    log_history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # stage -> TRL logs
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    world_size: int = 1  # training processes
    is_main: bool = True  # False on the other ranks of a multi-process run
    model: Any = None
    processing_class: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "output_dir": str(self.output_dir),
            "metrics": self.metrics,
            "log_history": self.log_history,
            "timings": self.timings,
            "world_size": self.world_size,
        }


# ----------------------------------------------------------------------------------------------- data


def _load_rows(path: str, *, limit: int | None, source: str, key: str) -> list[dict]:
    from evalsuite.data import DataError, load_rows

    try:
        rows = load_rows(path, limit=limit)
    except DataError as exc:
        raise RecipeError(source, key, str(exc)) from None
    if not rows:
        raise RecipeError(source, key, f"{path} holds no rows")
    return rows


def _require_column(rows: list[dict], column: str, *, source: str, key: str, path: str) -> None:
    if column not in rows[0]:
        raise RecipeError(
            source, key, f"column {column!r} not found in {path}; columns: {', '.join(sorted(rows[0]))}"
        )


def _prompt_messages(row: dict, recipe: Recipe) -> list[dict]:
    from evalsuite.data import build_messages

    d = recipe.data
    messages = build_messages(
        row, system_prompt=d.system_prompt, prompt_key=d.prompt_key, messages_key=d.messages_key
    )
    return [dict(m) for m in messages]


def _load_images(value: Any, root: str | None) -> list:
    from PIL import Image

    items = value if isinstance(value, list | tuple) else [value]
    images = []
    for item in items:
        if isinstance(item, Image.Image):
            images.append(item.convert("RGB"))
            continue
        if isinstance(item, dict) and item.get("bytes"):  # datasets' Image feature, undecoded
            import io

            images.append(Image.open(io.BytesIO(item["bytes"])).convert("RGB"))
            continue
        if isinstance(item, dict):
            item = item.get("path")
        path = Path(str(item))
        if root and not path.is_absolute():
            path = Path(root) / path
        with Image.open(path) as image:
            images.append(image.convert("RGB"))
    return images


def grpo_rows(recipe: Recipe, path: str, *, limit: int | None, key: str) -> list[dict]:
    """Rows as GRPOTrainer wants them: conversational `prompt`, gold under `solution`, optional `images`,
    every other column kept (TRL hands them to the rewards)."""
    d, source = recipe.data, recipe.source
    rows = _load_rows(path, limit=limit, source=source, key=key)
    first = rows[0]
    if d.prompt_key not in first and d.messages_key not in first:
        raise RecipeError(
            source,
            "data.prompt_key",
            f"neither {d.prompt_key!r} nor {d.messages_key!r} found in {path}; columns: {', '.join(sorted(first))}",
        )
    needs_gold = any(_wants_gold(spec.name) for spec in recipe.rewards)
    if needs_gold:
        _require_column(rows, d.solution_key, source=source, key="data.solution_key", path=path)
    has_images = d.images_key in first
    image_root = d.image_root or str(Path(path).parent)
    out = []
    for row in rows:
        item = {k: v for k, v in row.items() if k not in (d.prompt_key, d.messages_key, d.images_key)}
        messages = _prompt_messages(row, recipe)
        if messages and messages[-1]["role"] == "assistant":
            messages = messages[:-1]  # a worked answer in `messages` is not part of the prompt
        item["prompt"] = messages
        if d.solution_key in row:
            item.pop(d.solution_key, None)
            item["solution"] = "" if row[d.solution_key] is None else str(row[d.solution_key])
        if has_images:
            item["images"] = _load_images(row[d.images_key], image_root) if row[d.images_key] else []
        out.append(item)
    return out


def _wants_gold(name: str) -> bool:
    if ":" in name:
        return False
    import rewards

    return "gold_key" in rewards.parameters(name)


def sft_rows(recipe: Recipe) -> list[dict]:
    """Prompt/completion rows (conversational) for SFTTrainer's completion-only loss."""
    assert recipe.sft is not None
    d, source = recipe.data, recipe.source
    path = recipe.sft.data or d.train
    rows = _load_rows(path, limit=recipe.sft.limit, source=source, key="sft.data")
    first = rows[0]
    out = []
    if "completion" in first:
        for row in rows:
            completion = row["completion"]
            if isinstance(completion, str):
                completion = [{"role": "assistant", "content": completion}]
            out.append({"prompt": _prompt_messages(row, recipe), "completion": completion})
    elif d.messages_key in first:
        for row in rows:
            messages = _prompt_messages(row, recipe)
            if not messages or messages[-1]["role"] != "assistant":
                raise RecipeError(source, "sft.data", f"a {d.messages_key!r} row must end with an assistant turn")
            out.append({"prompt": messages[:-1], "completion": messages[-1:]})
    else:
        raise RecipeError(
            source,
            "sft.data",
            f"{path} needs a 'completion' column (with {d.prompt_key!r}) or a {d.messages_key!r} column "
            f"ending with the assistant's answer; columns: {', '.join(sorted(first))}",
        )
    if d.images_key in first:
        image_root = d.image_root or str(Path(path).parent)
        for item, row in zip(out, rows, strict=True):
            item["images"] = _load_images(row[d.images_key], image_root) if row[d.images_key] else []
    return out


def _dataset(rows: list[dict]):
    from datasets import Dataset

    return Dataset.from_list(rows)


# ----------------------------------------------------------------------------------------------- rewards


def build_rewards(recipe: Recipe) -> list:
    """The reward callables, in recipe order (weights travel in GRPOConfig.reward_weights)."""
    import rewards

    funcs, seen = [], {}
    for i, spec in enumerate(recipe.rewards):
        try:
            if ":" in spec.name:
                fn = resolve_function(spec.name)
                first = next(iter(inspect.signature(fn).parameters), None)
                if first != "completions":
                    fn = fn(**spec.params)  # a factory
                elif spec.params:
                    fn = functools.partial(fn, **spec.params)
            else:
                fn = rewards.get(spec.name, **spec.params)
        except (ValueError, TypeError, ImportError, AttributeError) as exc:
            raise RecipeError(recipe.source, f"rewards.{i}", str(exc)) from None
        name = _callable_name(fn)
        if name in seen:  # TRL logs rewards/<__name__>; keep two configurations of one reward apart
            seen[name] += 1
            fn = _Renamed(fn, f"{name}_{seen[name]}")
        else:
            seen[name] = 1
        funcs.append(fn)
    return funcs


def _callable_name(fn) -> str:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, "__name__", type(fn).__name__)


class _Renamed:
    """A reward under another name (picklable), so logs keep duplicates apart."""

    def __init__(self, fn, name: str):
        self.fn, self.__name__ = fn, name

    def __call__(self, completions, **kwargs):
        return self.fn(completions, **kwargs)


# ----------------------------------------------------------------------------------------------- model


_DTYPES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
           "float16": "float16", "fp16": "float16"}


def load_model(recipe: Recipe):
    """(model, processing_class, is_vlm) for the recipe's model section, with freezing applied."""
    import torch
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        AutoModelForImageTextToText,
        AutoProcessor,
        AutoTokenizer,
    )

    m = recipe.model
    config = AutoConfig.from_pretrained(m.path, trust_remote_code=m.trust_remote_code)
    is_vlm = getattr(config, "vision_config", None) is not None
    if m.dtype == "auto":
        dtype = "auto" if torch.cuda.is_available() else torch.float32
    elif m.dtype in _DTYPES:
        dtype = getattr(torch, _DTYPES[m.dtype])
    else:
        raise RecipeError(recipe.source, "model.dtype", f"unknown dtype {m.dtype!r}; use auto, float32, bfloat16 or float16")
    kwargs: dict[str, Any] = {"dtype": dtype, "trust_remote_code": m.trust_remote_code}
    if m.attn_implementation:
        kwargs["attn_implementation"] = m.attn_implementation
    cls = AutoModelForImageTextToText if is_vlm else AutoModelForCausalLM
    model = cls.from_pretrained(m.path, **kwargs)
    if is_vlm:
        processing_class = AutoProcessor.from_pretrained(m.path, trust_remote_code=m.trust_remote_code)
        processing_class.tokenizer.padding_side = "left"
    else:
        processing_class = AutoTokenizer.from_pretrained(m.path, trust_remote_code=m.trust_remote_code)
        processing_class.padding_side = "left"
    freeze(model, recipe)
    return model, processing_class, is_vlm


def _vision_tower(model):
    for path in ("model.visual", "visual", "model.vision_tower", "vision_tower", "model.vision_model", "vision_model"):
        obj = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            return obj
    return None


def _decoder_layers(model):
    for path in ("model.language_model.layers", "model.layers", "language_model.model.layers", "language_model.layers"):
        obj = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            return obj
    return None


def freeze(model, recipe: Recipe) -> dict[str, int]:
    """Apply the model section's freeze switches; returns how many parameters each switch froze."""
    m, source = recipe.model, recipe.source
    frozen: dict[str, int] = {}

    def _off(module, what):
        n = 0
        for p in module.parameters():
            if p.requires_grad:
                p.requires_grad_(False)
                n += p.numel()
        frozen[what] = n

    if m.freeze_vision_tower or m.freeze_merger:
        tower = _vision_tower(model)
        if tower is None:
            key = "model.freeze_vision_tower" if m.freeze_vision_tower else "model.freeze_merger"
            raise RecipeError(source, key, f"{type(model).__name__} has no vision tower")
        merger = getattr(tower, "merger", None) or getattr(model, "multi_modal_projector", None) or getattr(
            getattr(model, "model", None), "multi_modal_projector", None
        )
        if m.freeze_vision_tower:
            for name, child in tower.named_children():
                if child is not merger:
                    _off(child, f"vision_tower.{name}")
            frozen = {"vision_tower": sum(frozen.values())}
        if m.freeze_merger:
            if merger is None:
                raise RecipeError(source, "model.freeze_merger", f"{type(model).__name__} has no merger/projector")
            _off(merger, "merger")
    if m.freeze_layers:
        layers = _decoder_layers(model)
        if layers is None or m.freeze_layers > len(layers):
            have = 0 if layers is None else len(layers)
            raise RecipeError(source, "model.freeze_layers", f"the model has {have} decoder layers")
        n = 0
        for layer in list(layers)[: m.freeze_layers]:
            for p in layer.parameters():
                p.requires_grad_(False)
                n += p.numel()
        frozen["layers"] = n
    return frozen


def lora_config(recipe: Recipe):
    if recipe.lora is None:
        return None
    from peft import LoraConfig

    try:
        return LoraConfig(**recipe.lora)
    except (ValueError, TypeError) as exc:
        raise RecipeError(recipe.source, "lora", str(exc)) from None


# ----------------------------------------------------------------------------------------------- eval


class Evaluator:
    """Scores the model on the recipe's validation set with evalsuite (main process only)."""

    def __init__(self, recipe: Recipe, processing_class, progress: bool = False):
        assert recipe.eval is not None
        self.recipe, self.processing_class, self.progress = recipe, processing_class, progress
        rows = _load_rows(recipe.eval.data, limit=recipe.eval.config.get("limit"), source=recipe.source,
                          key="eval.data")
        self.rows = _with_image_paths(rows, recipe, recipe.eval.data)

    def config(self, tag: str):
        """The evalsuite EvalConfig for one evaluation (fresh output folder per tag, never resumed)."""
        from evalsuite.config import make_config
        from evalsuite.errors import EvalError

        d, e = self.recipe.data, self.recipe.eval
        names, params = _eval_rewards(self.recipe)
        values = {
            "data": e.data,
            "system_prompt": d.system_prompt,
            "prompt_key": d.prompt_key,
            "messages_key": d.messages_key,
            "solution_key": d.solution_key,
            "rewards": names,
            "reward_params": params,
            "seed": self.recipe.seed,
            **e.config,
            "output_dir": str(Path(self.recipe.output_dir) / "eval" / tag),
            "overwrite": True,
        }
        if isinstance(e.config.get("rewards"), dict | list | tuple | str) and "reward_params" not in e.config:
            values["reward_params"] = {}
        try:
            return make_config(None, values)
        except EvalError as exc:
            raise RecipeError(self.recipe.source, "eval", str(exc)) from None

    def __call__(self, model, tag: str) -> dict[str, Any]:
        from evalsuite.runner import run

        config = self.config(tag)
        was_training = model.training
        model.eval()
        try:
            result = run(config, rows=self.rows, model=model, tokenizer=self.processing_class, progress=self.progress)
        finally:
            model.train(was_training)
        return result["metrics"]


def _with_image_paths(rows: list[dict], recipe: Recipe, path: str) -> list[dict]:
    """Rows whose images evalsuite can open: relative paths resolved as training resolves them (against
    data.image_root or the data file's folder), under the `images` column evalsuite reads."""
    key = recipe.data.images_key
    if not rows or key not in rows[0]:
        return rows
    root = Path(recipe.data.image_root or Path(path).parent)
    out = []
    for row in rows:
        value = row.get(key)
        items = value if isinstance(value, list | tuple) else ([] if value is None else [value])
        resolved = [str(root / item) if isinstance(item, str) and not Path(item).is_absolute() else item
                    for item in items]
        row = {k: v for k, v in row.items() if k != key}
        row["images"] = resolved or None
        out.append(row)
    return out


def _eval_rewards(recipe: Recipe) -> tuple[list[str], dict[str, dict]]:
    """Training rewards evalsuite can rebuild by name (registry names; the first configuration of each)."""
    names, params = [], {}
    for spec in recipe.rewards:
        if ":" in spec.name or spec.name in params:
            continue
        names.append(spec.name)
        params[spec.name] = dict(spec.params)
    return names or ["accuracy", "format"], {k: v for k, v in params.items() if v}


def _eval_callback(evaluator: Evaluator, every: int, sink: dict[str, Any], stage: str):
    from transformers import TrainerCallback

    class EvalEveryNSteps(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step % every or not state.is_world_process_zero:
                return
            metrics = evaluator(model, f"{stage}-step{state.global_step}")
            sink[f"{stage}-step{state.global_step}"] = metrics
            state.log_history.append(
                {"step": state.global_step, **{f"eval/{k}": v for k, v in metrics.items()
                                               if isinstance(v, int | float)}}
            )

    return EvalEveryNSteps()


_COMPACT_KEYS = ("loss", "mean_token_accuracy", "reward", "rewards/accuracy/mean", "rewards/format/mean",
                 "step_time")


def _compact_log(stage: str):
    """A callback printing one line per logged step instead of TRL's dict dumps (used by the demo)."""
    from transformers import TrainerCallback

    class CompactLog(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs or "train_runtime" in logs:
                return
            parts = [f"{k.split('/')[1] if k.startswith('rewards/') else k}={logs[k]:.3g}"
                     for k in _COMPACT_KEYS if isinstance(logs.get(k), int | float)]
            print(f"  {stage} step {state.global_step}/{state.max_steps}: {' '.join(parts)}", flush=True)

    return CompactLog()


def _quiet(trainer, stage: str) -> None:
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(_compact_log(stage))


# ----------------------------------------------------------------------------------------------- stages


def _is_main() -> bool:
    """Rank 0 of a torchrun/accelerate/deepspeed launch (they all set RANK), or a single process.
    Read from the environment: creating accelerate's state here, before TRL's config does, would pin it."""
    import os

    return int(os.environ.get("RANK", "0")) == 0


def run_sft(recipe: Recipe, model, processing_class, callbacks=(), *, compact: bool = False):
    """The warm-up stage: TRL's SFTTrainer with completion-only loss. Returns (model, log_history)."""
    from trl import SFTTrainer

    from train.recipe import sft_config

    args = sft_config(recipe)
    dataset = _dataset(sft_rows(recipe))
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=processing_class,
        peft_config=lora_config(recipe),
        callbacks=list(callbacks),
    )
    if compact:
        _quiet(trainer, "sft")
    trainer.train()
    model = trainer.model
    if recipe.lora is not None:  # GRPO starts from the merged SFT weights with a fresh adapter
        model = model.merge_and_unload()
    return model, list(trainer.state.log_history)


def run_grpo(recipe: Recipe, model, processing_class, callbacks=(), *, compact: bool = False):
    """The GRPO stage: TRL's GRPOTrainer with registry rewards. Returns (trainer, log_history)."""
    from trl import GRPOTrainer

    from train.recipe import grpo_config

    args = grpo_config(recipe)
    dataset = _dataset(grpo_rows(recipe, recipe.data.train, limit=recipe.data.limit, key="data.train"))
    eval_dataset = None
    if recipe.data.eval and args.eval_strategy != "no":
        eval_dataset = _dataset(grpo_rows(recipe, recipe.data.eval, limit=None, key="data.eval"))
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=build_rewards(recipe),
        args=args,
        train_dataset=dataset,
        eval_dataset=eval_dataset,
        processing_class=processing_class,
        peft_config=lora_config(recipe),
        callbacks=list(callbacks),
    )
    if compact:
        _quiet(trainer, "grpo")
    trainer.train()
    return trainer, list(trainer.state.log_history)


def check_data(recipe: Recipe) -> dict[str, int]:
    """Read every data file the recipe names and check its columns, without loading the model."""
    counts = {"data.train": len(grpo_rows(recipe, recipe.data.train, limit=recipe.data.limit, key="data.train"))}
    if recipe.sft is not None:
        counts["sft.data"] = len(sft_rows(recipe))
    if recipe.eval is not None:
        counts["eval.data"] = len(_load_rows(recipe.eval.data, limit=recipe.eval.config.get("limit"),
                                             source=recipe.source, key="eval.data"))
    return counts


def run(recipe: Recipe, *, progress: bool = True, save: bool = True, compact: bool = False) -> RunResult:
    """Run the recipe: [eval before] -> [SFT -> eval] -> GRPO -> eval; writes OUTPUT_DIR/summary.json,
    OUTPUT_DIR/rewards.png and (with ``save``) the final model under OUTPUT_DIR/final.

    ``progress`` shows evalsuite's progress bars; ``compact`` prints one line per logged training step
    instead of TRL's progress bar and log dicts."""
    from transformers import set_seed

    out = Path(recipe.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = RunResult(output_dir=out)
    set_seed(recipe.seed)
    if compact:
        import datasets

        datasets.disable_progress_bars()
    check_data(recipe)  # fail on data problems before any model is loaded

    start = time.perf_counter()
    model, processing_class, _ = load_model(recipe)
    result.timings["load"] = time.perf_counter() - start

    evaluator = Evaluator(recipe, processing_class, progress=progress) if recipe.eval is not None else None
    main = _is_main()

    def _evaluate(stage: str):
        if evaluator is None or not main:
            return
        t = time.perf_counter()
        result.metrics[stage] = evaluator(model, stage)
        result.timings[f"eval_{stage}"] = time.perf_counter() - t
        log.info("eval %s: %s", stage, _short(result.metrics[stage]))
        if compact:
            print(f"  eval {stage}: {_short(result.metrics[stage])}", flush=True)

    if recipe.eval is not None and recipe.eval.before:
        _evaluate("before")

    def _callbacks(stage):
        if evaluator is None or not recipe.eval.every_n_steps:
            return []
        return [_eval_callback(evaluator, recipe.eval.every_n_steps, result.metrics, stage)]

    if recipe.sft is not None:
        t = time.perf_counter()
        model, result.log_history["sft"] = run_sft(recipe, model, processing_class, _callbacks("sft"),
                                                        compact=compact)
        result.timings["sft"] = time.perf_counter() - t
        _evaluate("after_sft")

    t = time.perf_counter()
    trainer, result.log_history["grpo"] = run_grpo(recipe, model, processing_class, _callbacks("grpo"),
                                                             compact=compact)
    result.timings["grpo"] = time.perf_counter() - t
    result.world_size = trainer.accelerator.num_processes
    model = trainer.model
    _evaluate("after")

    if save:
        trainer.save_model(str(out / "final"))
        if main:
            processing_class.save_pretrained(str(out / "final"))
    result.model, result.processing_class, result.is_main = model, processing_class, main
    if main:
        (out / "summary.json").write_text(json.dumps(result.to_dict(), indent=2, default=str))
        plot_rewards(result.log_history.get("grpo", []), out / "rewards.png")
    return result


def _short(metrics: dict[str, Any]) -> str:
    keys = ("accuracy", "format_rate", "mean_length")
    return ", ".join(f"{k}={metrics[k]:.3f}" for k in keys if isinstance(metrics.get(k), int | float))


def reward_curves(log_history: list[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    """`rewards/<name>/mean` (and the total `reward`) per logged step."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for entry in log_history:
        step = entry.get("step")
        for key, value in entry.items():
            if step is None or not isinstance(value, int | float):
                continue
            if key == "reward" or (key.startswith("rewards/") and key.endswith("/mean")):
                name = "total (weighted)" if key == "reward" else key[len("rewards/"):-len("/mean")]
                curves.setdefault(name, []).append((step, float(value)))
    return curves


def plot_rewards(log_history: list[dict[str, Any]], path: str | Path) -> Path | None:
    """Per-reward training curves (matplotlib, Agg backend) written to ``path``; None when nothing was logged."""
    curves = reward_curves(log_history)
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, points in curves.items():
        steps, values = zip(*points, strict=True)
        style = "--" if name.startswith("total") else "-"
        ax.plot(steps, values, style, label=name)
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("mean reward per batch")
    ax.set_title("GRPO training rewards")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
