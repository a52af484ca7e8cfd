"""Recipe YAML -> validated schema (one pydantic model per section) -> TRL configs: what a recipe means.
It must never load a model, read a data file or start training; every error names the file and the key."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from train.errors import Problems, RecipeError, RecipeErrors, closest
from train.fields import GRPO_CHOICES, FieldError, coerce_field, dataclass_fields
from train.reward_funcs import import_modules, validate_rewards

__all__ = ["Recipe", "RecipeError", "from_dict", "grpo_config", "load", "sft_config"]

SECTIONS = ("model", "lora", "data", "rewards", "sft", "grpo", "eval", "preflight", "watchdog")
TOP_LEVEL = (*SECTIONS, "output_dir", "seed", "imports", "device")
# Checkpoints by default, so an interrupted run can resume (`grpo-train RECIPE --resume`).
CHECKPOINTS = {"grpo": {"save_steps": 50, "save_total_limit": 2}, "sft": {"save_steps": 200, "save_total_limit": 2}}

# Keys that older TRL releases accepted and the installed one does not, with what to do instead.
_REMOVED_HINTS = {
    "max_prompt_length": "removed from GRPOConfig in TRL 1.x: prompts are no longer truncated, so filter or "
    "shorten long prompts in the data instead",
    "use_liger_loss": "removed from GRPOConfig in TRL 1.x (see `use_liger_kernel`)",
    "vllm_guided_decoding_regex": "renamed in TRL 1.x",
    "warmup_ratio": "removed in transformers 5: a `warmup_steps` below 1 is read as a ratio (e.g. 0.1)",
}
# TRL config fields the launcher fills in itself.
_MANAGED = {
    "reward_weights": "set `weight` on each entry of the `rewards` section instead",
    "output_dir": "set the top-level `output_dir`; each stage writes under OUTPUT_DIR/<stage>",
}
# Input paths, read against the recipe's folder (values given as overrides: against the current directory).
_PATHS = ("model.path", "data.train", "data.eval", "data.image_root", "data.video_root", "sft.data", "eval.data",
          "sft.resume_from_checkpoint", "grpo.resume_from_checkpoint")
# evalsuite's make_config accepts these in several forms (a list, a comma-separated string, a mapping).
_EVAL_FLEXIBLE = ("rewards", "k", "stop")


# ----------------------------------------------------------------------------------------------- schema


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSection(_Section):
    path: str = ""
    dtype: Literal["auto", "float32", "fp32", "bfloat16", "bf16", "float16", "fp16"] = "auto"
    attn_implementation: str | None = None  # eager | sdpa | flash_attention_2 | ...
    trust_remote_code: bool = False
    freeze_vision_tower: bool = False  # VLMs: keep the vision encoder fixed
    freeze_merger: bool = False  # VLMs: keep the vision->text projector fixed
    freeze_layers: int = Field(0, ge=0)  # keep the first N decoder layers of the language model fixed
    trainable: list[str] | None = None  # parameter-name patterns (re.search): only matching parameters train
    frozen: list[str] = []  # parameter-name patterns held fixed (applied after `trainable`)

    @field_validator("trainable", "frozen")
    @classmethod
    def _patterns_compile(cls, patterns):
        for pattern in patterns or []:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return patterns


class DataSection(_Section):
    train: str = ""
    eval: str | None = None
    limit: int | None = Field(None, ge=1)
    system_prompt: str | None = None
    prompt_key: str = "prompt"
    messages_key: str = "messages"
    solution_key: str = "solution"  # the gold column; rewards read it as `solution` (and under its own name)
    images_key: str = "images"
    image_root: str | None = None  # relative image paths are resolved against this folder
    videos_key: str = "videos"  # video files, sampled into frames
    video_root: str | None = None
    video_fps: float = Field(2.0, gt=0)  # frames per second of video sampled, within [min_frames, max_frames]
    min_frames: int = Field(4, ge=1)
    max_frames: int = Field(16, ge=1)

    @model_validator(mode="after")
    def _frame_bounds(self):
        if self.min_frames > self.max_frames:
            raise ValueError(f"min_frames ({self.min_frames}) is above max_frames ({self.max_frames})")
        return self


class RewardSpec(_Section):
    name: str = Field(min_length=1)
    weight: float = 1.0
    params: dict[str, Any] = {}


class LoraSection(_Section):
    save: Literal["merged", "adapter"] = "merged"  # what OUTPUT_DIR/final holds
    config: dict[str, Any] = {}  # peft.LoraConfig fields


class SftSection(_Section):
    data: str | None = None  # prompt/completion or messages rows; defaults to data.train
    limit: int | None = Field(None, ge=1)
    config: dict[str, Any] = {}  # SFTConfig fields


class EvalSection(_Section):
    data: str | None = None  # defaults to data.eval
    every_n_steps: int | None = Field(None, ge=1)
    before: bool = False  # also score the starting model
    config: dict[str, Any] = {}  # evalsuite EvalConfig fields


class PreflightSection(_Section):
    enabled: bool = True
    prompts: int = Field(8, ge=1)  # training prompts sampled, num_generations completions each
    stop: bool = True  # False: print the figures and train anyway
    max_truncation: float = Field(0.9, ge=0, le=1)  # stop when more than this share is cut off (1: never)


class WatchdogSection(_Section):
    enabled: bool = True
    patience: int = Field(30, ge=1)  # steps in a bad state before stopping (a warning comes first)
    max_zero_std: float = Field(0.95, ge=0, le=1)  # frac_reward_zero_std above this is bad (1: never)
    max_truncation: float = Field(0.95, ge=0, le=1)  # completions/clipped_ratio above this is bad (1: never)
    stop: bool = True  # False: warn only


@dataclass
class Recipe:
    model: ModelSection
    data: DataSection
    rewards: list[RewardSpec]
    grpo: dict[str, Any]
    output_dir: str = "out/grpo-train"
    seed: int = 0
    imports: list[str] = field(default_factory=list)
    device: str = "auto"  # auto: CUDA when there is one; cpu: train on the CPU (bf16/fp16 off); cuda: require it
    lora: LoraSection | None = None
    sft: SftSection | None = None
    eval: EvalSection | None = None
    preflight: PreflightSection = field(default_factory=PreflightSection)
    watchdog: WatchdogSection = field(default_factory=WatchdogSection)
    source: str = "<recipe>"

    @property
    def folder(self) -> Path | None:
        """The recipe file's folder (searched for `module:function` rewards), None for a dict recipe."""
        path = Path(self.source)
        return path.parent.resolve() if path.is_file() else None

    def to_dict(self) -> dict[str, Any]:
        """The resolved recipe in the shape of the YAML file (loading it gives this recipe back)."""
        out: dict[str, Any] = {"output_dir": self.output_dir, "seed": self.seed, "imports": list(self.imports),
                               "device": self.device, "model": self.model.model_dump(), "data": self.data.model_dump(),
                               "rewards": [r.model_dump() for r in self.rewards], "grpo": dict(self.grpo)}
        if self.lora is not None:
            out["lora"] = {"save": self.lora.save, **self.lora.config}
        if self.sft is not None:
            out["sft"] = {"data": self.sft.data, "limit": self.sft.limit, **self.sft.config}
        if self.eval is not None:
            out["eval"] = {"data": self.eval.data, "every_n_steps": self.eval.every_n_steps,
                           "before": self.eval.before, **self.eval.config}
        out["preflight"] = self.preflight.model_dump()
        out["watchdog"] = self.watchdog.model_dump()
        return out


