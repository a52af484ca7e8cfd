"""Recipe YAML -> validated dataclasses -> TRL configs: decides what a recipe means and whether it is valid.
It must never load a model, read a data file or start training; every error names the file and the key."""

from __future__ import annotations

import copy
import dataclasses
import difflib
import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SECTIONS = ("model", "lora", "data", "rewards", "sft", "grpo", "eval")
TOP_LEVEL = (*SECTIONS, "output_dir", "seed", "imports")

# Keys that older TRL releases accepted and the installed one does not, with what to do instead.
_REMOVED_HINTS = {
    "max_prompt_length": "removed from GRPOConfig in TRL 1.x: prompts are no longer truncated, so filter or "
    "shorten long prompts in the data instead",
    "use_liger_loss": "removed from GRPOConfig in TRL 1.x (see `use_liger_kernel`)",
    "vllm_guided_decoding_regex": "renamed in TRL 1.x",
    "warmup_ratio": "removed in transformers 5: a `warmup_steps` below 1 is read as a ratio (e.g. 0.1)",
}
# GRPOConfig/SFTConfig fields the launcher fills in itself.
_MANAGED = {"reward_weights": "set `weight` on each entry of the `rewards` section instead"}


class RecipeError(ValueError):
    """A recipe problem, as ``FILE: KEY: what is wrong``."""

    def __init__(self, source: str | Path | None, key: str, message: str):
        self.source, self.key = str(source or "<recipe>"), key
        super().__init__(f"{self.source}: {key}: {message}")


@dataclass
class ModelSection:
    path: str = ""
    dtype: str = "auto"  # auto | float32 | bfloat16 | float16
    attn_implementation: str | None = None  # eager | sdpa | flash_attention_2 | ...
    trust_remote_code: bool = False
    freeze_vision_tower: bool = False  # VLMs: keep the vision encoder fixed
    freeze_merger: bool = False  # VLMs: keep the vision->text projector fixed
    freeze_layers: int = 0  # keep the first N decoder layers of the language model fixed


@dataclass
class DataSection:
    train: str = ""
    eval: str | None = None
    limit: int | None = None
    system_prompt: str | None = None
    prompt_key: str = "prompt"
    messages_key: str = "messages"
    solution_key: str = "solution"
    images_key: str = "images"
    image_root: str | None = None  # relative image paths are resolved against this folder


@dataclass
class RewardSpec:
    name: str
    weight: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class SftSection:
    data: str | None = None  # prompt/completion or messages rows; defaults to data.train
    limit: int | None = None
    config: dict[str, Any] = field(default_factory=dict)  # SFTConfig fields


@dataclass
class EvalSection:
    data: str | None = None  # defaults to data.eval
    every_n_steps: int | None = None
    before: bool = False  # also score the starting model
    config: dict[str, Any] = field(default_factory=dict)  # evalsuite EvalConfig fields


@dataclass
class Recipe:
    model: ModelSection
    data: DataSection
    rewards: list[RewardSpec]
    grpo: dict[str, Any]
    output_dir: str = "out/grpo-train"
    seed: int = 0
    imports: list[str] = field(default_factory=list)
    lora: dict[str, Any] | None = None
    sft: SftSection | None = None
    eval: EvalSection | None = None
    source: str = "<recipe>"

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.pop("source")
        return out


# ----------------------------------------------------------------------------------------------- loading


