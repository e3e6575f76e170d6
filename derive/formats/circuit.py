"""A circuit's worked-solution files, rendered in memory through the solution formats: solution.md (with
circuit.svg), .tex, .pdf, .json."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from derive.documents.circuit_document import build
from derive.documents.metadata import document_metadata
from derive.documents.options import Options
from derive.formats.registry import SOLUTION, Written
from derive.io.export import circuit_json


def circuit_files(circuit, formats, options: Options = Options(), out: Path = Path("."), link=None) -> dict:
    """Every requested file of a solved circuit's worked solution (nothing is written here); ``link``: the network a
    neuron's circuit comes from."""
    meta = document_metadata(circuit.spec, options.metadata)  # a formula spec has only the command line's
    job = Written(lambda: replace(build(circuit, digits=options.digits, link=link, verification=options.verification),
                                  meta=meta), lambda: circuit_json(circuit), out)
    return SOLUTION.files(job, formats)
