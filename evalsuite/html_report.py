"""Writes `evalsuite report`: one self-contained report.html of a run (intervals, histograms, prompts, flips vs another run).
It must never make the page load anything: no http(s) scripts, styles, fonts or images; a Content-Security-Policy forbids them."""

from __future__ import annotations

import json
import logging
import math
import re
import statistics
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import rewards
from evalsuite import metrics as metrics_mod
from evalsuite import stats, svg
from evalsuite.comparison import compare
from evalsuite.correctness import Correctness, summary_correctness
from evalsuite.errors import EvalError
from evalsuite.report import format_p
from evalsuite.store import read_run

log = logging.getLogger(__name__)
REPORT = "report.html"
LENGTH_BINS = 6


def write_report(
    out_dir: str | Path,
    other_dir: str | Path | None = None,
    *,
    path: str | Path | None = None,
    samples_per_prompt: int = 4,
    allow_different_data: bool = False,
) -> Path:
    """Write the report of the run in ``out_dir`` (beside ``other_dir``'s when given: the settings that differ,
    metric deltas with paired intervals and the prompts whose verdict flipped) to ``path`` and return it.
    By default ``OUT_DIR/report.html``, and ``OUT_DIR/report-vs-OTHER.html`` with another run, so the two-run
    page never replaces the run's own. Each prompt shows its first ``samples_per_prompt`` completions with their
    extracted answers and the reason for each verdict, from ``rewards.explain`` with the reward that defined
    correctness (accuracy by default)."""
    if samples_per_prompt < 1:
        raise EvalError(f"samples_per_prompt must be >= 1, got {samples_per_prompt}")
    summary, records = read_run(out_dir)
    if not records:
        raise EvalError(f"{out_dir}: no samples.jsonl to report on")
    comparison = other = None
    if other_dir is not None:
        comparison = compare(out_dir, other_dir, allow_different_data=allow_different_data)
        other = {r["id"]: r for r in read_run(other_dir)[1]}
    page = render(summary, records, name=str(out_dir), samples_per_prompt=samples_per_prompt,
                  comparison=comparison, other=other)
    others = [] if other_dir is None else [other_dir]
    return _write_page(page, Path(path) if path is not None else default_path(out_dir, others))


def default_path(out_dir: str | Path, others: Sequence[str | Path]) -> Path:
    """Where a report goes without ``--output``: ``OUT_DIR/report.html`` for one run, ``OUT_DIR/report-vs-B.html``
    beside run B, ``OUT_DIR/report-vs-B+C.html`` beside several (``report-vs-B+2-more.html`` when long).

    >>> str(default_path("out/a", [])), str(default_path("out/a", ["out/b"])), str(default_path("a", ["x/b", "y/c d"]))
    ('out/a/report.html', 'out/a/report-vs-b.html', 'a/report-vs-b+c_d.html')
    """
    if not others:
        return Path(out_dir) / REPORT
    names = [re.sub(r"[^\w.-]+", "_", Path(other).resolve().name) for other in others]
    stem = "report-vs-" + "+".join(names)
    if len(stem) > 100:
        stem = f"report-vs-{names[0]}+{len(names) - 1}-more"
    return Path(out_dir) / f"{stem}.html"


