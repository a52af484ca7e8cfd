"""Runs a validated recipe's stages in order, each once: [eval before] -> [SFT -> eval] -> preflight -> GRPO -> eval.
It must never reimplement what TRL does (losses, generation, advantage maths): it only builds and connects."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from train import modeling
from train.callbacks import quiet, watchdog
from train.data import dataset, grpo_rows, sft_rows
from train.errors import Problems, RecipeError, RunStopped
from train.evaluation import Evaluator, is_main, periodic_eval, wait_for_main
from train.plots import plot_rewards
from train.recipe import Recipe, grpo_config, sft_config
from train.reward_funcs import SummedCounts, build_rewards
from train.run_dir import RunFolder

log = logging.getLogger("grpo-train")


@dataclass
class RunResult:
    """What a run produced: evalsuite metrics per stage, TRL's log history per stage, timings."""

    output_dir: Path
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> evalsuite metrics
    log_history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # stage -> TRL logs
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    skipped: list[str] = field(default_factory=list)  # stages finished by an earlier (resumed) run
    preflight: dict[str, Any] | None = None
    final_model: str | None = None  # OUTPUT_DIR/final
    world_size: int = 1  # training processes
    is_main: bool = True  # False on the other ranks of a multi-process run
    model: Any = None
    processing_class: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "output_dir": str(self.output_dir),
            "final_model": self.final_model,
            "metrics": self.metrics,
            "log_history": self.log_history,
            "timings": self.timings,
            "skipped": self.skipped,
            "preflight": self.preflight,
            "world_size": self.world_size,
        }


# ----------------------------------------------------------------------------------------------- checks


def check(recipe: Recipe) -> dict[str, int]:
    """Everything that can be checked before a model loads: the model path, every data file and the columns
    the rewards read, TRL's own config checks, LoRA settings, evalsuite's settings, checkpoints to resume
    from. Returns the row count of each data file."""
    return _check(recipe)[0]


def _check(recipe: Recipe) -> tuple[dict[str, int], list[dict]]:
    """:func:`check`'s counts, and the training rows it read. Every check runs, and every problem is
    reported at once (a RecipeErrors of one line each)."""
    problems = Problems()
    warning = modeling.precision_warning(recipe)
    if warning:
        log.warning(warning)
    counts: dict[str, int] = {}
    rows: list[dict] = []
    with problems.step():
        modeling.check_model_path(recipe)
        modeling.check_processor(recipe)
        with problems.step():
            modeling.check_lora_targets(recipe)
    with problems.step():
        rows = grpo_rows(recipe, recipe.data.train, limit=recipe.data.limit, key="data.train")
        counts["data.train"] = len(rows)
    with problems.step():
        args = grpo_config(recipe)
        _check_resume_path(recipe, args.resume_from_checkpoint, "grpo.resume_from_checkpoint")
    with problems.step():
        modeling.lora_config(recipe)
    with problems.step():
        build_rewards(recipe)
    if recipe.sft is not None:
        with problems.step():
            _check_resume_path(recipe, sft_config(recipe).resume_from_checkpoint, "sft.resume_from_checkpoint")
        with problems.step():
            counts["sft.data"] = len(sft_rows(recipe))
    if recipe.eval is not None:
        with problems.step():
            counts["eval.data"] = len(Evaluator(recipe).rows)
    problems.raise_if_any()
    return counts, rows


def _check_resume_path(recipe: Recipe, path: str | None, key: str) -> None:
    if path and not (Path(path) / "trainer_state.json").is_file():
        raise RecipeError(recipe.source, key, f"{path} is not a TRL checkpoint folder (no trainer_state.json)")


