"""The dashboard's trend chart as inline SVG, drawn on the server.

A pure function of its arguments: integer coordinates only (no floats, no
clock), so the same points give the same bytes (unit-tested).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

#: Line colours per series (contrast >= 4.5:1 on white).
COLOURS: Mapping[str, str] = {"consumed": "#1d4ed8", "entitled": "#15803d", "remaining": "#b45309"}
DASHES: Mapping[str, str] = {"consumed": "", "entitled": "6 4", "remaining": "2 3"}


def _ticks(bottom: int, top: int) -> list[int]:
    """Five evenly spaced integer gridline values from ``bottom`` to ``top``."""
    return [bottom + (top - bottom) * i // 4 for i in range(5)]


def trend_svg(
    labels: Sequence[str],
    series: Mapping[str, Sequence[int | None]],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
) -> str:
    """An accessible SVG line chart: one polyline per series (``None`` values
    break the line), x = the points in order, y = 0 (or the lowest value) .. the largest value.

    ``labels`` name the points (first and last are printed under the axis);
    ``series`` maps a name to one value per label. Returns SVG markup.
    """
    pad_l, pad_r, pad_t, pad_b = 48, 12, 12, 36
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    n = len(labels)
    values = [v for vs in series.values() for v in vs if v is not None]
    # the axis spans 0 .. top (and down to a negative value when one is charted),
    # rounded out to multiples of 4 so the gridlines are integers
    high = max([*values, 1])
    low = min([*values, 0])
    top = -(-high // 4) * 4
    bottom = low // 4 * 4
    span = top - bottom
    esc_title = escape(title)

    def x(i: int) -> int:
        return pad_l + (plot_w // 2 if n <= 1 else i * plot_w // (n - 1))

    def y(v: int) -> int:
        return pad_t + plot_h - (v - bottom) * plot_h // span

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="chart-title" class="trend-chart">',
        f'<title id="chart-title">{esc_title}</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for t in _ticks(bottom, top):
        out.append(f'<line x1="{pad_l}" y1="{y(t)}" x2="{width - pad_r}" y2="{y(t)}" stroke="#d1d5db" stroke-width="1"/>')
        out.append(f'<text x="{pad_l - 6}" y="{y(t) + 4}" text-anchor="end" font-size="11" fill="#374151">{t}</text>')
    if n:
        out.append(f'<text x="{pad_l}" y="{height - 14}" font-size="11" fill="#374151">{escape(labels[0])}</text>')
        if n > 1:
            out.append(f'<text x="{width - pad_r}" y="{height - 14}" text-anchor="end" font-size="11" '
                       f'fill="#374151">{escape(labels[-1])}</text>')
    for name in sorted(series):
        colour = COLOURS.get(name, "#111827")
        dash = DASHES.get(name, "")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(series[name]):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(i)},{y(v)}")
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}" data-series="{escape(name)}"/>')
            else:
                out.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2"'
                           f'{dash_attr} data-series="{escape(name)}"/>')
    out.append("</svg>")
    return "".join(out)
