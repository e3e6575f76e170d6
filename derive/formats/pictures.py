"""Pictures as SVG for Markdown and HTML: the network diagram and the loss history (no plotting library needed)."""

from __future__ import annotations

import re

from derive.documents.circuit_diagram import CircuitDiagram, bounds
from derive.documents.diagram import RADIUS
from derive.documents.model import Figure, Plot, downsample
from derive.formats.plainmath import html_math
from derive.formats.render import render

WIDTH, HEIGHT, MARGIN = 640, 360, 60


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Evenly spaced tick values from low to high."""
    if high == low:
        return [low]
    return [low + (high - low) * k / (count - 1) for k in range(count)]


_SCRIPT = re.compile(r"<(sub|sup)>(.*?)</\1>")


def svg_math(latex: str, size: float, after: str = "") -> str:
    """A name in LaTeX as SVG text runs: subscripts and superscripts as smaller tspans shifted by dy
    (as TikZ sets them; dy rather than baseline-shift, which not every viewer honours). ``after`` (SVG
    text, escaped by the caller) follows upright on the baseline. A sub- and superscript pair is written superscript first.
    """
    html = html_math(latex)
    html = re.sub(r"<sub>(.*?)</sub><sup>(.*?)</sup>", r"<sup>\2</sup><sub>\1</sub>", html)
    shifts = {"sub": round(0.3 * size, 1), "sup": round(-0.4 * size, 1)}
    small = round(0.7 * size, 1)
    runs, at, level = [], 0, 0.0
    for match in _SCRIPT.finditer(html):
        runs.append((html[at:match.start()], 0.0, None))
        runs.append((match.group(2), shifts[match.group(1)], small))
        at = match.end()
    runs.append((html[at:], 0.0, None))
    out = []
    for text, shift, font in runs:
        if not text:
            continue
        if shift == level and font is None:
            out.append(text)
            continue
        dy = f' dy="{shift - level:g}"' if shift != level else ""
        small_font = f' font-size="{font:g}"' if font else ""
        out.append(f"<tspan{dy}{small_font}>{text}</tspan>")
        level = shift
    if after:  # back on the baseline (an edge label's value after the weight's name)
        dy = f' dy="{-level:g}"' if level else ""
        out.append(f'<tspan{dy} font-style="normal">{after}</tspan>')
    return "".join(out)


def diagram_svg(diagram, scale: float = 60.0) -> str:
    """A network or circuit diagram as SVG text (1 cm = ``scale`` pixels)."""
    if diagram.kind == "circuit":
        return circuit_svg(diagram, scale)

    def at(x, y):  # cm, y up -> pixels, y down
        return (round((x + 1.6) * scale, 1), round((diagram.height / 2 + 1.1 - y) * scale, 1))

    width = round((diagram.width + 3.2) * scale)
    height = round((diagram.height + 2.2) * scale)
    return render("md/diagram.svg.j2", d=diagram, at=at, width=width, height=height, radius=round(RADIUS * scale, 1),
                  math=svg_math)


#: a circuit's label in the SVG template, px (its names and gates 16 px on a slide, 18 px elsewhere)
LABEL_PX = 14
#: pixels per cm of a circuit drawn for a slide: its 14 px labels are 8 pt (TeX points), as on the Beamer frame
PROJECTED_SCALE = LABEL_PX / (8 * 2.54 / 72.27)
#: the blank space round a slide's circuit beyond its labels, cm
PROJECTED_PAD = 0.15


def circuit_svg(diagram: CircuitDiagram, scale: float = 60.0) -> str:
    """A circuit diagram as SVG text (1 cm = ``scale`` pixels).

    A diagram drawn for a slide (``projected``) is drawn at PROJECTED_SCALE, whatever ``scale`` says, cropped to
    its labels as the Beamer frame's picture is (circuit_diagram.bounds).
    """
    if diagram.projected:
        scale = PROJECTED_SCALE
        x0, y0, x1, y1 = bounds(diagram)
        left, top = PROJECTED_PAD - x0, y1 + PROJECTED_PAD
        width, height = x1 - x0 + 2 * PROJECTED_PAD, y1 - y0 + 2 * PROJECTED_PAD
    else:
        left, top = 1.0 + diagram.left, diagram.top + 0.9
        width, height = diagram.width + 2.0, diagram.height + 1.8

    def at(x, y):
        return round((x + left) * scale, 1), round((top - y) * scale, 1)

    bw, bh = (round(size * scale, 1) for size in diagram.blank_size)
    return render("md/circuit.svg.j2", d=diagram, at=at, scale=scale, width=round(width * scale),
                  height=round(height * scale), bw=bw, bh=bh, name=16 if diagram.projected else 18)


def pictures(document) -> dict[str, str]:
    """The SVG files a Markdown document links to, by name: its diagrams and plots."""
    files = {}
    for section in document.sections:
        for block in section.blocks:
            if isinstance(block, Figure):
                files[block.svg_name] = diagram_svg(block.diagram)
            elif isinstance(block, Plot):
                files[block.svg_name] = plot_svg(block.ys, block.xs)
    return files


def plot_svg(ys, xs=None) -> str:
    """A line plot of the values against ``xs`` (default: their index; the loss against the step), as SVG text.

    A long series is drawn from a downsampled one (derive.documents.model.downsample).
    """
    xs, ys = downsample(range(len(ys)) if xs is None else xs, [float(v) for v in ys])
    low, high = min(ys), max(ys)
    if high == low:
        low, high = low - 0.5, high + 0.5
    span_x = max(1, xs[-1])

    def px(x):
        return MARGIN + (WIDTH - 2 * MARGIN) * x / span_x

    def py(y):
        return HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * (y - low) / (high - low)

    points = " ".join(f"{px(x):.2f},{py(y):.2f}" for x, y in zip(xs, ys))
    yticks = [(py(v), f"{v:.4g}") for v in _ticks(low, high)]
    xticks = [(px(v), f"{v:.0f}") for v in _ticks(0, span_x, min(6, span_x + 1))]
    return render("md/plot.svg.j2", width=WIDTH, height=HEIGHT, margin=MARGIN, points=points,
                  yticks=yticks, xticks=xticks, markers=len(ys) <= 30,
                  coords=[(f"{px(x):.2f}", f"{py(y):.2f}") for x, y in zip(xs, ys)])
