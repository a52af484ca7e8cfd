"""Compares two finished runs: metric deltas, their paired intervals over shared prompts, flipped verdicts, and the
settings they were run with that differ. It must never compare prompts that are not the same prompt: ids whose saved
prompt/gold hashes differ are refused; nor show a figure as missing that the samples give (pass@k of another --k)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from evalsuite import metrics as metrics_mod
from evalsuite import stats
from evalsuite.correctness import summary_correctness
from evalsuite.errors import EvalError
from evalsuite.store import describe_differences, read_run

_PASS = re.compile(r"pass@(\d+)$")
# The settings of a run's summary that decide what its figures measure, as summary.json's config names them.
# A difference in any is shown beside the comparison; one in DIFFERENT_TASK changes what the model is asked or how
# long it may answer, so the deltas mix that change with whatever else differs: a likely mistake, warned about.
# (A different `correct` has its own warning.)
SETTINGS = (
    "model", "backend", "data", "limit", "task", "prompt_template", "system_prompt", "fewshot", "fewshot_data",
    "fewshot_seed", "prompt_key", "messages_key", "solution_key", "endpoint", "n", "k", "temperature", "top_p", "top_k",
    "max_tokens", "stop", "seed", "rewards", "reward_params", "correct",
)
DIFFERENT_TASK = (
    "task", "prompt_template", "system_prompt", "fewshot", "fewshot_data", "fewshot_seed", "prompt_key", "messages_key",
    "solution_key", "endpoint", "max_tokens", "stop",
)


def compare(dir_a: str | Path, dir_b: str | Path, *, allow_different_data: bool = False) -> dict:
    """Metric deltas between two output folders, the paired difference of each prompt-level metric over
    the prompts both runs graded, and the ids whose verdict (maj@n) flipped.

    Records carry a hash of their prompt and gold (``data_hash``; without one their saved prompt and gold
    are compared); a shared id whose prompt or gold differs means the runs saw different data, which is refused unless ``allow_different_data`` (then only the prompts
    that match are paired, and ``warnings`` says so). Returns ``{"names", "metrics": [(name, a, b)],
    "paired": {metric: stats.PairedDifference}, "lost": [ids right in A, wrong in B], "gained": [...],
    "only_a", "only_b", "changed": [ids whose data differ], "settings": "temperature 0.0 -> 0.7, ..." (the
    settings that differ, empty when none), "warnings": [...], "notes": [...]}``.

    A ``pass@k`` that one run's summary lacks (it was scored with another ``--k``) is computed from that run's
    samples when its n allows it; ``notes`` says so, or why it stays n/a.
    """
    (summary_a, records_a), (summary_b, records_b) = read_run(dir_a), read_run(dir_b)
    if summary_correctness(summary_a) != summary_correctness(summary_b):
        warning = (f"the runs define a correct sample differently ({summary_correctness(summary_a)} in A, "
                   f"{summary_correctness(summary_b)} in B): accuracy, pass@k and maj@k are not the same measure")
    else:
        warning = None
    a = {r["id"]: r for r in records_a}
    b = {r["id"]: r for r in records_b}
    shared = [i for i in a if i in b]
    changed = [i for i in shared if not _same_prompt(a[i], b[i])]
    warnings = [warning] if warning else []
    settings, confounding = setting_differences(summary_a, summary_b)
    if confounding:
        warnings.append(f"the runs differ in {', '.join(confounding)}, which change what the model is asked or how "
                        "long it may answer: the deltas mix that change with any other")
    if a and b and not shared:
        problem = f"{dir_a} and {dir_b} share no prompt ids, so there is nothing to pair"
        if not allow_different_data:
            raise EvalError(f"{problem}; pass --allow-different-data to see the metrics side by side anyway")
        warnings.append(problem)
    if changed:
        problem = (f"{dir_a} and {dir_b} were run on different data: {len(changed)} of {len(shared)} shared "
                   f"prompt ids have a different prompt or gold, the first {changed[0]!r}")
        if not allow_different_data:
            raise EvalError(f"{problem}; pass --allow-different-data to compare only the prompts that match")
        warnings.append(f"{problem}; only the {len(shared) - len(changed)} matching prompts are paired, "
                        "while the A and B columns cover each run's own prompts")
    same = set(shared) - set(changed)
    ks = sorted({k for summary in (summary_a, summary_b) for k in _ks(summary)})
    scores_a, scores_b = _prompt_scores(summary_a, records_a, ks), _prompt_scores(summary_b, records_b, ks)
    notes: list[str] = []
    ma = _with_pass_at_k(summary_a, records_a, scores_a, ks, "A", notes)
    mb = _with_pass_at_k(summary_b, records_b, scores_b, ks, "B", notes)
    paired = {name: stats.paired_difference(_only(scores_a[name], same), _only(scores_b[name], same))
              for name in scores_a if scores_a[name] and scores_b.get(name)}
    maj_a, maj_b = scores_a.get(_maj(summary_a), {}), scores_b.get(_maj(summary_b), {})
    lost = [i for i in shared if i in same and maj_a.get(i) == 1.0 and maj_b.get(i) == 0.0]
    gained = [i for i in shared if i in same and maj_a.get(i) == 0.0 and maj_b.get(i) == 1.0]
    return {
        "names": (str(dir_a), str(dir_b)),
        "metrics": [(name, ma.get(name), mb.get(name))
                    for name in _merged_order(list(summary_a["metrics"]), list(summary_b["metrics"]))],
        "paired": paired,
        "lost": lost,
        "gained": gained,
        "only_a": [i for i in a if i not in b],
        "only_b": [i for i in b if i not in a],
        "changed": changed,
        "settings": settings,
        "warnings": warnings,
        "notes": notes,
    }


def setting_differences(summary_a: dict, summary_b: dict) -> tuple[str, list[str]]:
    """The settings of :data:`SETTINGS` both summaries record and that differ, as ``"max_tokens 256 -> 512, n 1 ->
    4"`` (long texts shortened), and those of them in :data:`DIFFERENT_TASK`.

    >>> setting_differences({"n": 1, "config": {"temperature": 0.0, "max_tokens": 256, "model": "m"}},
    ...                     {"n": 4, "config": {"temperature": 0.7, "max_tokens": 512}})
    ('max_tokens 256 -> 512, n 1 -> 4, temperature 0.0 -> 0.7', ['max_tokens'])
    """
    a, b = _settings(summary_a), _settings(summary_b)
    differ = [key for key in SETTINGS if key in a and key in b and a[key] != b[key]]
    shown = {key: _shown_pair(a[key], b[key]) for key in differ}
    text = describe_differences({k: x for k, (x, _) in shown.items()}, {k: y for k, (_, y) in shown.items()})
    return text, [key for key in differ if key in DIFFERENT_TASK]


def _settings(summary: dict) -> dict[str, Any]:
    config = summary.get("config") or {}
    values = {key: config[key] for key in SETTINGS if key in config}
    if "n" in summary:
        values["n"] = summary["n"]
    return values


def _shown_pair(a: Any, b: Any, width: int = 40) -> tuple[Any, Any]:
    """Two values of a setting as shown: texts longer than ``width`` cut to their start and length, unless
    that would make them look alike."""
    def brief(value: Any) -> Any:
        return f"{value[:width - 10]}... ({len(value)} chars)" if isinstance(value, str) and len(value) > width else value

    return (brief(a), brief(b)) if brief(a) != brief(b) else (a, b)


def _prompt_scores(summary: dict, records: list[dict], ks: list[int]) -> dict[str, dict[Any, float]]:
    """The run's prompt-level metric values (pass@k for each of ``ks`` its n allows), as its summary defines them."""
    if not records:
        return {}
    n = _n(summary, records)
    return metrics_mod.prompt_scores(records, k=[k for k in ks if k <= n], n=n, correct=summary_correctness(summary))


