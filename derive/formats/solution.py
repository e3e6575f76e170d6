"""A worked solution's files, rendered in memory, and the Solution that renders itself (the public API's).

Nothing here touches the disk except writing on request and a failed LaTeX run's kept files.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from derive.core.solve import Solution as _Solution
from derive.core.solve import solve as _solve
from derive.documents.printing import DEFAULT_DIGITS
from derive.documents.options import Options
from derive.documents.worked import build
from derive.errors import DeriveError
from derive.formats.latex import LatexFailure, compile_pdf
from derive.formats.pictures import pictures
from derive.formats.render import render
from derive.io.export import to_json
from derive.io.files import write_files


def pdf_or_keep(tex: str, stem: str, out: Path) -> bytes:
    """The PDF of ``tex``; when LaTeX fails, the .tex and its log are kept in ``out`` for inspection."""
    try:
        return compile_pdf(tex, f"{stem}.tex")[0]
    except LatexFailure as failure:
        kept = write_files(out, {f"{stem}.tex": tex, f"{stem}.log": failure.log})
        raise DeriveError(failure.where, f"{failure.problem} (kept {kept[0]} and {kept[1]})") from None


def solution_files(solution, formats, digits: int, detail=None, out: Path = Path(".")) -> dict:
    """Every requested file of a worked solution, rendered in memory (nothing is written here)."""
    files = {}
    if "json" in formats:
        files["solution.json"] = to_json(solution)
    if {"md", "tex", "pdf"} & set(formats):
        document = build(solution, Options(digits=digits, detail=detail))
        if "md" in formats:
            files["solution.md"] = render("md/solution.md.j2", doc=document)
            files.update(pictures(document))
        if {"tex", "pdf"} & set(formats):
            tex = render("tex/solution.tex.j2", doc=document)
            if "tex" in formats:
                files["solution.tex"] = tex
            if "pdf" in formats:
                files["solution.pdf"] = pdf_or_keep(tex, "solution", out)
    return files


class Solution(_Solution):
    """A solved network that renders itself: Markdown, LaTeX, JSON, files, and its display in Jupyter.

    The numbers and records are those of :class:`derive.core.solve.Solution`; see there.
    """

    @classmethod
    def of(cls, solution: _Solution) -> "Solution":
        """The same solution (its fields and everything already computed) with the rendering methods."""
        rendered = object.__new__(cls)
        rendered.__dict__.update(solution.__dict__)
        return rendered

    def markdown(self, digits: int = DEFAULT_DIGITS, detail: str | None = None) -> str:
        """The worked solution as Markdown text (with $...$ mathematics)."""
        return solution_files(self, ("md",), digits, detail)["solution.md"]

    def latex(self, digits: int = DEFAULT_DIGITS, detail: str | None = None) -> str:
        """The worked solution as a complete LaTeX document."""
        return solution_files(self, ("tex",), digits, detail)["solution.tex"]

    def json(self) -> str:
        """The numbers as JSON text (see the README)."""
        return to_json(self)

    def write(self, folder, formats=("md", "tex", "pdf", "json"), digits: int = DEFAULT_DIGITS,
              detail: str | None = None):
        """Write the worked solution's files into ``folder`` (all or nothing); return their paths."""
        return write_files(folder, solution_files(self, tuple(formats), digits, detail, Path(folder)))

    def _repr_markdown_(self) -> str:
        """Jupyter shows a solution as its worked solution, its figures inlined (a notebook has no folder for them)."""
        files = solution_files(self, ("md",), DEFAULT_DIGITS, None)

        def inline(match):
            data = files.get(match.group(2))
            if not isinstance(data, str) or not match.group(2).endswith(".svg"):
                return match.group(0)
            return f"![{match.group(1)}](data:image/svg+xml;base64,{base64.b64encode(data.encode()).decode()})"

        return re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", inline, files["solution.md"])


def solve(spec, notation: str | None = None, progress=None, verify_symbolic: bool = True,
          convention: str | None = None) -> Solution:
    """Solve a spec (see :func:`derive.core.solve.solve`); the solution renders itself."""
    return Solution.of(_solve(spec, notation, progress, verify_symbolic, convention))
