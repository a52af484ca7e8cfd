"""`grpo-train sweep SWEEP.yaml`: one base recipe, named arms of dotted overrides, each a normal run, scored alike and tested.
It must never train by its own code path (every arm is `launcher.run` on a run folder) nor call a row different on noise."""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from train.errors import RecipeError, RunStopped, closest

log = logging.getLogger("grpo-train")

KEYS = ("recipe", "output_dir", "baseline", "arms", "grid", "seeds", "eval", "submitit")
RESERVED = ("eval", "untrained")  # OUTPUT_DIR/eval/ holds the evaluations, eval/untrained the reference row
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=,+@-]*$")
LAUNCHERS = ("local", "submitit")


@dataclass(frozen=True)
class Job:
    """One training run of the sweep: an arm with one seed, its run folder and its evaluation folder."""

    arm: str
    seed: int | None
    run_dir: Path
    eval_dir: Path

    @property
    def name(self) -> str:
        return self.arm if self.seed is None else f"{self.arm}/seed{self.seed}"


@dataclass
class Sweep:
    """A validated SWEEP.yaml: the base recipe, the arms (name -> dotted overrides, the grid expanded), the
    seeds (None: the recipe's own seed), the evalsuite settings every arm is scored with."""

    source: Path
    recipe: Path
    output_dir: Path
    baseline: str
    arms: dict[str, dict[str, Any]]
    seeds: list[int] | None = None
    eval: dict[str, Any] = field(default_factory=dict)
    submitit: dict[str, Any] = field(default_factory=dict)

    def jobs(self) -> list[Job]:
        out = []
        for arm in self.arms:
            for seed in self.seeds or [None]:
                tail = Path(arm) if self.seeds is None or len(self.seeds) == 1 else Path(arm) / f"seed{seed}"
                out.append(Job(arm, seed, self.output_dir / tail, self.output_dir / "eval" / tail))
        return out

    @property
    def reference_dir(self) -> Path:
        return self.output_dir / "eval" / "untrained"

    def arm_recipe(self, job: Job):
        """The arm's recipe: the base recipe with the arm's overrides, its run folder and seed."""
        from train.recipe import load

        overrides = {**self.arms[job.arm], "output_dir": str(job.run_dir)}
        if job.seed is not None:
            overrides["seed"] = job.seed
        return load(self.recipe, overrides)

    def base_recipe(self):
        from train.recipe import load

        return load(self.recipe)


# ----------------------------------------------------------------------------------------------- loading


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate SWEEP.yaml; every problem is a RecipeError ``FILE: KEY: problem``."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(path, "(file)", "sweep file not found")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise RecipeError(path, "(yaml)", f"not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise RecipeError(path, "(top level)", "a sweep is a mapping: recipe, output_dir, baseline, arms, ...")
    for key in raw:
        if key not in KEYS:
            raise RecipeError(path, key, f"unknown key{closest(key, KEYS)}; valid: {', '.join(KEYS)}")
    folder = path.resolve().parent
    recipe = raw.get("recipe")
    if not isinstance(recipe, str) or not recipe:
        raise RecipeError(path, "recipe", "required: the base recipe file")
    recipe_path = (folder / recipe).resolve()
    if not recipe_path.is_file():
        raise RecipeError(path, "recipe", f"recipe file {recipe_path} not found")
    output_dir = raw.get("output_dir")
    if not isinstance(output_dir, str) or not output_dir:
        raise RecipeError(path, "output_dir", "required: the folder the arms' run folders go in")
    arms = _arms(raw.get("arms"), raw.get("grid"), path, folder)
    baseline = raw.get("baseline")
    if baseline not in arms:
        raise RecipeError(path, "baseline", f"{baseline!r} is not an arm{closest(str(baseline), arms)}; "
                          f"arms: {', '.join(arms)}")
    seeds = raw.get("seeds")
    if seeds is not None and (not isinstance(seeds, list) or not seeds or len(set(seeds)) != len(seeds)
                              or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)):
        raise RecipeError(path, "seeds", f"a list of distinct integers, got {seeds!r}")
    evals = raw.get("eval") or {}
    if not isinstance(evals, dict):
        raise RecipeError(path, "eval", "a mapping of evalsuite settings (data, n, temperature, max_tokens, k, ...)")
    for key in ("model", "output_dir"):
        if key in evals:
            raise RecipeError(path, f"eval.{key}", "set by the sweep (each arm's final/ and OUTPUT_DIR/eval/<arm>)")
    evals = dict(evals)
    if isinstance(evals.get("data"), str):
        evals["data"] = _against(evals["data"], folder, model=False)
    submitit = raw.get("submitit") or {}
    if not isinstance(submitit, dict):
        raise RecipeError(path, "submitit", "a mapping of submitit executor parameters (timeout_min, slurm_partition, ...)")
    return Sweep(source=path, recipe=recipe_path, output_dir=Path(output_dir).expanduser().absolute(),
                 baseline=baseline, arms=arms, seeds=seeds, eval=evals, submitit=dict(submitit))


