"""A worked solution's files, rendered in memory, and the Solution that renders itself (the public API's).

Nothing here touches the disk except writing on request and a failed LaTeX run's kept files.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from derive.core.solve import Solution as _Solution
from derive.core.solve import solve as _solve
from derive.documents.options import Options
from derive.documents.printing import DEFAULT_DIGITS
from derive.formats.registry import SOLUTION, Written
from derive.io.export import to_json
from derive.io.files import write_files


def solution_files(solution, formats, options: Options = Options(), out: Path = Path(".")) -> dict:
    """The files of a worked solution in the named formats (see derive.formats.registry), rendered in memory."""
    return SOLUTION.files(Written.of_solution(solution, options, out), [SOLUTION[name] for name in formats])


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
        return solution_files(self, ("md",), Options(digits=digits, detail=detail))["solution.md"]

    def latex(self, digits: int = DEFAULT_DIGITS, detail: str | None = None) -> str:
        """The worked solution as a complete LaTeX document."""
        return solution_files(self, ("tex",), Options(digits=digits, detail=detail))["solution.tex"]

    def json(self) -> str:
        """The numbers as JSON text (see the README)."""
        return to_json(self)

    def write(self, folder, formats=("md", "tex", "pdf", "json"), digits: int = DEFAULT_DIGITS,
              detail: str | None = None):
        """Write the worked solution's files into ``folder`` (all or nothing); return their paths."""
        return write_files(folder, solution_files(self, tuple(formats), Options(digits=digits, detail=detail), Path(folder)))

    def _repr_markdown_(self) -> str:
        """Jupyter shows a solution as its worked solution, its figures inlined (a notebook has no folder for them)."""
        files = solution_files(self, ("md",))

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
