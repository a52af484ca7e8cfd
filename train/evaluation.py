"""Scores the model being trained with evalsuite: before, between and after the stages, and every N steps.
It must never leave other ranks inside a collective while rank 0 evaluates: they wait at a long barrier."""

from __future__ import annotations

import datetime
import functools
import logging
import os
import time
from pathlib import Path
from typing import Any

from train.data import eval_rows
from train.errors import RecipeError
from train.recipe import Recipe

log = logging.getLogger("grpo-train")
# How long the other ranks wait for rank 0's evaluation (their own gloo group: NCCL's ddp_timeout, 30 min
# by default, does not apply to it).
EVAL_WAIT = datetime.timedelta(hours=6)


def is_main() -> bool:
    """Rank 0 of a torchrun/accelerate/deepspeed launch (they all set RANK), or a single process.
    Read from the environment: creating accelerate's state here, before TRL's config does, would pin it."""
    return int(os.environ.get("RANK", "0")) == 0


@functools.cache
def _wait_group():
    import torch.distributed as dist

    return dist.new_group(backend="gloo", timeout=EVAL_WAIT)


def wait_for_main() -> None:
    """All ranks meet here after rank 0 evaluated (a no-op in a single process). Every rank must call it."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        started = time.perf_counter()
        dist.barrier(group=_wait_group())
        waited = time.perf_counter() - started
        if dist.get_rank() and waited > 1:
            log.info("rank %d waited %.1f s for rank 0 at the evaluation barrier", dist.get_rank(), waited)


class Evaluator:
    """evalsuite on the recipe's validation set, for the model in memory (rank 0 only)."""

    def __init__(self, recipe: Recipe, progress: bool = False):
        assert recipe.eval is not None
        self.recipe, self.progress = recipe, progress
        self.rows = eval_rows(recipe)
        self.config("check")  # evalsuite's own validation of the eval section, before any model loads

    def config(self, tag: str):
        """The evalsuite EvalConfig for one evaluation (fresh output folder per tag, never resumed)."""
        from evalsuite.config import make_config
        from evalsuite.errors import EvalError

        d, e = self.recipe.data, self.recipe.eval
        names, params = eval_rewards(self.recipe)
        values = {
            "data": e.data,
            "system_prompt": d.system_prompt,
            "prompt_key": d.prompt_key,
            "messages_key": d.messages_key,
            "solution_key": d.solution_key,
            "rewards": names,
            "reward_params": params,
            "seed": self.recipe.seed,
            "trust_remote_code": self.recipe.model.trust_remote_code,  # the trained model's code is the recipe's
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

    def __call__(self, model, processing_class, tag: str) -> dict[str, Any]:
        from evalsuite.errors import EvalError
        from evalsuite.runner import run

        config = self.config(tag)
        was_training = model.training
        model.eval()
        try:
            result = run(config, rows=self.rows, model=model, tokenizer=processing_class, progress=self.progress)
        except EvalError as exc:
            raise RecipeError(self.recipe.source, "eval", str(exc)) from None
        finally:
            model.train(was_training)
        return result["metrics"]


def eval_rewards(recipe: Recipe) -> tuple[list[str], dict[str, dict]]:
    """The recipe's rewards for evalsuite, under the names the recipe gives them (registry names and a
    user's ``module:function`` alike, as in TRL's logs); the first configuration of each."""
    names, params = [], {}
    for spec in recipe.rewards:
        if spec.name in params:
            continue
        names.append(spec.name)
        params[spec.name] = dict(spec.params)
    return names or ["accuracy", "format"], {k: v for k, v in params.items() if v}


def periodic_eval(evaluator: Evaluator, processing_class, every: int, sink: dict[str, Any], stage: str):
    """A callback scoring the model every ``every`` steps on rank 0 (logged as ``eval/<metric>``) while
    the other ranks wait at :func:`wait_for_main`."""
    from transformers import TrainerCallback

    class EvalEveryNSteps(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step % every:
                return
            tag = f"{stage}-step{state.global_step}"
            if state.is_world_process_zero:
                metrics = evaluator(model, processing_class, tag)
                sink[tag] = metrics
                state.log_history.append(
                    {"step": state.global_step, **{f"eval/{k}": v for k, v in metrics.items()
                                                   if isinstance(v, int | float)}}
                )
            wait_for_main()

    return EvalEveryNSteps()
