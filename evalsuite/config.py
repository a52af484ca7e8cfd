"""The settings of one evaluation run (EvalConfig), read from YAML and command-line overrides.
It must never accept a setting it does not know: a typo is an error listing the valid names."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalsuite.backends import BACKENDS
from evalsuite.backends.base import Sampling
from evalsuite.correctness import Correctness
from evalsuite.errors import EvalError
from evalsuite.shards import Shard
from evalsuite.tasks import TASKS

# Changing any of these changes what gets generated, so a folder saved with other values is not resumed
# (except n, which may grow: the run is then extended).
GENERATION_KEYS = (
    "model", "data", "backend", "n", "temperature", "top_p", "top_k", "max_tokens", "seed", "stop",
    "system_prompt", "prompt_key", "messages_key", "solution_key",
)
# Prompting settings added later: saved only when set, so folders written before they existed still resume.
PROMPT_KEYS = ("prompt_template", "task", "fewshot", "fewshot_data", "fewshot_seed", "endpoint")
# Saved only when set too: a shard's folder is never resumed as another shard or as the whole run.
SHARD_KEYS = ("shard",)
VLLM_ONLY = ("tensor_parallel_size", "data_parallel_size", "gpu_memory_utilization", "max_model_len", "vllm_kwargs")
# The openai backend's own settings; where the server is and how it is asked never block a resume (endpoint,
# which changes the prompt, is in PROMPT_KEYS). LOCAL_ONLY: what only a backend that loads the model uses.
OPENAI_ONLY = ("base_url", "api_key_env", "concurrency", "request_timeout", "max_retries", "endpoint")
LOCAL_ONLY = ("device", "dtype", "trust_remote_code")


@dataclass
class EvalConfig:
    """Everything `evalsuite run` accepts; field names equal the CLI flags and YAML keys (dashes or
    underscores). ``batch_size`` None picks 8 prompts per batch for transformers and 256 for vLLM."""

    model: str = ""
    data: str = ""
    backend: str = "transformers"
    # the sampling defaults are Sampling's (evalsuite/backends/base.py), their one home
    n: int = Sampling.n
    temperature: float = Sampling.temperature
    top_p: float = Sampling.top_p
    top_k: int | None = Sampling.top_k
    max_tokens: int = Sampling.max_tokens
    seed: int = Sampling.seed
    stop: tuple[str, ...] = Sampling.stop
    system_prompt: str | None = None
    prompt_template: str | None = None
    task: str | None = None
    fewshot: int = 0
    fewshot_data: str | None = None
    fewshot_seed: int = 0
    rewards: tuple[str, ...] = ("accuracy", "format")
    reward_params: dict[str, dict] = field(default_factory=dict)
    imports: tuple[str, ...] = ()
    correct: str = "accuracy"  # REWARD[>=THRESHOLD]: a sample is correct (accuracy, pass@k, maj@k) when REWARD reaches it
    k: tuple[int, ...] = (1,)
    output_dir: str = "out/eval"
    limit: int | None = None
    shard: str | None = None  # "I/N": the prompts of shard I (from 0) of N, chosen by a hash of their id (evalsuite.shards)
    solution_key: str = "solution"
    prompt_key: str = "prompt"
    messages_key: str = "messages"
    batch_size: int | None = None
    overwrite: bool = False
    device: str | None = None
    dtype: str = "auto"
    trust_remote_code: bool = False  # run the model folder's own Python code (its config, model, processor)
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    gpu_memory_utilization: float | None = None  # vLLM's default; on CPU it is the share of RAM
    max_model_len: int | None = None
    vllm_kwargs: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None  # openai backend: the server's API root, e.g. http://localhost:8000/v1
    api_key_env: str = "OPENAI_API_KEY"  # the environment variable holding the key (the key is never stored)
    concurrency: int = 16  # requests in flight
    request_timeout: float = 600.0  # seconds one request may take
    max_retries: int = 6  # retries of one request on 429, 408, 5xx and connection errors
    endpoint: str = "chat"  # chat (/chat/completions, messages) or completions (/completions, a base-model prompt)

    def __post_init__(self) -> None:
        self.stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())
        self.rewards = tuple(_as_list(self.rewards))
        self.imports = tuple(_as_list(self.imports))
        try:
            self.k = tuple(int(x) for x in _as_list(self.k))
        except (TypeError, ValueError):
            raise EvalError(f"k must be whole numbers like 1,4,8, got {self.k!r}") from None
        if self.top_k is not None and self.top_k <= 0:
            self.top_k = None
        correct = Correctness.parse(self.correct)  # a malformed spec is one EvalError
        self.correct = "accuracy" if correct.is_default else str(correct)
        self.shard = None if self.shard is None else str(Shard.parse(self.shard))
        self.validate()

    @property
    def correctness(self) -> Correctness:
        return Correctness.parse(self.correct)

    def validate(self) -> None:
        """Raise EvalError (one line) for values no backend could run."""
        checks = [
            (self.n >= 1, f"n must be >= 1, got {self.n}"),
            (self.temperature >= 0, f"temperature must be >= 0, got {self.temperature}"),
            (0 < self.top_p <= 1, f"top_p must be in (0, 1], got {self.top_p}"),
            (self.max_tokens >= 1, f"max_tokens must be >= 1, got {self.max_tokens}"),
            (all(k >= 1 for k in self.k), f"every k must be >= 1, got {list(self.k)}"),
            (self.limit is None or self.limit >= 0, f"limit must be >= 0, got {self.limit}"),
            (self.batch_size is None or self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (bool(self.rewards), "give at least one reward name"),
            (self.backend in BACKENDS, f"unknown backend {self.backend!r}; choose one of: {', '.join(BACKENDS)}"),
            (self.tensor_parallel_size >= 1 and self.data_parallel_size >= 1, "parallel sizes must be >= 1"),
        ]
        checks += [
            (all(k <= self.n for k in self.k),
             f"pass@{max(self.k)} needs at least {max(self.k)} samples per prompt; use --n {max(self.k)} or more"),
            (self.fewshot >= 0, f"fewshot must be >= 0, got {self.fewshot}"),
            (not self.fewshot or bool(self.fewshot_data),
             f"--fewshot {self.fewshot} needs --fewshot-data FILE (e.g. the benchmark's train split)"),
            (self.fewshot or not self.fewshot_data, "--fewshot-data is given but --fewshot is 0; set --fewshot N"),
            (self.task is None or self.task in TASKS, f"unknown task {self.task!r}; choose one of: {', '.join(TASKS)}"),
            (self.task is None or self.solution_key == "solution",
             f"--solution-key cannot be combined with --task {self.task}: the task reads the gold answer itself"),
        ]
        if self.backend != "vllm":
            given = self._changed(VLLM_ONLY)
            checks.append((not given, f"--{given} is a vLLM setting; add --backend vllm, or leave it out for the "
                                      f"{self.backend} backend"))
        if self.backend != "openai":
            given = self._changed(OPENAI_ONLY)
            checks.append((not given, f"--{given} is a setting of the openai backend; add --backend openai, or leave "
                                      f"it out for the {self.backend} backend"))
        if self.backend == "vllm":
            checks.append((self.device is None, "--device is a transformers setting; vLLM places the model on the "
                                                "GPUs that CUDA_VISIBLE_DEVICES shows"))
        if self.backend == "openai":
            given = self._changed(LOCAL_ONLY)
            checks += [
                (bool(self.base_url), "--backend openai needs --base-url URL, the server's OpenAI API root "
                                      "(e.g. http://localhost:8000/v1)"),
                (not given, f"--{given} is a setting of the backends that load the model; the server at --base-url "
                            "loads it itself"),
                (self.endpoint in ("chat", "completions"),
                 f"unknown endpoint {self.endpoint!r}; choose chat (messages) or completions (a base-model prompt)"),
                (self.concurrency >= 1, f"concurrency must be >= 1, got {self.concurrency}"),
                (self.max_retries >= 0, f"max_retries must be >= 0, got {self.max_retries}"),
                (self.request_timeout > 0, f"request_timeout must be > 0 seconds, got {self.request_timeout}"),
            ]
        for ok, message in checks:
            if not ok:
                raise EvalError(message)

    def _changed(self, names: tuple[str, ...]) -> str | None:
        """The first of ``names`` (as a flag name) set to other than its default, else None."""
        for f in dataclasses.fields(self):
            default = f.default_factory() if f.default is dataclasses.MISSING else f.default
            if f.name in names and getattr(self, f.name) != default:
                return f.name.replace("_", "-")
        return None

    def sampling(self) -> Sampling:
        """The backends' sampling settings of this run."""
        return Sampling(**{f.name: getattr(self, f.name) for f in dataclasses.fields(Sampling)})

    def generation_settings(self) -> dict[str, Any]:
        """The settings saved in ``run.json`` and compared before resuming."""
        values = dataclasses.asdict(self)
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        out = {k: values[k] for k in GENERATION_KEYS}
        out.update({k: values[k] for k in (*PROMPT_KEYS, *SHARD_KEYS) if values[k] != defaults[k]})
        out["stop"] = list(self.stop)
        return out

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        for key in ("stop", "rewards", "k", "imports"):
            values[key] = list(values[key])
        return values