def parameter_table(recipe: Recipe) -> list[str]:
    """Trainable parameter counts per module group, from the model built on the meta device."""
    try:
        model = modeling.empty_model(recipe)
    except OSError as exc:  # a hub id that cannot be reached from here
        return [f"(no trainable counts: cannot read the config of {recipe.model.path}: {str(exc).splitlines()[0]})"]
    rows = modeling.trainable_groups(model)
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{name:<{width}}  {trainable:>12,} / {total:>12,} trainable" for name, trainable, total in rows]
    trainable, total = sum(r[1] for r in rows), sum(r[2] for r in rows)
    lines.append(f"{'total':<{width}}  {trainable:>12,} / {total:>12,} trainable ({100 * trainable / total:.1f}%)")
    if recipe.lora is not None:
        lines.append(f"(with lora: only the adapters on {recipe.lora.config.get('target_modules')} train)")
    return lines


# ----------------------------------------------------------------------------------------------- stages


def _train(trainer, checkpoint: str | Path | None, stage: str) -> None:
    if checkpoint:
        log.info("%s: resuming from %s", stage, checkpoint)
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)


def run_sft(recipe: Recipe, model, processing_class, *, checkpoint=None, callbacks=(), compact: bool = False):
    """The warm-up stage: TRL's SFTTrainer (completion-only loss). Returns (model, log_history); with LoRA
    the adapter is merged, so GRPO starts from the SFT weights with a fresh adapter."""
    from trl import SFTTrainer

    args = sft_config(recipe)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset(sft_rows(recipe)),
        processing_class=processing_class,
        peft_config=modeling.lora_config(recipe, recipe.model.path),
        callbacks=list(callbacks),
    )
    if compact:
        quiet(trainer, "sft")
    _train(trainer, checkpoint or args.resume_from_checkpoint, "sft")
    return modeling.merged(trainer.model), list(trainer.state.log_history)


def run_grpo(recipe: Recipe, model, processing_class, rows: list[dict], *, base: str, checkpoint=None,
             callbacks=(), compact: bool = False):
    """The GRPO stage: TRL's GRPOTrainer with the recipe's rewards. Returns (trainer, log_history)."""
    from trl import GRPOTrainer

    args = grpo_config(recipe)
    eval_dataset = None
    if recipe.data.eval and args.eval_strategy != "no":
        eval_dataset = dataset(grpo_rows(recipe, recipe.data.eval, limit=None, key="data.eval"))
    guard = watchdog(recipe.watchdog) if recipe.watchdog.enabled else None
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[SummedCounts(fn, args.world_size) for fn in build_rewards(recipe)],
        args=args,
        train_dataset=dataset(rows),
        eval_dataset=eval_dataset,
        processing_class=processing_class,
        peft_config=modeling.lora_config(recipe, base),
        callbacks=[*callbacks, *([guard] if guard else [])],
    )
    if compact:
        quiet(trainer, "grpo")
    _train(trainer, checkpoint or args.resume_from_checkpoint, "grpo")
    if guard is not None and guard.stopped:
        raise RunStopped(
            f"grpo-train: the watchdog stopped GRPO at {guard.stopped}; a checkpoint is in "
            f"{args.output_dir}. Fix the recipe and continue with --resume --allow-changes, or set "
            "watchdog.stop: false (or a larger watchdog.patience) to train on"
        )
    return trainer, list(trainer.state.log_history)


def _save_final(recipe: Recipe, trainer, processing_class, folder: RunFolder, main: bool):
    """``OUTPUT_DIR/final``: the merged model (``lora.save: merged``, the default, and full fine-tuning), or
    the adapter alone (``lora.save: adapter``). Returns the model as saved, the one evaluated after."""
    model = trainer.model
    if recipe.lora is not None and recipe.lora.save == "merged":
        model = modeling.merged(model)
        if main:
            modeling.save(model, processing_class, folder.final)
    else:
        trainer.save_model(str(folder.final))  # all ranks (DeepSpeed gathers); rank 0 writes, with the tokenizer
    wait_for_main()
    return model


def _load_final(recipe: Recipe, folder: RunFolder, base: str):
    """The saved final model (a resumed run whose GRPO stage finished before the interruption)."""
    if recipe.lora is not None and recipe.lora.save == "adapter":
        from peft import PeftModel

        model, processing_class, _ = modeling.load_model(recipe, base)
        return PeftModel.from_pretrained(model, str(folder.final)), processing_class
    model, processing_class, _ = modeling.load_model(recipe, folder.final)
    return model, processing_class