# ----------------------------------------------------------------------------------------------- loading


def load(path: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> Recipe:
    """Read, override and validate a recipe file. Raises RecipeError naming the file and the key.

    ``overrides`` is ``["--grpo.learning_rate", "1e-5", ...]`` (values parsed as YAML) or a dict
    ``{"grpo.learning_rate": 1e-5}``; top-level keys too (``--output_dir``, ``--seed``). Input paths in
    the file are read against its folder, paths given as overrides against the current directory.
    """
    path = Path(path)
    if not path.is_file():
        raise RecipeError(path, "(file)", "recipe file not found")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise RecipeError(path, "(yaml)", f"not valid YAML: {exc}") from None
    return from_dict(raw, source=str(path), overrides=overrides, base_dir=path.resolve().parent)


def from_dict(
    raw: dict[str, Any],
    *,
    source: str = "<recipe>",
    overrides: list[str] | dict[str, Any] | None = None,
    base_dir: str | Path | None = None,
) -> Recipe:
    """Validate a recipe given as a dict (the parsed YAML); relative input paths are read against
    ``base_dir`` (kept as written without one)."""
    if not isinstance(raw, dict):
        raise RecipeError(source, "(top level)", f"a recipe is a mapping of sections, got {type(raw).__name__}")
    raw = copy.deepcopy(raw)
    if base_dir is not None:
        for dotted in _PATHS:
            _resolve_path(raw, dotted, Path(base_dir))
    for key, value in _parse_overrides(overrides, source).items():
        _set_dotted(raw, key, value, source)
        if key in _PATHS:
            _resolve_path(raw, key, Path.cwd())
    problems = Problems()  # every problem of the recipe is reported at once, not the first one alone
    for key in raw:
        with problems.step():
            _check_keys({key: None}, TOP_LEVEL, "", source)

    def section(build, *args, default=None):
        with problems.step():
            return build(*args)
        return default

    model = section(_section, ModelSection, raw.get("model"), "model", source)
    if model is not None and not model.path:
        problems.errors.append(RecipeError(source, "model.path", "required (a local folder or hub id)"))
    data = section(_section, DataSection, raw.get("data"), "data", source)
    if data is not None and not data.train:
        problems.errors.append(RecipeError(source, "data.train", "required (JSON/JSONL/parquet file or datasets folder)"))
    imports = raw.get("imports") or []
    if not isinstance(imports, list) or not all(isinstance(m, str) for m in imports):
        problems.errors.append(RecipeError(source, "imports", "must be a list of module names"))
    output_dir = raw.get("output_dir") or "out/grpo-train"
    if not isinstance(output_dir, str | Path):
        problems.errors.append(RecipeError(source, "output_dir", f"must be a folder path, got {output_dir!r}"))
    device = raw.get("device", "auto")
    if device not in DEVICES:
        problems.errors.append(RecipeError(source, "device", f"{device!r} is not one of {', '.join(DEVICES)}"
                                           f"{closest(str(device), DEVICES)}"))
    parts = {
        "rewards": section(_rewards, raw.get("rewards"), source),
        "grpo": section(_trl_fields, "grpo", raw.get("grpo"), source),
        "seed": section(_seed, raw.get("seed", 0), source),
        "lora": section(_lora, raw.get("lora"), source),
        "sft": section(_sft, raw.get("sft"), source),
        "eval": section(_eval, raw.get("eval"), data, source) if data is not None else None,
        "preflight": section(_section, PreflightSection, raw.get("preflight"), "preflight", source),
        "watchdog": section(_section, WatchdogSection, raw.get("watchdog"), "watchdog", source),
    }
    with problems.step():  # the rewards are built (and `imports` imported first) even when a section failed
        probe = Recipe(model=model or ModelSection(), data=data or DataSection(), rewards=parts["rewards"] or [],
                       grpo={}, imports=list(imports) if isinstance(imports, list) else [], source=source)
        import_modules(probe)  # `imports` may register rewards that the registry check needs
        validate_rewards(probe)
    problems.raise_if_any()
    return Recipe(
        model=model,
        data=data,
        output_dir=str(Path(output_dir).expanduser().absolute()),
        imports=list(imports),
        device=device,
        source=source,
        **parts,
    )


DEVICES = ("auto", "cpu", "cuda")


def _resolve_path(raw: dict, dotted: str, base: Path) -> None:
    section, key = dotted.split(".")
    node = raw.get(section)
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, str) or not value:
        return
    node[key] = _resolved(value, base, hub_id_allowed=dotted == "model.path")