def field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(EvalConfig)]


def make_config(yaml_path: str | None = None, overrides: dict[str, Any] | None = None) -> EvalConfig:
    """An EvalConfig from a YAML file (optional) with ``overrides`` (e.g. CLI flags) on top.

    ``rewards`` may be a list, a comma-separated string, or a mapping ``{name: {param: value}}`` that
    also sets ``reward_params``. ``system_prompt: "@path"`` and ``prompt_template: "@path"`` read the text
    from a file, without the file's trailing newline.
    """
    values: dict[str, Any] = {}
    if yaml_path:
        values.update(_read_yaml(yaml_path))
    values.update({k.replace("-", "_"): v for k, v in (overrides or {}).items() if v is not None})
    unknown = sorted(set(values) - set(field_names()))
    if unknown:
        where = f"{yaml_path}: " if yaml_path else ""
        raise EvalError(f"{where}unknown setting(s) {', '.join(unknown)}; valid: {', '.join(field_names())}")
    rewards = values.get("rewards")
    if isinstance(rewards, dict):
        params = {name: dict(p or {}) for name, p in rewards.items()}
        values["rewards"] = list(rewards)
        values["reward_params"] = {**params, **(values.get("reward_params") or {})}
    for key, what in (("system_prompt", "system prompt"), ("prompt_template", "prompt template")):
        text = values.get(key)
        if isinstance(text, str) and text.startswith("@"):
            # an editor ends a file with a newline that a recipe's prompt never has: strip it, so training
            # and evaluation tokenize the same prompt
            values[key] = _read_text(text[1:], what).rstrip("\r\n")
    try:
        return EvalConfig(**values)
    except TypeError as err:
        raise EvalError(f"bad setting: {err}") from None


def _read_yaml(path: str) -> dict[str, Any]:
    import yaml

    text = _read_text(path, "config")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "malformed YAML"
        raise EvalError(f"{path}{where}: malformed YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise EvalError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _read_text(path: str, what: str) -> str:
    p = Path(path).expanduser()
    if not p.is_file():
        raise EvalError(f"{what} file {path!r} does not exist")
    return p.read_text(encoding="utf-8")


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)
