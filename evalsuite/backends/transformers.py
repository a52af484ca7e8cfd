"""Generates completions with a transformers model: batched, left-padded, seeded, n samples per prompt.
It must never change the state of a model or tokenizer it was handed (training mode, RNG, padding side)."""

from __future__ import annotations

import copy
from typing import Any

from evalsuite.backends.base import (
    Completion,
    Prompt,
    Sampling,
    adapter_base,
    as_pil,
    check_model_path,
    cut_at_stop,
    render_chat,
)
from evalsuite.errors import EvalError


class TransformersBackend:
    """``generate`` runs ``model.generate`` on one batch of prompts; a VLM uses its AutoProcessor."""

    name = "transformers"

    def __init__(self, model: Any, tokenizer: Any, processor: Any = None):
        self.model = model
        self.tokenizer = tokenizer
        self.processor = processor

    @classmethod
    def create(cls, config: Any, *, model: Any = None, tokenizer: Any = None) -> TransformersBackend:
        """Load ``config.model`` (a local folder or hub id), or wrap the given model object."""
        import transformers

        processor = None
        if model is None:
            check_model_path(config.model)
            resolve_device(getattr(config, "device", None))  # a bad --device fails before the weights load
            base = adapter_base(config.model)
            if base is not None:
                _require_peft(config.model)
            remote = {"trust_remote_code": bool(getattr(config, "trust_remote_code", False))}
            try:
                model_config = transformers.AutoConfig.from_pretrained(base or config.model, **remote)
                is_vlm = hasattr(model_config, "vision_config")
                if is_vlm:  # before the weights: a processor that cannot load is one line, not minutes later
                    processor = load_processor(config.model, **remote)
                    tokenizer = tokenizer or processor.tokenizer
                dtype = getattr(config, "dtype", "auto") or "auto"
                auto = transformers.AutoModelForImageTextToText if is_vlm else transformers.AutoModelForCausalLM
                model = auto.from_pretrained(config.model, dtype=dtype, **remote)
                tokenizer = tokenizer or _tokenizer(transformers, config.model, base, **remote)
            except (OSError, ValueError) as err:
                raise EvalError(f"cannot load model {config.model!r}: {_remote_hint(err)}") from None
            model.to(resolve_device(getattr(config, "device", None)))
        elif tokenizer is None:
            raise EvalError("a model object was given without its tokenizer (pass tokenizer=...)")
        if processor is None and isinstance(tokenizer, transformers.ProcessorMixin):  # e.g. TRL's processing_class
            processor, tokenizer = tokenizer, tokenizer.tokenizer
        return cls(model, tokenizer, processor)

    def close(self) -> None:
        pass

    def generate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[Completion]]:
        import torch

        if not prompts:
            return []
        template = self.processor if self.processor is not None else self.tokenizer
        per_prompt = 1 if sampling.greedy else sampling.n
        texts = [render_chat(template, p.messages, p.images) for p in prompts]
        inputs = self._encode(texts, prompts, per_prompt)
        device = next(self.model.parameters()).device
        inputs = {k: v.to(device) if hasattr(v, "to") else v for k, v in inputs.items()}
        generation = self._generation_config(sampling)
        processors = []
        if not sampling.greedy:
            seeds = [row_seed(sampling.seed, p.index, p.first_sample + j) for p in prompts for j in range(per_prompt)]
            processors.append(SeededSampler(seeds, sampling, device))
        was_training = self.model.training
        try:
            self.model.eval()
            with torch.no_grad():
                output = self.model.generate(
                    **inputs,
                    generation_config=generation,
                    logits_processor=processors or None,
                    tokenizer=self.tokenizer if sampling.stop else None,
                )
        finally:
            if was_training:
                self.model.train()
        sequences = output if isinstance(output, torch.Tensor) else output.sequences
        new_tokens = sequences[:, inputs["input_ids"].shape[1] :].tolist()
        eos = _as_set(generation.eos_token_id)
        pad = generation.pad_token_id
        results: list[list[Completion]] = []
        for i in range(len(prompts)):
            rows = new_tokens[i * per_prompt : (i + 1) * per_prompt]
            samples = [self._completion(ids, eos, pad, sampling) for ids in rows]
            if per_prompt == 1 and sampling.n > 1:
                samples = [copy.deepcopy(samples[0]) for _ in range(sampling.n)]
            results.append(samples)
        return results

    def _encode(self, texts: list[str], prompts: list[Prompt], per_prompt: int) -> dict:
        """The model inputs of ``per_prompt`` rows per prompt (sample rows of a prompt next to each other).

        A prompt with images is repeated before the processor sees it, so each sample row carries its own
        copy of the prompt's images in whatever layout the processor uses: repeating the processed batch
        instead would also repeat rows that are not per prompt (Qwen2.5-VL's ``pixel_values`` are the
        flattened patches of every image, ``image_grid_thw`` one row per image) and hand samples pieces of
        other prompts' images."""
        if self.processor is not None and any(p.images for p in prompts):
            images = [[as_pil(im) for im in (p.images or [])] for p in prompts for _ in range(per_prompt)]
            texts = [t for t in texts for _ in range(per_prompt)]
            owner = getattr(self.processor, "tokenizer", self.processor)
            side = getattr(owner, "padding_side", None)
            try:
                owner.padding_side = "left"
                return dict(self.processor(text=texts, images=images, padding=True, return_tensors="pt"))
            finally:
                owner.padding_side = side
        ids = [self.tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
        return self._left_pad([x for x in ids for _ in range(per_prompt)])

    def _left_pad(self, ids: list[list[int]]) -> dict:
        import torch

        pad = self._pad_id()
        width = max(len(x) for x in ids)
        input_ids = torch.tensor([[pad] * (width - len(x)) + list(x) for x in ids], dtype=torch.long)
        mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": mask}

    def _pad_id(self) -> int:
        for value in (self.tokenizer.pad_token_id, self.tokenizer.eos_token_id, 0):
            if value is not None:
                return value
        return 0

    def _generation_config(self, sampling: Sampling):
        from transformers import GenerationConfig

        base = getattr(self.model, "generation_config", None)
        eos = getattr(base, "eos_token_id", None) if base is not None else None
        if eos is None:
            eos = self.tokenizer.eos_token_id
        if eos is None:
            raise EvalError("the tokenizer has no end-of-sequence token; cannot tell when a completion ends")
        # Always "greedy" to transformers: sampling happens in SeededSampler, which turns the scores into
        # Gumbel-perturbed ones whose argmax is a draw from the temperature/top-k/top-p distribution.
        settings = {
            "max_new_tokens": sampling.max_tokens,
            "do_sample": False,
            "eos_token_id": eos,
            "pad_token_id": self._pad_id(),
            "use_cache": True,
            "stop_strings": list(sampling.stop) or None,
            "repetition_penalty": 1.0,  # the model's own defaults (e.g. 1.05) are not applied: same as vLLM
        }
        return GenerationConfig(**settings)

    def _completion(self, ids: list[int], eos: set[int], pad: int | None, sampling: Sampling) -> Completion:
        end = next((j + 1 for j, t in enumerate(ids) if t in eos), None)
        if end is not None:
            ids, reason = ids[:end], "stop"
        else:
            reason = "length"
            if pad is not None and ids and ids[-1] == pad:  # padded after a stop string ended it early
                while ids and ids[-1] == pad:
                    ids = ids[:-1]
                reason = "stop"
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        text, stopped = cut_at_stop(text, sampling.stop)
        if stopped:
            reason = "stop"
        return Completion(text=text, token_ids=list(ids), finish_reason=reason)


def resolve_device(device: str | None) -> Any:
    """The torch device for ``--device`` (default: cuda when this torch build sees a GPU, else cpu); a name
    torch does not know, or an accelerator this build or machine lacks, is a one-line EvalError."""
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise EvalError(f"--device {device!r} is not a torch device; use cpu, cuda, cuda:1, mps, ...") from None
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            build = "this torch build has no CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise EvalError(f"--device {device}: {build} (torch {torch.__version__}); use --device cpu, "
                            "or install a CUDA build of torch")
        if chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise EvalError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) are visible")
    elif chosen.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise EvalError(f"--device {device}: MPS is not available on this machine; use --device cpu")
    return chosen


