"""The preflight: sample completions for a few training prompts as GRPO will, score them, say if GRPO can learn.
It must never train or change the model; it stops a run only for a reason it names, with how to go on anyway."""

from __future__ import annotations

import math
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from train.recipe import Recipe
from train.reward_funcs import reward_name

_NOT_COLUMNS = ("prompt", "completion", "completion_ids")  # the columns GRPOTrainer keeps from the rewards


@dataclass
class PreflightReport:
    """What the sampled completions showed, and the reasons (if any) to stop before training."""

    prompts: int
    generations: int
    max_completion_length: int
    temperature: float
    truncation_rate: float
    format_rate: float | None
    lengths: dict[str, float]  # mean, min, max (tokens)
    rewards: dict[str, dict[str, float | None]]  # name -> mean, group_std, none_rate
    flat_groups: float  # share of prompt groups whose weighted total reward does not vary
    seconds: float
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as printed: one line per figure."""
        out = [f"preflight: {self.prompts} training prompts x {self.generations} completions "
               f"(temperature {self.temperature:g}, max_completion_length {self.max_completion_length}) "
               f"in {self.seconds:.1f} s",
               f"  truncated {100 * self.truncation_rate:.1f}%"
               + (f", format {100 * self.format_rate:.1f}%" if self.format_rate is not None else "")
               + f", length mean {self.lengths['mean']:.1f} min {self.lengths['min']:.0f} "
               f"max {self.lengths['max']:.0f} tokens"]
        for name, figures in self.rewards.items():
            mean, std, none = figures["mean"], figures["group_std"], figures["none_rate"]
            out.append(f"  reward {name:<16} mean {_num(mean)}  within-group std {_num(std)}  None {100 * none:.0f}%")
        out.append(f"  prompt groups whose total reward does not vary: {100 * self.flat_groups:.0f}%")
        out += [f"preflight: {problem}" for problem in self.problems]
        return out


def _num(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def sample_rows(rows: list[dict], count: int, seed: int) -> list[dict]:
    """``count`` training rows drawn with the recipe's seed (all of them when there are fewer)."""
    if len(rows) <= count:
        return list(rows)
    return random.Random(seed).sample(rows, count)


def run_preflight(recipe: Recipe, model, processing_class, rows: list[dict], reward_funcs: list, args) -> PreflightReport:
    """Generate ``num_generations`` completions for a sample of ``rows`` with GRPO's sampling settings
    (``args``: the run's GRPOConfig) and score them with the run's reward functions as TRL calls them.
    The global torch RNG is restored afterwards, so a run with the preflight trains as one without."""
    import torch

    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        return _preflight(recipe, model, processing_class, rows, reward_funcs, args)


def _preflight(recipe: Recipe, model, processing_class, rows: list[dict], reward_funcs: list, args) -> PreflightReport:
    from evalsuite.backends import Prompt, Sampling
    from evalsuite.backends.transformers import TransformersBackend

    started = time.perf_counter()
    sample = sample_rows(rows, recipe.preflight.prompts, recipe.seed)
    generations, max_len = args.num_generations, args.max_completion_length
    sampling = Sampling(n=generations, temperature=args.temperature, top_p=args.top_p,
                        top_k=args.top_k or None, max_tokens=max_len, seed=recipe.seed)
    backend = TransformersBackend.create(None, model=model, tokenizer=processing_class)
    prompts = [Prompt(row["prompt"], row.get("images") or None, i) for i, row in enumerate(sample)]
    outputs = backend.generate(prompts, sampling)
    completions = [c for group in outputs for c in group]
    scores, problems = score(sample, outputs, reward_funcs, args.reward_weights)
    lengths = [len(c.token_ids) for c in completions]
    report = PreflightReport(
        prompts=len(sample),
        generations=generations,
        max_completion_length=max_len,
        temperature=args.temperature,
        truncation_rate=sum(c.truncated for c in completions) / len(completions),
        format_rate=_format_rate(recipe, [c.text for c in completions]),
        lengths={"mean": statistics.fmean(lengths), "min": min(lengths), "max": max(lengths)},
        rewards={name: _figures(values, generations) for name, values in scores.items()},
        flat_groups=_flat_groups(scores, args.reward_weights, generations),
        seconds=time.perf_counter() - started,
        problems=problems,
    )
    report.problems += stop_reasons(report, recipe)
    return report


