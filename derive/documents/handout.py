"""A large network's worked solution as a lecture handout: big tables summarised in the text, printed in an appendix.

The writers mark a table the text shows by a summary (``Table.summary``); this module
takes each such table out of its section, leaves the summary in its place, and gathers
the tables, under the titles of the sections they came from, in the appendix of tables.
"""

from __future__ import annotations

from dataclasses import replace

from derive.documents.model import P, Section, Table

#: the appendix of tables: it comes before any other appendix, so it is always the first
TABLES_TITLE = "All numbers"
TABLES_APPENDIX = "Appendix A"


def tables_appendix(parts: list, lead: tuple = ()) -> list:
    """The sections with every summarised table replaced by its summary, then the appendix of those tables.

    ``lead`` is what the appendix says first (how its tables are laid out). Without a summarised
    table the sections are returned as they are.
    """
    moved: dict[str, list] = {}

    def body(section: Section, top: str) -> Section:
        blocks = []
        for block in section.blocks:
            if isinstance(block, Section):
                blocks.append(body(block, top))
            elif isinstance(block, Table) and block.summary is not None:
                blocks += block.summary
                moved.setdefault(top, []).append(replace(block, summary=None))
            else:
                blocks.append(block)
        return replace(section, blocks=tuple(blocks))

    shown = [body(section, section.title) for section in parts]
    if not moved:
        return parts
    groups = tuple(Section(title, 2, tuple(tables)) for title, tables in moved.items())
    appendix = Section(TABLES_TITLE, 1, (P("Every entry of the matrices and vectors the text summarises, "
                                            "under the title of the section that uses them."), *lead, *groups),
                       "tables", appendix=True)
    return [*shown, appendix]
