"""Shows runs to people: the progress bar with throughput, the metrics table and the comparison table.
It must never compute a metric or touch files; it only formats what it is given."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, soft_wrap=True)


class Progress:
    """A rich progress bar over prompts showing prompts/s and generated tokens/s; a no-op when disabled."""

    def __init__(self, total: int, *, done: int = 0, enabled: bool = True):
        self.enabled = enabled and total > done
        self._tokens = 0
        if not self.enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("[bold]evaluating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console(stderr=True),
            transient=False,
        )
        self._task = self._bar.add_task("eval", total=total, completed=done, rate="")

    def __enter__(self) -> Progress:
        self._t0 = time.perf_counter()
        self._prompts = 0
        if self.enabled:
            self._bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self._bar.stop()

    def advance(self, prompts: int, tokens: int) -> None:
        """Count a finished batch: ``prompts`` prompts that generated ``tokens`` tokens."""
        if not self.enabled:
            return
        self._prompts += prompts
        self._tokens += tokens
        elapsed = max(time.perf_counter() - self._t0, 1e-9)
        rate = f"{self._prompts / elapsed:.2f} prompt/s  {self._tokens / elapsed:.0f} tok/s"
        self._bar.update(self._task, advance=prompts, rate=rate)


def metrics_table(
    metrics: dict[str, Any], *, title: str = "evalsuite", stderr: dict | None = None, ci95: dict | None = None
) -> Table:
    """One row per metric; with ``stderr``/``ci95`` (from summary.json) the standard error and 95% interval
    stand beside the figures that have them."""
    stderr, ci95 = stderr or {}, ci95 or {}
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    if stderr or ci95:
        table.add_column("± stderr", justify="right")
        table.add_column("95% CI", justify="right")
    for name, value in metrics.items():
        cells = [name, format_value(value)]
        if stderr or ci95:
            se = stderr.get(name)
            cells += ["" if se is None else f"± {se:.4f}", format_interval(ci95.get(name))]
        table.add_row(*cells)
    return table


def resume_account(folder: Any, *, prompts: int, fresh: int, had: dict, n: int, copied: bool = False,
                   rescored: bool = False) -> str | None:
    """One line on what a run found already done in ``folder`` and what it added: ``prompts`` in the run,
    ``fresh`` of them generated now, ``had`` the samples each extended prompt had before (to ``n``; ``copied``:
    greedy copies), ``rescored``: saved records scored for rewards they lacked. None for a fresh run.

    >>> resume_account("out/eval", prompts=200, fresh=80, had={}, n=1)
    'resumed out/eval: 120 of 200 prompts already done, generating 80'
    >>> resume_account("out/eval", prompts=200, fresh=0, had=dict.fromkeys(range(200), 2), n=4)
    'extended out/eval: n 2 -> 4 for 200 prompts (400 new samples)'
    >>> resume_account("out/eval", prompts=200, fresh=0, had={}, n=4, rescored=True)
    'nothing to generate in out/eval: all 200 prompts done (rescored for the rewards they lacked)'
    """
    if fresh >= prompts:
        return None
    parts = []
    if fresh:
        parts.append(f"resumed {folder}: {prompts - fresh} of {prompts} prompts already done, generating {fresh}")
    if had:
        low, high = min(had.values()), max(had.values())
        new = sum(n - count for count in had.values())
        parts.append(f"extended{'' if parts else f' {folder}'}: n {low if low == high else f'{low}-{high}'} -> {n} "
                     f"for {len(had)} prompts ({new} new samples{', copies of the greedy first' if copied else ''})")
    if parts:
        return "; ".join(parts)
    return (f"nothing to generate in {folder}: all {prompts} prompts done "
            f"({'rescored for the rewards they lacked' if rescored else 'summary recomputed'})")


def print_summary(summary: dict, *, out=None) -> None:
    """What a rerun reused (see :func:`resume_account`), then the metrics table of a summary, with standard
    errors and 95% intervals, on stdout."""
    c = Console(file=out or sys.stdout, soft_wrap=True)
    if summary.get("account"):
        c.print(summary["account"], markup=False)
    counts = summary.get("counts", {})
    title = f"evalsuite: {counts.get('prompts', '?')} prompts x {summary.get('n', '?')} samples"
    spec = (summary.get("correct") or {}).get("spec")
    if spec and spec != "accuracy>=1":
        title += f"; correct = {spec}"
    c.print(metrics_table(summary["metrics"], title=title, stderr=summary.get("stderr"), ci95=summary.get("ci95")))


def compare_table(rows: Sequence[tuple[str, Any, Any]], *, names: tuple[str, str], paired: dict | None = None) -> Table:
    """Metric, A, B, delta; for the prompt-level metrics also the paired 95% interval of the delta, the exact
    paired test's p-value, and whether the difference is beyond noise (p < 0.05)."""
    paired = paired or {}
    table = Table(title="metric deltas (B - A)", caption=f"A: {names[0]}\nB: {names[1]}")
    table.add_column("metric")
    table.add_column("A", justify="right")
    table.add_column("B", justify="right")
    table.add_column("delta", justify="right")
    table.add_column("paired 95% CI", justify="right", no_wrap=True)
    table.add_column("p", justify="right", no_wrap=True)
    table.add_column("beyond noise", justify="center", no_wrap=True)
    for metric, a, b in rows:
        delta = b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        diff = paired.get(metric)
        verdict = "" if diff is None or diff.p_value is None else ("yes" if diff.significant else "no")
        table.add_row(
            metric, format_value(a), format_value(b), "" if delta is None else f"{delta:+.4f}",
            "" if diff is None else format_interval(diff.ci95, signed=True),
            "" if diff is None else format_p(diff.p_value), verdict,
        )
    return table


