"""Self-contained HTML slides: MathML for the mathematics, inline SVG diagrams, no network at presentation time.

The markup follows reveal.js (``.reveal > .slides > section``, ``.fragment``) and a
few lines of script step through the fragments and slides with the arrow keys,
space or a click, so the file works offline on its own.
"""

from __future__ import annotations

import re

from derive.formats.mathml import mathml
from derive.formats.pictures import PROJECTED_SCALE, diagram_svg
from derive.formats.render import render

__all__ = ["mathml", "slides_html"]


#: the slide's text is Beamer's 11 pt: one em of the frame's text, in cm (TeX points)
EM_CM = 11 * 2.54 / 72.27


def figure_svg(figure) -> str:
    """A frame's diagram as SVG, its drawn width as ``--width`` (a phone shows it no smaller than 70% of that).

    A circuit drawn for a slide also carries ``--size``, its width on the Beamer frame in ems of the frame's text:
    shown at that width it is as large beside the text and the frame as on the Beamer frame (its labels 8 pt).
    """
    svg = diagram_svg(figure)
    width = re.match(r'<svg [^>]*?width="([0-9.]+)"', svg).group(1)
    style = f"--width: {width}px"
    if figure.kind == "circuit" and figure.projected:
        style += f"; --size: {float(width) / PROJECTED_SCALE / EM_CM:.3f}em"
    return svg.replace("<svg ", f'<svg style="{style}" ', 1)


def slides_html(deck) -> str:
    """The deck as one HTML file."""
    return render("md/slides.html.j2", deck=deck, mathml=mathml, svg=figure_svg)
