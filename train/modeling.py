"""The model a recipe trains: loading, freezing (switches and parameter-name patterns), LoRA, the saved artifact.
It must never change which parameters train without saying so: every pattern must match, counts are shown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from train.errors import RecipeError, closest
from train.recipe import Recipe

_DTYPES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
           "float16": "float16", "fp16": "float16"}


def check_model_path(recipe: Recipe) -> None:
    """A local folder must exist and hold a model (``config.json``); anything else must have the form of a
    hub id (``org/name``). Checked before anything loads."""
    path = recipe.model.path
    local = Path(path).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise RecipeError(recipe.source, "model.path", f"{path} holds no config.json (not a saved model)")
        return
    if local.exists():
        raise RecipeError(recipe.source, "model.path", f"{path} is a file, not a model folder")
    looks_local = path.startswith((".", "/", "~")) or path.count("/") > 1 or "\\" in path
    if looks_local:
        hint = " (the shipped recipes hold path/to/ placeholders: set --model.path)" if "path/to" in path else ""
        raise RecipeError(recipe.source, "model.path", f"model folder {path} does not exist{hint}")
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(path)
    except HFValidationError as exc:
        raise RecipeError(recipe.source, "model.path", f"neither a local folder nor a hub id: {exc}") from None


def check_processor(recipe: Recipe, path: str | Path | None = None) -> None:
    """Load a local VLM's processor (its configuration and tokenizer files, no weights) so that a library it
    needs and lacks (Qwen2.5-VL's video processor needs torchvision) is one RecipeError before anything is
    written. A text model, a config transformers cannot read, or a hub id (not fetched by a check) is left to
    the loading itself."""
    from transformers import AutoConfig, AutoProcessor

    from evalsuite.backends.transformers import missing_library

    m = recipe.model
    path = str(path or m.path)
    if not Path(path).expanduser().is_dir():
        return
    try:
        config = AutoConfig.from_pretrained(path, trust_remote_code=m.trust_remote_code)
    except (OSError, ValueError):
        return
    if getattr(config, "vision_config", None) is None:
        return
    try:
        AutoProcessor.from_pretrained(path, trust_remote_code=m.trust_remote_code)
    except ImportError as exc:
        raise RecipeError(recipe.source, "model.path",
                          f"cannot load the processor of {path}: {missing_library(exc)}") from None
    except (OSError, ValueError) as exc:
        raise RecipeError(recipe.source, "model.path", f"cannot load the processor of {path}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def precision_warning(recipe: Recipe) -> str | None:
    """One line when the recipe trains full parameters in pure half precision (weights loaded in bfloat16 or
    float16, no LoRA): an update smaller than the weight's precision (about 1/128 of it in bf16: a 1e-5
    learning rate on weights near 1.0) rounds away and never lands. ``None`` otherwise."""
    dtype = _DTYPES.get(recipe.model.dtype)
    if dtype not in ("bfloat16", "float16") or recipe.lora is not None:
        return None
    rate = recipe.grpo.get("learning_rate")
    at = f" (learning rate {rate:g})" if isinstance(rate, int | float) else ""
    flag = "bf16" if dtype == "bfloat16" else "fp16"
    return (f"{recipe.source}: model.dtype {recipe.model.dtype} trains every parameter in pure {dtype}: updates "
            f"below its precision{at} round away and never land; set model.dtype: float32 with grpo.{flag}: true "
            f"(float32 weights, {flag} autocast), or train LoRA adapters")


def _dtype(recipe: Recipe):
    import torch

    if recipe.model.dtype == "auto":
        return "auto" if torch.cuda.is_available() and recipe.device != "cpu" else torch.float32
    return getattr(torch, _DTYPES[recipe.model.dtype])


def load_model(recipe: Recipe, path: str | Path | None = None):
    """(model, processing_class, is_vlm) from ``path`` (default: the recipe's model), freezing applied."""
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        AutoModelForImageTextToText,
        AutoProcessor,
        AutoTokenizer,
    )

    m = recipe.model
    path = str(path or m.path)
    config = AutoConfig.from_pretrained(path, trust_remote_code=m.trust_remote_code)
    is_vlm = getattr(config, "vision_config", None) is not None
    kwargs: dict[str, Any] = {"dtype": _dtype(recipe), "trust_remote_code": m.trust_remote_code}
    if m.attn_implementation:
        kwargs["attn_implementation"] = m.attn_implementation
    cls = AutoModelForImageTextToText if is_vlm else AutoModelForCausalLM
    model = cls.from_pretrained(path, **kwargs)
    if is_vlm:
        processing_class = AutoProcessor.from_pretrained(path, trust_remote_code=m.trust_remote_code)
        processing_class.tokenizer.padding_side = "left"
    else:
        processing_class = AutoTokenizer.from_pretrained(path, trust_remote_code=m.trust_remote_code)
        processing_class.padding_side = "left"
    freeze(model, recipe)
    return model, processing_class, is_vlm


