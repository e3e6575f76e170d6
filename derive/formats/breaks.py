"""Page breaks of the LaTeX documents: how many lines a heading or a lead-in sentence keeps with what follows.

TeX breaks a page wherever it may; the templates forbid a break right after a heading
and before a display, and ask for room (``\\needlines``) before a heading and before a
sentence that introduces a table or a derivation. How much room is estimated here, in
lines of body text, from the document model: rough, but enough that a heading never ends
a page and "The weights:" never ends one with its table on the next.
"""

from __future__ import annotations

import math
import re

from derive.documents.model import Chain, Figure, Paragraph, Plot, Section, Table

#: the most lines ever asked for: about two thirds of a page, so that a tall block still starts low on a page
MOST = 32
#: characters of running text to a line (11 pt on A4 with 2.2 cm margins)
LINE_CHARS = 95
#: a table taller than this is a longtable, which breaks across pages by itself
LONG_TABLE = 30


def _paragraph_lines(p: Paragraph) -> float:
    """Lines of a paragraph: its text and its mathematics (LaTeX prints at about half its source length)."""
    chars = sum(len(content) if kind == "text" else len(re.sub(r"\\[a-zA-Z]+|[{}_^ ]", "", content))
                for kind, content in p.parts)
    return max(1, math.ceil(chars / LINE_CHARS))


def _row_lines(row) -> float:
    """Lines one row of a display takes: two for a row with a full-size fraction."""
    text = " ".join(row)
    return 2.2 if re.search(r"\\(?:d?frac|sum)\b", text) else 1.15


def lines(block) -> float:
    """Roughly how many lines of body text a block takes on the page, with the space around it."""
    if isinstance(block, Paragraph):
        return _paragraph_lines(block) + 0.5
    if isinstance(block, Chain):
        return sum(_row_lines(row) for row in block.rows) + 1.2
    if isinstance(block, Table):
        return min(len(block.rows), 12 if len(block.rows) > LONG_TABLE else len(block.rows)) + 3.5 \
            + (1 if block.caption else 0)
    if isinstance(block, Figure):
        d = block.diagram  # its height in cm, scaled down with its width to the text width (a line is 0.48 cm)
        return 4 + 2.1 * d.height * min(1, 14 / max(d.width, 1))
    if isinstance(block, Plot):
        return 17
    if isinstance(block, Section):
        return heading_lines(block) + (lines(block.blocks[0]) if block.blocks else 0)
    return 2


def heading_lines(section: Section) -> float:
    """Lines a heading takes with the space above and below it: three for a section, two for the smaller
    headings inside one (counting three for each overestimated "The output layer" with "Unit o1" by
    two lines and pushed them, with their first derivation, off a page that had room)."""
    return 3 if section.level == 1 else 2


def leads_in(block, after=None) -> bool:
    """True for a sentence that introduces what follows it: it ends with a colon, or a table follows it."""
    return isinstance(block, Paragraph) and bool(block.parts) and (
        block.parts[-1][1].rstrip().endswith(":") or isinstance(after, Table))


def keep(block, after=None) -> int:
    """The lines to keep together from ``block`` on: a heading with its first block (and what that
    introduces), a lead-in sentence with the block it introduces; at most :data:`MOST`."""
    if isinstance(block, Section):
        first = block.blocks[:2]
        need = heading_lines(block) + (keep(first[0], first[1] if len(first) > 1 else None) if first else 0)
    elif leads_in(block, after) and after is not None:
        need = lines(block) + lines(after)
    else:
        need = lines(block)
    return int(min(MOST, math.ceil(need)))
