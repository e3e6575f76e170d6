"""Compiling LaTeX to PDF: pdflatex without shell escape, reproducible, with the first error reported.

pdflatex runs once, and again only while its log asks for a rerun (a changed label, a
longtable's column widths): most documents take one pass. Before anything is compiled,
:func:`problem` checks that pdflatex and every file the documents load are installed
(``kpsewhich``), and names what is missing with the package that holds it.

The compilation happens in a temporary folder that is removed on every way out: an
error, an interrupt, SIGTERM (the command line turns it into an interrupt), and after
a SIGKILL, by the next run (:func:`sweep`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from derive.errors import DeriveError
from derive.formats.escape import jobname

#: the Debian/Ubuntu packages that hold everything the documents load
PACKAGES = ("texlive-latex-base", "texlive-latex-recommended", "texlive-pictures", "lmodern")
INSTALL_HINT = "install TeX Live: apt-get install " + " ".join(PACKAGES)
#: every file the templates load, with the package that holds it
NEEDED = (
    ("article.cls", "texlive-latex-base"), ("fontenc.sty", "texlive-latex-base"),
    ("inputenc.sty", "texlive-latex-base"), ("geometry.sty", "texlive-latex-base"),
    ("amsmath.sty", "texlive-latex-base"), ("amssymb.sty", "texlive-base"), ("longtable.sty", "texlive-latex-base"),
    ("fancyhdr.sty", "texlive-latex-base"), ("graphicx.sty", "texlive-latex-base"),
    ("multicol.sty", "texlive-latex-base"), ("array.sty", "texlive-latex-base"),
    ("beamer.cls", "texlive-latex-recommended"),
    ("booktabs.sty", "texlive-latex-recommended"), ("caption.sty", "texlive-latex-recommended"),
    ("microtype.sty", "texlive-latex-recommended"), ("tikz.sty", "texlive-pictures"),
    ("pgfplots.sty", "texlive-pictures"), ("pgfpages.sty", "texlive-pictures"),
    # the Latin Modern fonts in T1 encoding, as scalable Type 1 fonts (without them pdfTeX falls back to
    # bitmap fonts, and microtype stops with "auto expansion is only possible with scalable fonts")
    ("lmodern.sty", "lmodern"), ("t1lmr.fd", "lmodern"), ("lmr10.pfb", "lmodern"),
)
TIMEOUT = 300
#: pdflatex passes at most (a rerun is asked for by a changed label or longtable widths; two settle them)
PASSES = 4
PREFIX = "derive-tex-"


class LatexFailure(DeriveError):
    """LaTeX stopped with an error; ``log`` holds its log for inspection."""

    def __init__(self, where: str, problem: str, log: str):
        super().__init__(where, problem)
        self.log = log


def missing_files() -> list[tuple[str, str]]:
    """The needed files kpsewhich does not find, each with its package (one kpsewhich call)."""
    return list(_missing())


@lru_cache(maxsize=1)
def _missing() -> tuple:
    names = [name for name, _ in NEEDED]
    try:
        found = subprocess.run(["kpsewhich", *names], capture_output=True, text=True, timeout=60,
                               stdin=subprocess.DEVNULL).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return tuple(NEEDED)
    have = {Path(path).name for path in found}
    return tuple((name, package) for name, package in NEEDED if name not in have)


def problem() -> str | None:
    """What keeps derive from building PDFs, in one sentence naming the fix, or None when nothing does."""
    if shutil.which("pdflatex") is None or shutil.which("kpsewhich") is None:
        return f"TeX Live is not installed ({INSTALL_HINT})"
    lacking = missing_files()
    if lacking:
        packages = sorted({package for _, package in lacking})
        return (f"TeX Live lacks {', '.join(name for name, _ in lacking)} "
                f"(apt-get install {' '.join(packages)})")
    return None


def available() -> bool:
    """True when pdflatex and every file the documents load are installed."""
    return problem() is None


def first_error(log: str, name: str) -> str:
    """The first LaTeX error in a log, with its line in the generated file."""
    match = re.search(r"^! (.*)$", log, re.MULTILINE)
    if not match:
        if re.search(r"TeX capacity exceeded|buffer size", log):
            return "LaTeX ran out of memory (TeX capacity exceeded)"
        return "LaTeX failed without an error message in its log"
    line = re.search(r"^l\.(\d+)", log[match.end():], re.MULTILINE)
    where = f" at line {line.group(1)} of {name}" if line else ""
    return f"LaTeX error{where}: {match.group(1).strip()}"


def overfull_boxes(log: str) -> list[str]:
    """The 'Overfull \\hbox' warnings of a log: numbers or text running off the page."""
    return re.findall(r"^Overfull \\[hv]box.*$", log, re.MULTILINE)


def _rerun(log: str) -> bool:
    """True when the log asks for another pass (labels, longtable widths, anything saying 'Rerun')."""
    return "Rerun" in log or "Label(s) may have changed" in log


def sweep(folder: str | None = None) -> None:
    """Remove the compile folders that runs killed outright (SIGKILL) left behind: only this user's, of dead runs."""
    base = Path(folder or tempfile.gettempdir())
    try:
        entries = list(base.glob(PREFIX + "*"))
    except OSError:
        return
    for entry in entries:
        match = re.fullmatch(PREFIX + r"(\d+)-.*", entry.name)
        if not match:
            continue
        try:
            if entry.stat().st_uid != os.getuid() or _alive(int(match.group(1))):
                continue
        except OSError:
            continue
        shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@dataclass(frozen=True)
