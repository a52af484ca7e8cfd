"""Resolves a user's reward written as ``"module:function"`` (a plain reward, or a factory of one) for every caller.
It must never let a user's file shadow an installed package, and never fail with more than one line naming the spec."""

from __future__ import annotations

import difflib
import importlib
import importlib.machinery
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any


def load_reward(
    spec: str, params: Mapping[str, Any] | None = None, search_paths: Iterable[str | os.PathLike] = ()
) -> Callable[..., list]:
    """The reward named by ``spec`` (``"package.module:function"``, the attribute may be dotted), configured
    with ``params``.

    The module is imported as installed first; only when no installed module has that name is it looked
    for in ``search_paths`` and then the current directory (that folder is then appended to ``sys.path``,
    so worker processes can unpickle the reward; appended, never prepended, so it shadows nothing). A
    training recipe passes its own folder, evalsuite its data file's folder; no PYTHONPATH is needed.

    A function whose first parameter is ``completions`` is a reward: returned as is without ``params``,
    else as a picklable :class:`BoundReward` that keeps its ``__name__`` (``params`` must be its named
    parameters, and win over same-named dataset columns). Any other callable is a factory, called with
    ``params``; what it returns is the reward. Every problem (no module, no attribute, not callable, bad
    params, a factory that fails) is a one-line ValueError naming the spec.

    >>> fn = load_reward("rewards:cosine", {"max_len": 100})
    >>> fn.__name__, fn(["<answer>4</answer>"], solution=["4"])[0] > 0.9
    ('cosine', True)
    >>> load_reward("rewards:cosinus", {})
    Traceback (most recent call last):
    ...
    ValueError: reward 'rewards:cosinus': module 'rewards' has no attribute 'cosinus' (did you mean 'cosine'?)
    """
    module_name, attribute = _split(spec)
    module = import_module(module_name, search_paths, what=f"reward {spec!r}")
    obj = _attribute(module, attribute, spec)
    params = dict(params or {})
    if is_plain_reward(obj):
        if not params:
            return obj
        _check_params(obj, params, spec)
        return BoundReward(obj, params)
    return _call_factory(obj, params, spec)


def import_module(name: str, search_paths: Iterable[str | os.PathLike] = (), *, what: str | None = None) -> ModuleType:
    """Import ``name`` as installed, else from the first of ``search_paths`` and the current directory
    that holds it (see :func:`load_reward`); ValueError (one line) when it cannot be imported.

    >>> import_module("rewards.loading").__name__
    'rewards.loading'
    """
    what = what or f"module {name!r}"
    if name in sys.modules:
        return sys.modules[name]
    if name.endswith(".py") or "/" in name or os.sep in name:
        hint = Path(name).stem
        raise ValueError(_line(f"{what}: {name!r} is a file name; give the module name, e.g. {hint!r}"))
    try:
        with _without_current_directory():
            return _import(name, what)
    except ModuleNotFoundError as err:
        if not _names_the_module(err, name):
            raise ValueError(_line(f"{what}: importing {name!r} failed: {err}")) from None
    folders = _folders(search_paths)
    top = name.partition(".")[0]
    for folder in folders:
        if importlib.machinery.PathFinder.find_spec(top, [folder]) is not None:
            if folder not in sys.path:
                sys.path.append(folder)
            importlib.invalidate_caches()
            try:
                return _import(name, what)
            except ModuleNotFoundError as err:
                raise ValueError(_line(f"{what}: importing {name!r} failed: {err}")) from None
    raise ValueError(_line(f"{what}: no module named {name!r} (not installed, and not in {', '.join(folders)})"))


class BoundReward:
    """A plain reward function with fixed keyword parameters: ``reward(completions, **columns)`` calls
    ``fn(completions, **columns, **params)``. Picklable (the function by reference), and named after the
    function, so TRL logs ``rewards/<function>/mean``."""

    def __init__(self, fn: Callable[..., list], params: Mapping[str, Any]):
        self.fn = fn
        self.params = dict(params)
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, completions, **kwargs) -> list:
        return self.fn(completions, **{**kwargs, **self.params})

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.__name__}({args})"


def is_plain_reward(fn: Any) -> bool:
    """True when ``fn``'s first parameter is ``completions`` (a reward, not a factory of one)."""
    try:
        first = next(iter(inspect.signature(fn).parameters), None)
    except (TypeError, ValueError):
        return False
    return first == "completions"


