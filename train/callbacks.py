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


_COMPACT_KEYS = ("loss", "mean_token_accuracy", "reward", "rewards/accuracy/mean", "rewards/format/mean",
                 "step_time")


def compact_log(stage: str):
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


def quiet(trainer, stage: str) -> None:
    """Replace TRL's progress bar and log dicts with :func:`compact_log`."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(compact_log(stage))