def _write_page(page: str, path: Path) -> Path:
    """Write ``page`` to ``path`` whole (a temporary file and a rename); a missing folder is made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(path)
    except OSError as err:
        raise EvalError(f"cannot write the report to {path}: {err.strerror}") from None
    return path


def render(summary: dict, records: list[dict], *, name: str, samples_per_prompt: int = 4,
           comparison: dict | None = None, other: dict | None = None) -> str:
    """The report page as one HTML string."""
    correct = summary_correctness(summary)
    judge = (_correct_reward(summary, correct), correct)
    verdicts = metrics_mod.verdicts(records, correct)
    flips = {}
    if comparison:
        flips = {**{i: "lost" for i in comparison["lost"]}, **{i: "gained" for i in comparison["gained"]}}
    sections = [
        _metrics_section(summary, records),
        _comparison_section(comparison) if comparison else "",
        _rewards_section(records),
        _length_section(records, correct),
        _truncation_section(records, correct),
        _flips_section(comparison, records, other, judge) if comparison else "",
        _prompts_section(records, verdicts, flips, judge, samples_per_prompt, bool(comparison)),
    ]
    config = summary.get("config", {})
    counts = summary.get("counts", {})
    facts = [f"model {config['model']}" if config.get("model") else None,
             f"data {config['data']}" if config.get("data") else None,
             f"rescored from {config['scored_file']}" if config.get("scored_file") else None,
             f"{counts.get('prompts', len(records))} prompts × n = {summary.get('n', '?')}",
             f"rewards {', '.join(config.get('rewards', []))}",
             None if correct.is_default else f"correct = {correct}"]
    meta = " · ".join(escape(str(part)) for part in facts if part)
    differ = _settings_line("A", "B", comparison) if comparison else ""
    nav = "".join(f'<a href="#{anchor}">{label}</a>' for anchor, label in (
        ("metrics", "Metrics"), *((("comparison", "A vs B"),) if comparison else ()), ("rewards", "Rewards"),
        ("length", "Length"), ("truncation", "Truncation"), *((("flips", "Flips"),) if comparison else ()),
        ("prompts", "Prompts")))
    return _page(name, f"<p class=\"meta\">{escape(name)}</p><p class=\"meta\">{meta}</p>{differ}<nav>{nav}</nav>",
                 sections)


def _page(title: str, header: str, sections: list[str]) -> str:
    """One self-contained report page: ``title`` (plain text), ``header`` (HTML under the heading), ``sections``."""
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">"
        "<link rel=\"icon\" href=\"data:,\">"
        f"<title>evalsuite report: {escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>evalsuite report</h1>{header}</header>"
        f"<main>{''.join(sections)}</main><script>{_JS}</script></body></html>\n"
    )


def write_many(named: dict[str, str | Path], *, baseline: str, path: str | Path | None = None,
               ablation: dict | None = None, samples_per_prompt: int = 1, allow_different_data: bool = False) -> Path:
    """The report of many runs of the same prompts (an ablation): ``named`` maps a name to an output folder,
    ``baseline`` names the run every other one is compared with. Writes ``path`` (default: :func:`default_path`,
    ``BASELINE_DIR/report-vs-B+C.html``): the ablation table (``ablation``, a sweep's ablation.json, when given),
    each run's metrics side by side, one A-vs-B comparison per run against the baseline (paired tests, flips)
    and a prompt table with every run's verdict."""
    if baseline not in named:
        raise EvalError(f"baseline {baseline!r} is not one of the runs: {', '.join(named)}")
    runs = {name: read_run(folder) for name, folder in named.items()}
    for name, (_, records) in runs.items():
        if not records:
            raise EvalError(f"{named[name]}: no samples.jsonl to report on")
    comparisons = {name: compare(named[baseline], folder, allow_different_data=allow_different_data)
                   for name, folder in named.items() if name != baseline}
    page = render_many(runs, baseline=baseline, comparisons=comparisons, ablation=ablation,
                       samples_per_prompt=samples_per_prompt)
    others = [folder for name, folder in named.items() if name != baseline]
    return _write_page(page, Path(path) if path is not None else default_path(named[baseline], others))


def render_many(runs: dict[str, tuple[dict, list[dict]]], *, baseline: str, comparisons: dict[str, dict],
                ablation: dict | None = None, samples_per_prompt: int = 1) -> str:
    """The many-run page as one HTML string (see :func:`write_many`)."""
    summary, records = runs[baseline]
    sections = [_ablation_section(ablation) if ablation else "", _runs_section(runs)]
    nav = [("ablation", "Ablation")] if ablation else []
    nav += [("runs", "Runs")]
    for i, (name, comparison) in enumerate(comparisons.items()):
        comparison = {**comparison, "names": (f"{baseline} ({comparison['names'][0]})", f"{name} ({comparison['names'][1]})")}
        sections.append(_comparison_section(comparison).replace('id="comparison"', f'id="vs-{i}"', 1)
                        .replace("<h2>A vs B</h2>", f"<h2>{escape(baseline)} vs {escape(name)}</h2>", 1))
        nav.append((f"vs-{i}", f"vs {name}"))
    sections.append(_prompt_matrix(runs, baseline, samples_per_prompt))
    nav.append(("prompts", "Prompts"))
    counts = summary.get("counts", {})
    meta = escape(f"{len(runs)} runs · {counts.get('prompts', len(records))} prompts × n = {summary.get('n', '?')}"
                  f" · baseline {baseline}")
    differ = "".join(_settings_line(baseline, name, comparison) for name, comparison in comparisons.items())
    links = "".join(f'<a href="#{anchor}">{escape(label)}</a>' for anchor, label in nav)
    return _page(f"{baseline} and {len(runs) - 1} more", f"<p class=\"meta\">{meta}</p>{differ}<nav>{links}</nav>",
                 sections)


def _settings_line(a_name: str, b_name: str, comparison: dict) -> str:
    """The header's line of the settings two runs differ in (nothing when none)."""
    if not comparison.get("settings"):
        return ""
    return (f"<p class=\"meta settings\">settings differ ({escape(a_name)} → {escape(b_name)}): "
            f"{escape(comparison['settings'])}</p>")


def _ablation_section(ablation: dict) -> str:
    """A sweep's ablation.json as a table: each arm's accuracy with its interval, the paired delta, p and
    Holm's p, and the verdict; the untrained model as a reference row."""
    rows = []
    ordered = sorted(ablation["arms"], key=lambda r: r["name"] != ablation["baseline"])
    reference = {"name": "untrained (reference)", "overrides": None,
                 **{k: v for k, v in ablation.get("untrained", {}).items() if k not in ("model", "eval_dir")}}
    for row in [*ordered, reference]:
        base = row["name"] == ablation["baseline"]
        low, high = row.get("ci95") or (None, None)
        delta = row.get("delta")
        d_ci = row.get("delta_ci95")
        verdict = "" if base else ("yes" if row.get("significant") else "no")
        spread = row.get("seed_spread")
        rows.append(
            f"<tr><td>{escape(row['name'])}{' <b>(baseline)</b>' if base else ''}</td>"
            f"<td><code>{'' if row['overrides'] is None else escape(json.dumps(row['overrides']))}</code></td>"
            f"<td class=\"num\">{_fmt(row.get('accuracy'))}</td>"
            f"<td class=\"num\">{'' if low is None else f'[{_fmt(low)}, {_fmt(high)}]'}</td>"
            f"<td>{svg.interval(row.get('accuracy'), low, high) if low is not None else ''}</td>"
            f"<td class=\"num\">{'' if delta is None else f'{delta:+.4f}'}</td>"
            f"<td class=\"num\">{'' if not d_ci else f'[{d_ci[0]:+.4f}, {d_ci[1]:+.4f}]'}</td>"
            f"<td class=\"num\">{format_p(row.get('p_value'))}</td>"
            f"<td class=\"num\">{format_p(row.get('p_adjusted'))}</td>"
            f"<td class=\"noise-{verdict}\">{verdict}</td>"
            f"<td class=\"num\">{'' if spread is None else _fmt(spread)}</td></tr>")
    return ("<section id=\"ablation\"><h2>Ablation</h2><table class=\"metrics\"><thead><tr><th>arm</th><th>overrides</th>"
            f"<th>{escape(ablation.get('metric', 'accuracy'))}</th><th>95% CI</th><th>0 ─ 1</th><th>Δ vs baseline</th>"
            "<th>paired 95% CI</th><th>p</th><th>p (Holm)</th><th>beyond noise</th><th>seed spread</th></tr></thead>"
            "<tbody>" + "".join(rows) + "</tbody></table>"
            f"<p class=\"hint\">{escape(ablation.get('tests', ''))}. The untrained row is tested against the "
            "baseline without adjustment.</p></section>")


def _runs_section(runs: dict[str, tuple[dict, list[dict]]]) -> str:
    names = list(runs)
    metrics = list(dict.fromkeys(m for summary, _ in runs.values() for m in summary["metrics"]))
    head = "".join(f"<th>{escape(name)}</th>" for name in names)
    rows = []
    for metric in metrics:
        cells = []
        for name in names:
            summary = runs[name][0]
            value = summary["metrics"].get(metric)
            ci = (summary.get("ci95") or {}).get(metric)
            extra = f"<br><span class=\"hint\">[{_fmt(ci[0])}, {_fmt(ci[1])}]</span>" if ci else ""
            cells.append(f"<td class=\"num\">{_fmt(value)}{extra}</td>")
        rows.append(f"<tr><td>{escape(metric)}</td>{''.join(cells)}</tr>")
    return ("<section id=\"runs\"><h2>Runs</h2><table class=\"metrics\"><thead><tr><th>metric</th>" + head +
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table><p class=\"hint\">95% CI: Wilson's score "
            "interval over prompts.</p></section>")


def _prompt_matrix(runs: dict[str, tuple[dict, list[dict]]], baseline: str, shown: int) -> str:
    """Every prompt with each run's verdict (maj@n) and, opened, each run's majority sample."""
    judges, verdicts, by_id = {}, {}, {}
    for name, (summary, records) in runs.items():
        correct = summary_correctness(summary)
        judges[name] = (_correct_reward(summary, correct), correct)
        verdicts[name] = dict(zip([r["id"] for r in records],
                                  metrics_mod.verdicts(records, correct), strict=True))
        by_id[name] = {r["id"]: r for r in records}
    names = list(runs)
    rows = []
    for record in runs[baseline][1]:
        row_id = record["id"]
        states = []
        for name in names:
            v = verdicts[name].get(row_id)
            states.append("none" if v is None else ("right" if v else "wrong"))
        base_state = states[names.index(baseline)]
        differs = any(s != base_state for s in states)
        truncated = any(any(by_id[n].get(row_id, {}).get("truncated") or []) for n in names)
        badges = "".join(f"<td><span class=\"badge {s}\">{ {'right': 'right', 'wrong': 'wrong', 'none': 'n/a'}[s] }"
                         "</span></td>" for s in states)
        samples = "".join(
            f"<li><b>{escape(name)}</b>{_sample_html(by_id[name][row_id], metrics_mod.majority_sample(by_id[name][row_id], judges[name][1]), judges[name])}</li>"
            for name in names if row_id in by_id[name])
        rows.append(
            f"<tr class=\"prompt\" data-verdict=\"{base_state}\" data-truncated=\"{int(truncated)}\" "
            f"data-flip=\"{'any' if differs else ''}\"><td>{escape(str(row_id))}</td>{badges}"
            f"<td>{escape(str(record.get('solution')))}</td><td><details><summary>{escape(_question(record)[:160])}"
            f"</summary><ol class=\"samples\">{samples}</ol></details></td></tr>")
    head = "".join(f"<th>{escape(name)}</th>" for name in names)
    return (
        "<section id=\"prompts\"><h2>Prompts</h2><div class=\"filters\">"
        "<input type=\"search\" id=\"search\" placeholder=\"search ids, prompts, golds, completions, answers\">"
        f"<label>{escape(baseline)}'s verdict <select id=\"verdict\"><option value=\"\">all</option>"
        "<option value=\"right\">right</option><option value=\"wrong\">wrong</option><option value=\"none\">no gold"
        "</option></select></label><label><input type=\"checkbox\" id=\"truncated\"> with truncated samples</label>"
        "<label>runs <select id=\"flip\"><option value=\"\">all</option><option value=\"any\">verdicts differ"
        "</option></select></label><span id=\"shown\"></span></div>"
        f"<table id=\"prompt-table\"><thead><tr><th>id</th>{head}<th>gold</th><th>prompt (open for each run's "
        "majority sample)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )


def _metrics_section(summary: dict, records: list[dict]) -> str:
    stderr, ci95 = summary.get("stderr"), summary.get("ci95")
    if stderr is None or ci95 is None:  # a summary written before intervals existed
        ks = [int(m[5:]) for m in summary["metrics"] if m.startswith("pass@") and m[5:].isdigit()]
        n = summary.get("n") or max(len(r["completions"]) for r in records)
        stderr, ci95 = stats.intervals(metrics_mod.prompt_scores(records, k=ks, n=n, correct=summary_correctness(summary)))
    rows = []
    for metric, value in summary["metrics"].items():
        low, high = (ci95.get(metric) or (None, None))
        se = stderr.get(metric)
        rows.append(
            f"<tr><td>{escape(metric)}</td><td class=\"num\">{_fmt(value)}</td>"
            f"<td class=\"num\">{'' if se is None else '± ' + _fmt(se)}</td>"
            f"<td class=\"num\">{'' if low is None else f'[{_fmt(low)}, {_fmt(high)}]'}</td>"
            f"<td>{svg.interval(value, low, high) if metric in ci95 else ''}</td></tr>"
        )
    return ("<section id=\"metrics\"><h2>Metrics</h2><table class=\"metrics\"><thead><tr><th>metric</th><th>value</th>"
            "<th>± stderr</th><th>95% CI</th><th>0 ─ 1</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
            "<p class=\"hint\">stderr = s/√m over prompts; 95% CI = Wilson's score interval over prompts (at the prompts' "
            "effective size for avg@n and pass@k).</p>"
            "</section>")


def _comparison_section(comparison: dict) -> str:
    rows = []
    for metric, a, b in comparison["metrics"]:
        diff = comparison["paired"].get(metric)
        delta = b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        noise = "" if diff is None or diff.p_value is None else ("yes" if diff.significant else "no")
        ci = "" if diff is None or diff.ci95 is None else f"[{diff.ci95[0]:+.4f}, {diff.ci95[1]:+.4f}]"
        p = "" if diff is None else format_p(diff.p_value)
        rows.append(f"<tr><td>{escape(metric)}</td><td class=\"num\">{_fmt(a)}</td><td class=\"num\">{_fmt(b)}</td>"
                    f"<td class=\"num\">{'' if delta is None else f'{delta:+.4f}'}</td><td class=\"num\">{ci}</td>"
                    f"<td class=\"num\">{p}</td><td class=\"noise-{noise}\">{noise}</td></tr>")
    a_name, b_name = comparison["names"]
    warnings = "".join(f"<p class=\"warning\">warning: {escape(w)}</p>" for w in comparison.get("warnings", []))
    if comparison.get("settings"):
        warnings = f"<p class=\"settings\">settings differ (A → B): {escape(comparison['settings'])}</p>{warnings}"
    notes = "".join(f"<p class=\"hint\">{escape(note)}</p>" for note in comparison.get("notes", []))
    return (f"<section id=\"comparison\"><h2>A vs B</h2><p class=\"meta\">A: {escape(a_name)}<br>B: {escape(b_name)}</p>"
            f"{warnings}<table class=\"metrics\"><thead><tr><th>metric</th><th>A</th><th>B</th><th>B − A</th>"
            "<th>paired 95% CI</th><th>p</th><th>beyond noise</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
            f"{notes}<p class=\"hint\">p: exact paired test over the prompts both runs graded (sign test for right/wrong "
            "verdicts, permutation test for avg@n and pass@k); beyond noise = p &lt; 0.05.</p>"
            f"<p>{len(comparison['lost'])} prompt(s) right in A and wrong in B, {len(comparison['gained'])} the reverse"
            f"{_only(comparison)}.</p></section>")


def _only(comparison: dict) -> str:
    a, b = len(comparison.get("only_a", [])), len(comparison.get("only_b", []))
    return f"; {a} only in A and {b} only in B (not compared)" if a or b else ""


def _rewards_section(records: list[dict]) -> str:
    names = list(dict.fromkeys(name for r in records for name in r.get("rewards", {})))
    figures = []
    for name in names:
        values = [v for r in records for v in r["rewards"].get(name, []) if v is not None]
        labels, counts = histogram(values)
        mean = f"mean {statistics.fmean(values):.4f}" if values else "no values"
        chart = svg.bar_chart(labels, [float(c) for c in counts], title=f"{name}: distribution", value_format="{:.0f}")
        figures.append(f"<figure>{chart}<figcaption>{escape(name)}: {len(values)} values, {mean}</figcaption></figure>")
    return "<section id=\"rewards\"><h2>Rewards</h2><div class=\"charts\">" + "".join(figures) + "</div></section>"


def histogram(values: Sequence[float], bins: int = 10) -> tuple[list[str], list[int]]:
    """Counts per distinct value when there are at most 8 of them (0/1 rewards stay two bars), else per
    one of ``bins`` equal-width bins between the smallest and largest value.

    >>> histogram([0.0, 1.0, 1.0])
    (['0', '1'], [1, 2])
    >>> histogram([i / 10 for i in range(11)], bins=2)
    (['0–0.5', '0.5–1'], [5, 6])
    """
    if not values:
        return [], []
    distinct = sorted(set(values))
    if len(distinct) <= 8:
        return [f"{v:g}" for v in distinct], [values.count(v) for v in distinct]
    low, high = distinct[0], distinct[-1]
    step = (high - low) / bins
    counts = [0] * bins
    for v in values:
        counts[min(int((v - low) / step), bins - 1)] += 1
    return [f"{low + i * step:.3g}–{low + (i + 1) * step:.3g}" for i in range(bins)], counts


def length_bins(pairs: Sequence[tuple[int, bool]], bins: int = LENGTH_BINS) -> list[tuple[str, int, float]]:
    """``(label, samples, accuracy)`` for (length, correct) pairs split into up to ``bins`` groups of about
    equal size by length (samples of one length stay together).

    >>> length_bins([(1, True), (2, False), (3, True), (4, True)], bins=2)
    [('1–2', 2, 0.5), ('3–4', 2, 1.0)]
    """
    ordered = sorted(pairs)
    out, start = [], 0
    size = math.ceil(len(ordered) / bins) if ordered else 1
    while start < len(ordered):
        stop = min(start + size, len(ordered))
        while stop < len(ordered) and ordered[stop][0] == ordered[stop - 1][0]:
            stop += 1
        group = ordered[start:stop]
        label = f"{group[0][0]}–{group[-1][0]}" if group[0][0] != group[-1][0] else f"{group[0][0]}"
        out.append((label, len(group), sum(c for _, c in group) / len(group)))
        start = stop
    return out


def _graded_samples(records: list[dict], correct: Correctness) -> list[tuple[int, bool, bool]]:
    """(length, correct, truncated) of every sample with a verdict; length in tokens, else characters."""
    out = []
    for r in records:
        lengths = r.get("lengths") or [len(c) for c in r["completions"]]
        truncated = r.get("truncated") or [False] * len(r["completions"])
        for ok, length, cut in zip(correct.of(r), lengths, truncated, strict=False):
            if ok is not None:
                out.append((int(length), ok, bool(cut)))
    return out


def _length_section(records: list[dict], correct: Correctness) -> str:
    samples = _graded_samples(records, correct)
    unit = "tokens" if all(r.get("lengths") for r in records) else "characters"
    groups = length_bins([(length, correct) for length, correct, _ in samples])
    chart = svg.bar_chart([g[0] for g in groups], [g[2] for g in groups], notes=[f"{g[1]} samples" for g in groups],
                          ymax=1.0, title="accuracy by completion length", width=560)
    return (f"<section id=\"length\"><h2>Accuracy by completion length</h2><p class=\"hint\">samples grouped by "
            f"length in {unit} into groups of about equal size; bar = share correct.</p>"
            f"<figure>{chart}</figure></section>")


def _truncation_section(records: list[dict], correct: Correctness) -> str:
    samples = _graded_samples(records, correct)
    cut = [c for _, c, t in samples if t]
    whole = [c for _, c, t in samples if not t]
    total = sum(len(r.get("truncated") or []) for r in records)
    count = sum(bool(x) for r in records for x in (r.get("truncated") or []))
    rate = f"{count / total:.1%}" if total else "n/a"
    chart = svg.bar_chart(["truncated", "finished"], [_share(cut), _share(whole)],
                          notes=[f"{len(cut)} samples", f"{len(whole)} samples"], ymax=1.0,
                          title="accuracy of truncated and finished samples", width=300)
    return (f"<section id=\"truncation\"><h2>Truncation</h2><p>{count} of {total} samples hit the token budget "
            f"({rate}).</p><figure>{chart}<figcaption>accuracy of truncated vs finished samples</figcaption></figure>"
            "</section>")


def _share(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def _flips_section(comparison: dict, records: list[dict], other: dict, judge: tuple[Any, Correctness]) -> str:
    mine = {r["id"]: r for r in records}
    rows = []
    for kind, ids in (("lost", comparison["lost"]), ("gained", comparison["gained"])):
        for row_id in ids:
            a, b = mine[row_id], other[row_id]
            rows.append(
                f"<tr class=\"flip-{kind}\"><td>{escape(str(row_id))}</td><td>{'right → wrong' if kind == 'lost' else 'wrong → right'}"
                f"</td><td>{escape(_question(a))}<div class=\"gold\">gold: {escape(str(a['solution']))}</div></td>"
                f"<td>{_majority_sample(a, judge)}</td><td>{_majority_sample(b, judge)}</td></tr>")
    body = "".join(rows) or "<tr><td colspan=\"5\">no verdict flipped</td></tr>"
    return ("<section id=\"flips\"><h2>Flipped verdicts</h2><p class=\"hint\">a prompt's verdict is its maj@n result; "
            "each side shows the sample that carried its majority.</p><table class=\"flips\"><thead><tr><th>id</th>"
            "<th>flip</th><th>prompt</th><th>A</th><th>B</th></tr></thead><tbody>" + body + "</tbody></table></section>")


def _majority_sample(record: dict, judge: tuple[Any, Correctness]) -> str:
    return _sample_html(record, metrics_mod.majority_sample(record, judge[1]), judge)


def _prompts_section(records: list[dict], verdicts: list[bool | None], flips: dict, judge: tuple[Any, Correctness],
                     shown: int, comparing: bool) -> str:
    rows = []
    for record, verdict in zip(records, verdicts, strict=True):
        graded = [v for v in judge[1].of(record) if v is not None]
        right = sum(graded)
        state = "none" if verdict is None else ("right" if verdict else "wrong")
        label = {"right": "right", "wrong": "wrong", "none": "no gold"}[state]
        truncated = any(record.get("truncated") or [])
        samples = "".join(f"<li>{_sample_html(record, j, judge)}</li>"
                          for j in range(min(shown, len(record["completions"]))))
        more = len(record["completions"]) - shown
        hidden = f"<p class=\"hint\">{more} more sample(s) in samples.jsonl</p>" if more > 0 else ""
        messages = "".join(f"<div class=\"msg\"><b>{escape(m.get('role', '?'))}</b><pre>{escape(_text(m.get('content')))}"
                           "</pre></div>" for m in record.get("prompt") or [])
        rows.append(
            f"<tr class=\"prompt\" data-verdict=\"{state}\" data-truncated=\"{int(truncated)}\" "
            f"data-flip=\"{flips.get(record['id'], '')}\"><td>{escape(str(record['id']))}</td>"
            f"<td><span class=\"badge {state}\">{label}</span>"
            f"{_flip_badge(flips.get(record['id']))}</td><td class=\"num\">{right}/{len(graded)}</td>"
            f"<td>{escape(str(record.get('solution')))}</td><td><details><summary>{escape(_question(record)[:160])}</summary>"
            f"{messages}<ol class=\"samples\">{samples}</ol>{hidden}</details></td></tr>"
        )
    flip_filter = ("<label>flips <select id=\"flip\"><option value=\"\">all</option><option value=\"any\">flipped</option>"
                   "<option value=\"lost\">right → wrong</option><option value=\"gained\">wrong → right</option>"
                   "</select></label>") if comparing else ""
    return (
        "<section id=\"prompts\"><h2>Prompts</h2><div class=\"filters\">"
        "<input type=\"search\" id=\"search\" placeholder=\"search ids, prompts, golds, completions, answers\">"
        "<label>verdict <select id=\"verdict\"><option value=\"\">all</option><option value=\"right\">right</option>"
        "<option value=\"wrong\">wrong</option><option value=\"none\">no gold</option></select></label>"
        "<label><input type=\"checkbox\" id=\"truncated\"> with truncated samples</label>"
        f"{flip_filter}<span id=\"shown\"></span></div>"
        "<table id=\"prompt-table\"><thead><tr><th>id</th><th>verdict</th><th>right</th><th>gold</th>"
        "<th>prompt (open for completions)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )


def _flip_badge(kind: str | None) -> str:
    if not kind:
        return ""
    return f" <span class=\"badge flip\">{'right → wrong' if kind == 'lost' else 'wrong → right'}</span>"


def _sample_html(record: dict, j: int, judge: tuple[Any, Correctness]) -> str:
    reward, correct = judge
    text = record["completions"][j]
    values = record.get("rewards", {}).get(correct.reward) or []
    value = values[j] if j < len(values) else None
    verdicts = correct.of(record)
    ok = verdicts[j] if j < len(verdicts) else None
    state = "none" if ok is None else ("right" if ok else "wrong")
    info = explain_sample(reward, text, record.get("solution"))
    why = reason(info) if correct.is_default or value is None else (
        f"{correct.reward} {value:g} {'>=' if ok else '<'} {correct.threshold:g}")
    length = (record.get("lengths") or [None] * (j + 1))[j]
    truncated = bool((record.get("truncated") or [False] * (j + 1))[j])
    facts = [f"sample {j}", f"answer: {info.get('answer')!s}", f"verdict: {state}", f"reason: {why}"]
    if length is not None:
        facts.append(f"{length} tokens" + (" (truncated)" if truncated else ""))
    others = ", ".join(f"{escape(name)} {_fmt(vals[j])}" for name, vals in record.get("rewards", {}).items()
                       if name != correct.reward and j < len(vals))
    scores = f"<div class=\"facts\">rewards: {others}</div>" if others else ""
    return (f"<div class=\"sample {state}\"><div class=\"facts\">{' · '.join(escape(f) for f in facts)}</div>"
            f"{scores}<pre>{escape(text)}</pre></div>")


def explain_sample(reward: Any, text: str, gold: Any) -> dict:
    """``rewards.explain`` of the correctness reward on one completion (what it read and why); an explanation
    that cannot be computed is logged and shown as such, never hidden. ``reward`` None (a ``module:function``
    the report cannot rebuild): the extracted answer only."""
    if reward is None:
        return {"answer": rewards.extract_answer(text)}
    gold_key = getattr(reward, "params", {}).get("gold_key", "solution")
    try:
        return rewards.explain(reward, text, **{"solution": gold, gold_key: gold})
    except (ValueError, TypeError) as err:
        log.warning("explain failed on a completion: %s", err)
        return {"answer": rewards.extract_answer(text), "error": f"{type(err).__name__}: {err}"}


def reason(info: dict) -> str:
    """One phrase for why a verdict is what it is, from ``explain``'s ``outcome`` (status, the check that
    decided it, its detail), else its ``details``.

    >>> reason({"outcome": {"status": "not_equal", "path": "numbers", "detail": ""}})
    'not equal (numbers)'
    >>> reason({"details": {"status": "no_answer"}})
    'no answer'
    """
    if info.get("error"):
        return f"no explanation ({info['error']})"
    outcome = info.get("outcome") or {}
    if not isinstance(outcome, dict):
        outcome = {k: getattr(outcome, k, None) for k in ("status", "path", "detail")}
    status = outcome.get("status") or (info.get("details") or {}).get("status")
    if status is None:
        return "no gold" if info.get("value") is None else ("correct" if info.get("value") else "wrong")
    text = str(getattr(status, "value", status)).replace("_", " ")
    if outcome.get("path"):
        text += f" ({outcome['path']})"
    if outcome.get("detail"):
        text += f": {outcome['detail']}"
    return text


def _correct_reward(summary: dict, correct: Correctness) -> Any:
    """The registry reward that defined correctness, with the run's parameters (None for a ``module:function``)."""
    name = correct.reward
    if name not in rewards.names():
        return None
    params = (summary.get("config", {}).get("reward_params") or {}).get(name) or {}
    try:
        return rewards.get(name, **params)
    except ValueError as err:
        log.warning("the run's %s parameters %s are not valid here (%s); explaining with the defaults", name, params, err)
        return rewards.get(name)


def _question(record: dict) -> str:
    users = [m for m in record.get("prompt") or [] if isinstance(m, dict) and m.get("role") == "user"]
    return _text(users[-1].get("content")) if users else str(record.get("id"))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return json.dumps(content, default=str)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return escape(str(value))


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
.meta{margin:4px 0;color:#c9cfdb;font-size:13px}section .meta{color:#555}header .settings{color:#ffd37a}
.settings{font-weight:600}
nav a{color:#9cc3ff;margin-right:14px;text-decoration:none}main{padding:8px 24px 40px}
section{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:12px 18px;margin:16px 0}
h2{font-size:17px;margin:4px 0 10px}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #eceef2;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#fafbfc;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.metrics{width:auto}.hint{color:#666;font-size:12px}.warning{color:#9a3b00;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:18px}figure{margin:0}figcaption{font-size:12px;color:#555}
svg .bar{fill:#4c7bd9}svg .axis{stroke:#999;stroke-width:1}svg text{font-size:10px;text-anchor:middle;fill:#333}
svg .note{fill:#777}svg .band{fill:#9cc3ff}svg .dot{fill:#1d2330}
.filters{display:flex;gap:14px;align-items:center;flex-wrap:wrap;margin-bottom:10px}
#search{flex:1;min-width:260px;padding:6px 8px;border:1px solid #c8ccd4;border-radius:6px}
#shown{color:#555}.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px}
.badge.right{background:#dff3e4;color:#17652f}.badge.wrong{background:#fbe1e1;color:#8c1d1d}
.badge.none{background:#eee;color:#555}.badge.flip{background:#fff1cc;color:#7a5600}
details summary{cursor:pointer}pre{white-space:pre-wrap;word-break:break-word;margin:4px 0;font-size:12px;
background:#f7f8fa;padding:6px;border-radius:4px}.msg b{font-size:11px;color:#666;text-transform:uppercase}
ol.samples{padding-left:18px}.sample{border-left:3px solid #ccc;padding-left:8px;margin:6px 0}
.sample.right{border-color:#2e9d52}.sample.wrong{border-color:#c94040}.facts{font-size:12px;color:#444}
.gold{color:#555;font-size:12px;margin-top:4px}.noise-yes{color:#17652f;font-weight:600}
tr.hidden{display:none}
"""

_JS = """
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll('#prompt-table tbody tr.prompt'));
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  var search = document.getElementById('search');
  var verdict = document.getElementById('verdict');
  var truncated = document.getElementById('truncated');
  var flip = document.getElementById('flip');
  var shown = document.getElementById('shown');
  function apply() {
    var words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var visible = 0;
    rows.forEach(function (row, i) {
      var ok = words.every(function (w) { return texts[i].indexOf(w) >= 0; });
      if (verdict.value) { ok = ok && row.dataset.verdict === verdict.value; }
      if (truncated.checked) { ok = ok && row.dataset.truncated === '1'; }
      if (flip && flip.value) {
        ok = ok && (flip.value === 'any' ? row.dataset.flip !== '' : row.dataset.flip === flip.value);
      }
      row.classList.toggle('hidden', !ok);
      if (ok) { visible += 1; }
    });
    shown.textContent = 'showing ' + visible + ' of ' + rows.length + ' prompts';
  }
  [search, verdict, truncated, flip].forEach(function (el) {
    if (el) { el.addEventListener('input', apply); el.addEventListener('change', apply); }
  });
  apply();
})();
"""
