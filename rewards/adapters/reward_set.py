"""A configured set of weighted rewards (``"accuracy,format:0.5"`` plus params) and its per-sample scoring, for the OpenRLHF adapter and the server.
It must never guess or hide: bad names, weights and params fail before any scoring, and a reward that fails is an error on each sample, never a silent value."""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewards.completions import TRAINER_EXTRAS
from rewards.registry import Reward, get, parameters

_log = logging.getLogger(__name__)

DEFAULT_SPEC = "accuracy"
# Keyword names a dataset column may not take: the completions themselves, the receiver, and what trainers set.
RESERVED_COLUMNS = frozenset({"completions", "self", "prompts", *TRAINER_EXTRAS})
# Rewards whose value says "is the answer right" in [0, 1]: the default score (OpenRLHF's dynamic filtering).
_CORRECTNESS = ("accuracy", "exact_match", "iou")


def parse_spec(spec: str) -> dict[str, float]:
    """``{name: weight}`` from ``"name[:weight],..."``; a missing weight is 1.0. A ``module:function`` name
    keeps its colon (the part after the last ``:`` is a weight only when it is a number).

    >>> parse_spec("accuracy, format:0.5")
    {'accuracy': 1.0, 'format': 0.5}
    >>> parse_spec("my_rewards:brevity:-0.2")
    {'my_rewards:brevity': -0.2}
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"reward spec {spec!r} is empty; write 'name[:weight],...', e.g. 'accuracy,format:0.5'")
    weights: dict[str, float] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            raise ValueError(f"reward spec {spec!r} has an empty entry; write 'name[:weight],...'")
        name, weight = item, 1.0
        head, sep, tail = item.rpartition(":")
        if sep and _is_number(tail):
            name, weight = head.strip(), float(tail)
        if not name:
            raise ValueError(f"reward spec entry {item!r} has no name; write 'name[:weight]'")
        if name in weights:
            raise ValueError(f"reward spec {spec!r} names {name!r} twice")
        if not math.isfinite(weight):
            raise ValueError(f"reward spec entry {item!r}: the weight must be a finite number")
        weights[name] = weight
    return weights


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class Stopped(Exception):
    """``RewardSet.score_columns`` gave up because its ``stop()`` said so."""


@dataclass
class Scored:
    """One sample's result: the combined ``value`` (``None`` when no reward applied or one failed), each
    reward's value, ``error`` when a reward failed on it (``batch_error`` when it raised on the whole batch,
    which is a misconfiguration rather than this sample's), and ``unscored`` saying why ``value`` is ``None``."""

    value: float | None
    rewards: dict[str, float | None]
    error: str | None = None
    unscored: str | None = None
    batch_error: bool = False


