"""Types and allowed values of the foreign settings a recipe passes through (TRL, peft, evalsuite configs).
It must never guess a type from an annotation's text: types come from the installed classes via pydantic."""

from __future__ import annotations

import dataclasses
import enum
import functools
import logging
import typing
from typing import Any

from pydantic import TypeAdapter, ValidationError

log = logging.getLogger(__name__)

# Enumerated TRL fields that GRPOConfig accepts at construction and TRL only rejects mid-run (at the first
# step or deep in the trainer). tests/train/test_recipe.py checks this table against the installed TRL's help.
GRPO_CHOICES: dict[str, tuple[Any, ...]] = {
    "loss_type": ("grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo"),
    "vllm_mode": ("server", "colocate"),
    "importance_sampling_level": ("token", "sequence"),
    "scale_rewards": ("group", "batch", "none", True, False),
    "vllm_importance_sampling_mode": ("token_truncate", "token_mask", "sequence_truncate", "sequence_mask"),
    "multi_objective_aggregation": ("sum_then_normalize", "normalize_then_sum"),
}


class FieldError(ValueError):
    """A value the field's type or choices reject; the message says what was expected."""


def dataclass_fields(cls) -> dict[str, dataclasses.Field]:
    """The ``__init__`` fields of a dataclass (a TRL config, peft's LoraConfig, evalsuite's EvalConfig)."""
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


@functools.cache
def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _adapter(cls, name: str) -> TypeAdapter | None:
    """A pydantic validator for ``cls.name``; None for a type pydantic cannot check (an arbitrary class)."""
    try:
        return TypeAdapter(_hints(cls)[name])
    except (TypeError, ValueError, NameError) as exc:  # PydanticSchemaGenerationError is a TypeError
        log.debug("%s.%s is passed through unchecked: %s", cls.__name__, name, exc)
        return None


def coerce_field(cls, name: str, value: Any, choices: dict[str, tuple[Any, ...]] | None = None) -> Any:
    """``value`` validated against the type of field ``name`` of dataclass ``cls`` (numbers written as
    strings, such as YAML's ``1e-4``, become numbers); raises FieldError.

    >>> from trl import GRPOConfig
    >>> coerce_field(GRPOConfig, "learning_rate", "1e-4")
    0.0001
    >>> coerce_field(GRPOConfig, "max_completion_length", "256")  # int | None
    256
    """
    field = dataclass_fields(cls)[name]
    if choices and name in choices:
        return _choice(value, choices[name])
    if value is None and field.default is None:
        return None
    adapter = _adapter(cls, name)
    if adapter is None:
        return value
    try:
        checked = adapter.validate_python(value)
    except ValidationError as exc:
        raise FieldError(_expected(exc, value)) from None
    if isinstance(checked, enum.Enum):
        return checked.value
    # Scalars come back converted (`"1e-4"` -> 0.0001, `2.0` -> 2 for an int); containers stay as written,
    # so the saved recipe keeps the lists YAML and JSON can write.
    return value if isinstance(checked, list | tuple | dict | set) else checked


def _choice(value: Any, allowed: tuple[Any, ...]) -> Any:
    if isinstance(value, bool) and any(a is value for a in allowed):
        return value
    if isinstance(value, str) and value in [a for a in allowed if isinstance(a, str)]:
        return value
    import difflib

    names = [repr(a) if isinstance(a, str) else str(a).lower() for a in allowed]
    match = difflib.get_close_matches(str(value), [a for a in allowed if isinstance(a, str)], n=1)
    hint = f" (did you mean {match[0]!r}?)" if match else ""
    raise FieldError(f"{value!r} is not one of {', '.join(names)}{hint}")


def _expected(exc: ValidationError, value: Any) -> str:
    """pydantic's first complaint as one line: what was given and what the field takes."""
    messages = [m for m in dict.fromkeys(e["msg"] for e in exc.errors()) if m != "Input should be None"]
    return f"got {value!r}: " + "; or ".join(m[0].lower() + m[1:] for m in messages[:3])
