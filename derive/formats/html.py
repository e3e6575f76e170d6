"""Self-contained HTML slides: MathML for the mathematics, inline SVG diagrams, no network at presentation time.

The markup follows reveal.js (``.reveal > .slides > section``, ``.fragment``) and a
few lines of script step through the fragments and slides with the arrow keys,
space or a click, so the file works offline on its own.
"""

from __future__ import annotations

import re

from derive.formats.mathml import mathml
from derive.formats.pictures import diagram_svg
from derive.formats.render import render

__all__ = ["mathml", "slides_html"]


def figure_svg(figure) -> str:
    """A frame's diagram as SVG, its drawn width as ``--width`` (a phone shows it no smaller than 70% of that)."""
    svg = diagram_svg(figure)
    width = re.match(r'<svg [^>]*?width="([0-9.]+)"', svg).group(1)
    return svg.replace("<svg ", f'<svg style="--width: {width}px" ', 1)


def slides_html(deck) -> str:
    """The deck as one HTML file."""
    return render("md/slides.html.j2", deck=deck, mathml=mathml, svg=figure_svg)