def preflight(recipe: Recipe, *, model=None, processing_class=None, rows=None):
    """Run the preflight alone (``grpo-train RECIPE --preflight``) or inside a run; returns its report.
    Alone, it samples from the model GRPO would start from: the SFT result when the run folder has one."""
    from train.preflight import run_preflight

    if rows is None:
        rows = grpo_rows(recipe, recipe.data.train, limit=recipe.data.limit, key="data.train")
    if model is None:
        folder = RunFolder(recipe)
        start = folder.sft_model if recipe.sft is not None and "sft" in folder.stages() else None
        if recipe.sft is not None and start is None:
            log.warning("preflight: the SFT stage has not run yet; sampling from the starting model")
        model, processing_class, _ = modeling.load_model(recipe, start)
    return run_preflight(recipe, model, processing_class, rows, build_rewards(recipe), grpo_config(recipe))


def run(recipe: Recipe, *, progress: bool = True, compact: bool = False, resume: bool = False,
        overwrite: bool = False, allow_changes: bool = False, skip_preflight_stop: bool = False) -> RunResult:
    """Run the recipe: [eval before] -> [SFT -> eval after_sft] -> preflight -> GRPO -> eval after; writes
    OUTPUT_DIR/final (the trained model), summary.json and rewards.png.

    With ``resume``, stages an earlier run of this folder finished are skipped (their results read back)
    and an unfinished stage continues from its last checkpoint. ``progress`` shows evalsuite's progress
    bars; ``compact`` prints one line per logged training step instead of TRL's progress bar and log dicts.
    """
    from transformers import set_seed

    main = is_main()
    _, rows = _check(recipe)  # every recipe and data problem is reported before any model loads (or folder is written)
    folder = RunFolder(recipe).prepare(resume=resume, overwrite=overwrite, allow_changes=allow_changes, main=main)
    if folder.reopened:
        log.info("%s", folder.reopened)
    result = RunResult(output_dir=folder.path, is_main=main)
    set_seed(recipe.seed)
    if compact:
        import datasets
        from transformers.utils import logging as hf_logging

        datasets.disable_progress_bars()
        hf_logging.disable_progress_bar()  # weight loading and saving bars; the live line says where training is
    args = grpo_config(recipe)
    result.world_size = args.world_size  # also sets up the process group of a multi-process launch
    evaluator = Evaluator(recipe, progress=progress) if recipe.eval is not None else None
    for tag, metrics in folder.periodic_metrics().items():
        result.metrics[tag] = metrics

    stages = stage_names(recipe)
    records = {stage: folder.done(stage) for stage in stages}
    for stage, record in records.items():
        if record is not None:
            result.skipped.append(stage)
            _restore(result, stage, record)
    grpo_base = str(folder.sft_model) if recipe.sft is not None else recipe.model.path

    model = processing_class = None
    if records["grpo"] is None:
        start = folder.sft_model if records.get("sft") is not None else None
        t = time.perf_counter()
        model, processing_class, _ = modeling.load_model(recipe, start)
        result.timings["load"] = time.perf_counter() - t

    def evaluate(stage: str) -> None:
        if stage not in records or records[stage] is not None:
            return
        record = {}
        if main:
            t = time.perf_counter()
            metrics = evaluator(model, processing_class, stage.removeprefix("eval_"))
            record = {"metrics": metrics, "seconds": time.perf_counter() - t}
            _restore(result, stage, record)
            log.info("eval %s: %s", stage.removeprefix("eval_"), _short(metrics))
            if compact:
                print(f"  eval {stage.removeprefix('eval_')}: {_short(metrics)}", flush=True)
        folder.finish(stage, record, main=main)
        wait_for_main()

    def callbacks(stage: str) -> list:
        if evaluator is None or not recipe.eval.every_n_steps:
            return []
        return [periodic_eval(evaluator, processing_class, recipe.eval.every_n_steps, result.metrics, stage)]

    evaluate("eval_before")
    if recipe.sft is not None and records["sft"] is None:
        t = time.perf_counter()
        model, log_history = run_sft(recipe, model, processing_class, checkpoint=folder.last_checkpoint("sft"),
                                     callbacks=callbacks("sft"), compact=compact)
        if main:
            modeling.save(model, processing_class, folder.sft_model)
        modeling.point_at(model, folder.sft_model)  # GRPO's adapter and the saved SFT model name one base
        record = {"log_history": log_history, "seconds": time.perf_counter() - t}
        _restore(result, "sft", record)
        folder.finish("sft", record, main=main)
        wait_for_main()
    evaluate("eval_after_sft")

    if records["grpo"] is None:
        checkpoint = folder.last_checkpoint("grpo") or args.resume_from_checkpoint
        if recipe.preflight.enabled and checkpoint is None:
            report = preflight(recipe, model=model, processing_class=processing_class, rows=rows)
            result.preflight = {**vars(report)}
            if main:
                print("\n".join(report.lines()), flush=True)
            if report.problems and recipe.preflight.stop and not skip_preflight_stop:
                raise RunStopped("grpo-train: the preflight stopped the run before GRPO: "
                                 + "; ".join(report.problems)
                                 + ". Fix the recipe, or rerun with --ignore-preflight (preflight.stop: false) "
                                 "to train anyway")
        t = time.perf_counter()
        trainer, log_history = run_grpo(recipe, model, processing_class, rows, base=grpo_base,
                                        checkpoint=checkpoint, callbacks=callbacks("grpo"), compact=compact)
        model = _save_final(recipe, trainer, processing_class, folder, main)
        record = {"log_history": log_history, "seconds": time.perf_counter() - t}
        _restore(result, "grpo", record)
        folder.finish("grpo", record, main=main)
    elif records.get("eval_after", {}) is None:
        model, processing_class = _load_final(recipe, folder, grpo_base)
    evaluate("eval_after")

    result.final_model = str(folder.final)
    result.model, result.processing_class = model, processing_class
    if main:
        (folder.path / "summary.json").write_text(json.dumps(result.to_dict(), indent=2, default=str))
        plot_rewards(result.log_history.get("grpo", []), folder.path / "rewards.png")
    return result


