"""ms-swift adapter: every registered reward as an ms-swift ORM (``orm(completions, **kwargs) -> list[float]``).
It must never import ms-swift (or torch) at import time; ``register_all`` reaches for ms-swift's ORM table only when asked."""

from __future__ import annotations

import inspect
from collections.abc import MutableMapping
from typing import Any

from rewards.registry import get, names, parameters


class RewardORM:
    """Base of the ORM classes: ms-swift builds one with ``cls()`` (or ``cls(args)``) and calls it with
    completions and dataset columns. Subclasses made by ``orm_class`` fix the reward name and parameters;
    keyword arguments named like the reward's parameters override them."""

    reward_name = ""
    params: dict[str, Any] = {}

    def __init__(self, args: Any = None, **kwargs: Any):
        valid = parameters(self.reward_name)
        self.params = {**self.params, **{k: v for k, v in kwargs.items() if k in valid}}
        self.__name__ = self.reward_name
        self._fn = get(self.reward_name, **self.params)

    def __call__(self, completions, **kwargs) -> list[float | None]:
        return self._fn(completions, **swift_columns(kwargs))

    def __reduce__(self):
        return _make_orm, (self.reward_name, self.params)


def swift_columns(kwargs: dict[str, Any]) -> dict[str, Any]:
    """ms-swift's reward keywords in our names, where ours are absent: ``prompt_id`` (one per prompt, shared by
    its generations) groups completions as ``prompts``; ``response_token_ids`` (a list of token-id lists per
    sample, one per turn) gives ``completion_ids``, so lengths are tokens.

    >>> swift_columns({"prompt_id": ["a", "a"], "response_token_ids": [[[1, 2], [3]], [[4]]]})["completion_ids"]
    [[1, 2, 3], [4]]
    """
    columns = dict(kwargs)
    if "prompts" not in columns and isinstance(columns.get("prompt_id"), (list, tuple)):
        columns["prompts"] = list(columns["prompt_id"])
    turns = columns.get("response_token_ids")
    if "completion_ids" not in columns and isinstance(turns, (list, tuple)):
        columns["completion_ids"] = [_flat_ids(sample) for sample in turns]
    return columns


def _flat_ids(sample: Any) -> list[Any] | None:
    if not isinstance(sample, (list, tuple)):
        return None
    if all(isinstance(turn, (list, tuple)) for turn in sample):
        return [token for turn in sample for token in turn]
    return list(sample)


def orm_class(name: str, **params: Any) -> type[RewardORM]:
    """An ORM class for reward ``name`` configured with ``params`` (validated now: bad values raise ValueError).

    >>> cls = orm_class("repetition", ngram_size=2)
    >>> cls.__name__, cls()(["a b a b"])
    ('repetition', [-0.33333333333333337])
    """
    get(name, **params)
    return type(name, (RewardORM,), {"reward_name": name, "params": dict(params), "__module__": __name__})


def _make_orm(name: str, params: dict[str, Any]) -> RewardORM:
    return orm_class(name, **params)()


def orm_classes(params: dict[str, dict[str, Any]] | None = None, prefix: str = "") -> dict[str, type[RewardORM]]:
    """An ORM class for every registered reward, keyed ``prefix + name``. ``params`` configures rewards
    by name; rewards with required parameters (``soft_overlong``) are included only when ``params`` gives them.

    >>> classes = orm_classes(params={"cosine": {"max_len": 512}})
    >>> "soft_overlong" in classes, classes["cosine"]()(["<answer>4</answer>"], solution=["4"])
    (False, [0.998476742500589])
    """
    params = params or {}
    classes = {}
    for name in names():
        required = [p for p, default in parameters(name).items() if default is inspect.Parameter.empty]
        if not required or name in params:
            classes[prefix + name] = orm_class(name, **params.get(name, {}))
    return classes


def register_all(orms: MutableMapping[str, Any] | None = None, *, params: dict[str, dict[str, Any]] | None = None,
                 prefix: str = "") -> dict[str, type[RewardORM]]:
    """Add ``orm_classes(params, prefix)`` to ``orms`` (default: ms-swift's table, ``swift.rewards.orms`` in
    ms-swift 4, ``swift.plugin.orms`` in 3.x, imported only here), replacing ms-swift's own rewards of the
    same name unless ``prefix`` is set; return them.

    Call it from an ms-swift ``--external_plugins`` file, then pass ``--reward_funcs accuracy format``.

    >>> orms = {}
    >>> added = register_all(orms, prefix="grpokit_")
    >>> orms["grpokit_format"] is added["grpokit_format"], orms["grpokit_format"]()(["<think>a</think><answer>4</answer>"])
    (True, [1.0])
    """
    if orms is None:
        orms = swift_orms()
    added = orm_classes(params, prefix)
    orms.update(added)
    return added


def swift_orms() -> MutableMapping[str, Any]:
    """ms-swift's ORM table (``swift.rewards.orms`` from ms-swift 4, ``swift.plugin.orms`` before)."""
    try:
        from swift.rewards import orms
    except ImportError:
        try:
            from swift.plugin import orms
        except ImportError:
            raise ModuleNotFoundError("register_all() needs ms-swift (pip install ms-swift), or pass orms=",
                                      name="swift") from None
    return orms
