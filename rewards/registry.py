"""Name -> factory table behind ``rewards.get``/``names``/``register``.
It must never hand back an unconfigured or misconfigured reward: bad names and parameters raise ValueError."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from typing import Any

RewardFn = Callable[..., list]
_FACTORIES: dict[str, Callable[..., RewardFn]] = {}


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
    """Sorted names of every registered reward."""
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


def get(name: str, **params: Any) -> RewardFn:
    """A configured reward by name.

    Raises ValueError naming the valid rewards for an unknown name, and the valid parameters for an
    unknown or missing parameter.

    >>> fn = get("cosine", max_len=100)
    >>> fn.__name__
    'cosine'
    """
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


def _lookup(name: str) -> Callable[..., RewardFn]:
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