def print_comparison(result: dict, *, show: int = 20, out=None) -> None:
    """The settings that differ and the warnings, metric deltas with their paired intervals and how any pass@k a
    summary lacked was had, then the prompts whose verdict flipped (at most ``show`` of each kind)."""
    stream = out or sys.stdout
    wide = None if getattr(stream, "isatty", lambda: False)() else 132  # a pipe or file: room for every column
    c = Console(file=stream, soft_wrap=True, width=wide)
    if result.get("settings"):
        c.print(f"settings differ: {result['settings']}", markup=False)
    for warning in result.get("warnings", []):
        c.print(f"warning: {warning}", markup=False)
    c.print(compare_table(result["metrics"], names=result["names"], paired=result.get("paired")))
    for note in result.get("notes", []):
        c.print(note, markup=False)
    tests = sorted({d.test for d in (result.get("paired") or {}).values() if d.test})
    if tests:
        c.print(f"p: {'; '.join(tests)} over the prompts both runs graded; beyond noise = p < 0.05", markup=False)
    for label, key in (("right in A, wrong in B", "lost"), ("wrong in A, right in B", "gained")):
        ids = result[key]
        c.print(f"{len(ids)} prompt(s) {label}" + (":" if ids else ""))
        for row_id in ids[:show]:
            c.print(f"  {row_id}", markup=False)
        if len(ids) > show:
            c.print(f"  ... and {len(ids) - show} more")
    if result.get("only_a") or result.get("only_b"):
        c.print(f"{len(result['only_a'])} prompt(s) only in A, {len(result['only_b'])} only in B (not compared)")


def format_interval(interval: Sequence[float] | None, *, signed: bool = False) -> str:
    if interval is None:
        return ""
    spec = "+.4f" if signed else ".4f"
    return f"[{interval[0]:{spec}}, {interval[1]:{spec}}]"


def format_p(p: float | None) -> str:
    """A p-value in 4 decimals, or ``<1e-4``.

    >>> format_p(0.125), format_p(0.00001), format_p(None)
    ('0.1250', '<1e-4', '')
    """
    if p is None:
        return ""
    return "<1e-4" if p < 1e-4 else f"{p:.4f}"


def format_value(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
