"""Compares two finished runs: metric deltas, their paired intervals over shared prompts, and flipped verdicts.
It must never compare prompts that are not the same prompt: ids whose saved prompt/gold hashes differ are refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from evalsuite import metrics as metrics_mod
from evalsuite import stats
from evalsuite.correctness import summary_correctness
from evalsuite.errors import EvalError
from evalsuite.store import read_run

_PASS = re.compile(r"pass@(\d+)$")


def compare(dir_a: str | Path, dir_b: str | Path, *, allow_different_data: bool = False) -> dict:
    """Metric deltas between two output folders, the paired difference of each prompt-level metric over
    the prompts both runs graded, and the ids whose verdict (maj@n) flipped.

    Records carry a hash of their prompt and gold (``data_hash``; without one their saved prompt and gold
    are compared); a shared id whose prompt or gold differs means the runs saw different data, which is refused unless ``allow_different_data`` (then only the prompts
    that match are paired, and ``warnings`` says so). Returns ``{"names", "metrics": [(name, a, b)],
    "paired": {metric: stats.PairedDifference}, "lost": [ids right in A, wrong in B], "gained": [...],
    "only_a", "only_b", "changed": [ids whose data differ], "warnings": [...]}``.
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
    ma, mb = summary_a["metrics"], summary_b["metrics"]
    scores_a, scores_b = _prompt_scores(summary_a, records_a, same), _prompt_scores(summary_b, records_b, same)
    paired = {name: stats.paired_difference(scores_a[name], scores_b[name]) for name in scores_a if name in scores_b}
    maj_a, maj_b = scores_a.get(_maj(summary_a), {}), scores_b.get(_maj(summary_b), {})
    lost = [i for i in shared if i in same and maj_a.get(i) == 1.0 and maj_b.get(i) == 0.0]
    gained = [i for i in shared if i in same and maj_a.get(i) == 0.0 and maj_b.get(i) == 1.0]
    return {
        "names": (str(dir_a), str(dir_b)),
        "metrics": [(name, ma.get(name), mb.get(name)) for name in dict.fromkeys([*ma, *mb])],
        "paired": paired,
        "lost": lost,
        "gained": gained,
        "only_a": [i for i in a if i not in b],
        "only_b": [i for i in b if i not in a],
        "changed": changed,
        "warnings": warnings,
    }


def _prompt_scores(summary: dict, records: list[dict], ids: set) -> dict[str, dict[Any, float]]:
    """The run's prompt-level metric values for the prompts in ``ids``, as its summary defined them."""
    if not records:
        return {}
    ks = [int(m.group(1)) for m in map(_PASS.match, summary["metrics"]) if m]
    chosen = [r for r in records if r["id"] in ids]
    return metrics_mod.prompt_scores(chosen, k=ks, n=_n(summary, records), correct=summary_correctness(summary))


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