def load(path: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> Recipe:
    """Read, override and validate a recipe file. Raises RecipeError naming the file and the key.

    ``overrides`` is ``["--grpo.learning_rate", "1e-5", ...]`` (values parsed as YAML) or a dict
    ``{"grpo.learning_rate": 1e-5}``.
    """
    path = Path(path)
    if not path.is_file():
        raise RecipeError(path, "(file)", "recipe file not found")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise RecipeError(path, "(yaml)", f"not valid YAML: {exc}") from None
    return from_dict(raw, source=str(path), overrides=overrides)


def from_dict(
    raw: dict[str, Any], *, source: str = "<recipe>", overrides: list[str] | dict[str, Any] | None = None
) -> Recipe:
    """Validate a recipe given as a dict (the parsed YAML)."""
    if not isinstance(raw, dict):
        raise RecipeError(source, "(top level)", f"a recipe is a mapping of sections, got {type(raw).__name__}")
    raw = copy.deepcopy(raw)
    for key, value in _parse_overrides(overrides, source).items():
        _set_dotted(raw, key, value, source)
    _check_keys(raw, TOP_LEVEL, "", source)
    for module in raw.get("imports") or []:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise RecipeError(source, "imports", f"cannot import {module!r}: {exc}") from None

    model = _section(ModelSection, raw.get("model"), "model", source)
    if not model.path:
        raise RecipeError(source, "model.path", "required (a local folder or hub id)")
    data = _section(DataSection, raw.get("data"), "data", source)
    if not data.train:
        raise RecipeError(source, "data.train", "required (JSON/JSONL/parquet file or datasets folder)")
    recipe = Recipe(
        model=model,
        data=data,
        rewards=_rewards(raw.get("rewards"), source),
        grpo=_trl_fields("grpo", raw.get("grpo"), source),
        output_dir=str(raw.get("output_dir") or "out/grpo-train"),
        seed=_typed(raw.get("seed", 0), int, "seed", source),
        imports=list(raw.get("imports") or []),
        lora=_lora(raw.get("lora"), source),
        sft=_sft(raw.get("sft"), source),
        eval=_eval(raw.get("eval"), data, source),
        source=source,
    )
    return recipe


def _parse_overrides(overrides, source) -> dict[str, Any]:
    if not overrides:
        return {}
    if isinstance(overrides, dict):
        return dict(overrides)
    out: dict[str, Any] = {}
    items = list(overrides)
    i = 0
    while i < len(items):
        item = items[i]
        if not item.startswith("--"):
            raise RecipeError(source, item, "overrides look like `--section.key value`")
        key = item[2:]
        if "=" in key:
            key, text = key.split("=", 1)
            i += 1
        elif i + 1 < len(items):
            text = items[i + 1]
            i += 2
        else:
            raise RecipeError(source, key, "override has no value")
        try:
            out[key] = yaml.safe_load(text)
        except yaml.YAMLError:
            out[key] = text
    return out


def _set_dotted(raw: dict, dotted: str, value: Any, source: str) -> None:
    parts = dotted.split(".")
    node: Any = raw
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            index = _index(part, node, where, source)
            if isinstance(node[index], str):  # `- accuracy` is short for `- name: accuracy`
                node[index] = {"name": node[index]}
            node = node[index]
            continue
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict | list):
            raise RecipeError(source, where, f"cannot set {dotted!r}: {where} is not a section")
    last = parts[-1]
    if isinstance(node, list):
        node[_index(last, node, dotted, source)] = value
    else:
        node[last] = value


