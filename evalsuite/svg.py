"""Draws the report's charts as inline SVG text: bar charts with labels, and a value with its interval.
It must never reference anything outside the SVG it returns (no fonts, images or scripts), so a page works offline."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    notes: Sequence[str] | None = None,
    ymax: float | None = None,
    title: str = "",
    width: int = 420,
    height: int = 180,
    value_format: str = "{:.2f}",
) -> str:
    """Vertical bars, one per label, each with its value above it and ``notes`` (e.g. counts) under the
    label; ``None`` values draw no bar. ``ymax`` (default: the largest value) is the top of the scale.

    >>> svg = bar_chart(["a", "b"], [1.0, 0.5], title="t")
    >>> svg.startswith("<svg") and svg.count("<rect") == 2 and "<title>t</title>" in svg
    True
    """
    numbers = [v for v in values if v is not None]
    top = ymax if ymax is not None else max([*numbers, 0.0]) or 1.0
    left, bottom, head = 8, 34, 18
    slot = (width - 2 * left) / max(len(labels), 1)
    bar = max(slot * 0.7, 2)
    parts = [f'<svg class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img"><title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" class="axis"/>']
    plot = height - bottom - head
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot + (slot - bar) / 2
        cx = x + bar / 2
        if value is not None:
            h = plot * min(max(value / top, 0.0), 1.0)
            y = height - bottom - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" class="bar">'
                         f"<title>{escape(label)}: {escape(value_format.format(value))}</title></rect>")
            parts.append(f'<text x="{cx:.1f}" y="{y - 4:.1f}" class="value">{escape(value_format.format(value))}</text>')
        parts.append(f'<text x="{cx:.1f}" y="{height - bottom + 13}" class="label">{escape(label)}</text>')
        if notes:
            parts.append(f'<text x="{cx:.1f}" y="{height - bottom + 26}" class="note">{escape(notes[i])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def interval(value: float | None, low: float | None, high: float | None, *, width: int = 140, height: int = 16) -> str:
    """A 0..1 scale with the 95% interval as a band and the value as a dot ("" when there is no value).

    >>> "<circle" in interval(0.5, 0.4, 0.6) and interval(None, None, None) == ""
    True
    """
    if value is None or not 0.0 <= value <= 1.0:
        return ""
    pad = 4
    scale = width - 2 * pad

    def x(v: float) -> float:
        return pad + scale * min(max(v, 0.0), 1.0)

    band = ""
    if low is not None and high is not None:
        band = (f'<rect x="{x(low):.1f}" y="{height / 2 - 3:.1f}" width="{max(x(high) - x(low), 1):.1f}" height="6" '
                f'class="band"><title>95% CI {low:.4f} to {high:.4f}</title></rect>')
    return (f'<svg class="interval" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img"><title>{value:.4f}</title>'
            f'<line x1="{pad}" y1="{height / 2}" x2="{width - pad}" y2="{height / 2}" class="axis"/>{band}'
            f'<circle cx="{x(value):.1f}" cy="{height / 2}" r="3.5" class="dot"/></svg>')
