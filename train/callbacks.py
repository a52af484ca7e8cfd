"""Trainer callbacks that watch a run: the watchdog for zero-signal GRPO, and one-line step logs.
They must never change what TRL computes: they read its logs and may only ask the trainer to save and stop."""

from __future__ import annotations

import logging
import math
from typing import Any

from train.recipe import WatchdogSection

log = logging.getLogger("grpo-train")


def log_problems(logs: dict[str, Any], settings: WatchdogSection) -> list[str]:
    """What is wrong in one of TRL's GRPO log entries: no reward variance, truncation, rewards that are
    None for every sample (TRL logs their mean as NaN).

    >>> log_problems({"frac_reward_zero_std": 1.0, "rewards/accuracy/mean": float("nan")}, WatchdogSection())
    ['frac_reward_zero_std 1.00 > 0.95 (no advantage signal)', 'rewards/accuracy/mean is NaN (None for every sample)']
    >>> log_problems({"frac_reward_zero_std": 0.5, "completions/clipped_ratio": 0.1}, WatchdogSection())
    []
    """
    problems = []
    zero_std = logs.get("frac_reward_zero_std")
    if isinstance(zero_std, int | float) and zero_std > settings.max_zero_std:
        problems.append(f"frac_reward_zero_std {zero_std:.2f} > {settings.max_zero_std:g} (no advantage signal)")
    clipped = logs.get("completions/clipped_ratio")
    if isinstance(clipped, int | float) and clipped > settings.max_truncation:
        problems.append(f"completions/clipped_ratio {clipped:.2f} > {settings.max_truncation:g} "
                        "(completions cut at max_completion_length)")
    for key, value in logs.items():
        if key.startswith("rewards/") and key.endswith("/mean") and isinstance(value, float) and math.isnan(value):
            problems.append(f"{key} is NaN (None for every sample)")
    return problems


def watchdog(settings: WatchdogSection):
    """A callback that warns on the first bad GRPO log and, after ``settings.patience`` steps in a bad
    state, saves a checkpoint and stops training (``.stopped`` then holds the reason)."""
    from transformers import TrainerCallback

    class Watchdog(TrainerCallback):
        def __init__(self):
            self.bad_since: int | None = None
            self.stopped: str | None = None

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "train_runtime" in logs:
                return
            problems = log_problems(logs, settings)
            if not problems:
                self.bad_since = None
                return
            step = state.global_step
            if self.bad_since is None:
                self.bad_since = step
                if state.is_world_process_zero:
                    action = f"stopping after {settings.patience} steps like this" if settings.stop else "warning only"
                    log.warning("watchdog: step %d: %s; %s", step, "; ".join(problems), action)
            elif settings.stop and step - self.bad_since >= settings.patience:
                self.stopped = f"step {step}: {'; '.join(problems)} for {step - self.bad_since} steps"
                control.should_save = True
                control.should_training_stop = True

    return Watchdog()


_COUNTED = ("no_answer", "timeout", "error", "gold_unparsable")  # rewards.adapters.trl.COUNTED_STATUSES


def step_line(logs: dict[str, Any]) -> str:
    """The figures of one TRL log entry worth watching, short: the total reward, each reward's mean, KL, loss
    (SFT), seconds per step, and the counts rewards log (completions with no answer, grader timeouts...), as counts.

    >>> step_line({"reward": 1.25, "rewards/accuracy/mean": 0.5, "rewards/format/mean": 1.0, "kl": 0.00123,
    ...            "step_time": 0.41, "rewards/accuracy/no_answer": 3.0, "rewards/accuracy/timeout": 0.0})
    'reward 1.25 accuracy 0.5 format 1 kl 0.00123 0.41 s/step no_answer 3'
    """
    parts = []
    for key in ("loss", "mean_token_accuracy", "reward"):
        if isinstance(logs.get(key), int | float) and (key != "loss" or "reward" not in logs):
            parts.append(f"{key} {logs[key]:.3g}")
    parts += [f"{key.split('/')[1]} {value:.3g}" for key, value in logs.items()
              if key.startswith("rewards/") and key.endswith("/mean") and isinstance(value, int | float)]
    if isinstance(logs.get("kl"), int | float):
        parts.append(f"kl {logs['kl']:.3g}")
    if isinstance(logs.get("step_time"), int | float):
        parts.append(f"{logs['step_time']:.2g} s/step")
    counts: dict[str, float] = {}
    for key, value in logs.items():
        status = key.rsplit("/", 1)[-1]
        if key.startswith("rewards/") and status in _COUNTED and isinstance(value, int | float) and value:
            counts[status] = counts.get(status, 0) + value
    parts += [f"{status} {value:.0f}" if float(value).is_integer() else f"{status} {value:.1f}/batch"
              for status, value in counts.items()]
    return " ".join(parts)


def compact_log(stage: str):
    """A callback printing one line per logged step instead of TRL's dict dumps (the display when stderr
    is not a terminal: log files, CI)."""
    from transformers import TrainerCallback

    class CompactLog(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs or "train_runtime" in logs:
                return
            print(f"  {stage} step {state.global_step}/{state.max_steps}: {step_line(logs)}", flush=True)

    return CompactLog()


def live_bar(stage: str):
    """A callback showing one progress bar (step, and the last log's :func:`step_line`) on a terminal."""
    from tqdm.auto import tqdm
    from transformers import TrainerCallback

    class LiveBar(TrainerCallback):
        bar = None

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=stage, dynamic_ncols=True,
                                bar_format="{desc} {n_fmt}/{total_fmt} |{bar:20}| {elapsed}<{remaining} {postfix}")

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(state.global_step - self.bar.n)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.bar is not None and logs and "train_runtime" not in logs:
                self.bar.set_postfix_str(step_line(logs), refresh=True)

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return LiveBar()


def quiet(trainer, stage: str) -> None:
    """Replace TRL's progress bar and log dicts with one live line: :func:`live_bar` on a terminal, else
    :func:`compact_log`'s line per logged step."""
    import sys

    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(live_bar(stage) if sys.stderr.isatty() else compact_log(stage))
