"""The files of each output, rendered in memory: nothing here touches the disk except a failed LaTeX run's kept files."""

from __future__ import annotations

from pathlib import Path

from .errors import DeriveError


def pdf_or_keep(tex: str, stem: str, out: Path) -> bytes:
    """The PDF of ``tex``; when LaTeX fails, the .tex and its log are kept in ``out`` for inspection."""
    from .latex import LatexFailure, compile_pdf
    from .writer import write_files

    try:
        return compile_pdf(tex, f"{stem}.tex")[0]
    except LatexFailure as failure:
        kept = write_files(out, {f"{stem}.tex": tex, f"{stem}.log": failure.log})
        raise DeriveError(failure.where, f"{failure.problem} (kept {kept[0]} and {kept[1]})") from None


def solution_files(solution, formats, digits: int, detail=None, out: Path = Path(".")) -> dict:
    """Every requested file of a worked solution, rendered in memory (nothing is written here)."""
    files = {}
    if "json" in formats:
        from .export import to_json

        files["solution.json"] = to_json(solution)
    if {"md", "tex", "pdf"} & set(formats):
        from .render import render
        from .worked import build

        document = build(solution, digits=digits, detail=detail)
        if "md" in formats:
            files["solution.md"] = render("md/solution.md.j2", doc=document)
            files.update(document.files)
        if {"tex", "pdf"} & set(formats):
            tex = render("tex/solution.tex.j2", doc=document)
            if "tex" in formats:
                files["solution.tex"] = tex
            if "pdf" in formats:
                files["solution.pdf"] = pdf_or_keep(tex, "solution", out)
    return files