def _arms(arms: Any, grid: Any, source: Path, folder: Path) -> dict[str, dict[str, Any]]:
    from train.recipe import _PATHS

    if arms is None and grid is None:
        raise RecipeError(source, "arms", "required: a mapping of arm name -> dotted overrides ({} for the base recipe)")
    if arms is not None and not isinstance(arms, dict):
        raise RecipeError(source, "arms", "a mapping of arm name -> dotted overrides, e.g. r16: {lora.r: 16}")
    out: dict[str, dict[str, Any]] = {}
    for name, overrides in (arms or {}).items():
        out[_arm_name(name, source, f"arms.{name}")] = _overrides(overrides, source, f"arms.{name}")
    if grid is not None:
        if not isinstance(grid, dict) or not grid or not all(isinstance(v, list) and v for v in grid.values()):
            raise RecipeError(source, "grid", "a mapping of dotted key -> list of values, e.g. {lora.r: [8, 16]}")
        _overrides(dict.fromkeys(grid), source, "grid")
        for values in itertools.product(*grid.values()):
            point = dict(zip(grid, values, strict=True))
            name = ",".join(f"{key}={_scalar(value)}" for key, value in point.items())
            if name in out:
                raise RecipeError(source, "grid", f"the grid's arm {name!r} is also named in arms")
            out[_arm_name(name, source, "grid")] = point
    for overrides in out.values():  # paths in an arm are read against the sweep file's folder
        for key, value in overrides.items():
            if key in _PATHS and isinstance(value, str):
                overrides[key] = _against(value, folder, model=key == "model.path")
    return out


def _arm_name(name: Any, source: Path, key: str) -> str:
    name = str(name)
    if not _NAME.match(name) or name in RESERVED:
        raise RecipeError(source, key, f"arm name {name!r} must be a folder name (letters, digits, . _ = , + @ -) "
                          f"other than {' and '.join(RESERVED)}; name a grid point in arms instead")
    return name


