"""The recipe's rewards as TRL reward functions: registry names with params, or a user's `module:function`.
It must never let a user's module shadow grpokit's own packages: `rewards.loading` searches installed ones first."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import TYPE_CHECKING

from train.errors import RecipeError, closest

if TYPE_CHECKING:  # the recipe module builds on this one (it validates rewards as it loads)
    from train.recipe import Recipe, RewardSpec


def search_paths(recipe: Recipe) -> list[Path]:
    """Where a user's reward modules are looked for after the installed packages: the recipe's folder,
    then the current directory."""
    paths = [recipe.folder, Path.cwd().resolve()]
    return list(dict.fromkeys(p for p in paths if p is not None))


def import_modules(recipe: Recipe) -> None:
    """Import the recipe's ``imports`` (modules that e.g. call ``rewards.register``), installed packages
    first, then the recipe's folder and the current directory (``rewards.loading.import_module``)."""
    from rewards.loading import import_module

    for i, module in enumerate(recipe.imports):
        try:
            import_module(module, search_paths(recipe))
        except ValueError as exc:
            raise RecipeError(recipe.source, f"imports.{i}", str(exc)) from None


class Renamed:
    """A reward under another name (picklable), so logs keep two configurations of one reward apart."""

    def __init__(self, fn, name: str):
        self.fn, self.__name__ = fn, name

    def __call__(self, completions, **kwargs):
        return self.fn(completions, **kwargs)


class SummedCounts:
    """A reward whose counts (``rewards/<name>/<status>``, sent through TRL's ``log_metric``) are multiplied
    by the number of training processes: TRL averages a logged figure over the processes, so the figure
    it logs is then the count of the whole batch (all processes), not a per-process mean. Picklable."""

    def __init__(self, fn, world_size: int):
        self.fn, self.world_size = fn, world_size
        self.__name__ = reward_name(fn)

    def __call__(self, completions, **kwargs):
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and self.world_size > 1:
            kwargs["log_metric"] = _Scaled(log_metric, self.world_size)
        return self.fn(completions, **kwargs)


class _Scaled:
    def __init__(self, log_metric, factor: int):
        self.log_metric, self.factor = log_metric, factor

    def __call__(self, name: str, value: float):
        from rewards.adapters.trl import COUNTED_STATUSES

        counted = name.startswith("rewards/") and name.rsplit("/", 1)[-1] in COUNTED_STATUSES
        return self.log_metric(name, value * self.factor if counted else value)


def build_reward(spec: RewardSpec, key: str, recipe: Recipe):
    """One configured reward; a bad name or parameter is a RecipeError at ``key`` (``rewards.<i>``)."""
    if ":" in spec.name:
        return _user_reward(spec, key, recipe)
    import rewards

    if spec.name not in rewards.names():
        raise RecipeError(recipe.source, f"{key}.name", f"unknown reward {spec.name!r}"
                          f"{closest(spec.name, rewards.names())}; valid: {', '.join(rewards.names())}")
    valid = rewards.parameters(spec.name)
    for param in spec.params:
        if param not in valid:
            raise RecipeError(recipe.source, f"{key}.params.{param}",
                              f"unknown parameter for reward {spec.name!r}{closest(param, valid)}; "
                              f"valid: {', '.join(valid) or '(none)'}")
    missing = [p for p, d in valid.items() if d is inspect.Parameter.empty and p not in spec.params]
    if missing:
        raise RecipeError(recipe.source, f"{key}.params", f"reward {spec.name!r} needs: {', '.join(missing)}")
    try:
        return rewards.get(spec.name, **spec.params)
    except ValueError as exc:  # a value the reward rejects, e.g. `timeout: abc`
        bad = next((p for p in spec.params if f"invalid {p}=" in str(exc)), None)
        raise RecipeError(recipe.source, f"{key}.params.{bad}" if bad else f"{key}.params", str(exc)) from None


def _user_reward(spec: RewardSpec, key: str, recipe: Recipe):
    """``module:function`` through ``rewards.loading.load_reward``: installed packages first, then the
    recipe's folder and the current directory; params bound with the function's ``__name__`` kept."""
    from rewards.loading import load_reward

    try:
        return load_reward(spec.name, spec.params, search_paths=search_paths(recipe))
    except ValueError as exc:
        message = str(exc)
        unknown = re.search(r"unknown parameter\(s\) (\w+)", message)
        if unknown:
            where = f"{key}.params.{unknown.group(1)}"
        elif "parameters for the factory" in message or "the factory raised" in message:
            where = f"{key}.params"
        else:
            where = f"{key}.name"
        raise RecipeError(recipe.source, where, message) from None


def validate_rewards(recipe: Recipe) -> None:
    """Build every reward once, so a bad name, parameter or parameter value is reported at load."""
    build_rewards(recipe)


def build_rewards(recipe: Recipe) -> list:
    """The reward callables, in recipe order (weights travel in GRPOConfig.reward_weights), each named as the
    recipe names it (``accuracy``, ``my_rewards:brevity``: TRL logs ``rewards/<name>/mean`` and evalsuite
    reports ``reward/<name>``); two rewards with one name are logged as ``name`` and ``name_2``. Every bad
    reward is reported at once."""
    from train.errors import Problems

    funcs, seen = [], {}
    problems = Problems()
    built = []
    for i, spec in enumerate(recipe.rewards):
        with problems.step():
            built.append((spec, build_reward(spec, f"rewards.{i}", recipe)))
    problems.raise_if_any()
    for spec, fn in built:
        if ":" in spec.name:  # a user's function is named as the recipe names it, in TRL's logs and in evalsuite
            fn = Renamed(fn, spec.name)
        name = reward_name(fn)
        if name in seen:
            seen[name] += 1
            fn = Renamed(fn, f"{name}_{seen[name]}")
        else:
            seen[name] = 1
        funcs.append(fn)
    return funcs


def reward_name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def gold_columns(recipe: Recipe) -> dict[str, str]:
    """``{recipe key: column}`` of the gold column each registry reward reads (``solution``, which the
    launcher fills from ``data.solution_key``, unless the reward's ``gold_key`` names another column)."""
    import rewards

    out = {}
    for i, spec in enumerate(recipe.rewards):
        if ":" in spec.name or spec.name not in rewards.names():
            continue
        valid = rewards.parameters(spec.name)
        if "gold_key" in valid:
            out[f"rewards.{i}.params.gold_key"] = spec.params.get("gold_key", valid["gold_key"])
    return out
