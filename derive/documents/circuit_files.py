"""The files of a circuit's outputs, rendered in memory: worked solution, slides, worksheets."""

from __future__ import annotations

from pathlib import Path

from ..files import pdf_or_keep


def solution_files(circuit, formats, digits: int, out: Path) -> dict:
    """solution.md (with circuit.svg), solution.tex, solution.pdf and solution.json of a solved circuit."""
    from ..render import render
    from .circuit_document import build, to_json

    files = {}
    if "json" in formats:
        files["solution.json"] = to_json(circuit)
    if {"md", "tex", "pdf"} & set(formats):
        document = build(circuit, digits=digits)
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