def _resolved(value: str, base: Path, *, hub_id_allowed: bool) -> str:
    """``value`` against ``base`` unless absolute. A model path that is not there is kept as written
    when it could be a hub id (``org/name``); a datasets ``PATH::split`` keeps its split."""
    path, split = value, ""
    if "::" in value and not Path(value).exists():
        path, split = value.rsplit("::", 1)
        split = f"::{split}"
    expanded = Path(path).expanduser()
    if expanded.is_absolute():
        return str(expanded) + split
    candidate = base / expanded
    path_like = path.startswith((".", "~")) or path.count("/") > 1
    if hub_id_allowed and not candidate.exists() and not path_like:
        return value
    return str(candidate.resolve()) + split


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
    """Set ``raw[a][b]...`` from ``a.b...``; list entries by index (``rewards.0.weight``); a key ending in
    ``+`` appends to the list there instead of replacing it (``rewards+: [length]``, ``lora.target_modules+``).

    >>> raw = {"rewards": ["accuracy"], "lora": {"target_modules": ["q_proj"]}}
    >>> _set_dotted(raw, "rewards+", [{"name": "length"}], "r.yaml")
    >>> _set_dotted(raw, "lora.target_modules+", "v_proj", "r.yaml")
    >>> raw["rewards"], raw["lora"]["target_modules"]
    (['accuracy', {'name': 'length'}], ['q_proj', 'v_proj'])
    """
    if dotted.endswith("+"):
        _append_dotted(raw, dotted[:-1], value, source)
        return
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
        if node.get(part) in (None, True):  # `lora: true` / `eval: true` open a section with defaults
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict | list):
            raise RecipeError(source, where, f"cannot set {dotted!r}: {where} is not a section")
    last = parts[-1]
    if isinstance(node, list):
        node[_index(last, node, dotted, source)] = value
    else:
        node[last] = value