def _index(part: str, node: list, where: str, source: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise RecipeError(source, where, f"list index out of range (the list has {len(node)} entries)")
    return int(part)


def _check_keys(raw: dict, valid, prefix: str, source: str, hints: dict[str, str] | None = None) -> None:
    for key in raw:
        if key not in valid:
            hint = (hints or {}).get(key) or _closest(key, valid)
            raise RecipeError(source, f"{prefix}{key}", f"unknown key{hint}")


def _closest(word: str, options) -> str:
    match = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _section(cls, raw: Any, name: str, source: str):
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RecipeError(source, name, f"must be a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _check_keys(raw, fields, f"{name}.", source)
    values = {k: _coerce(v, fields[k].type, f"{name}.{k}", source) for k, v in raw.items()}
    return cls(**values)


def _typed(value: Any, kind: type, key: str, source: str):
    return _coerce(value, kind.__name__, key, source)


def _coerce(value: Any, annotation: Any, key: str, source: str) -> Any:
    """Light type checks for scalar fields; YAML reads `1e-4` as a string, so numbers in strings are converted."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    text = str(text).replace("typing.", "")
    if value is None:
        return None
    kinds = {part.strip() for part in text.split("|")}
    if "str" in kinds or "Any" in kinds or len(kinds - {"None"}) > 1:
        return value
    kind = (kinds - {"None"}).pop() if kinds - {"None"} else ""
    if kind == "bool":
        if not isinstance(value, bool):
            raise RecipeError(source, key, f"must be true or false, got {value!r}")
    elif kind in ("int", "float"):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise RecipeError(source, key, f"must be a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RecipeError(source, key, f"must be a number, got {value!r}")
        if kind == "int":
            if float(value) != int(value):
                raise RecipeError(source, key, f"must be an integer, got {value!r}")
            value = int(value)
        else:
            value = float(value)
    return value


# ----------------------------------------------------------------------------------------------- sections


def _rewards(raw: Any, source: str) -> list[RewardSpec]:
    if not raw:
        raise RecipeError(source, "rewards", "at least one reward is required, e.g. `- name: accuracy`")
    if not isinstance(raw, list):
        raise RecipeError(source, "rewards", "must be a list of `{name, weight, params}` entries")
    specs = []
    for i, entry in enumerate(raw):
        key = f"rewards.{i}"
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            raise RecipeError(source, key, "must be a reward name or a `{name, weight, params}` mapping")
        _check_keys(entry, ("name", "weight", "params"), f"{key}.", source)
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise RecipeError(source, f"{key}.name", "required (a registry name or `module:function`)")
        weight = _coerce(entry.get("weight", 1.0), "float", f"{key}.weight", source)
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            raise RecipeError(source, f"{key}.params", "must be a mapping of parameter: value")
        _check_reward(name, params, key, source)
        specs.append(RewardSpec(name=name, weight=weight, params=params))
    return specs


def _check_reward(name: str, params: dict, key: str, source: str) -> None:
    if ":" in name:
        try:
            fn = resolve_function(name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise RecipeError(source, f"{key}.name", str(exc)) from None
        if params:
            _check_signature(fn, params, key, source)
        return
    import rewards

    if name not in rewards.names():
        hint = _closest(name, rewards.names())
        raise RecipeError(
            source, f"{key}.name", f"unknown reward {name!r}{hint}; valid: {', '.join(rewards.names())}"
        )
    valid = rewards.parameters(name)
    for param in params:
        if param not in valid:
            raise RecipeError(
                source,
                f"{key}.params.{param}",
                f"unknown parameter for reward {name!r}{_closest(param, valid)}; "
                f"valid: {', '.join(valid) or '(none)'}",
            )
    missing = [p for p, d in valid.items() if d is inspect.Parameter.empty and p not in params]
    if missing:
        raise RecipeError(source, f"{key}.params", f"reward {name!r} needs: {', '.join(missing)}")


def _check_signature(fn, params: dict, key: str, source: str) -> None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    for param in params:
        if param not in sig.parameters:
            raise RecipeError(source, f"{key}.params.{param}", f"not a parameter of {fn.__name__}")


def resolve_function(path: str):
    """`package.module:function` -> the function. A function whose first parameter is not `completions`
    is treated as a factory and called with the reward's params by the launcher."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(f"{path!r} is not a `module:function` path")
    obj = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{path!r} is not callable")
    return obj


def _trl_fields(section: str, raw: Any, source: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RecipeError(source, section, f"must be a mapping, got {type(raw).__name__}")
    fields = trl_fields(section)
    out = {}
    for key, value in raw.items():
        if key in extra:
            continue
        if key in _MANAGED:
            raise RecipeError(source, f"{section}.{key}", _MANAGED[key])
        if key not in fields:
            cls = "GRPOConfig" if section == "grpo" else "SFTConfig"
            hint = _REMOVED_HINTS.get(key, "")
            closest = _closest(key, fields)
            import trl

            message = f"not a field of {cls} in the installed TRL {trl.__version__}"
            message += f"; {hint}" if hint else ""
            raise RecipeError(source, f"{section}.{key}", message + closest)
        out[key] = _coerce(value, fields[key].type, f"{section}.{key}", source)
    return out


def trl_fields(section: str) -> dict[str, dataclasses.Field]:
    """The dataclass fields of the installed TRL's GRPOConfig (``grpo``) or SFTConfig (``sft``)."""
    if section == "grpo":
        from trl import GRPOConfig as cls
    else:
        from trl import SFTConfig as cls
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


def _lora(raw: Any, source: str) -> dict[str, Any] | None:
    if raw in (None, False):
        return None
    if raw is True:
        raw = {}
    if not isinstance(raw, dict):
        raise RecipeError(source, "lora", "must be a mapping of peft LoraConfig fields (or omitted)")
    raw = dict(raw)
    if raw.pop("enabled", True) is False:
        return None
    from peft import LoraConfig

    fields = {f.name: f for f in dataclasses.fields(LoraConfig) if f.init}
    out = {}
    for key, value in raw.items():
        if key not in fields:
            raise RecipeError(source, f"lora.{key}", f"not a field of peft.LoraConfig{_closest(key, fields)}")
        out[key] = _coerce(value, fields[key].type, f"lora.{key}", source)
    out.setdefault("task_type", "CAUSAL_LM")
    return out


def _sft(raw: Any, source: str) -> SftSection | None:
    if raw in (None, False):
        return None
    if not isinstance(raw, dict):
        raise RecipeError(source, "sft", "must be a mapping (data, limit and SFTConfig fields)")
    ours = ("data", "limit", "enabled")
    if raw.get("enabled", True) is False:
        return None
    config = _trl_fields("sft", raw, source, extra=ours)
    return SftSection(
        data=raw.get("data"),
        limit=_coerce(raw.get("limit"), "int | None", "sft.limit", source),
        config=config,
    )


def eval_fields() -> dict[str, dataclasses.Field] | None:
    """Fields of evalsuite's EvalConfig, or None while evalsuite is not importable."""
    try:
        from evalsuite.runner import EvalConfig
    except ImportError:
        return None
    return {f.name: f for f in dataclasses.fields(EvalConfig) if f.init}


def _eval(raw: Any, data: DataSection, source: str) -> EvalSection | None:
    if raw in (None, False):
        return None
    if raw is True:
        raw = {}
    if not isinstance(raw, dict):
        raise RecipeError(source, "eval", "must be a mapping (data, every_n_steps, before and EvalConfig fields)")
    ours = {"data": "str | None", "every_n_steps": "int | None", "before": "bool"}
    managed = ("model", "output_dir")
    fields = eval_fields()
    config = {}
    for key, value in raw.items():
        if key in ours:
            continue
        if key in managed:
            raise RecipeError(source, f"eval.{key}", "set by the launcher (the model being trained, output_dir/eval)")
        if fields is not None and key not in fields:
            valid = [*ours, *(k for k in fields if k not in managed)]
            raise RecipeError(source, f"eval.{key}", f"not an evalsuite EvalConfig field{_closest(key, valid)}")
        config[key] = _coerce(value, fields[key].type, f"eval.{key}", source) if fields else value
    section = EvalSection(
        data=raw.get("data") or data.eval,
        every_n_steps=_coerce(raw.get("every_n_steps"), ours["every_n_steps"], "eval.every_n_steps", source),
        before=_coerce(raw.get("before", False), "bool", "eval.before", source),
        config=config,
    )
    if not section.data:
        raise RecipeError(source, "eval.data", "no validation set: set eval.data or data.eval")
    if section.every_n_steps is not None and section.every_n_steps < 1:
        raise RecipeError(source, "eval.every_n_steps", "must be at least 1")
    return section


# ----------------------------------------------------------------------------------------------- TRL configs


def _device_defaults(values: dict[str, Any], cpu: bool) -> dict[str, Any]:
    if not cpu:
        return values
    values = dict(values)
    values["use_cpu"] = True
    values["bf16"] = False
    values["fp16"] = False
    values.setdefault("gradient_checkpointing", False)
    return values


def grpo_config(recipe: Recipe, *, cpu: bool | None = None):
    """The GRPOConfig this recipe asks for (reward weights from the `rewards` section)."""
    from trl import GRPOConfig

    values = {
        "output_dir": str(Path(recipe.output_dir) / "grpo"),
        "report_to": "none",
        "logging_steps": 1,
        "save_strategy": "no",
        "seed": recipe.seed,
        **recipe.grpo,
        "reward_weights": [spec.weight for spec in recipe.rewards],
    }
    return _build(GRPOConfig, _device_defaults(values, _cpu(cpu)), "grpo", recipe.source)


def sft_config(recipe: Recipe, *, cpu: bool | None = None):
    """The SFTConfig of the warm-up stage (completion-only loss unless the recipe says otherwise)."""
    from trl import SFTConfig

    assert recipe.sft is not None
    values = {
        "output_dir": str(Path(recipe.output_dir) / "sft"),
        "report_to": "none",
        "logging_steps": 10,
        "save_strategy": "no",
        "seed": recipe.seed,
        "completion_only_loss": True,
        **recipe.sft.config,
    }
    return _build(SFTConfig, _device_defaults(values, _cpu(cpu)), "sft", recipe.source)


def _cpu(cpu: bool | None) -> bool:
    if cpu is not None:
        return cpu
    import torch

    return not torch.cuda.is_available()


def _build(cls, values: dict[str, Any], section: str, source: str):
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        raise RecipeError(source, section, f"{cls.__name__} rejected these settings: {exc}") from None
