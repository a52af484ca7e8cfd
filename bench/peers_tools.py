"""The three evaluators bench/peers.py runs side by side (evalsuite, lm-eval, lighteval): each one's command line for a
job, the task files the peers need to run it, and where each puts its completions (read back as {row id: [texts]}).
It must never give one tool other work than the others: same prompts and chat template, token budget, stop (the end
of turn only), sampling (temperature, no top-k/top-p cut), n and batch size."""

from __future__ import annotations

import glob
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVALSUITE_DEFAULT_BATCH = 8  # evalsuite run's default for the transformers backend (docs/evalsuite.md)


@dataclass(frozen=True)
class Setting:
    label: str
    n: int
    temperature: float


GREEDY = Setting("greedy", 1, 0.0)
SAMPLED = Setting("sampled n=4", 4, 1.0)


@dataclass(frozen=True)
class Job:
    """One command's work: ``batch_size`` None leaves the tool's own default."""

    model: Path
    data: Path
    max_tokens: int
    setting: Setting
    batch_size: int | None


class Evalsuite:
    name = "evalsuite"
    knob = "batch"
    package = "grpokit"
    venv = ROOT / ".venv"
    default_batch = EVALSUITE_DEFAULT_BATCH
    build_hint = "make install"

    def prepare(self, work: Path, job: Job) -> None:
        pass

    def command(self, work: Path, job: Job) -> list[str]:
        argv = [str(self.venv / "bin" / "evalsuite"), "run", "--model", str(job.model), "--data", str(job.data),
                "--max-tokens", str(job.max_tokens), "--device", "cpu", "--output-dir", str(work / "out"),
                "--no-progress"]
        if job.setting.n > 1:
            argv += ["--n", str(job.setting.n), "--temperature", str(job.setting.temperature)]
        if job.batch_size is not None:
            argv += ["--batch-size", str(job.batch_size)]
        return argv

    def completions(self, work: Path) -> dict[str, list[str]]:
        return read_evalsuite_samples(work / "out" / "samples.jsonl")


class LmEval:
    """lm-eval's hf model on a custom YAML task (zero-shot: the user turn is the prompt as written, through the
    tokenizer's chat template with --apply_chat_template), samples logged with --log_samples."""

    name = "lm-eval"
    knob = "batch"
    package = "lm_eval"
    venv = ROOT / ".venv-lmeval"
    default_batch = 1  # lm_eval --batch_size
    build_hint = "make peers-envs"

    def prepare(self, work: Path, job: Job) -> None:
        (work / "tasks").mkdir(parents=True, exist_ok=True)
        (work / "tasks" / "peers.yaml").write_text(lm_eval_task_yaml(job))

    def command(self, work: Path, job: Job) -> list[str]:
        return [str(self.venv / "bin" / "lm_eval"), "--model", "hf",
                "--model_args", f"pretrained={job.model},dtype=float32", "--tasks", "grpokit_peers",
                "--include_path", str(work / "tasks"), "--apply_chat_template", "--device", "cpu",
                "--output_path", str(work / "out"), "--log_samples",
                *(["--batch_size", str(job.batch_size)] if job.batch_size is not None else [])]

    def completions(self, work: Path) -> dict[str, list[str]]:
        return read_lm_eval_samples(_one(work / "out", "*/samples_grpokit_peers_*.jsonl"))


class Lighteval:
    """lighteval's accelerate (transformers) command on a custom task file, details saved as parquet. Its model
    is a folder of links to the model's files, named relatively: lighteval caches generations under
    cache_dir/model_name, and an absolute model_name would put that cache inside the model's own folder (and a
    later run would read it). lighteval never asks transformers to sample (it sets do_sample only to turn it off),
    so for n > 1 the folder's generation_config.json says ``do_sample: true``, as a chat model's usually does."""

    name = "lighteval"
    knob = "batch"
    package = "lighteval"
    venv = ROOT / ".venv-lighteval"
    default_batch = "auto"  # lighteval looks for the largest batch that runs, from 512 down
    build_hint = "make peers-envs"

    def prepare(self, work: Path, job: Job) -> None:
        (work / "data").mkdir(parents=True, exist_ok=True)
        (work / "data" / "test.jsonl").write_text(job.data.read_text())
        (work / "model").mkdir()
        for file in job.model.resolve().iterdir():
            (work / "model" / file.name).symlink_to(file)
        if job.setting.n > 1:
            config = work / "model" / "generation_config.json"
            sampling = {**json.loads(config.read_text()), "do_sample": True} if config.exists() else {"do_sample": True}
            config.unlink(missing_ok=True)
            config.write_text(json.dumps(sampling, indent=2) + "\n")
        (work / "peers_task.py").write_text(lighteval_task_file(work / "data", job))
        (work / "model.yaml").write_text(lighteval_model_yaml(work, job))

    def command(self, work: Path, job: Job) -> list[str]:
        return [str(self.venv / "bin" / "python"), str(ROOT / "bench" / "peers_lighteval.py"), "accelerate",
                str(work / "model.yaml"), "grpokit_peers|0", "--custom-tasks", str(work / "peers_task.py"),
                "--output-dir", str(work / "out"), "--save-details"]

    def completions(self, work: Path) -> dict[str, list[str]]:
        import pyarrow.parquet as pq

        rows = pq.read_table(_one(work / "out", "details/*/*/details_grpokit_peers*.parquet")).to_pylist()
        return read_lighteval_details(rows)