def row_seed(seed: int, index: int, sample: int) -> int:
    """The seed of one sample's generator: a function of the run seed, the prompt's position in the data
    and the sample number only, so a prompt draws the same samples whatever batch it is in (and on resume)."""
    return (seed * 1_000_003 + index * 4_099 + sample) % (2**63 - 1)


class SeededSampler:
    """A logits processor that samples each row with its own ``torch.Generator`` (Gumbel-max trick):
    scores / temperature, top-k and top-p cuts as in transformers' warpers, plus Gumbel noise, so the
    argmax that greedy search takes is a draw from the cut distribution. The global RNG is never used."""

    def __init__(self, seeds: list[int], sampling: Sampling, device: Any):
        import torch

        self.temperature = sampling.temperature
        self.top_k = sampling.top_k_or_none
        self.top_p = sampling.top_p
        self.generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        scores = scores.float() / self.temperature
        vocab = scores.shape[-1]
        if self.top_k is not None and self.top_k < vocab:
            kth = torch.topk(scores, self.top_k, dim=-1).values[:, -1:]
            scores = scores.masked_fill(scores < kth, float("-inf"))
        if self.top_p < 1.0:
            ordered, order = torch.sort(scores, descending=True, dim=-1)
            probs = ordered.softmax(dim=-1)
            before = probs.cumsum(dim=-1) - probs  # mass strictly above each token
            drop = torch.zeros_like(before, dtype=torch.bool).scatter(-1, order, before >= self.top_p)
            scores = scores.masked_fill(drop, float("-inf"))
        uniform = torch.stack(
            [torch.rand(vocab, generator=g, device=scores.device) for g in self.generators]
        ).clamp_(1e-10, 1.0 - 1e-7)
        return scores - torch.log(-torch.log(uniform))