def _split(spec: Any) -> tuple[str, str]:
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ValueError(_line(f"reward {spec!r} is not a 'module:function' spec (e.g. 'my_rewards:brevity')"))
    module_name, attribute = (part.strip() for part in spec.split(":"))
    if not module_name or not attribute:
        raise ValueError(_line(f"reward {spec!r} is not a 'module:function' spec (e.g. 'my_rewards:brevity')"))
    return module_name, attribute


def _import(name: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        raise
    except Exception as err:  # a user's module may raise anything while it is imported; report it in one line
        raise ValueError(_line(f"{what}: importing {name!r} failed: {type(err).__name__}: {err}")) from None


def _attribute(module: ModuleType, attribute: str, spec: str) -> Any:
    obj: Any = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            owner = f"module {module.__name__!r}" if obj is module else repr(obj)
            hint = _closest(part, [n for n in dir(obj) if not n.startswith("_")])
            shadow = _shadow_hint(module) if obj is module else ""
            raise ValueError(_line(f"reward {spec!r}: {owner} has no attribute {part!r}{hint}{shadow}"))
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(_line(f"reward {spec!r}: {attribute!r} is {type(obj).__name__}, not callable"))
    return obj


def _check_params(fn: Callable, params: dict, spec: str) -> None:
    """A plain reward's ``params`` must be its named parameters; ``**kwargs`` receives dataset columns, so a
    misspelled parameter there would be ignored silently."""
    valid = [
        p.name for p in list(inspect.signature(fn).parameters.values())[1:]
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(_line(
            f"reward {spec!r}: unknown parameter(s) {', '.join(unknown)}{_closest(unknown[0], valid)}; "
            f"valid parameters: {', '.join(valid) or '(none)'}"
        ))


def _call_factory(factory: Callable, params: dict, spec: str) -> Callable[..., list]:
    try:
        inspect.signature(factory).bind(**params)
    except TypeError as err:
        raise ValueError(_line(f"reward {spec!r}: bad parameters for the factory ({err})")) from None
    except ValueError:  # no signature to check (some builtins): the call below decides
        pass
    try:
        fn = factory(**params)
    except Exception as err:  # a user's factory may raise anything; report it in one line
        raise ValueError(_line(f"reward {spec!r}: the factory raised {type(err).__name__}: {err}")) from None
    if not callable(fn):
        raise ValueError(_line(f"reward {spec!r}: the factory returned {type(fn).__name__}, not a reward function"))
    return fn


class _without_current_directory:
    """Take the current directory's entries ('' and its path) off ``sys.path`` for one import, so an
    installed package wins over a same-named file there; they are put back where they were."""

    def __enter__(self) -> None:
        here = {"", ".", os.getcwd()}
        self.removed = [(i, p) for i, p in enumerate(sys.path) if p in here]
        for i, _ in reversed(self.removed):
            del sys.path[i]

    def __exit__(self, *exc: Any) -> None:
        for i, p in self.removed:
            sys.path.insert(min(i, len(sys.path)), p)


def _names_the_module(err: ModuleNotFoundError, name: str) -> bool:
    """The import failed because ``name`` (or a parent package of it) is missing, not a dependency of it."""
    parts = name.split(".")
    return err.name in {".".join(parts[: i + 1]) for i in range(len(parts))}


def _folders(search_paths: Iterable[str | os.PathLike]) -> list[str]:
    folders = [str(Path(p).expanduser().resolve()) for p in search_paths if p]
    folders.append(os.getcwd())
    return [f for f in dict.fromkeys(folders) if os.path.isdir(f)]


def _shadow_hint(module: ModuleType) -> str:
    """When a same-named file sits in the current directory, say that the installed module was used."""
    top = module.__name__.partition(".")[0]
    origin = Path(getattr(sys.modules.get(top), "__file__", None) or os.getcwd()).resolve()
    if Path(os.getcwd()).resolve() in origin.parents or importlib.machinery.PathFinder.find_spec(top, [os.getcwd()]) is None:
        return ""
    return f"; the installed {top!r} is used, not ./{top}.py (rename that file)"


def _closest(word: str, options: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _line(message: str) -> str:
    return " ".join(message.split())
