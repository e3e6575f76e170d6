"""The loss history as an SVG picture for the Markdown output (no plotting library needed)."""

from __future__ import annotations

from .render import render

WIDTH, HEIGHT, MARGIN = 640, 360, 60


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Evenly spaced tick values from low to high."""
    if high == low:
        return [low]
    return [low + (high - low) * k / (count - 1) for k in range(count)]


def loss_svg(history) -> str:
    """A line plot of the loss against the step, as SVG text."""
    ys = [float(v) for v in history]
    xs = list(range(len(ys)))
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