def summary_lines(result: RunResult) -> list[str]:
    """What a finished run prints (``--verbose`` prints summary.json's figures as JSON instead)."""
    lines = [f"grpo-train: done in {sum(result.timings.values()):.0f} s; the trained model is {result.final_model}"]
    for stage, metrics in result.metrics.items():
        lines.append(f"  eval {stage}: {_short(metrics)}")
    if result.skipped:
        lines.append(f"  finished by an earlier run: {', '.join(result.skipped)}")
    lines.append(f"  figures: {result.output_dir / 'summary.json'}, curves: {result.output_dir / 'rewards.png'}")
    return lines


def stage_names(recipe: Recipe) -> list[str]:
    """The stages a run of ``recipe`` goes through, in order (``stages.json`` records them as they finish)."""
    evals = recipe.eval is not None
    stages = ["eval_before"] * (evals and recipe.eval.before)
    stages += ["sft", *["eval_after_sft"] * evals] if recipe.sft is not None else []
    return stages + ["grpo", *["eval_after"] * evals]


def _restore(result: RunResult, stage: str, record: dict[str, Any]) -> None:
    """A stage's record into the result: eval metrics, training logs, seconds."""
    name = stage.removeprefix("eval_")
    if "metrics" in record:
        result.metrics[name] = record["metrics"]
    if "log_history" in record:
        result.log_history[stage] = record["log_history"]
    if "seconds" in record:
        result.timings[f"eval_{name}" if stage.startswith("eval_") else stage] = record["seconds"]


def _short(metrics: dict[str, Any]) -> str:
    keys = ("accuracy", "format_rate", "mean_length")
    return ", ".join(f"{k}={metrics[k]:.3f}" for k in keys if isinstance(metrics.get(k), int | float))