def empty_model(recipe: Recipe):
    """The recipe's model built on the meta device (no weights read, no memory), freezing applied: what
    ``--print`` counts."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForImageTextToText

    m = recipe.model
    config = AutoConfig.from_pretrained(m.path, trust_remote_code=m.trust_remote_code)
    cls = AutoModelForImageTextToText if getattr(config, "vision_config", None) is not None else AutoModelForCausalLM
    with torch.device("meta"):
        model = cls.from_config(config, trust_remote_code=m.trust_remote_code)
    freeze(model, recipe)
    return model


def _find(model, paths: tuple[str, ...]):
    for path in paths:
        obj = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            return obj
    return None


def vision_tower(model):
    return _find(model, ("model.visual", "visual", "model.vision_tower", "vision_tower", "model.vision_model",
                         "vision_model"))


def decoder_layers(model):
    return _find(model, ("model.language_model.layers", "model.layers", "language_model.model.layers",
                         "language_model.layers"))


def freeze(model, recipe: Recipe) -> dict[str, int]:
    """Apply the model section's freezing; returns how many parameters each rule froze.

    Order: ``trainable`` patterns (only matching parameters train), then the switches
    (``freeze_vision_tower``, ``freeze_merger``, ``freeze_layers``), then ``frozen`` patterns. A pattern is
    a regular expression searched in the parameter name (``model.language_model.layers.3.mlp.up_proj.weight``)
    and must match at least one parameter."""
    m, source = recipe.model, recipe.source
    frozen: dict[str, int] = {}
    named = dict(model.named_parameters())
    if m.trainable is not None:
        matched = _matching(named, m.trainable, "model.trainable", source)
        frozen["trainable"] = sum(p.numel() for n, p in named.items() if n not in matched and p.requires_grad)
        for name, p in named.items():
            p.requires_grad_(name in matched)

    def _off(module, what):
        n = 0
        for p in module.parameters():
            if p.requires_grad:
                p.requires_grad_(False)
                n += p.numel()
        frozen[what] = frozen.get(what, 0) + n

    if m.freeze_vision_tower or m.freeze_merger:
        tower = vision_tower(model)
        if tower is None:
            key = "model.freeze_vision_tower" if m.freeze_vision_tower else "model.freeze_merger"
            raise RecipeError(source, key, f"{type(model).__name__} has no vision tower")
        merger = getattr(tower, "merger", None) or getattr(model, "multi_modal_projector", None) or getattr(
            getattr(model, "model", None), "multi_modal_projector", None
        )
        if m.freeze_vision_tower:
            for child in tower.children():
                if child is not merger:
                    _off(child, "vision_tower")
        if m.freeze_merger:
            if merger is None:
                raise RecipeError(source, "model.freeze_merger", f"{type(model).__name__} has no merger/projector")
            _off(merger, "merger")
    if m.freeze_layers:
        layers = decoder_layers(model)
        if layers is None or m.freeze_layers > len(layers):
            have = 0 if layers is None else len(layers)
            raise RecipeError(source, "model.freeze_layers", f"the model has {have} decoder layers")
        for layer in list(layers)[: m.freeze_layers]:
            _off(layer, "layers")
    if m.frozen:
        matched = _matching(named, m.frozen, "model.frozen", source)
        frozen["frozen"] = sum(named[n].numel() for n in matched if named[n].requires_grad)
        for name in matched:
            named[name].requires_grad_(False)
    return frozen


def _matching(named: dict, patterns: list[str], key: str, source: str) -> set[str]:
    matched: set[str] = set()
    for i, pattern in enumerate(patterns):
        hits = {name for name in named if re.search(pattern, name)}
        if not hits:
            examples = ", ".join(list(named)[:3])
            raise RecipeError(source, f"{key}.{i}", f"{pattern!r} matches no parameter name (names look like "
                                                    f"{examples}, ...)")
        matched |= hits
    return matched


def trainable_groups(model) -> list[tuple[str, int, int]]:
    """``(group, trainable, total)`` parameter counts per module group: names cut after their first numeric
    index (``model.layers.3``) or before the last part, consecutive indices with the same state joined
    (``model.layers.0-4``).

    >>> import torch
    >>> net = torch.nn.Module(); net.layers = torch.nn.ModuleList(torch.nn.Linear(2, 2) for _ in range(3))
    >>> net.layers[2].requires_grad_(False)  # doctest: +ELLIPSIS
    Linear(...)
    >>> trainable_groups(net)
    [('layers.0-1', 12, 12), ('layers.2', 0, 6)]
    """
    groups: dict[str, list[int]] = {}
    for name, p in model.named_parameters():
        parts = name.split(".")
        cut = next((i + 1 for i, part in enumerate(parts) if part.isdigit()), max(1, len(parts) - 1))
        counts = groups.setdefault(".".join(parts[:cut]), [0, 0])
        counts[0] += p.numel() if p.requires_grad else 0
        counts[1] += p.numel()
    out: list[tuple[str, int, int]] = []
    run: list[Any] = []  # [prefix, first index, last index, state, trainable, total]
    for group, (trainable, total) in groups.items():
        prefix, _, index = group.rpartition(".")
        state = "all" if trainable == total else "none" if trainable == 0 else "some"
        if index.isdigit() and run and run[0] == prefix and run[2] == int(index) - 1 and run[3] == state:
            run[2], run[4], run[5] = int(index), run[4] + trainable, run[5] + total
            continue
        if run:
            out.append(_run_row(run))
        run = [prefix, int(index), int(index), state, trainable, total] if index.isdigit() else [group, None, None,
                                                                                                 state, trainable, total]
    if run:
        out.append(_run_row(run))
    return out


def _run_row(run: list[Any]) -> tuple[str, int, int]:
    prefix, first, last, _, trainable, total = run
    if first is None:
        return prefix, trainable, total
    return f"{prefix}.{first}" + (f"-{last}" if last != first else ""), trainable, total


def lora_config(recipe: Recipe, base: str | Path | None = None):
    """peft's LoraConfig for the recipe, recording ``base`` (the weights the adapter applies to)."""
    if recipe.lora is None:
        return None
    from peft import LoraConfig

    values = dict(recipe.lora.config)
    if base is not None:
        values["base_model_name_or_path"] = str(base)
    try:
        return LoraConfig(**values)
    except (ValueError, TypeError) as exc:
        raise RecipeError(recipe.source, "lora", str(exc)) from None


