"""Weighted combination of rewards into one reward, for trainers (ms-swift, verl, custom loops) that take a single function.
It must never turn a missing score into a made-up one: a ``None`` component adds nothing, and all-``None`` stays ``None``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rewards.registry import get, names


class Combined:
    """``combine``'s result: a picklable reward whose ``__name__`` names its parts."""

    def __init__(self, parts: list[tuple[Callable[..., list], float]], name: str):
        self.parts = parts
        self.__name__ = name

    def __call__(self, completions, **kwargs) -> list[float | None]:
        completions = list(completions)
        n = len(completions)
        totals: list[float | None] = [None] * n
        for fn, weight in self.parts:
            values = fn(completions, **kwargs)
            if len(values) != n:
                raise ValueError(f"reward {_name(fn)!r} returned {len(values)} values for {n} completions")
            for i, value in enumerate(values):
                if value is not None:
                    totals[i] = (totals[i] or 0.0) + weight * float(value)
        return totals

    def __repr__(self) -> str:
        return "combine({" + ", ".join(f"{fn!r}: {w!r}" for fn, w in self.parts) + "})"


def combine(weights: Mapping[Any, float] | Iterable[tuple[Any, float]], name: str | None = None) -> Combined:
    r"""One reward :math:`\sum_i w_i r_i` from ``{reward: weight}``, where a reward is a registered name
    (built with its defaults) or any reward function (e.g. ``rewards.get("cosine", max_len=512)``).

    Per completion, components that return ``None`` are left out of the sum (as TRL's ``nansum`` does
    across its reward functions); the result is ``None`` only when every component is ``None``.
    ``__name__`` is ``name``, or the parts joined by ``+``.

    >>> fn = combine({"format": 0.5, "accuracy": 1.0})
    >>> fn.__name__
    'format+accuracy'
    >>> fn(["<think>2+2</think><answer>4</answer>", "<answer>5</answer>"], solution=["4", ""])
    [1.5, 0.0]
    """
    pairs = list(weights.items() if isinstance(weights, Mapping) else weights)
    if not pairs:
        raise ValueError("combine needs at least one {reward: weight} entry")
    parts = []
    for reward, weight in pairs:
        fn = get(reward) if isinstance(reward, str) else reward
        if not callable(fn):
            raise ValueError(f"combine: {reward!r} is neither a reward name nor a callable; valid names: {', '.join(names())}")
        ok = isinstance(weight, (int, float)) and not isinstance(weight, bool) and math.isfinite(weight)
        if not ok:
            raise ValueError(f"combine: invalid weight {weight!r} for {_name(fn)!r}; valid values: a finite number")
        parts.append((fn, float(weight)))
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"combine: invalid name={name!r}; valid values: a non-empty string")
    return Combined(parts, name or "+".join(_name(fn) for fn, _ in parts))


def _name(fn: Any) -> str:
    return getattr(fn, "__name__", type(fn).__name__)