class RewardSet:
    """Rewards by name with weights and params, validated and built once: ``score(completions, **columns)``
    returns a ``Scored`` per completion. ``rewards`` is a spec string (``"accuracy,format:0.5"``) or
    ``{name: weight}``; ``params`` is ``{name: {param: value}}``; any problem is a ValueError naming it and
    the valid values. ``score_reward`` names the reward whose value, clamped to [0, 1], is the sample's
    ``score`` (default: the first of accuracy, exact_match, iou in the set, else the combined value).

    >>> rs = RewardSet("accuracy,format:0.5")
    >>> [s.value for s in rs.score(["<think>a</think><answer>4</answer>", "<answer>5</answer>"], solution=["4", "4"])]
    [1.5, 0.0]
    """

    def __init__(self, rewards: str | Mapping[str, float] = DEFAULT_SPEC, params: Mapping[str, Any] | None = None,
                 score_reward: str | None = None):
        self.weights = parse_spec(rewards) if isinstance(rewards, str) else _checked_weights(rewards)
        self.params = _checked_params(params, self.weights)
        self.fns = {name: get(name, **self.params.get(name, {})) for name in self.weights}
        if score_reward is None:
            score_reward = next((name for name in self.weights if name in _CORRECTNESS), None)
        elif score_reward not in self.weights:
            raise ValueError(f"score reward {score_reward!r} is not in the reward set; valid: {', '.join(self.weights)}")
        self.score_reward = score_reward

    def __repr__(self) -> str:
        return f"RewardSet({self.weights!r}, params={self.params!r}, score_reward={self.score_reward!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RewardSet:
        """From ``GRPOKIT_REWARD_CONFIG`` (a YAML or JSON file with ``rewards``, ``params``, ``score``), then
        ``GRPOKIT_REWARDS`` (a spec), ``GRPOKIT_REWARD_PARAMS`` (JSON) and ``GRPOKIT_REWARD_SCORE``, which win
        over the file; with none of them, ``accuracy`` alone."""
        environ = os.environ if environ is None else environ
        config: dict[str, Any] = {}
        path = environ.get("GRPOKIT_REWARD_CONFIG")
        if path:
            config = read_config(path)
        rewards = environ.get("GRPOKIT_REWARDS") or config.get("rewards") or DEFAULT_SPEC
        params = config.get("params")
        if environ.get("GRPOKIT_REWARD_PARAMS"):
            params = load_params(environ["GRPOKIT_REWARD_PARAMS"], "GRPOKIT_REWARD_PARAMS")
        return cls(rewards, params, environ.get("GRPOKIT_REWARD_SCORE") or config.get("score"))

    def gold_rewards(self) -> list[str]:
        """The rewards of the set that read a gold answer (built-ins with a ``gold_key`` parameter)."""
        return [name for name in self.weights if ":" not in name and "gold_key" in parameters(name)]

    def gold_keys(self) -> list[str]:
        """The dataset columns the rewards read their gold answers from (``solution`` unless ``gold_key`` says)."""
        keys = [self.params.get(name, {}).get("gold_key", parameters(name).get("gold_key", "solution"))
                if ":" not in name else "solution" for name in self.weights]
        return list(dict.fromkeys(k for k in keys if isinstance(k, str)))

    def score(self, completions: Sequence[Any], **columns: Any) -> list[Scored]:
        """``score_columns(completions, columns)``."""
        return self.score_columns(completions, columns)

    def score_columns(self, completions: Sequence[Any], columns: Mapping[str, Any],
                      stop: Callable[[], bool] | None = None) -> list[Scored]:
        """Each reward on the whole batch (so group rewards see their groups), combined per sample as
        ``rewards.combine`` does: Σ weight·value over the rewards that applied, ``None`` if none did. A
        reward that raises or returns something else than one finite number or ``None`` per completion is
        an ``error`` on every sample it failed for (logged), and those samples' ``value`` is ``None``; so is a
        sample whose answer check ended in the grader's ``error`` (a verify worker that died twice, a check
        that raised), which a reward alone would count as wrong. ``stop()`` is asked before each reward: when it
        says True, ``Stopped`` is raised (the caller gave up on the batch)."""
        columns = dict(columns)
        n = len(completions)
        per_reward: dict[str, list[float | None]] = {}
        errors: list[list[str]] = [[] for _ in range(n)]
        raised = False
        for name, fn in self.fns.items():
            if stop is not None and stop():
                raise Stopped(f"stopped before {name!r}")
            per_reward[name], failed = self._run(name, fn, completions, columns, errors)
            raised = raised or failed
        results = []
        for i in range(n):
            values = {name: per_reward[name][i] for name in self.fns}
            if errors[i]:
                results.append(Scored(None, values, error="; ".join(errors[i]), batch_error=raised))
                continue
            applied = [self.weights[name] * v for name, v in values.items() if v is not None]
            if applied:
                results.append(Scored(sum(applied), values))
            else:
                results.append(Scored(None, values, unscored=f"no reward applied: {', '.join(values)} returned None "
                                                              f"(a reward returns None where it cannot apply, e.g. an empty gold)"))
        return results

    def sample_score(self, scored: Scored) -> float:
        """The sample's score in [0, 1]: ``score_reward``'s value (else the combined value), clamped; ``None`` is 0."""
        value = scored.rewards.get(self.score_reward) if self.score_reward else scored.value
        return 0.0 if value is None else min(1.0, max(0.0, float(value)))

    @staticmethod
    def _run(name: str, fn: Callable[..., list], completions: Sequence[Any], columns: dict[str, Any],
             errors: list[list[str]]) -> tuple[list[float | None], bool]:
        """The reward's values (``None`` where it failed, with the reason added to ``errors``), and whether it
        raised on the whole batch."""
        n = len(completions)
        graded = None
        try:
            if isinstance(fn, Reward) and "status" in fn.columns:  # a graded reward: see each check's outcome
                rows = fn.rows(list(completions), **columns)
                values, graded = [row["value"] for row in rows], [row.get("status") for row in rows]
            else:
                values = fn(list(completions), **columns)
        except Exception as exc:  # a reward's failure becomes each sample's error, reported, never a silent 0
            _log.warning("reward %r raised on a batch of %d: %s: %s", name, n, type(exc).__name__, exc)
            for sample_errors in errors:
                sample_errors.append(f"{name}: {type(exc).__name__}: {exc}")
            return [None] * n, True
        if not isinstance(values, (list, tuple)) or len(values) != n:
            size = len(values) if hasattr(values, "__len__") else "no"
            _log.warning("reward %r returned %s values for %d completions", name, size, n)
            for sample_errors in errors:
                sample_errors.append(f"{name}: returned {size} values for {n} completions")
            return [None] * n, False
        for i, status in enumerate(graded or ()):
            if status == "error":
                errors[i].append(f"{name}: the grader failed on this sample (a verify error: a worker that died "
                                 f"twice or a check that raised; see the log), so it is not scored")
        checked: list[float | None] = []
        for i, value in enumerate(values):
            if value is None:
                checked.append(None)
            elif isinstance(value, numbers.Real) and math.isfinite(value):
                checked.append(float(value))
            else:
                errors[i].append(f"{name}: returned {value!r}, not a finite number or None")
                checked.append(None)
        return checked, False