TOOLS = (Evalsuite(), LmEval(), Lighteval())


def lm_eval_task_yaml(job: Job) -> str:
    """lm-eval's task: the JSONL as its test split, the prompt column as the user turn, the end of turn as the
    only stop (``until: []``: lm-eval adds the tokenizer's end-of-sequence text), ``repeats`` samples."""
    sampled = job.setting.n > 1
    gen = {"until": [], "max_gen_toks": job.max_tokens, "do_sample": sampled,
           "temperature": job.setting.temperature, **({"top_k": 0, "top_p": 1.0} if sampled else {})}
    config = {
        "task": "grpokit_peers", "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(job.data)}},
        "test_split": "test", "output_type": "generate_until", "doc_to_text": "{{prompt}}",
        "doc_to_target": "{{solution}}", "target_delimiter": "", "repeats": job.setting.n,
        "generation_kwargs": gen, "metric_list": [{"metric": "exact_match", "aggregation": "mean",
                                                   "higher_is_better": True}],
    }
    return json.dumps(config, indent=1) + "\n"  # JSON is YAML


def lighteval_task_file(data_dir: Path, job: Job) -> str:
    """lighteval's custom task module: the prompt column as the query (lighteval applies the chat template when
    the tokenizer has one), no stop sequence but the end of turn, avg@n to make it draw n samples."""
    metric = f"Metrics.avg_at_n(sample_params={{'n': {job.setting.n}}})" if job.setting.n > 1 else "Metrics.exact_match"
    return f'''"""Written by bench/peers.py: the held-out prompts as one lighteval task."""
from lighteval.metrics.metrics import Metrics
from lighteval.tasks.lighteval_task import LightevalTaskConfig
from lighteval.tasks.requests import Doc


def prompt(line, task_name=None):
    return Doc(task_name=task_name, query=line["prompt"], choices=[line["solution"]], gold_index=0)


TASKS_TABLE = [LightevalTaskConfig(
    name="grpokit_peers", prompt_function=prompt, hf_repo={str(data_dir)!r}, hf_subset="default",
    hf_avail_splits=["test"], evaluation_splits=["test"], generation_size={job.max_tokens}, stop_sequence=[],
    metrics=[{metric}],
)]
'''


def lighteval_model_yaml(work: Path, job: Job) -> str:
    params = {"model_name": "model", "dtype": "float32", "device": "cpu", "cache_dir": str(work / "cache"),
              "generation_parameters": {"temperature": job.setting.temperature,
                                        **({"top_k": 0, "top_p": 1.0} if job.setting.n > 1 else {})}}
    if job.batch_size is not None:
        params["batch_size"] = job.batch_size
    return json.dumps({"model_parameters": params}, indent=1) + "\n"


def read_evalsuite_samples(path: Path) -> dict[str, list[str]]:
    """evalsuite's samples.jsonl: one record per prompt, its id and its n completions."""
    records = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {str(r["id"]): list(r["completions"]) for r in records}


def read_lm_eval_samples(path: Path) -> dict[str, list[str]]:
    """lm-eval's samples_<task>_<time>.jsonl: ``doc_id`` (the row's position) and ``resps``, one list per repeat.

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "s.jsonl"
    >>> _ = f.write_text(json.dumps({"doc_id": 3, "resps": [["a"], ["b"]], "filtered_resps": ["a"]}) + "\\n")
    >>> read_lm_eval_samples(f)
    {'3': ['a', 'b']}
    """
    records = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {str(r["doc_id"]): [resp[0] for resp in r["resps"]] for r in records}


def read_lighteval_details(rows: list[dict]) -> dict[str, list[str]]:
    """lighteval's details rows: ``doc.id`` (the row's position) and ``model_response.text``, one per sample.

    >>> read_lighteval_details([{"doc": {"id": "7"}, "model_response": {"text": ["x", "y"]}}])
    {'7': ['x', 'y']}
    """
    return {str(r["doc"]["id"]): list(r["model_response"]["text"]) for r in rows}


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(glob.glob(str(folder / pattern)))
    if len(found) != 1:
        sys.exit(f"peers: expected one file {folder / pattern}, found {len(found)}")
    return Path(found[0])
