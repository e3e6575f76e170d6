"""Who a document is for and from: the course, the lecturer (author), the date and the institution.

The worked solution, the slides, the worksheets and their keys print the same entries on
their title block and running head. They come from the spec's ``[document]`` table
(course, author, date, institution; read and checked by derive.core.spec) and from the
command line (``--course``, ``--author``, ``--date``, ``--institution``), whose entries
win; :func:`document_metadata` is the one place that decides.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from derive.core.spec import MAX_TITLE_ENTRY, TITLE_KEYS, typographic
from derive.errors import DeriveError

#: the longest pair of entries printed on one line of the title block (characters; longer pairs take a line each)
LINE = 80
#: the longest course and date in a running head, beside the title (characters; longer ones are shortened)
HEAD_COURSE, HEAD_DATE = 28, 20
#: what each entry is, as the command line's help says it
TITLE_WORDS = {"course": "the course", "author": "the lecturer", "date": "the date", "institution": "the institution"}


@dataclass(frozen=True)
class Metadata:
    """A document's course, author (the lecturer), date and institution; '' where not given."""

    course: str = ""
    author: str = ""
    date: str = ""
    institution: str = ""

    def __bool__(self) -> bool:
        return any(getattr(self, key) for key in TITLE_KEYS)

    @property
    def lines(self) -> tuple[str, ...]:
        """The title block's lines under the title: the course and institution, then the lecturer and date (a pair
        too long for one line as two)."""
        lines = []
        for pair in ((self.course, self.institution), (self.author, self.date)):
            joined = _joined(*pair)
            lines += [joined] if len(joined) <= LINE else list(pair)
        return tuple(line for line in lines if line)

    @property
    def entries(self) -> dict:
        """The entries given, by key (the JSON's "document")."""
        return {key: getattr(self, key) for key in TITLE_KEYS if getattr(self, key)}

    @property
    def head(self) -> str:
        """The running head's entry beside the title: the course and the date, each shortened to fit ('' when
        neither is given)."""
        return _joined(_shortened(self.course, HEAD_COURSE), _shortened(self.date, HEAD_DATE))

    @property
    def head_short(self) -> str:
        """The running head's entry beside a worksheet's version: the course, else the date, shortened."""
        return _shortened(self.course, HEAD_COURSE) or _shortened(self.date, HEAD_DATE)

    def over(self, base: "Metadata") -> "Metadata":
        """These entries where given, ``base``'s elsewhere."""
        return Metadata(**{f.name: getattr(self, f.name) or getattr(base, f.name) for f in fields(self)})


def _joined(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def _shortened(text: str, limit: int) -> str:
    """``text``, or its first words within ``limit`` characters and an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    words = cut if text[limit - 1] == " " or " " not in cut else cut.rsplit(" ", 1)[0]  # whole words
    return words.rstrip(" ,;:(-") + "…"


def given(**entries: str | None) -> Metadata:
    """The command line's entries (None: not given), checked: one line of text each, as in a spec."""
    checked = {}
    for key, value in entries.items():
        if key not in TITLE_KEYS:
            raise DeriveError(f"--{key}", f"unknown title-page entry; the entries are {', '.join(TITLE_KEYS)}")
        if value is None:
            continue
        if len(value) > MAX_TITLE_ENTRY or "\n" in value or "\r" in value:
            raise DeriveError(f"--{key}", f"expected one line of at most {MAX_TITLE_ENTRY} characters for "
                              f"{TITLE_WORDS[key]}")
        checked[key] = typographic(value.strip())
    return Metadata(**checked)


def document_metadata(spec, command_line: Metadata = Metadata()) -> Metadata:
    """The entries a document prints: the command line's over the spec's [document] ones.

    A spec without a [document] table of this kind (a formula spec) contributes none.
    """
    return command_line.over(Metadata(**{key: getattr(spec, key, "") for key in TITLE_KEYS}))
