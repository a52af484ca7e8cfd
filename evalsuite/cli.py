"""Command line of evalsuite: `run`, `score`, `merge`, `compare` and `report` parse their flags and call the library.
It must never hold evaluation logic, and never show a traceback for bad input: one line and exit 2."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from evalsuite.backends import BACKENDS
from evalsuite.backends.base import Sampling
from evalsuite.config import EvalConfig
from evalsuite.errors import EvalError
from rewards.extras import missing_extra


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evalsuite", description="Evaluate a model with the same rewards used in training."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    S = argparse.SUPPRESS  # flags not given do not override the YAML config

    run = sub.add_parser("run", help="generate, score and summarize (resumes an interrupted run)")
    run.add_argument("--config", default=None, help="YAML file of settings; flags given here override it")
    run.add_argument("--model", default=S, help="local model folder or hub id")
    run.add_argument("--data", default=S, help="JSON, JSONL, parquet, or a datasets folder (PATH::split)")
    run.add_argument("--backend", choices=BACKENDS, default=S,
                     help="transformers (default), vllm, or openai (a model served over HTTP: needs --base-url)")
    run.add_argument("--n", type=int, default=S, help=f"samples per prompt (default {Sampling.n})")
    run.add_argument("--temperature", type=float, default=S, help="0 = greedy (default)")
    run.add_argument("--top-p", type=float, default=S)
    run.add_argument("--top-k", type=int, default=S, help="-1 or 0 = off (default)")
    run.add_argument("--max-tokens", type=int, default=S, help=f"completion token budget (default {Sampling.max_tokens})")
    run.add_argument("--seed", type=int, default=S)
    run.add_argument("--stop", nargs="+", action="extend", default=S, help="stop strings")
    run.add_argument("--system-prompt", default=S, help="TEXT, or @FILE to read it from a file")
    run.add_argument("--prompt-template", default=S,
                     help="user turn as TEXT or @FILE with {column} placeholders, e.g. '{question} Answer in \\boxed{}.'")
    run.add_argument("--task", default=S, help="preset for gsm8k, math, math500 or aime data (columns, gold, template)")
    run.add_argument("--fewshot", type=int, default=S, help="few-shot examples before each prompt (needs --fewshot-data)")
    run.add_argument("--fewshot-data", default=S, help="where few-shot examples are drawn from (file, folder or hub id)")
    run.add_argument("--fewshot-seed", type=int, default=S, help="seed of the few-shot draw (default 0)")
    run.add_argument("--rewards", default=S,
                     help="comma-separated registry names or module:function (default accuracy,format)")
    run.add_argument("--imports", default=S, help="comma-separated modules to import first (they may register rewards)")
    run.add_argument("--reward-params", type=_json_object, default=S, help='JSON, e.g. \'{"cosine": {"max_len": 512}}\'')
    run.add_argument("--correct", default=S, metavar="REWARD[>=T]",
                     help="when a sample counts as correct for accuracy, pass@k and maj@k: REWARD reaches T "
                          "(default 1), e.g. iou>=1, exact_match (default accuracy)")
    run.add_argument("--k", default=S, help="comma-separated k for pass@k (default 1)")
    run.add_argument("--output-dir", default=S, help="default out/eval")
    run.add_argument("--limit", type=int, default=S, help="evaluate the first N rows only")
    run.add_argument("--shard", default=S, metavar="I/N",
                     help="evaluate shard I of N (from 0, e.g. $SLURM_ARRAY_TASK_ID/4): the prompts whose id hashes "
                          "to I; join the shards with evalsuite merge")
    run.add_argument("--solution-key", default=S, help="gold answer column (default solution)")
    run.add_argument("--prompt-key", default=S)
    run.add_argument("--messages-key", default=S)
    run.add_argument("--batch-size", type=int, default=S, help="prompts per batch (8 transformers, 256 vLLM, 64 openai)")
    run.add_argument("--overwrite", action="store_true", default=S, help="discard what DIR holds and start over")
    run.add_argument("--device", default=S, help="transformers device (default cuda if available, else cpu)")
    run.add_argument("--dtype", default=S, help="model dtype (default auto)")
    run.add_argument("--trust-remote-code", action="store_true", default=S,
                     help="run the Python code a model folder ships (its own model, config or processor classes)")
    run.add_argument("--tensor-parallel-size", type=int, default=S)
    run.add_argument("--data-parallel-size", type=int, default=S)
    run.add_argument("--gpu-memory-utilization", type=float, default=S)
    run.add_argument("--max-model-len", type=int, default=S)
    run.add_argument("--base-url", default=S, help="openai backend: the server's API root, e.g. http://localhost:8000/v1")
    run.add_argument("--api-key-env", default=S, metavar="VAR",
                     help=f"openai backend: the environment variable holding the API key (default {EvalConfig.api_key_env})")
    run.add_argument("--concurrency", type=int, default=S, help=f"openai backend: requests in flight (default {EvalConfig.concurrency})")
    run.add_argument("--request-timeout", type=float, default=S, help=f"openai backend: seconds per request (default {EvalConfig.request_timeout:g})")
    run.add_argument("--max-retries", type=int, default=S,
                     help=f"openai backend: retries of a request on 429, 408, 5xx and connection errors (default {EvalConfig.max_retries})")
    run.add_argument("--endpoint", choices=["chat", "completions"], default=S,
                     help="openai backend: chat (default) or completions (a base model; messages joined as text)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    score = sub.add_parser("score", help="rescore a saved samples.jsonl without a model")
    score.add_argument("file")
    score.add_argument("--k", default="1", help="comma-separated k for pass@k (default 1)")
    score.add_argument("--rewards", default="accuracy,format", help="comma-separated registry names or module:function")
    score.add_argument("--imports", default="", help="comma-separated modules to import first")
    score.add_argument("--correct", default="accuracy", metavar="REWARD[>=T]",
                       help="when a sample counts as correct (default accuracy), e.g. iou>=1, exact_match")
    score.add_argument("--reward-params", type=_json_object, default=None)
    score.add_argument("--output-dir", default=None, help="default: the file's own folder")
    score.add_argument("--solution-key", default="solution")
    score.add_argument("--n", type=int, default=None,
                       help="samples every prompt must have (default: the most any record has)")

    merge = sub.add_parser("merge", help="join the folders of a sharded run (run --shard I/N) into one run")
    merge.add_argument("dirs", nargs="+", metavar="DIR", help="every shard folder of the run, e.g. out/shards/*")
    merge.add_argument("--output-dir", required=True, help="where the merged run is written")
    merge.add_argument("--overwrite", action="store_true", help="replace the run the output folder holds")

    compare = sub.add_parser("compare", help="metric deltas and flipped prompts between two output folders")
    compare.add_argument("dir_a")
    compare.add_argument("dir_b")
    compare.add_argument("--show", type=int, default=20, help="list at most this many flipped ids of each kind")
    compare.add_argument("--allow-different-data", action="store_true",
                         help="compare runs whose prompts or golds differ (pairs only the prompts that match)")

    report = sub.add_parser("report", help="write OUT_DIR/report.html (OUT_DIR/report-vs-OTHER.html beside other runs), "
                                           "a self-contained page to look at a run")
    report.add_argument("out_dir")
    report.add_argument("other_dirs", nargs="*", default=[], metavar="OTHER_DIR",
                        help="a second run: deltas and flipped verdicts; several: the many-run report (OUT_DIR is "
                        "the baseline each one is compared with)")
    report.add_argument("--samples-per-prompt", type=int, default=4, help="completions shown per prompt (default 4)")
    report.add_argument("--output", "-o", default=None, metavar="FILE",
                        help="where to write the page (default OUT_DIR/report.html, or OUT_DIR/report-vs-OTHER.html)")
    report.add_argument("--allow-different-data", action="store_true",
                        help="compare runs whose prompts or golds differ (pairs only the prompts that match)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except EvalError as err:
        print(f"evalsuite: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        hint = missing_extra(err, f"evalsuite {args.command}")
        if hint is None:
            raise
        print(f"evalsuite: error: {hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("evalsuite: interrupted; finished prompts are saved, rerun the same command to resume", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    from evalsuite import report, runner

    if args.command == "run":
        overrides = {k: v for k, v in vars(args).items() if k not in ("command", "config", "no_progress")}
        config = runner.make_config(args.config, overrides)
        summary = runner.run(config, progress=not args.no_progress)
        report.print_summary(summary)
    elif args.command == "score":
        summary = runner.score(
            args.file, k=_csv(args.k), rewards=_csv(args.rewards), reward_params=args.reward_params,
            output_dir=args.output_dir, solution_key=args.solution_key, n=args.n, imports=_csv(args.imports),
            correct=args.correct,
        )
        report.print_summary(summary)
    elif args.command == "merge":
        from evalsuite.merge import merge

        summary = merge(args.dirs, args.output_dir, overwrite=args.overwrite)
        report.print_summary(summary)
    elif args.command == "report":
        from evalsuite.html_report import write_many, write_report

        if len(args.other_dirs) > 1:
            named = {str(d): d for d in [args.out_dir, *args.other_dirs]}
            path = write_many(named, baseline=str(args.out_dir), path=args.output,
                              samples_per_prompt=args.samples_per_prompt, allow_different_data=args.allow_different_data)
        else:
            path = write_report(args.out_dir, *args.other_dirs, path=args.output,
                                samples_per_prompt=args.samples_per_prompt, allow_different_data=args.allow_different_data)
        print(f"wrote {path}")
    else:
        result = runner.compare(args.dir_a, args.dir_b, allow_different_data=args.allow_different_data)
        report.print_comparison(result, show=args.show)
    return 0


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err.msg})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


if __name__ == "__main__":
    sys.exit(main())
