"""Scores sample records with the project's rewards, called exactly as TRL calls them in training.
It must never turn a failing reward into a silent number: a crash is an error naming the reward and prompt."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import rewards
from evalsuite.correctness import Correctness, vote_answers
from evalsuite.errors import EvalError

# The headline metrics need these two whatever the user asks for: accuracy (pass@k, maj@n) and format rate.
# With `--correct REWARD>=T`, REWARD takes accuracy's place.
ALWAYS = ("accuracy", "format")
_RESERVED = {"completions", "prompts", "completion_ids", "trainer_state", "log_extra", "log_metric"}


def build_rewards(
    names: Sequence[str],
    params: Mapping[str, dict] | None = None,
    *,
    imports: Sequence[str] = (),
    search_paths: Sequence[str] = (),
    correct: Correctness | None = None,
) -> dict[str, Callable]:
    """``{name: configured reward}`` for ``names`` plus the correctness reward (``correct``'s; by default
    accuracy) and format; a bad name or parameter is an EvalError carrying the registry's message (which
    lists the valid choices).

    A name may be a registry name or a user's ``module:function`` (resolved by
    ``rewards.loading.load_reward``: installed modules first, then ``search_paths`` and the current
    directory). ``imports`` are imported first, the same way, so that they can ``rewards.register``.
    """
    from rewards.loading import import_module, load_reward

    for module in imports:
        try:
            import_module(module, search_paths, what=f"--imports {module!r}")
        except ValueError as err:
            raise EvalError(str(err)) from None
    params = dict(params or {})
    always = (correct or Correctness()).reward, "format"
    unused = sorted(set(params) - set(names) - set(always))
    if unused:
        raise EvalError(f"reward_params given for reward(s) not requested: {', '.join(unused)}")
    fns: dict[str, Callable] = {}
    for name in dict.fromkeys([*names, *always]):
        given = params.get(name) or {}
        if not isinstance(given, dict):
            raise EvalError(f"parameters of reward {name!r} must be a mapping, got {type(given).__name__}")
        try:
            fns[name] = load_reward(name, given, search_paths) if ":" in name else rewards.get(name, **given)
        except ValueError as err:
            raise EvalError(str(err)) from None
    return fns


def warm_up_in_background() -> None:
    """Start the rewards' answer-checking workers on a daemon thread, so their start-up (about 2 s) overlaps
    model loading instead of delaying the first scored batch."""
    import threading

    threading.Thread(target=rewards.warm_up, name="evalsuite-reward-warm-up", daemon=True).start()


def score_record(record: dict, fns: Mapping[str, Callable], *, solution_key: str = "solution",
                 correct: Correctness | None = None) -> dict:
    """Fill ``record["rewards"][name]`` for every reward in ``fns`` (one call per prompt, so the n
    completions of a prompt form one group, as in GRPO). With a ``correct`` reward other than accuracy that
    is in ``fns``, ``record["votes"]`` keeps the answer each sample votes with in maj@k (what that reward
    read). Returns the record."""
    completions = record["completions"]
    n = len(completions)
    kwargs: dict[str, Any] = {
        k: [v] * n for k, v in (record.get("extra") or {}).items() if k not in _RESERVED
    }
    kwargs["prompts"] = [record.get("prompt")] * n
    kwargs["solution"] = [record["solution"]] * n
    kwargs[solution_key] = [record["solution"]] * n
    if record.get("completion_ids") is not None:
        kwargs["completion_ids"] = record["completion_ids"]
    scores = record.setdefault("rewards", {})
    for name, fn in fns.items():
        try:
            values = fn(completions, **kwargs)
        except Exception as err:  # a user's reward may raise anything; report it, never hide it
            raise EvalError(
                f"reward {name!r} failed on prompt id {record['id']!r}: {type(err).__name__}: {err}"
            ) from None
        scores[name] = _checked(values, name, n, record["id"])
    if correct is not None and correct.reward != "accuracy" and correct.reward in fns:
        record["votes"] = {"reward": correct.reward,
                           "answers": vote_answers(fns[correct.reward], completions, kwargs)}
    return record


def _checked(values: Any, name: str, n: int, row_id: Any) -> list[float | None]:
    try:
        values = list(values)
    except TypeError:
        raise EvalError(f"reward {name!r} returned {type(values).__name__}, not a list, on prompt id {row_id!r}") from None
    if len(values) != n:
        raise EvalError(f"reward {name!r} returned {len(values)} values for {n} completions on prompt id {row_id!r}")
    out: list[float | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise EvalError(f"reward {name!r} returned {v!r}, not a number, on prompt id {row_id!r}") from None
        out.append(None if math.isnan(f) else f)
    return out
