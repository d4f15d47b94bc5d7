"""Inline SVG charts for the reports: a line plot with labelled axes and reference lines, and
grouped horizontal bars. Hand-written (no matplotlib: it is not a dependency, and the SVG must
live inside a self-contained HTML page).

    svg = line_plot([Series("training loss", [(1, 7.63), (2, 7.62)])], x_label="step",
                    y_label="loss (nats per token)", refs=[Ref(7.62, "uniform guess: ln 2048")])

Axes start at 0 by default and end on a round number, so noise in the third decimal does not
fill the plot the way a min-max axis makes it look.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")


@dataclass
class Series:
    name: str
    points: list[tuple[float, float]]
    color: str = ""
    dots: bool = False  # markers at each point (sparse series: validation, evaluations)
    cls: str = ""  # an SVG class for the line (tests and styling find it by name)


@dataclass
class Ref:
    """A horizontal reference line (a baseline a reader compares the curve with)."""

    y: float
    label: str


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (the classic 1-2-5 steps)."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks, t = [], first
    while t < hi + step * 0.999:
        ticks.append(round(t, 10))
        t += step
    return ticks


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e5 else f"{v:.2g}"


@dataclass(frozen=True)
class _Frame:
    """The plot area of a chart and the data range it shows."""

    left: float
    top: float
    pw: float  # plot width, height
    ph: float
    x0: float
    x1: float
    y0: float
    y1: float

    def sx(self, x: float) -> float:
        return self.left + (x - self.x0) / (self.x1 - self.x0) * self.pw

    def sy(self, y: float) -> float:
        return self.top + self.ph - (y - self.y0) / (self.y1 - self.y0) * self.ph


def line_plot(
    series: list[Series],
    *,
    x_label: str,
    y_label: str,
    refs: list[Ref] | tuple[Ref, ...] = (),
    from_zero: bool = True,
    width: int = 680,
    height: int = 320,
) -> str:
    """Line chart: x ticks as integers (steps), y from 0 (or the data's minimum) to a round
    number above the data and the reference lines."""
    pts = [p for s in series for p in s.points]
    if not pts:
        return _empty(width, height, "nothing logged yet")
    xs = [x for x, _ in pts]
    ys = [y for _, y in pts] + [r.y for r in refs]
    yt = nice_ticks(0.0 if from_zero else min(ys), max(ys))
    left, right, top, bottom = 60, 20, 34, 46
    f = _Frame(
        left, top, width - left - right, height - top - bottom,
        min(xs), max(max(xs), min(xs) + 1), yt[0], yt[-1],
    )  # fmt: skip
    out = [_head(width, height, f"{y_label} by {x_label}")]
    out += _grid(f, yt)
    out.append(_axes(f, x_label, y_label, height))
    for r in refs:
        out.append(
            f'<line class="ref" x1="{f.left}" y1="{f.sy(r.y):.1f}" x2="{f.left + f.pw}" '
            f'y2="{f.sy(r.y):.1f}" stroke="#888" stroke-dasharray="5 4"/>'
            f'<text x="{f.left + f.pw - 4}" y="{f.sy(r.y) - 5:.1f}" text-anchor="end" '
            f'fill="#555">{html.escape(r.label)}</text>'
        )
    for i, s in enumerate(series):
        out += _line(f, s, i)
    return "".join(out) + "</svg>"


def _grid(f: _Frame, yt: list[float]) -> list[str]:
    """Horizontal grid lines with their y labels, then the x ticks (whole steps)."""
    out = []
    for t in yt:
        out.append(
            f'<line x1="{f.left}" y1="{f.sy(t):.1f}" x2="{f.left + f.pw}" y2="{f.sy(t):.1f}" '
            f'stroke="#e5e7eb"/><text x="{f.left - 6}" y="{f.sy(t) + 4:.1f}" '
            f'text-anchor="end">{_fmt(t)}</text>'
        )
    ticks = nice_ticks(f.x0, f.x1)
    gap = 0.4 * (ticks[1] - ticks[0]) if len(ticks) > 1 else 1
    # the first step gets a tick of its own (step 1, not an axis that seems to start at 0)
    xt = [f.x0] + [t for t in ticks if f.x0 + gap <= t <= f.x1 and float(t).is_integer()]
    bottom = f.top + f.ph
    for t in xt:
        out.append(
            f'<line x1="{f.sx(t):.1f}" y1="{bottom}" x2="{f.sx(t):.1f}" y2="{bottom + 4}" '
            f'stroke="#333"/><text x="{f.sx(t):.1f}" y="{bottom + 17}" '
            f'text-anchor="middle">{_fmt(t)}</text>'
        )
    return out


def _axes(f: _Frame, x_label: str, y_label: str, height: int) -> str:
    left, top, pw, ph = f.left, f.top, f.pw, f.ph
    return (
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#333"/>'
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#333"/>'
        f'<text x="{left + pw / 2:.1f}" y="{height - 8}" text-anchor="middle">'
        f"{html.escape(x_label)}</text>"
        f'<text transform="translate(14 {top + ph / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{html.escape(y_label)}</text>'
    )


def _line(f: _Frame, s: Series, i: int) -> list[str]:
    """Series i: its polyline, its dots where asked (or a lone point), its legend entry."""
    color = s.color or PALETTE[i % len(PALETTE)]
    line = " ".join(f"{f.sx(x):.1f},{f.sy(y):.1f}" for x, y in s.points)
    cls = f' class="{s.cls}"' if s.cls else ""
    out = [
        f'<polyline{cls} fill="none" stroke="{color}" '
        f'stroke-width="2" points="{line}">'
        f"<title>{html.escape(s.name)}</title></polyline>"
    ]
    if s.dots or len(s.points) == 1:
        out += [
            f'<circle cx="{f.sx(x):.1f}" cy="{f.sy(y):.1f}" r="3.5" fill="{color}"/>'
            for x, y in s.points
        ]
    left = f.left
    out.append(
        f'<line x1="{left + 8 + 170 * i}" y1="14" x2="{left + 30 + 170 * i}" y2="14" '
        f'stroke="{color}" stroke-width="3"/><text x="{left + 36 + 170 * i}" y="18">'
        f"{html.escape(s.name)}</text>"
    )
    return out


def bar_chart(
    title: str,
    groups: dict[str, dict[str, float]],
    series: dict[str, str],
    left: int = 190,
    width: int = 360,
) -> str:
    """Horizontal grouped bars of fractions (0-1) per group, one bar per series (name ->
    color); each group's "n" is shown beside its name."""
    names = list(groups)
    row_h, bar_h = 8 + 13 * len(series), 12
    height = 40 + row_h * len(names) + 20
    parts = [
        _head(left + width + 70, height, title),
        f'<text x="4" y="16" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, (name, color) in enumerate(series.items()):
        parts.append(
            f'<rect x="{left + 150 * i}" y="24" width="10" height="10" fill="{color}"/>'
            f'<text x="{left + 14 + 150 * i}" y="33">{html.escape(name)}</text>'
        )
    for j in range(0, 101, 25):
        x = left + width * j / 100
        parts.append(
            f'<line x1="{x}" y1="40" x2="{x}" y2="{height - 16}" stroke="#ddd"/>'
            f'<text x="{x}" y="{height - 4}" text-anchor="middle">{j}%</text>'
        )
    for i, name in enumerate(names):
        y = 44 + row_h * i
        g = groups[name]
        parts.append(
            f'<text x="{left - 6}" y="{y + 16}" text-anchor="end">'
            f"{html.escape(str(name))} (n={g['n']})</text>"
        )
        for k, (mode, color) in enumerate(series.items()):
            v = g[mode]
            parts.append(
                f'<rect x="{left}" y="{y + k * (bar_h + 1)}" width="{width * v:.1f}" '
                f'height="{bar_h}" fill="{color}"><title>{html.escape(mode)} '
                f'{100 * v:.1f}%</title></rect><text x="{left + width * v + 4:.1f}" '
                f'y="{y + k * (bar_h + 1) + 10}" font-size="10">{100 * v:.1f}</text>'
            )
    return "".join(parts) + "</svg>"


def _head(width: int, height: int, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui,sans-serif" font-size="11" '
        f'role="img" aria-label="{html.escape(label)}"><rect width="100%" height="100%" '
        f'fill="white"/>'
    )


def _empty(width: int, height: int, msg: str) -> str:
    return _head(width, 60, msg) + f'<text x="10" y="30">{html.escape(msg)}</text></svg>'