def _as_set(value: Any) -> set[int]:
    if value is None:
        return set()
    return set(value) if isinstance(value, (list, tuple, set)) else {int(value)}


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _require_peft(model: str) -> None:
    try:
        import peft  # noqa: F401
    except ImportError:
        raise EvalError(f"{model!r} is a PEFT adapter folder: install peft (pip install 'grpokit[train]') "
                        "or load a merged model") from None


def _tokenizer(transformers: Any, model: str, base: str | None, **kwargs: Any) -> Any:
    """The folder's own tokenizer; an adapter folder saved without one uses its base model's."""
    try:
        return transformers.AutoTokenizer.from_pretrained(model, **kwargs)
    except (OSError, ValueError):
        if base is None:
            raise
        return transformers.AutoTokenizer.from_pretrained(base, **kwargs)


def load_processor(model: str, *, trust_remote_code: bool = False) -> Any:
    """The AutoProcessor of a VLM folder; a library it needs that is not installed (transformers raises
    ImportError: Qwen2.5-VL's video processor needs torchvision) is one EvalError naming it and the extra."""
    import transformers

    try:
        return transformers.AutoProcessor.from_pretrained(model, trust_remote_code=trust_remote_code)
    except ImportError as err:
        raise EvalError(f"cannot load the processor of {model!r}: {missing_library(err)}") from None


def missing_library(err: ImportError) -> str:
    """One line for an ImportError raised while loading a processor: the missing library and what installs it.

    >>> missing_library(ImportError("\\nQwen2VLVideoProcessor requires the Torchvision library but it was not found"))
    "Qwen2VLVideoProcessor requires the Torchvision library but it was not found; install the VLM extra: pip install 'grpokit[vlm]' (torch and a matching torchvision)"
    """
    line = _first_line(err)
    return f"{line.rstrip('. ')}; install the VLM extra: pip install 'grpokit[vlm]' (torch and a matching torchvision)"


def _remote_hint(err: BaseException) -> str:
    """The first line of a loading error; transformers' refusal to run a folder's own code gets the flag
    that allows it."""
    message = _first_line(err)
    if "trust_remote_code" in str(err):
        return f"{message.rstrip('. ')}: pass --trust-remote-code if you trust the code in that folder"
    return message

