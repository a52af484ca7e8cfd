"""ms-swift adapter: every registered reward as an ms-swift ORM (``orm(completions, **kwargs) -> list[float]``).
It must never import ms-swift (or torch) at import time; ``register_all`` reaches for ms-swift's ORM table only when asked."""

from __future__ import annotations

import inspect
from collections.abc import MutableMapping
from typing import Any

from rewards.adapters.openrlhf import strip_end_tokens
from rewards.registry import get, names, parameters

# Our parameters that ms-swift sets with its own flags (its training arguments, passed to each ORM as ``args``).
SWIFT_ARGS: dict[str, dict[str, str]] = {
    "soft_overlong": {"max_len": "soft_max_length", "cache_len": "soft_cache_length"},
}


class RewardORM:
    """Base of the ORM classes: ms-swift builds one with ``cls()`` (or ``cls(args=training_args)``) and calls it
    with completions and dataset columns. Subclasses made by ``orm_class`` fix the reward name and parameters;
    keyword arguments named like the reward's parameters override them, and ms-swift's own flags for a
    parameter (``SWIFT_ARGS``: ``--soft_max_length``/``--soft_cache_length`` for ``soft_overlong``) fill it in
    (and a value that disagrees with the plugin's is refused in one line). Completions lose the end-of-turn
    tokens ms-swift leaves in them (``<|im_end|>``, ...)."""

    reward_name = ""
    params: dict[str, Any] = {}

    def __init__(self, args: Any = None, **kwargs: Any):
        valid = parameters(self.reward_name)
        params = {**self.params, **{k: v for k, v in kwargs.items() if k in valid}}
        self.params = {**params, **_from_swift_args(self.reward_name, args, params)}
        missing = _missing(self.reward_name, self.params)
        if missing:
            flags = SWIFT_ARGS.get(self.reward_name, {})
            raise ValueError(f"{self.reward_name} needs {', '.join(missing)}: pass ms-swift's "
                             f"{', '.join('--' + flags[p] for p in missing if p in flags) or 'flags'} or "
                             f"register_all(params={{{self.reward_name!r}: {{...}}}})")
        self.__name__ = self.reward_name
        self._fn = get(self.reward_name, **self.params)

    def __call__(self, completions, **kwargs) -> list[float | None]:
        texts = [strip_end_tokens(c) if isinstance(c, str) else c for c in completions]
        return self._fn(texts, **swift_columns(kwargs))

    def __reduce__(self):
        return _make_orm, (self.reward_name, self.params)


def _from_swift_args(name: str, args: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of reward ``name`` that ms-swift's ``args`` set (``SWIFT_ARGS``); ValueError (one line) when
    one disagrees with ``params``.

    >>> from types import SimpleNamespace
    >>> _from_swift_args("soft_overlong", SimpleNamespace(soft_max_length=512, soft_cache_length=64), {})
    {'max_len': 512, 'cache_len': 64}
    """
    given = {param: getattr(args, flag, None) for param, flag in SWIFT_ARGS.get(name, {}).items()}
    given = {param: value for param, value in given.items() if value is not None}
    clash = {param: value for param, value in given.items() if param in params and params[param] != value}
    if clash:
        flags = ", ".join(f"--{SWIFT_ARGS[name][p]} {v} vs {p}={params[p]!r}" for p, v in clash.items())
        raise ValueError(f"{name}: ms-swift's flags and the plugin's params disagree ({flags}); set them in one place")
    return given


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
    if not _missing(name, params):  # else validated when ms-swift builds it with its args (SWIFT_ARGS)
        get(name, **params)
    return type(name, (RewardORM,), {"reward_name": name, "params": dict(params), "__module__": __name__})


def _missing(name: str, params: dict[str, Any]) -> list[str]:
    """The required parameters of reward ``name`` that ``params`` does not give."""
    return [p for p, default in parameters(name).items() if default is inspect.Parameter.empty and p not in params]


def _make_orm(name: str, params: dict[str, Any]) -> RewardORM:
    return orm_class(name, **params)()


def orm_classes(params: dict[str, dict[str, Any]] | None = None, prefix: str = "") -> dict[str, type[RewardORM]]:
    """An ORM class for every registered reward, keyed ``prefix + name``. ``params`` configures rewards
    by name; a reward with required parameters is included when ``params`` or ms-swift's own flags
    (``SWIFT_ARGS``: ``soft_overlong`` from ``--soft_max_length``/``--soft_cache_length``) can give them.

    >>> classes = orm_classes(params={"cosine": {"max_len": 512}})
    >>> "soft_overlong" in classes, classes["cosine"]()(["<answer>4</answer>"], solution=["4"])
    (True, [0.998476742500589])
    """
    params = params or {}
    classes = {}
    for name in names():
        missing = _missing(name, params.get(name, {}))
        if not missing or set(missing) <= set(SWIFT_ARGS.get(name, {})):
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