def check_lora_targets(recipe: Recipe) -> None:
    """``lora.target_modules`` against the module names of the model built from its config on the meta
    device (no weights read): a list entry must name a module (its full name, or the last parts of it, as
    peft matches), a string is a regular expression that must match one; ``all-linear`` and unset are
    peft's to resolve. A hub id is not fetched by a check. One RecipeError names every miss and the
    model's linear layers."""
    if recipe.lora is None or not Path(recipe.model.path).expanduser().is_dir():
        return
    targets = recipe.lora.config.get("target_modules")
    if not targets or targets == "all-linear":
        return
    try:
        model = empty_model(recipe)
    except (OSError, ValueError, KeyError):
        return  # a config transformers cannot build: the loading itself will say so
    names = [name for name, _ in model.named_modules() if name]
    if isinstance(targets, str):
        if not any(re.fullmatch(targets, name) for name in names):
            raise RecipeError(recipe.source, "lora.target_modules", f"the pattern {targets!r} matches no module "
                              f"of {recipe.model.path}; {_linear_names(model)}")
        return
    missing = [t for t in targets if not any(name == t or name.endswith(f".{t}") for name in names)]
    if missing:
        leaves = {name.rsplit(".", 1)[-1] for name in names}
        hints = "".join(closest(t, leaves) for t in missing[:1])
        raise RecipeError(recipe.source, "lora.target_modules", f"{', '.join(map(repr, missing))} "
                          f"{'matches' if len(missing) == 1 else 'match'} no module of {recipe.model.path}{hints}; "
                          f"{_linear_names(model)}")


def _linear_names(model) -> str:
    import torch

    linear = sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                     if isinstance(module, torch.nn.Linear) and name})
    return f"its linear layers: {', '.join(linear)}" if linear else "it has no linear layers"


def merged(model):
    """A PeftModel's adapter merged into its weights (a plain transformers model); other models unchanged."""
    from peft import PeftModel

    return model.merge_and_unload() if isinstance(model, PeftModel) else model


def point_at(model, path: str | Path) -> None:
    """Record ``path`` as where ``model``'s weights live, so an adapter trained on it names that base."""
    model.name_or_path = str(path)
    model.config._name_or_path = str(path)


def save(model, processing_class, path: str | Path) -> Path:
    """``model`` and its tokenizer/processor in ``path``: a folder ``from_pretrained`` and evalsuite load."""
    path = Path(path)
    model.save_pretrained(str(path))
    processing_class.save_pretrained(str(path))
    return path