def _append_dotted(raw: dict, dotted: str, value: Any, source: str) -> None:
    """``key+``: the items of ``value`` (a list, or one item) appended to the list at ``key`` (created when unset)."""
    parts = dotted.split(".")
    node: Any = raw
    for part in parts[:-1]:
        node = node[_index(part, node, dotted, source)] if isinstance(node, list) else node.setdefault(part, {})
        if node is None or not isinstance(node, dict | list):
            raise RecipeError(source, f"{dotted}+", f"cannot append: {dotted} is not inside a section")
    last = parts[-1]
    current = node.get(last) if isinstance(node, dict) else node[_index(last, node, dotted, source)]
    if current is None:
        current = []
    if not isinstance(current, list):
        raise RecipeError(source, f"{dotted}+", f"`+` appends to a list, and {dotted} is {type(current).__name__}")
    items = value if isinstance(value, list) else [value]
    if isinstance(node, dict):
        node[last] = [*current, *items]
    else:
        node[int(last)] = [*current, *items]


def _index(part: str, node: list, where: str, source: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise RecipeError(source, where, f"list index out of range (the list has {len(node)} entries)")
    return int(part)


def _check_keys(raw: dict, valid, prefix: str, source: str) -> None:
    for key in raw:
        if key not in valid:
            raise RecipeError(source, f"{prefix}{key}", f"unknown key{closest(key, valid)}")


def _section(cls: type[BaseModel], raw: Any, name: str, source: str):
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RecipeError(source, name, f"must be a mapping, got {type(raw).__name__}")
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        raise _schema_error(exc, cls, name, source) from None


def _schema_error(exc: ValidationError, cls: type[BaseModel], prefix: str, source: str) -> RecipeError:
    """pydantic's errors as ``FILE: section.key: problem (did you mean ...)``, one per bad key."""
    errors = [_one_schema_error(error, cls, prefix, source) for error in exc.errors()]
    return errors[0] if len(errors) == 1 else RecipeErrors(errors)


def _one_schema_error(error: dict, cls: type[BaseModel], prefix: str, source: str) -> RecipeError:
    loc = [str(part) for part in error["loc"]]
    key = ".".join(part for part in [prefix, *loc] if part)
    if error["type"] == "extra_forbidden":
        return RecipeError(source, key, f"unknown key{closest(loc[-1], cls.model_fields)}")
    message = error["msg"]
    message = message[0].lower() + message[1:]
    if error["type"] == "value_error":
        return RecipeError(source, key, message.removeprefix("value error, "))
    return RecipeError(source, key, f"got {error['input']!r}: {message}")


def _seed(value: Any, source: str) -> int:
    class _Seed(_Section):
        seed: int

    return _section(_Seed, {"seed": value}, "", source).seed


# ----------------------------------------------------------------------------------------------- sections


def _rewards(raw: Any, source: str) -> list[RewardSpec]:
    if not raw:
        raise RecipeError(source, "rewards", "at least one reward is required, e.g. `- name: accuracy`")
    if not isinstance(raw, list):
        raise RecipeError(source, "rewards", "must be a list of `{name, weight, params}` entries")
    specs = []
    problems = Problems()
    for i, entry in enumerate(raw):
        with problems.step():
            if isinstance(entry, str):
                entry = {"name": entry}
            if not isinstance(entry, dict):
                raise RecipeError(source, f"rewards.{i}", "must be a reward name or a `{name, weight, params}` mapping")
            specs.append(_section(RewardSpec, {k: v for k, v in entry.items() if v is not None or k != "params"},
                                  f"rewards.{i}", source))
    problems.raise_if_any()
    return specs


def _trl_fields(section: str, raw: Any, source: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """The TRL config fields of the ``grpo``/``sft`` section, each typed as the installed TRL declares it."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RecipeError(source, section, f"must be a mapping, got {type(raw).__name__}")
    cls = _trl_class(section)
    fields = dataclass_fields(cls)
    out = {}
    problems = Problems()
    for key, value in raw.items():
        if key in extra:
            continue
        with problems.step():
            if key in _MANAGED:
                raise RecipeError(source, f"{section}.{key}", _MANAGED[key])
            if key not in fields:
                import trl

                hint = _REMOVED_HINTS.get(key, "")
                message = f"not a field of {cls.__name__} in the installed TRL {trl.__version__}"
                message += f"; {hint}" if hint else ""
                raise RecipeError(source, f"{section}.{key}", message + closest(key, fields))
            out[key] = _typed(cls, key, value, f"{section}.{key}", source, GRPO_CHOICES if section == "grpo" else None)
    problems.raise_if_any()
    return out


def _typed(cls, key: str, value: Any, where: str, source: str, choices=None) -> Any:
    try:
        return coerce_field(cls, key, value, choices)
    except FieldError as exc:
        raise RecipeError(source, where, str(exc)) from None


def _trl_class(section: str):
    if section == "grpo":
        from trl import GRPOConfig

        return GRPOConfig
    from trl import SFTConfig

    return SFTConfig


def _lora(raw: Any, source: str) -> LoraSection | None:
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

    save = raw.pop("save", "merged")
    fields = dataclass_fields(LoraConfig)
    config = {}
    for key, value in raw.items():
        if key not in fields:
            raise RecipeError(source, f"lora.{key}", f"not a field of peft.LoraConfig{closest(key, [*fields, 'save'])}")
        config[key] = _typed(LoraConfig, key, value, f"lora.{key}", source)
    config.setdefault("task_type", "CAUSAL_LM")
    if isinstance(config.get("r"), int) and config["r"] < 1:
        raise RecipeError(source, "lora.r", f"the adapter rank must be at least 1, got {config['r']}")
    return _section(LoraSection, {"save": save, "config": config}, "lora", source)


def _sft(raw: Any, source: str) -> SftSection | None:
    if raw in (None, False):
        return None
    if not isinstance(raw, dict):
        raise RecipeError(source, "sft", "must be a mapping (data, limit and SFTConfig fields)")
    if raw.get("enabled", True) is False:
        return None
    config = _trl_fields("sft", raw, source, extra=("data", "limit", "enabled"))
    ours = {k: raw[k] for k in ("data", "limit") if raw.get(k) is not None}
    return _section(SftSection, {**ours, "config": config}, "sft", source)


def _eval(raw: Any, data: DataSection, source: str) -> EvalSection | None:
    if raw in (None, False):
        return None
    if raw is True:
        raw = {}
    if not isinstance(raw, dict):
        raise RecipeError(source, "eval", "must be a mapping (data, every_n_steps, before and EvalConfig fields)")
    from evalsuite.config import EvalConfig

    ours = ("data", "every_n_steps", "before")
    managed = ("model", "output_dir")
    fields = dataclass_fields(EvalConfig)
    config = {}
    for key, value in raw.items():
        if key in ours:
            continue
        if key in managed:
            raise RecipeError(source, f"eval.{key}", "set by the launcher (the model being trained, output_dir/eval)")
        if key not in fields:
            valid = [*ours, *(k for k in fields if k not in managed)]
            raise RecipeError(source, f"eval.{key}", f"not an evalsuite EvalConfig field{closest(key, valid)}")
        config[key] = value if key in _EVAL_FLEXIBLE else _typed(EvalConfig, key, value, f"eval.{key}", source)
    values = {k: raw[k] for k in ours if raw.get(k) is not None}
    values.setdefault("data", data.eval)
    section = _section(EvalSection, {**values, "config": config}, "eval", source)
    if not section.data:
        raise RecipeError(source, "eval.data", "no validation set: set eval.data or data.eval")
    return section


# ----------------------------------------------------------------------------------------------- TRL configs


def _device_defaults(values: dict[str, Any], recipe: Recipe, section: str, cpu: bool | None) -> dict[str, Any]:
    """On a machine without CUDA: the CPU switches when the recipe says ``device: cpu`` (or asks for no GPU
    feature); a recipe asking for bf16/fp16 or ``device: cuda`` fails in one line instead of training on
    the CPU in float32 unannounced (a GPU node with a broken driver would otherwise run for hours)."""
    if recipe.device != "cpu":
        if not _cpu(cpu):
            return values
        why = _no_cuda()
        if recipe.device == "cuda":
            raise RecipeError(recipe.source, "device", f"cuda, but {why}; fix the GPU, or set device: cpu")
        asked = [key for key in ("bf16", "fp16") if values.get(key)]
        if asked:
            raise RecipeError(recipe.source, f"{section}.{asked[0]}", f"true needs a CUDA device, but {why}; "
                              "set device: cpu (--device cpu) to train on the CPU in float32, or fix the GPU")
    values = dict(values)
    values["use_cpu"] = True
    values["bf16"] = False
    values["fp16"] = False
    values.setdefault("gradient_checkpointing", False)
    return values


def grpo_config(recipe: Recipe, *, cpu: bool | None = None):
    """The GRPOConfig this recipe asks for (reward weights from the `rewards` section; checkpoints every
    50 steps, the last two kept, unless the section says otherwise). ``cpu``: whether this machine lacks
    CUDA (default: asks torch); see :func:`_device_defaults`."""
    from trl import GRPOConfig

    values = {
        "output_dir": str(Path(recipe.output_dir) / "grpo"),
        "report_to": "none",
        "logging_steps": 1,
        "save_strategy": "steps",
        **CHECKPOINTS["grpo"],
        "seed": recipe.seed,
        **recipe.grpo,
        "reward_weights": [spec.weight for spec in recipe.rewards],
    }
    return _build(GRPOConfig, _device_defaults(values, recipe, "grpo", cpu), "grpo", recipe.source)


def sft_config(recipe: Recipe, *, cpu: bool | None = None):
    """The SFTConfig of the warm-up stage (completion-only loss and checkpoints every 200 steps, the last
    two kept, unless the recipe says otherwise)."""
    from trl import SFTConfig

    assert recipe.sft is not None
    values = {
        "output_dir": str(Path(recipe.output_dir) / "sft"),
        "report_to": "none",
        "logging_steps": 10,
        "save_strategy": "steps",
        **CHECKPOINTS["sft"],
        "seed": recipe.seed,
        "completion_only_loss": True,
        **recipe.sft.config,
    }
    return _build(SFTConfig, _device_defaults(values, recipe, "sft", cpu), "sft", recipe.source)


def _cpu(cpu: bool | None) -> bool:
    """No CUDA device here (``cpu`` given: the caller says so)."""
    if cpu is not None:
        return cpu
    import torch

    return not torch.cuda.is_available()


def _no_cuda() -> str:
    import torch

    if torch.version.cuda is None:
        return f"this torch ({torch.__version__}) is a CPU-only build"
    return f"torch {torch.__version__} sees no CUDA device (torch.cuda.is_available() is False: driver, CUDA_VISIBLE_DEVICES?)"


def _build(cls, values: dict[str, Any], section: str, source: str):
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        raise RecipeError(source, section, f"{cls.__name__} rejected these settings: {exc}") from None


def changed_keys(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two ``Recipe.to_dict()`` results, as ``key: old -> new``.

    >>> changed_keys({"grpo": {"beta": 0.0, "max_steps": 9}}, {"grpo": {"beta": 0.1, "max_steps": 9}})
    ['grpo.beta: 0.0 -> 0.1']
    """
    out = []
    for key in dict.fromkeys([*old, *new]):
        a, b = old.get(key, "(unset)"), new.get(key, "(unset)")
        if isinstance(a, dict) and isinstance(b, dict):
            out += changed_keys(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return out
