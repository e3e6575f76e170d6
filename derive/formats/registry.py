"""The registry of output formats: each format is one entry (name, the files it writes, whether it needs TeX, its renderer).

Every command that writes documents (``derive solve``, ``slides``, ``worksheet``,
``check``) has one :class:`Formats` table; the command line reads ``--format``
through it, leaves out the formats that need TeX when TeX is missing and none was
asked for, and asks each chosen entry for its files. Adding a format is one
:class:`Format` entry in its table (and its template). A renderer receives the
command's *job*: the thing being written and what its formats share (the document
model, the LaTeX source), each made once, when a format first asks for it.

The tables of the worked solution (networks and circuits alike) and of the slides
live here; the worksheets' table is in derive.exercises.batch and the check's in
derive.grading.check, beside what they render.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from derive import lazy
from derive.documents.metadata import document_metadata
from derive.documents.options import Options
from derive.errors import DeriveError, suggestion
from derive.formats.latex import LatexFailure, available, compile_pdf
from derive.io.export import to_json
from derive.io.files import write_files

#: the document model and the renderers, imported when a format first needs them (see derive.lazy):
#: a run that writes only JSON never loads them
LAZY_MODULES = {
    "symbolic": "derive.documents.symbolic",
    "worked": "derive.documents.worked",
    "html": "derive.formats.html",
    "pictures": "derive.formats.pictures",
    "render": "derive.formats.render",
}
m = lazy.Modules(LAZY_MODULES)


@dataclass(frozen=True)
class Format:
    """One output format: its name, the files it writes, its renderer (job -> {file name: content})."""

    name: str
    files: str  # the files it writes, as the help says it
    render: Callable[[object], dict]
    needs_tex: bool = False
    default: bool = True  # made when no --format is given
    title: str = ""  # what a note calls it when it is left out for want of TeX


@dataclass(frozen=True)
class Formats:
    """The output formats of one command, by name, in the order their files are made."""

    command: str
    formats: tuple[Format, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.formats)

    @property
    def defaults(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.formats if f.default)

    def __getitem__(self, name: str) -> Format:
        return next(f for f in self.formats if f.name == name)

    def choose(self, text: str | None, defaults: tuple[str, ...] | None = None) -> tuple[list[Format], list[Format]]:
        """The formats ``--format`` names (comma-separated; None: the defaults), and those left out.

        ``defaults``: the defaults of a kind of job that makes only some of the formats (a formula
        worksheet), instead of the table's. An unknown name is an error naming the known ones.
        With no ``--format``, the defaults that need TeX are left out when TeX is missing (the
        caller says so); one asked for by name stays, and fails with the reason when it is made.
        """
        if text is None:
            chosen = list(self.defaults if defaults is None else defaults)
        else:
            chosen = list(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
            if not chosen:
                raise DeriveError("--format", f"no format given; choose from {', '.join(self.names)}")
        for name in chosen:
            if name not in self.names:
                raise DeriveError("--format", f"unknown format '{name}'{suggestion(name, self.names)}; "
                                  f"choose from {', '.join(self.names)}")
        formats = [f for f in self.formats if f.name in chosen]
        if text is None and not available():
            return [f for f in formats if not f.needs_tex], [f for f in formats if f.needs_tex]
        return formats, []

    def files(self, job, chosen) -> dict:
        """Every file of the chosen formats, rendered in memory (nothing is written here)."""
        files = {}
        for f in chosen:
            files.update(f.render(job))
        return files


def failed_names(stem: str) -> tuple[str, str]:
    """The names a failed LaTeX run's source and log are kept under: never those of a good run's files."""
    return f"{stem}.failed.tex", f"{stem}.failed.log"


def pdf_or_keep(tex: str, stem: str, out: Path) -> bytes:
    """The PDF of ``tex``; when LaTeX fails, the .tex and its log are kept in ``out`` for inspection.

    They are kept as ``STEM.failed.tex`` and ``STEM.failed.log``: the folder's other files,
    the last good run's, stay as they were and still belong together.
    """
    try:
        return compile_pdf(tex, f"{stem}.tex")[0]
    except LatexFailure as failure:
        source, log = failed_names(stem)
        kept = write_files(out, {source: tex, log: failure.log})
        raise DeriveError(failure.where, f"{failure.problem} (kept {kept[0]} and {kept[1]})") from None


class Written:
    """A worked solution's job: its document model and LaTeX source, each made once; its data as JSON.

    ``document`` and ``data`` make the document model and the JSON text (a network's or a
    circuit's); ``out`` is where a failed LaTeX run keeps its files.
    """

    def __init__(self, document: Callable, data: Callable, out: Path = Path(".")):
        self._document, self._data, self.out = document, data, out

    @classmethod
    def of_solution(cls, solution, options: Options = Options(), out: Path = Path(".")) -> "Written":
        """The job of a solved network's worked solution: the derivation in general form when the options'
        ``symbolic`` asks for it."""
        document = lambda: (m.symbolic.build if options.symbolic else m.worked.build)(solution, options)  # noqa: E731
        entries = document_metadata(solution.spec, options.metadata).entries
        return cls(document, lambda: to_json(solution, entries), out)

    @cached_property
    def document(self):
        return self._document()

    @cached_property
    def tex(self) -> str:
        return m.render.render("tex/solution.tex.j2", doc=self.document)

    def data(self) -> str:
        return self._data()


#: the worked solution of a network or a circuit (derive solve)
SOLUTION = Formats("solve", (
    Format("md", "solution.md and its pictures (SVG)",
           lambda job: {"solution.md": m.render.render("md/solution.md.j2", doc=job.document),
                          **m.pictures.pictures(job.document)}),
    Format("tex", "solution.tex", lambda job: {"solution.tex": job.tex}),
    Format("pdf", "solution.pdf", lambda job: {"solution.pdf": pdf_or_keep(job.tex, "solution", job.out)},
           needs_tex=True, title="PDF"),
    Format("json", "solution.json", lambda job: {"solution.json": job.data()}),
))


@dataclass(frozen=True)
class Shown:
    """A set of slides' job: the deck and where a failed LaTeX run keeps its files."""

    deck: object
    out: Path = Path(".")


def _beamer(job: Shown) -> dict:
    tex = m.render.render("beamer/slides.tex.j2", deck=job.deck)
    stem = "handout" if job.deck.handout else "slides"  # a handout beside the projected deck, not over it
    return {f"{stem}.tex": tex, f"{stem}.pdf": pdf_or_keep(tex, stem, job.out)}


#: lecture slides (derive slides)
SLIDES = Formats("slides", (
    Format("beamer", "slides.tex and slides.pdf (handout.tex and handout.pdf with --handout)", _beamer, needs_tex=True, title="Beamer slides"),
    Format("revealjs", "slides.html", lambda job: {"slides.html": m.html.slides_html(job.deck)}),
))
