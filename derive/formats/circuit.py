"""A circuit's worked-solution files, rendered in memory: solution.md (with circuit.svg), .tex, .pdf, .json."""

from __future__ import annotations

from pathlib import Path

from derive.documents.circuit_document import build
from derive.formats.pictures import pictures
from derive.formats.render import render
from derive.formats.solution import pdf_or_keep
from derive.io.export import circuit_json


def circuit_files(circuit, formats, digits: int, out: Path, link=None) -> dict:
    """Every requested file of a solved circuit's worked solution (nothing is written here); ``link``: the network a
    neuron's circuit comes from."""
    files = {}
    if "json" in formats:
        files["solution.json"] = circuit_json(circuit)
    if {"md", "tex", "pdf"} & set(formats):
        document = build(circuit, digits=digits, link=link)
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
