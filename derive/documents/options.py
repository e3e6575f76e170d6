"""How a document is written: one frozen set of options, passed whole (as black's ``Mode``).

Every writer, the slides, the worksheets and the output formats read their settings
from an :class:`Options`; a variant (the slides' narrower column, a worksheet's key)
is ``dataclasses.replace(options, ...)``, never a change to a shared object.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.documents.metadata import Metadata
from derive.documents.printing import DEFAULT_DIGITS
from derive.errors import DeriveError

#: the forms of the derivation itself: the formulas alone, or each formula followed by its numbers
SYMBOLIC_MODES = ("general", "then-numbers")


@dataclass(frozen=True)
class Options:
    """The printing options of a document.

    ``digits``: significant digits printed (values are exact; only printing rounds).
    ``notation``: how the documents name things: 'units', 'layered' or 'matrix'; None for
    the spec's own scheme. ``convention``: a textbook's names and signs (derive.core.conventions);
    None for the spec's [document] convention. ``detail``: the parameters the matrix form derives in full
    (comma-separated names, 'all' or 'none'; None for a few per layer). ``line_width``:
    a column this many digit widths wide, into which long sums are packed (the slides
    beside a diagram); None for a fixed number of terms per line. ``places``: the
    decimals of a worksheet's answers; ``blanks``: what its students fill in;
    ``formulas``: print the formulas they may use. ``symbolic``: the derivation itself,
    every quantity as its general formula ('general'), or each formula followed by its
    numbers ('then-numbers'); '' for the worked solution with numbers (a worksheet's
    blanks are then formulas).
    ``verification``: end a solution with the appendix "How these numbers were checked" (a
    lecturer may leave it out of a handout). ``metadata``: the command line's course, author, date
    and institution, printed over the spec's [document] ones (derive.documents.metadata).
    """

    digits: int = DEFAULT_DIGITS
    notation: str | None = None
    convention: str | None = None
    detail: str | None = None
    line_width: float | None = None
    places: int = 4
    blanks: str = "full"
    formulas: bool = False
    symbolic: str = ""
    verification: bool = True
    metadata: Metadata = Metadata()

    def __post_init__(self):
        if not 1 <= self.digits <= 30:
            raise DeriveError("--digits", f"expected a number of significant digits from 1 to 30, got {self.digits}")
        if not 0 <= self.places <= 12:
            raise DeriveError("--places", f"expected a number of decimals from 0 to 12, got {self.places}")
        if self.symbolic not in ("", *SYMBOLIC_MODES):
            raise DeriveError("--symbolic", f"expected {' or '.join(SYMBOLIC_MODES)}, got {self.symbolic!r}")