def _with_pass_at_k(summary: dict, records: list[dict], scores: dict, ks: list[int], side: str,
                    notes: list[str]) -> dict[str, Any]:
    """The summary's metrics with each ``pass@k`` of ``ks`` it lacks computed from the samples (the mean over
    its prompts, as the summary would have it); ``notes`` says which were, and why any other stays n/a."""
    metrics = dict(summary["metrics"])
    for k in ks:
        name = f"pass@{k}"
        if name in metrics:
            continue
        if name in scores:
            values = list(scores[name].values())
            metrics[name] = sum(values) / len(values) if values else None
            notes.append(f"{name} of {side} is computed from its samples (its summary.json reports "
                         f"{', '.join(f'pass@{x}' for x in _ks(summary)) or 'no pass@k'})")
        elif records:
            notes.append(f"{name} of {side} is n/a: {side}'s n is {_n(summary, records)} and {name} needs n >= {k}")
        else:
            notes.append(f"{name} of {side} is n/a: {side} has no samples.jsonl to compute it from")
    return metrics


def _merged_order(a: list[str], b: list[str]) -> list[str]:
    """The names of ``a``, then each name only in ``b`` after the name it follows in ``b``.

    >>> _merged_order(["accuracy", "pass@1", "maj@4"], ["accuracy", "pass@1", "pass@4", "maj@4", "reward/x"])
    ['accuracy', 'pass@1', 'pass@4', 'maj@4', 'reward/x']
    """
    out = list(a)
    for i, name in enumerate(b):
        if name not in out:
            before = next((x for x in reversed(b[:i]) if x in out), None)
            out.insert(0 if before is None else out.index(before) + 1, name)
    return out


def _ks(summary: dict) -> list[int]:
    return [int(m.group(1)) for m in map(_PASS.match, summary["metrics"]) if m]


def _only(scores: dict[Any, float], ids: set) -> dict[Any, float]:
    return {i: v for i, v in scores.items() if i in ids}


def _n(summary: dict, records: list[dict]) -> int:
    n = summary.get("n")
    return n if isinstance(n, int) and n >= 1 else max(len(r["completions"]) for r in records)


def _maj(summary: dict) -> str:
    return next((name for name in summary["metrics"] if name.startswith("maj@")), "maj@1")


def _same_prompt(a: dict, b: dict) -> bool:
    """Both records' ``data_hash`` agree; records without one (rescored files, older runs) are compared by
    their saved prompt and gold instead."""
    if a.get("data_hash") and b.get("data_hash"):
        return a["data_hash"] == b["data_hash"]
    return a.get("prompt") == b.get("prompt") and a.get("solution") == b.get("solution")