class Preamble:
    """A batch's shared preamble dumped into a format file (pdflatex -ini, as mylatexformat does): a document
    that starts with ``text`` loads the format instead of its packages, about half of a small document's run."""

    text: str  # the source text the format stands for: everything before \begin{document}
    path: Path  # the .fmt file
    settings: str  # the pdfTeX settings of the preamble, given again (a format does not keep them all)


@contextmanager
def dumped_preamble(tex: str):
    """The format of a document's preamble (None when pdflatex cannot make one), removed on the way out."""
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-") as folder:
        yield _dump(tex, folder)


def _dump(tex: str, folder: str) -> Preamble | None:
    cut = tex.find("\\begin{document}")
    if cut < 0 or problem() is not None:
        return None
    text = tex[:cut]
    source = Path(folder) / "preamble.tex"
    source.write_text(text + "\\dump\n", encoding="utf-8")
    env = dict(os.environ, SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1", TZ="UTC")
    command = ["pdflatex", "-ini", "-jobname=preamble", "-no-shell-escape", "-interaction=nonstopmode",
               "-halt-on-error", "&pdflatex", "preamble.tex"]
    returncode, _ = _run(command, folder, env)
    path = Path(folder) / "preamble.fmt"
    if returncode != 0 or not path.exists():
        return None
    settings = "".join(line + "\n" for line in text.splitlines() if line.startswith("\\pdf"))
    return Preamble(text, path, settings)


def compile_pdf(tex: str, name: str = "solution.tex", quick: bool = False,
                preamble: Preamble | None = None) -> tuple[bytes, str]:
    """Compile LaTeX source to PDF bytes; return (pdf, log). Raises DeriveError / LatexFailure.

    pdflatex runs once, and again only while the log asks for a rerun (at most
    :data:`PASSES` times). ``name`` names the document in messages; the job itself
    is named with letters and digits only (TeX reads %, ~, quotes, backslashes and ^^
    in a file name). ``quick`` is accepted for the callers that ask for a fast build:
    every build is now the fastest one. ``preamble``: a format of this document's preamble
    (:func:`dumped_preamble`), used when the source starts with it.
    """
    trouble = problem()
    if trouble is not None:
        raise DeriveError("pdf", f"PDFs cannot be built: {trouble}")
    sweep()
    env = dict(os.environ, SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1", TZ="UTC")
    job = jobname(Path(name).stem)
    command = ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", f"{job}.tex"]
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-") as folder:
        if preamble is not None and tex.startswith(preamble.text):
            os.symlink(preamble.path, Path(folder) / "preamble.fmt")
            tex = preamble.settings + tex[len(preamble.text):]
            command.insert(1, "-fmt=preamble")
        source = Path(folder) / f"{job}.tex"
        source.write_text(tex, encoding="utf-8")
        log_path, pdf = source.with_suffix(".log"), source.with_suffix(".pdf")
        for _ in range(PASSES):
            returncode, stdout = _run(command, folder, env)
            log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else stdout
            if returncode != 0 or not _rerun(log):
                break
        if returncode != 0 or not pdf.exists():
            raise LatexFailure(name, first_error(log, name), log)
        return pdf.read_bytes(), log


def _run(command, folder, env) -> tuple[int, str]:
    """Run pdflatex; on a timeout, an interrupt or SIGTERM, stop it before its folder is removed."""
    child = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, text=True, errors="replace")
    try:
        stdout, _ = child.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise DeriveError("pdf", f"LaTeX took longer than {TIMEOUT} s and was stopped") from None
    except BaseException:
        child.kill()
        child.wait()
        raise
    return child.returncode, stdout
