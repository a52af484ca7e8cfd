"""Name -> factory table behind ``rewards.get``/``names``/``register``.
It must never hand back an unconfigured or misconfigured reward: bad names and parameters raise ValueError."""

from __future__ import annotations

import difflib
import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

from rewards.completions import completion_texts

RewardFn = Callable[..., list]
_FACTORIES: dict[str, Callable[..., RewardFn]] = {}


class Reward:
    """A configured built-in reward: ``reward(completions, **kwargs) -> list[float | None]``.

    It holds a module-level row function and plain parameters, so it pickles; its ``__name__`` is
    the registry name, so TRL logs ``rewards/<name>/mean``. ``rows`` returns, per completion, a dict
    of what the reward saw (lengths, answers, parts of the formula) with the score under ``"value"``.
    When the trainer passes ``log_extra``/``log_metric`` (TRL does), the row keys in ``columns`` become
    columns of its completions table and graded rewards log their no-answer, timeout and error counts.
    """

    def __init__(self, name: str, rows: Callable[..., list[dict]], *, columns: tuple[str, ...] = (), **params: Any):
        self.__name__ = name
        self._rows = rows
        self.columns = columns
        self.params = params

    def __call__(self, completions, **kwargs) -> list[float | None]:
        from rewards.adapters import trl

        rows = self.rows(completions, **kwargs)
        trl.report(self.__name__, rows, self.columns, kwargs)
        return [row["value"] for row in rows]

    def rows(self, completions, **kwargs) -> list[dict[str, Any]]:
        """Per completion: what the reward saw, and its ``"value"``."""
        return self._rows(completion_texts(completions), kwargs, **self.params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.__name__}({args})"


def check(reward: str, param: str, value: Any, valid: str, ok: bool) -> None:
    """Raise ValueError naming the reward, the parameter, its value and what is valid, unless ``ok``."""
    if not ok:
        raise ValueError(f"{reward}: invalid {param}={value!r}; valid values: {valid}")


def check_number(
    reward: str, param: str, value: Any, *, low: float | None = None, high: float | None = None,
    low_open: bool = False, integer: bool = False,
) -> float | int:
    """``value`` as a finite number within ``[low, high]`` (``(low, high]`` when ``low_open``), else ValueError.

    >>> check_number("cosine", "max_len", 0, low=0, low_open=True, integer=True)
    Traceback (most recent call last):
    ...
    ValueError: cosine: invalid max_len=0; valid values: an integer > 0
    """
    kind = "an integer" if integer else "a finite number"
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        bounds.append(f"<= {high:g}")
    valid = " ".join([kind, " and ".join(bounds)]).strip()
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = is_number and math.isfinite(value) and (not integer or float(value).is_integer())
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    check(reward, param, value, valid, ok)
    return int(value) if integer else float(value)


def check_gold_key(reward: str, gold_key: Any) -> str:
    """The dataset column holding gold answers: a non-empty string, else ValueError."""
    check(reward, "gold_key", gold_key, "a dataset column name such as 'solution'",
          isinstance(gold_key, str) and bool(gold_key))
    return gold_key


def register(name: str, factory: Callable[..., RewardFn] | None = None, *, overwrite: bool = False):
    """Register ``factory`` under ``name``; usable as a decorator.

    ``factory(**params)`` must return a reward ``fn(completions, **kwargs) -> list[float | None]``.
    A plain reward function (first parameter ``completions``) may be registered directly: ``get``
    then returns it as is.

    >>> @register("always_one", overwrite=True)
    ... def always_one(completions, **kwargs):
    ...     return [1.0] * len(completions)
    >>> get("always_one")(["a", "b"])
    [1.0, 1.0]
    """
    if not isinstance(name, str) or not name:
        raise ValueError("reward name must be a non-empty string")

    def _add(f: Callable[..., RewardFn]) -> Callable[..., RewardFn]:
        if name in _FACTORIES and not overwrite and _FACTORIES[name] is not f:
            raise ValueError(f"reward {name!r} is already registered; pass overwrite=True to replace it")
        _FACTORIES[name] = f
        return f

    return _add(factory) if factory is not None else _add


def names() -> list[str]:
    """Sorted names of every registered reward (the built-in ones and any ``register``-ed since)."""
    _load_builtins()
    return sorted(_FACTORIES)


def parameters(name: str) -> dict[str, Any]:
    """The parameters ``get(name, ...)`` accepts, with their defaults (``inspect.Parameter.empty`` if required)."""
    factory = _lookup(name)
    if _is_plain_reward(factory):
        return {}
    return {
        p.name: p.default
        for p in inspect.signature(factory).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def get(name: str, *, asynchronous: bool = False, **params: Any) -> RewardFn:
    """A configured reward by name.

    Raises ValueError naming the valid rewards for an unknown name, and the valid parameters for an
    unknown or missing parameter.

    >>> fn = get("cosine", max_len=100)
    >>> fn.__name__
    'cosine'

    A ``"module:function"`` name is a user's reward, resolved by ``rewards.loading.load_reward``.
    ``asynchronous=True`` returns the reward as a coroutine TRL awaits concurrently with its other async
    rewards (``rewards.adapters.trl.AsyncReward``: the reward runs in a worker thread).
    """
    if asynchronous:
        from rewards.adapters.trl import AsyncReward

        return AsyncReward(get(name, **params))
    if isinstance(name, str) and ":" in name:
        from rewards.loading import load_reward

        return load_reward(name, params)
    factory = _lookup(name)
    valid = parameters(name)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        hint = _closest(unknown[0], valid)
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)} for reward {name!r}{hint}; "
            f"valid parameters: {', '.join(valid) or '(none)'}"
        )
    missing = [p for p, d in valid.items() if d is inspect.Parameter.empty and p not in params]
    if missing:
        raise ValueError(f"reward {name!r} needs parameter(s): {', '.join(missing)}")
    if _is_plain_reward(factory):
        return factory
    return factory(**params)


def _load_builtins() -> None:
    """Import the reward families, which register themselves (a no-op once ``rewards`` is imported)."""
    import rewards  # noqa: F401


def _lookup(name: str) -> Callable[..., RewardFn]:
    _load_builtins()
    if name not in _FACTORIES:
        hint = _closest(name, _FACTORIES)
        raise ValueError(f"unknown reward {name!r}{hint}; valid rewards: {', '.join(names())}")
    return _FACTORIES[name]


def _closest(word: Any, options) -> str:
    match = difflib.get_close_matches(str(word), list(options), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _is_plain_reward(factory: Callable[..., Any]) -> bool:
    try:
        first = next(iter(inspect.signature(factory).parameters), None)
    except (TypeError, ValueError):
        return False
    return first == "completions"