def _overrides(value: Any, source: Path, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecipeError(source, key, "a mapping of dotted recipe keys to values, e.g. {lora.r: 16}")
    for dotted in value:
        if dotted in ("output_dir", "seed"):
            raise RecipeError(source, f"{key}.{dotted}", "set by the sweep (OUTPUT_DIR/<arm>, and `seeds`)")
    return dict(value)


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _against(value: str, folder: Path, *, model: bool) -> str:
    """A path written in the sweep file, read against its folder (as a recipe reads its own paths)."""
    from train.recipe import _resolved

    return _resolved(value, folder, hub_id_allowed=model)


# ----------------------------------------------------------------------------------------------- checks


def check(sweep: Sweep) -> list[str]:
    """Every problem of every arm, each one line (an empty list: all arms pass ``grpo-train --check``).
    Nothing is written."""
    from train import launcher

    problems = []
    for job in sweep.jobs():
        try:
            recipe = sweep.arm_recipe(job)
            launcher.check(recipe)
            eval_config(sweep, job, recipe)
        except RecipeError as exc:
            problems += [f"arm {job.name}: {line}" for line in str(exc).splitlines()]
    try:
        eval_config(sweep, None, sweep.base_recipe())
    except RecipeError as exc:
        problems.append(f"untrained: {exc}")
    return problems


def eval_config(sweep: Sweep, job: Job | None, recipe):
    """The evalsuite settings of one arm's final model (``job`` None: the untrained model): the sweep's
    ``eval`` over the base recipe's eval settings and rewards (custom ones included), the same seed for all;
    the prompt's columns and system prompt are the arm's own (an arm may change how its prompts read)."""
    from evalsuite.config import make_config
    from evalsuite.errors import EvalError
    from train.evaluation import eval_rewards

    base = sweep.base_recipe()
    names, params = eval_rewards(base)
    e = base.eval  # the base recipe's evaluation settings for every arm: an arm cannot score itself differently
    data = sweep.eval.get("data") or (e.data if e is not None else None) or base.data.eval
    if not data:
        raise RecipeError(sweep.source, "eval.data", "no validation set: set eval.data here, or data.eval in the recipe")
    d = recipe.data
    values = {
        "data": data, "system_prompt": d.system_prompt, "prompt_key": d.prompt_key,
        "messages_key": d.messages_key, "solution_key": d.solution_key, "rewards": names, "reward_params": params,
        "trust_remote_code": recipe.model.trust_remote_code, "seed": 0, **(e.config if e is not None else {}),
        **{k: v for k, v in sweep.eval.items() if k != "data"},
        "model": str(job.run_dir / "final") if job is not None else base.model.path,
        "output_dir": str(job.eval_dir if job is not None else sweep.reference_dir),
    }
    if "rewards" in sweep.eval and "reward_params" not in sweep.eval:
        values["reward_params"] = {}
    try:
        return make_config(None, values)
    except EvalError as exc:
        raise RecipeError(sweep.source, "eval", str(exc)) from None


# ----------------------------------------------------------------------------------------------- running


def finished(recipe) -> bool:
    """The run folder holds this very recipe, every stage it runs is recorded and final/ is written."""
    from train.launcher import stage_names
    from train.recipe import changed_keys
    from train.run_dir import RUN_FILE, STAGES_FILE

    folder = Path(recipe.output_dir)
    try:
        saved = json.loads((folder / RUN_FILE).read_text())["recipe"]
        stages = json.loads((folder / STAGES_FILE).read_text())
    except (OSError, ValueError, KeyError):
        return False
    final = folder / "final"
    has_model = (final / "config.json").is_file() or (final / "adapter_config.json").is_file()
    return not changed_keys(saved, recipe.to_dict()) and set(stage_names(recipe)) <= set(stages) and has_model


def run_job(sweep_file: str, arm: str, seed: int | None) -> str:
    """Train one arm (resuming its run folder; skipped when finished) and evaluate its final model.
    Top-level and given only plain values, so submitit can pickle it to a worker. Returns the eval folder."""
    sweep = load_sweep(sweep_file)
    job = next(j for j in sweep.jobs() if j.arm == arm and j.seed == seed)
    return str(_run(sweep, job))


def run_reference(sweep_file: str) -> str:
    """Evaluate the untrained model (the reference row) with the sweep's settings."""
    sweep = load_sweep(sweep_file)
    return str(_evaluate(eval_config(sweep, None, sweep.base_recipe()), "untrained"))


def _run(sweep: Sweep, job: Job) -> Path:
    from train import launcher

    try:
        recipe = sweep.arm_recipe(job)
        if finished(recipe):
            _say(f"arm {job.name}: trained earlier ({job.run_dir}), not retrained")
        else:
            resumed = (job.run_dir / "run.json").is_file()
            _say(f"arm {job.name}: {'resuming' if resumed else 'training'} in {job.run_dir}")
            launcher.run(recipe, progress=False, compact=True, resume=True)
    except RecipeError as exc:
        raise RecipeError(sweep.source, f"arm {job.name}", str(exc)) from None
    return _evaluate(eval_config(sweep, job, recipe), job.name)


def _evaluate(config, name: str) -> Path:
    from evalsuite.errors import EvalError
    from evalsuite.runner import run

    summary = Path(config.output_dir) / "summary.json"
    _say(f"{name}: evaluating {config.model} -> {config.output_dir}" if not summary.is_file()
         else f"{name}: evaluation found in {config.output_dir} (finishing what is missing)")
    try:
        run(config, progress=False)
    except EvalError as exc:
        raise RecipeError(config.output_dir, "eval", f"{name}: {exc}") from None
    return Path(config.output_dir)


def _say(line: str) -> None:
    print(f"[sweep] {line}", flush=True)


def run_sweep(sweep: Sweep, *, launcher: str = "local") -> dict:
    """Train and evaluate every arm that is not done (one after another here, or as submitit jobs), evaluate
    the untrained model once, then write ablation.json, ablation.md and report.html. Returns the ablation."""
    problems = check(sweep)
    if problems:
        raise RecipeError(sweep.source, "(sweep)", "cannot start:\n" + "\n".join(problems))
    sweep.output_dir.mkdir(parents=True, exist_ok=True)
    _write_plan(sweep)
    if launcher == "local":
        _run_reference_local(sweep)
        for job in sweep.jobs():
            _run(sweep, job)
    elif launcher == "submitit":
        _submit(sweep)
    else:
        raise RecipeError(sweep.source, "--launcher", f"{launcher!r} is not one of {', '.join(LAUNCHERS)}")
    return write_ablation(sweep)


def _run_reference_local(sweep: Sweep) -> None:
    _evaluate(eval_config(sweep, None, sweep.base_recipe()), "untrained")


def _write_plan(sweep: Sweep) -> None:
    """OUTPUT_DIR/sweep.json: the expanded arms, seeds and folders (what `grpo-train sweep` ran)."""
    from evalsuite.store import write_json_atomic

    plan = {"sweep": str(sweep.source), "recipe": str(sweep.recipe), "baseline": sweep.baseline,
            "arms": sweep.arms, "seeds": sweep.seeds, "eval": sweep.eval,
            "jobs": [{"arm": j.arm, "seed": j.seed, "run_dir": str(j.run_dir), "eval_dir": str(j.eval_dir)}
                     for j in sweep.jobs()]}
    write_json_atomic(sweep.output_dir / "sweep.json", plan)


def _submit(sweep: Sweep) -> None:
    """Every job as a submitit job (Slurm where `sbatch` is found, else submitit's local executor, or the
    executor ``submitit.cluster`` names), then wait for all; one line per failed job."""
    try:
        import submitit
    except ModuleNotFoundError:
        raise RecipeError(sweep.source, "--launcher", "submitit is not installed: pip install 'grpokit[cluster]'") from None
    params = dict(sweep.submitit)
    cluster = params.pop("cluster", None)
    executor = submitit.AutoExecutor(folder=str(sweep.output_dir / "submitit"), cluster=cluster)
    try:
        executor.update_parameters(**{"name": f"grpo-sweep-{sweep.output_dir.name}", **params})
    except (ValueError, TypeError) as exc:
        raise RecipeError(sweep.source, "submitit", str(exc).splitlines()[0]) from None
    source = str(sweep.source.resolve())
    with executor.batch():
        pending = [("untrained", executor.submit(run_reference, source))]
        pending += [(job.name, executor.submit(run_job, source, job.arm, job.seed)) for job in sweep.jobs()]
    _say(f"submitted {len(pending)} jobs ({executor.cluster}): " + ", ".join(str(j.job_id) for _, j in pending))
    failed = []
    for name, job in pending:
        try:
            job.result()
            _say(f"{name}: done (job {job.job_id})")
        except Exception as exc:  # submitit re-raises the job's error with its traceback text: keep the last line
            lines = [line for line in str(exc).strip().splitlines() if line.strip()]
            failed.append(f"{name} (job {job.job_id}): {lines[-1] if lines else type(exc).__name__}")
    if failed:
        raise RecipeError(sweep.source, "(jobs)", "; ".join(failed) + f"; logs in {sweep.output_dir / 'submitit'}")


# ----------------------------------------------------------------------------------------------- analysis


def _read(folder: Path) -> tuple[dict, dict[str, dict], dict]:
    """(summary, {metric: {prompt id: value}}, {prompt id: data hash}) of one evaluation folder."""
    from evalsuite import metrics
    from evalsuite.correctness import summary_correctness
    from evalsuite.store import read_run

    summary, records = read_run(folder)
    ks = [int(m[5:]) for m in summary["metrics"] if m.startswith("pass@") and m[5:].isdigit()]
    scores = metrics.prompt_scores(records, k=ks, n=summary["n"], correct=summary_correctness(summary))
    return summary, scores, {r["id"]: r.get("data_hash") for r in records}


def write_ablation(sweep: Sweep) -> dict:
    """ablation.json, ablation.md and report.html from the evaluation folders."""
    from evalsuite import stats

    runs = {job: _read(job.eval_dir) for job in sweep.jobs()}
    reference = _read(sweep.reference_dir)
    hashes = reference[2]
    for job, (_, _, other) in runs.items():
        changed = [i for i in hashes if i in other and hashes[i] != other[i]]
        if changed or set(other) != set(hashes):
            raise RecipeError(sweep.source, "eval", f"arm {job.name} was scored on other prompts than the untrained "
                              f"model ({len(changed)} changed, {len(set(other) ^ set(hashes))} not in both)")
    summary = reference[0]
    n = summary["n"]
    metrics = ["accuracy", *(m for m in summary["metrics"] if m.startswith("pass@") and m != "pass@1" and n > 1)]
    pooled = {arm: {metric: stats.pool_seeds([runs[j][1][metric] for j in runs if j.arm == arm]) for metric in metrics}
              for arm in sweep.arms}
    base = pooled[sweep.baseline]
    rows = []
    for arm, overrides in sweep.arms.items():
        row: dict[str, Any] = {"name": arm, "overrides": overrides}
        for metric in metrics:
            cells = _cells(pooled[arm][metric], None if arm == sweep.baseline else base[metric])
            if metric == "accuracy":
                row.update(cells)
            else:
                row.setdefault("metrics", {})[metric] = cells
        seeds = [j for j in runs if j.arm == arm]
        row["seeds"] = [j.seed for j in seeds] if sweep.seeds else None
        row["per_seed"] = pooled[arm]["accuracy"].per_seed
        row["seed_spread"] = pooled[arm]["accuracy"].spread
        row["runs"] = [str(j.run_dir) for j in seeds]
        rows.append(row)
    for metric in metrics:  # Holm across the arms, per metric
        cells = [r if metric == "accuracy" else r["metrics"][metric] for r in rows if r["name"] != sweep.baseline]
        for cell, adjusted in zip(cells, stats.holm([c["p_value"] for c in cells]), strict=True):
            cell["p_adjusted"] = adjusted
            cell["significant"] = adjusted is not None and adjusted < stats.ALPHA
    untrained = {"model": summary["config"].get("model"), "eval_dir": str(sweep.reference_dir)}
    for metric in metrics:  # the reference row is tested too, but is not an arm: no Holm adjustment
        cells = _cells(stats.pool_seeds([reference[1][metric]]), base[metric])
        cells["significant"] = cells["p_value"] is not None and cells["p_value"] < stats.ALPHA
        if metric == "accuracy":
            untrained.update(cells)
        else:
            untrained.setdefault("metrics", {})[metric] = cells
    ablation = {
        "baseline": sweep.baseline, "metric": "accuracy", "arms": rows, "untrained": untrained,
        "prompts": len(hashes), "n": n, "seeds": sweep.seeds, "eval": {**summary["config"], "model": None},
        "tests": "per prompt, paired with the baseline: sign test (McNemar exact) for right/wrong verdicts, else "
                 "the exact paired permutation test; Holm's adjustment across the arms; significant = p_adjusted < 0.05",
    }
    from evalsuite.store import write_json_atomic

    write_json_atomic(sweep.output_dir / "ablation.json", ablation)
    (sweep.output_dir / "ablation.md").write_text(markdown(ablation))
    _write_report(sweep, runs)
    _say(f"wrote {sweep.output_dir / 'ablation.json'}, ablation.md and report.html")
    return ablation


def _cells(arm, base) -> dict[str, Any]:
    """A metric's figures for one arm (pooled over its seeds), tested against the baseline's when given."""
    from evalsuite import stats

    values = list(arm.scores.values())
    out: dict[str, Any] = {
        "accuracy": sum(values) / len(values) if values else None,
        "ci95": stats.proportion_interval(values),
    }
    if base is None:
        return out
    diff = stats.paired_difference(base.scores, arm.scores)
    out.update({"delta": diff.delta, "delta_ci95": diff.ci95, "p_value": diff.p_value, "p_adjusted": None,
                "significant": False, "test": diff.test, "prompts": diff.prompts, "gained": diff.gained,
                "lost": diff.lost})
    return out


def markdown(ablation: dict) -> str:
    """ablation.md: one row per arm (the baseline's first, the untrained model last), then pass@k tables."""
    seeded = bool(ablation.get("seeds")) and len(ablation["seeds"]) > 1
    lines = [f"# Ablation: {ablation['prompts']} prompts, n = {ablation['n']}"
             + (f", seeds {', '.join(map(str, ablation['seeds']))} pooled" if seeded else ""), ""]
    metrics = ["accuracy", *ablation["arms"][0].get("metrics", {})]
    for metric in metrics:
        head = ["arm", "overrides", f"{metric} [95% CI]", "Δ vs baseline [95% CI]", "p", "p (Holm)", "beyond noise"]
        if seeded and metric == "accuracy":
            head.append("seed spread (sd)")
        lines += [f"## {metric}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        order = sorted(ablation["arms"], key=lambda r: r["name"] != ablation["baseline"])
        for row in [*order, {"name": "untrained (reference)", "overrides": None, **_untrained(ablation)}]:
            cell = row if metric == "accuracy" else row.get("metrics", {}).get(metric, {})
            base = row["name"] == ablation["baseline"]
            cells = [f"**{row['name']}** (baseline)" if base else row["name"],
                     "" if row["overrides"] is None else f"`{json.dumps(row['overrides'])}`" if row["overrides"] else "{}",
                     _pct(cell.get("accuracy"), cell.get("ci95"))]
            if base:
                cells += ["", "", "", ""]
            else:
                cells += [_pct(cell.get("delta"), cell.get("delta_ci95"), signed=True), _p(cell.get("p_value")),
                          _p(cell.get("p_adjusted")) if row["overrides"] is not None else "(not adjusted)",
                          "yes" if cell.get("significant") else "no"]
            if seeded and metric == "accuracy":
                spread = row.get("seed_spread")
                cells.append("" if spread is None else f"{100 * spread:.2f}")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"Tests: {ablation['tests']}.", ""]
    if seeded:
        lines += ["Seeds: each prompt's value is its mean over the arm's seeds; `seed spread` is the standard "
                  "deviation of the seeds' own accuracies (points): a delta of that size is what retraining alone "
                  "moves.", ""]
    return "\n".join(lines)


def _untrained(ablation: dict) -> dict:
    return {k: v for k, v in ablation["untrained"].items() if k not in ("model", "eval_dir")}


def _pct(value, interval, *, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    spec = "+.2f" if signed else ".2f"
    text = f"{100 * value:{spec}}"
    if interval:
        text += f" [{100 * interval[0]:{spec}}, {100 * interval[1]:{spec}}]"
    return text


def _p(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def _write_report(sweep: Sweep, runs: dict) -> None:
    """OUTPUT_DIR/report.html: evalsuite's report over every evaluation folder, the baseline's as A."""
    from evalsuite.html_report import write_many

    named = {"untrained": sweep.reference_dir}
    named.update({job.name: job.eval_dir for job in runs})
    base = next(job.name for job in runs if job.arm == sweep.baseline)
    ablation = json.loads((sweep.output_dir / "ablation.json").read_text())
    write_many(named, baseline=base, path=sweep.output_dir / "report.html", ablation=ablation)


def main(argv: list[str]) -> int:
    """`grpo-train sweep SWEEP.yaml [--launcher local|submitit] [--check]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="grpo-train sweep", description="Train, evaluate and test an ablation.")
    parser.add_argument("sweep", help="SWEEP.yaml (recipe, output_dir, baseline, arms, grid, seeds, eval)")
    parser.add_argument("--launcher", choices=LAUNCHERS, default="local",
                        help="local: arms one after another here (default); submitit: Slurm jobs (or its local executor)")
    parser.add_argument("--check", action="store_true", help="check every arm's recipe and the eval settings; write nothing")
    args = parser.parse_args(argv)
    try:
        sweep = load_sweep(args.sweep)
        if args.check:
            problems = check(sweep)
            for line in problems:
                print(f"grpo-train: {line}", file=sys.stderr)
            if not problems:
                print(f"{args.sweep}: ok ({len(sweep.arms)} arms, {len(sweep.jobs())} runs)")
            return 2 if problems else 0
        ablation = run_sweep(sweep, launcher=args.launcher)
    except RecipeError as exc:
        for line in str(exc).splitlines():
            print(f"grpo-train: {line}", file=sys.stderr)
        return 2
    except RunStopped as exc:  # an arm's preflight or watchdog: fix its overrides, rerun to finish the rest
        print(f"{exc}\ngrpo-train: the sweep stopped at that arm; rerun `grpo-train sweep {args.sweep}` after "
              "fixing it to finish what is missing", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(f"\ngrpo-train: interrupted; rerun `grpo-train sweep {args.sweep}` to finish what is missing",
              file=sys.stderr)
        return 130
    print(markdown(ablation))
    return 0