def score(sample: list[dict], outputs: list[list], reward_funcs: list, weights) -> tuple[dict[str, list], list[str]]:
    """``{reward name: one value per completion}`` (None kept), calling each reward as GRPOTrainer does:
    conversational completions, ``prompts`` (with the images placed in them, for a VLM), ``completion_ids``,
    every dataset column (``images`` included), ``trainer_state`` and the ``log_extra``/``log_metric`` hooks
    (which the preflight drops) as keywords. A reward that raises is reported as a problem (the first
    training step would raise the same)."""
    n = len(outputs[0]) if outputs else 0
    kwargs: dict[str, Any] = {"prompts": [_prompt(row) for row in sample for _ in range(n)],
                              "completion_ids": [list(c.token_ids) for group in outputs for c in group],
                              "trainer_state": None, "log_extra": _ignore, "log_metric": _ignore}
    for column in sample[0]:
        if column not in _NOT_COLUMNS:
            kwargs[column] = [row.get(column) for row in sample for _ in range(n)]
    completions = [[{"role": "assistant", "content": c.text}] for group in outputs for c in group]
    scores, problems = {}, []
    for fn in reward_funcs:
        name = reward_name(fn)
        try:
            values = list(fn(completions, **kwargs))
        except Exception as exc:  # a user's reward may raise anything; the report names it
            problems.append(f"reward {name} raised {type(exc).__name__}: {exc}")
            values = [None] * len(completions)
        scores[name] = values
    return scores, problems


def _prompt(row: dict) -> list[dict]:
    """The prompt a reward sees in training: with the row's images placed in it, as TRL does for a VLM."""
    if not row.get("images"):
        return row["prompt"]
    from trl.data_utils import prepare_multimodal_messages

    return prepare_multimodal_messages(row["prompt"], images=row["images"])


def _ignore(*args, **kwargs) -> None:
    return None


def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]


def _figures(values: list, n: int) -> dict[str, float | None]:
    present = _finite(values)
    groups = [_finite(values[i : i + n]) for i in range(0, len(values), n)]
    stds = [statistics.pstdev(g) for g in groups if len(g) > 1]
    return {"mean": statistics.fmean(present) if present else None,
            "group_std": statistics.fmean(stds) if stds else None,
            "none_rate": 1 - len(present) / len(values) if values else 1.0}


def _flat_groups(scores: dict[str, list], weights, n: int) -> float:
    """Share of prompt groups whose weighted total reward (None counted as missing, as TRL's nansum does)
    is the same for every completion: their advantages are all zero."""
    names = list(scores)
    count = len(next(iter(scores.values()))) if scores else 0
    totals = []
    for i in range(count):
        parts = [w * scores[name][i] for name, w in zip(names, weights, strict=True)
                 if scores[name][i] is not None and not math.isnan(scores[name][i])]
        totals.append(sum(parts))
    groups = [totals[i : i + n] for i in range(0, count, n)]
    flat = sum(1 for g in groups if max(g) - min(g) < 1e-9)
    return flat / len(groups) if groups else 1.0


def _format_rate(recipe: Recipe, texts: list[str]) -> float | None:
    """Share of completions the registry's ``format`` reward (with the recipe's params, if it uses it) accepts."""
    import rewards

    params = next((dict(s.params) for s in recipe.rewards if s.name == "format"), {})
    values = rewards.get("format", **params)(texts)
    return sum(v == 1.0 for v in values) / len(values) if values else None


def stop_reasons(report: PreflightReport, recipe: Recipe) -> list[str]:
    """Why GRPO would spend its steps without signal: almost every completion truncated, a reward that is
    None for every sample, no prompt group whose rewards vary."""
    reasons = []
    if report.truncation_rate > recipe.preflight.max_truncation:
        reasons.append(f"{100 * report.truncation_rate:.0f}% of completions hit max_completion_length="
                       f"{report.max_completion_length} (rewards would score cut-off text): raise "
                       "grpo.max_completion_length or ask for shorter answers")
    for name, figures in report.rewards.items():
        if figures["none_rate"] >= 1.0:
            reasons.append(f"reward {name} is None for every completion (an empty or missing gold column? "
                           "see data.solution_key and the reward's gold_key)")
    if report.flat_groups >= 1.0:
        reasons.append(f"no prompt's {report.generations} completions differ in total reward, so every "
                       "advantage is 0 and GRPO cannot learn: check the rewards, the sampling temperature and "
                       "whether the task is far too hard or too easy for this model")
    return reasons
