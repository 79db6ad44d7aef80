"""A self-contained HTML page: inline CSS, no scripts, no external resources, so it opens anywhere and renders
the same offline, in a CI artefact viewer or attached to an e-mail."""

from __future__ import annotations

from html import escape

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1d2330; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #e3e6ec; vertical-align: top; }
th { background: #f4f6f9; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: #137333; } .failed, .timeout { color: #b3261e; } .error { color: #8e24aa; } .skipped { color: #777; }
.not_run { color: #9a6700; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; white-space: pre-wrap; font-size: 13px; }
.meta { color: #5f6776; } .bar { fill: #3f6fd8; } .axis { stroke: #9aa3b2; }
svg text { font-size: 12px; fill: #1d2330; }
"""


def page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def table(headers: list[str], body_rows: list[list[str]], numeric: frozenset[int] = frozenset()) -> str:
    """A table whose cells are already HTML; ``numeric`` column indexes are right-aligned."""
    head = "".join(f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>" for i, h in enumerate(headers))
    lines = []
    for cells in body_rows:
        tds = "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(cells))
        lines.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def bar_chart(title: str, labels: list[str], values: list[int], *, width: int = 640, height: int = 220) -> str:
    """An inline SVG bar chart (no script needed to render it)."""
    margin, top = 36, 24
    plot_h = height - top - margin
    peak = max(values, default=0) or 1
    step = (width - margin * 2) / max(len(values), 1)
    bars = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_h = plot_h * value / peak
        x = margin + index * step
        y = top + plot_h - bar_h
        bars.append(
            f'<rect class="bar" x="{x + 2:.1f}" y="{y:.1f}" width="{step - 4:.1f}" height="{bar_h:.1f}">'
            f"<title>{escape(label)}: {value}</title></rect>"
            f'<text x="{x + step / 2:.1f}" y="{height - margin + 16}" text-anchor="middle">{escape(label)}</text>'
            f'<text x="{x + step / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{value}</text>'
        )
    axis = f'<line class="axis" x1="{margin}" y1="{top + plot_h}" x2="{width - margin}" y2="{top + plot_h}"/>'
    return (
        f'<svg role="img" aria-label="{escape(title)}" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f"{axis}{''.join(bars)}</svg>"
    )
