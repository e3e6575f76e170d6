"""Compiling LaTeX to PDF: latexmk without shell escape, reproducible, with the first error reported."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from derive.errors import DeriveError

INSTALL_HINT = ("install TeX Live: apt-get install texlive-latex-base texlive-latex-recommended "
                "texlive-pictures latexmk lmodern")
TIMEOUT = 300


class LatexFailure(DeriveError):
    """LaTeX stopped with an error; ``log`` holds its log for inspection."""

    def __init__(self, where: str, problem: str, log: str):
        super().__init__(where, problem)
        self.log = log


def available() -> bool:
    """True when latexmk and pdflatex are on the PATH."""
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def first_error(log: str, name: str) -> str:
    """The first LaTeX error in a log, with its line in the generated file."""
    match = re.search(r"^! (.*)$", log, re.MULTILINE)
    if not match:
        return "LaTeX failed without an error message in its log"
    line = re.search(r"^l\.(\d+)", log[match.end():], re.MULTILINE)
    where = f" at line {line.group(1)} of {name}" if line else ""
    return f"LaTeX error{where}: {match.group(1).strip()}"


def overfull_boxes(log: str) -> list[str]:
    """The 'Overfull \\hbox' warnings of a log: numbers or text running off the page."""
    return re.findall(r"^Overfull \\[hv]box.*$", log, re.MULTILINE)


def compile_pdf(tex: str, name: str = "solution.tex", quick: bool = False) -> tuple[bytes, str]:
    """Compile LaTeX source to PDF bytes; return (pdf, log). Raises DeriveError / LatexFailure.

    latexmk runs pdflatex as often as the document needs. ``quick`` runs pdflatex
    itself, again only while the log asks for a rerun: three times faster for the
    short, reference-free documents of a worksheet batch.
    """
    if not available():
        raise DeriveError("pdf", f"latexmk and pdflatex are needed to build PDFs; {INSTALL_HINT}")
    env = dict(os.environ, SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1", TZ="UTC")
    if quick:
        command = ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", name]
    else:
        command = ["latexmk", "-pdf", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                   "-silent", name]
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as folder:
        source = Path(folder) / name
        source.write_text(tex, encoding="utf-8")
        log_path, pdf = source.with_suffix(".log"), source.with_suffix(".pdf")
        for _ in range(3 if quick else 1):
            try:
                result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                                        timeout=TIMEOUT, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise DeriveError("pdf", f"LaTeX took longer than {TIMEOUT} s and was stopped") from None
            log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else result.stdout
            if result.returncode != 0 or "Rerun" not in log:
                break
        if result.returncode != 0 or not pdf.exists():
            raise LatexFailure(name, first_error(log, name), log)
        return pdf.read_bytes(), log