def _checked_weights(weights: Any) -> dict[str, float]:
    if not isinstance(weights, Mapping) or not weights:
        raise ValueError(f"rewards {weights!r}: give a spec 'name[:weight],...' or a non-empty {{name: weight}} mapping")
    checked = {}
    for name, weight in weights.items():
        ok = isinstance(weight, numbers.Real) and not isinstance(weight, bool) and math.isfinite(weight)
        if not isinstance(name, str) or not name or not ok:
            raise ValueError(f"rewards: invalid entry {name!r}: {weight!r}; valid: a reward name and a finite weight")
        checked[name] = float(weight)
    return checked


def _checked_params(params: Any, weights: Mapping[str, float]) -> dict[str, dict[str, Any]]:
    if params is None:
        return {}
    if not isinstance(params, Mapping) or not all(isinstance(v, Mapping) for v in params.values()):
        raise ValueError(f"reward params {params!r}: valid values: {{reward name: {{parameter: value}}}}")
    unknown = sorted(set(params) - set(weights))
    if unknown:
        raise ValueError(f"reward params for {', '.join(map(repr, unknown))}, which the reward set does not hold; "
                         f"rewards in the set: {', '.join(weights)}")
    return {name: dict(value) for name, value in params.items()}


def load_params(text: str, source: str) -> dict[str, Any]:
    """``{reward name: {param: value}}`` from JSON text; ValueError naming ``source`` (a flag or variable) otherwise.

    >>> load_params('{"cosine": {"max_len": 512}}', "--params")
    {'cosine': {'max_len': 512}}
    """
    try:
        params = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{source}: not valid JSON ({err}); e.g. '{{\"cosine\": {{\"max_len\": 512}}}}'") from None
    if not isinstance(params, dict):
        raise ValueError(f"{source}: expected a JSON object {{reward name: {{param: value}}}}, got {type(params).__name__}")
    return params


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """A reward config file (YAML or JSON): ``rewards`` (a spec string or ``{name: weight}``), optional
    ``params`` and ``score``. ValueError naming the file for anything else."""
    import yaml

    try:
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ValueError(f"reward config {str(path)!r}: cannot read it ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise ValueError(f"reward config {str(path)!r}: not valid YAML or JSON ({' '.join(str(err).split())})") from None
    if not isinstance(config, dict):
        raise ValueError(f"reward config {str(path)!r}: expected a mapping with 'rewards', 'params', 'score'")
    unknown = sorted(set(config) - {"rewards", "params", "score"})
    if unknown:
        raise ValueError(f"reward config {str(path)!r}: unknown key(s) {', '.join(unknown)}; valid keys: rewards, params, score")
    return config
