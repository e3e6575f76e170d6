"""The files of a worksheet batch: sheets and keys (PDF, TeX, Markdown), Moodle, Canvas and JSON, rendered in memory.

``WORKSHEETS`` is the registry of the batch's formats; a format's renderer gets the batch's
*job* (:class:`Batch`, :class:`Exam` or derive.exercises.circuits.CircuitBatch), which
builds what the formats share (each version's sheet and key context, their LaTeX) once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import cached_property
from pathlib import Path

from derive.core.numeric import to_float
from derive.core.solve import solve
from derive.core.versions import versions
from derive.documents.options import Options
from derive.errors import DeriveError
from derive.exercises.moodle import moodle_xml
from derive.exercises.qti import package
from derive.exercises.worksheet import context, exercise, marks_scheme
from derive.formats import escape
from derive.formats.latex import compile_pdf, dumped_preamble
from derive.formats.pictures import diagram_svg
from derive.formats.registry import Format, Formats
from derive.formats.render import render
from derive.io.export import dumps, in_layout


def exercises(spec, options: Options, variants: int | None = None, seed: int = 1, progress=None,
              marks: str | None = None) -> list:
    """The exercises of a run: the spec itself, or ``variants`` versions of it drawn from ``seed``; the options'
    ``blanks``, ``places`` and ``formulas`` say what the students fill in and how; ``marks`` per stage."""
    plan = spec.training
    if plan.l2 or plan.batch_size or plan.order or plan.mode != "batch":
        # the sheets' backward pass is the whole batch's data loss: a penalty or a mini-batch would change the question
        raise DeriveError(f"{spec.source}: training", "worksheets train on the whole batch without an L2 penalty "
                          "in the loss; this spec has a penalty or mini-batches (the worked solution, the slides "
                          "and derive check cover it)")
    scheme = marks_scheme(marks)
    specs = versions(spec, variants, seed, options.places) if variants else [spec]
    made = []
    for k, version in enumerate(specs, start=1):
        ident = version.name.split("@", 1)[1] if "@" in version.name else spec.name
        made.append(exercise(solve(version), options, ident, scheme))
        if progress:
            progress(k, len(specs), "preparing")
    return made


class Batch:
    """A worksheet batch's job: each version's sheet and key context (made once, shared by every format).

    ``pdf``: the PDFs are made too, so the LaTeX carries each document's page count
    (see :func:`typeset_numbered`); without them it keeps a reference to the last page.
    """

    def __init__(self, exercises: list, progress=None, pdf: bool = True):
        self.exercises, self.progress, self.wants_pdf = exercises, progress, pdf

    @cached_property
    def sheets(self) -> dict:
        """Each version's context: its sheet, its key (the same context, filled in) and the quizzes share it."""
        return {ex.ident: context(ex, False) for ex in self.exercises}

    @cached_property
    def both(self) -> dict:
        return {f"{'key' if key else 'sheet'}-{escape.filename(ex.ident)}": [{**self.sheets[ex.ident], "key": key}]
                for ex in self.exercises for key in (False, True)}

    @cached_property
    def typeset(self) -> tuple[dict, dict]:
        """The LaTeX and (when wanted) the PDFs of every sheet and key, by file stem."""
        return typeset_numbered({stem: lambda pages, s=stem: render("tex/worksheet.tex.j2", sheets=self.both[s],
                                                                    pages=pages)
                                 for stem in self.both}, self.wants_pdf, self.progress)

    def tex_files(self) -> dict:
        return {f"{stem}.tex": text for stem, text in self.typeset[0].items()}

    def pdf(self) -> dict:
        pdfs = self.typeset[1]
        out = {f"{stem}.pdf": pdf for stem, pdf in pdfs.items()}
        if len(self.exercises) > 1:
            out["sheets.pdf"] = unite([pdfs[f"sheet-{escape.filename(ex.ident)}"] for ex in self.exercises])
            out["keys.pdf"] = unite([pdfs[f"key-{escape.filename(ex.ident)}"] for ex in self.exercises])
        return out

    def markdown(self) -> dict:
        out = {}
        for ex in self.exercises:
            for key in (False, True):
                stem = f"{'key' if key else 'sheet'}-{escape.filename(ex.ident)}"
                out[f"{stem}.md"] = render("md/worksheet.md.j2", sheets=self.both[stem])
            out[f"network-{escape.filename(ex.ident)}.svg"] = diagram_svg(self.sheets[ex.ident]["diagram"])
        return out

    def moodle(self) -> str:
        return moodle_xml(self.exercises, self.exercises[0].title, self.sheets)

    def qti(self) -> bytes:
        return package(self.exercises, self.sheets)

    def json(self) -> str:
        return to_json(self.exercises)


class Exam:
    """An exam's job: a paper and a key per version (PDF, TeX, Markdown), and the quizzes of its questions.

    In the quizzes and the JSON, question n of exam version V is the version named ``V-qn``.
    """

    def __init__(self, versions: list[tuple[str, list]], progress=None, pdf: bool = True):
        self.versions = [(ident, [replace(ex, ident=f"{ident}-q{n}") for n, ex in enumerate(qs, start=1)])
                         for ident, qs in versions]
        self.progress, self.wants_pdf = progress, pdf
        self.flat = [ex for _, qs in self.versions for ex in qs]

    @cached_property
    def contexts(self) -> dict:
        return {f"{'key' if key else 'exam'}-{ident}": exam_context(ident, qs, key)
                for ident, qs in self.versions for key in (False, True)}

    @cached_property
    def typeset(self) -> tuple[dict, dict]:
        return typeset_numbered({stem: lambda pages, c=c: render("tex/exam.tex.j2", pages=pages, **c)
                                 for stem, c in self.contexts.items()}, self.wants_pdf, self.progress)

    def tex_files(self) -> dict:
        return {f"{stem}.tex": text for stem, text in self.typeset[0].items()}

    def pdf(self) -> dict:
        pdfs = self.typeset[1]
        out = {f"{stem}.pdf": pdf for stem, pdf in pdfs.items()}
        if len(self.versions) > 1:
            out["exams.pdf"] = unite([pdfs[f"exam-{ident}"] for ident, _ in self.versions])
            out["keys.pdf"] = unite([pdfs[f"key-{ident}"] for ident, _ in self.versions])
        return out

    def markdown(self) -> dict:
        out = {f"{stem}.md": render("md/worksheet.md.j2", sheets=c["exam"]["questions"])
               for stem, c in self.contexts.items()}
        for ex in self.flat:
            out[f"network-{ex.ident}.svg"] = diagram_svg(context(ex, False)["diagram"])
        return out

    def moodle(self) -> str:
        return moodle_xml(self.flat, "Exam")

    def qti(self) -> bytes:
        return package(self.flat)

    def json(self) -> str:
        return to_json(self.flat)


#: the files of a worksheet batch or an exam (derive worksheet), of networks and circuits alike: a job is a
#: Batch, an Exam or a derive.exercises.circuits.CircuitBatch
WORKSHEETS = Formats("worksheet", (
    Format("pdf", "sheet-ID.pdf and key-ID.pdf (several versions: sheets.pdf, keys.pdf)", lambda job: job.pdf(),
           needs_tex=True, title="PDF"),
    Format("tex", "sheet-ID.tex and key-ID.tex", lambda job: job.tex_files(), default=False),
    Format("md", "sheet-ID.md and key-ID.md with their pictures", lambda job: job.markdown(), default=False),
    Format("moodle", "moodle.xml", lambda job: {"moodle.xml": job.moodle()}),
    Format("qti", "canvas-qti.zip (Canvas)", lambda job: {"canvas-qti.zip": job.qti()}, default=False),
    Format("json", "worksheets.json", lambda job: {"worksheets.json": job.json()}),
))


def typeset(tex: dict, idents: list, progress=None) -> dict:
    """``sheet-ID.pdf`` and ``key-ID.pdf`` from their TeX (compiled in parallel on every core), and with
    several versions ``sheets.pdf`` and ``keys.pdf`` for printing (TeX that is already final; the
    worksheets themselves use :func:`typeset_numbered`, which writes their page counts in)."""
    done = []

    def build(stem):
        pdf = compile_pdf(tex[stem], f"{stem}.tex", quick=True)[0]
        done.append(stem)
        if progress:
            progress(len(done), len(tex), "typesetting")
        return stem, pdf

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        pdfs = dict(pool.map(build, sorted(tex)))
    out = {f"{stem}.pdf": pdf for stem, pdf in pdfs.items()}
    if len(idents) > 1:
        out["sheets.pdf"] = unite([pdfs[f"sheet-{escape.filename(ident)}"] for ident in idents])
        out["keys.pdf"] = unite([pdfs[f"key-{escape.filename(ident)}"] for ident in idents])
    return out


def exams(specs: list, options: Options, variants: int | None = None, seed: int = 1, progress=None,
          marks: str | None = None) -> list[tuple[str, list]]:
    """The versions of an exam as (name, questions): version n of an exam asks version n of every spec.

    A version is named like the worksheets' (``7-01``); the specs as they are make one exam, ``exam``.
    """

    per_spec = [exercises(spec, options, variants, seed, progress, marks) for spec in specs]
    return [(questions[0].ident if variants else "exam", list(questions)) for questions in zip(*per_spec)]


def exam_context(ident: str, questions: list, key: bool) -> dict:
    """What tex/exam.tex.j2 needs: the cover (rules, marks table) and each question's sheet, numbered."""
    sheets = [{**context(ex, key), "number": n} for n, ex in enumerate(questions, start=1)]
    titles = list(dict.fromkeys(ex.title for ex in questions))
    title = titles[0] if len(titles) == 1 else "Backpropagation by hand"
    return {"exam": {"ident": ident, "key": key, "title": title, "meta": questions[0].meta, "questions": sheets,
                     "total": sum(ex.marks for ex in questions), "places": questions[0].places,
                     "example": sheets[0]["example"]}}


_PAGES = re.compile(r"Output written on .*?\((\d+) pages?", re.S)


def typeset_numbered(sources: dict, pdf: bool, progress=None) -> tuple[dict, dict]:
    """LaTeX and PDFs of one-document sources that print "page k of n" (``sources``: stem -> f(pages) -> TeX).

    ``f([n])`` writes the total as a number, ``f(None)`` as a reference to the last page,
    which costs LaTeX a second run. The first document of each kind (sheet-, key-, ...)
    is typeset with the reference; the others, which almost always have as many pages,
    with that number and are compiled once, or again when their page count differs.
    Without PDFs the LaTeX keeps the reference (the user's latexmk runs twice).
    """

    if not pdf:
        return {stem: make(None) for stem, make in sources.items()}, {}
    if len(sources) < PREAMBLE_FROM:
        return _typeset(sources, None, progress)
    # the documents of a batch share their preamble: loading it once as a format halves each run
    with dumped_preamble(sources[min(sources)](None)) as preamble:
        return _typeset(sources, preamble, progress)


#: documents in a batch from which its preamble is dumped into a format (making one costs about two runs)
PREAMBLE_FROM = 4


def _typeset(sources: dict, preamble, progress) -> tuple[dict, dict]:
    """The documents compiled two at a time (see :func:`typeset_numbered`)."""
    tex, pdfs, learned, done = {}, {}, {}, []

    def build(stem, pages):
        text = sources[stem]([pages] if pages is not None else None)
        made, log = compile_pdf(text, f"{stem}.tex", quick=True, preamble=preamble)
        count = int(_PAGES.findall(log)[-1]) if _PAGES.findall(log) else None
        if pages is not None and count is not None and count != pages:
            text = sources[stem]([count])
            made, log = compile_pdf(text, f"{stem}.tex", quick=True, preamble=preamble)
        done.append(stem)
        if progress:
            progress(len(done), len(sources), "typesetting")
        return stem, text, made, count

    kinds = {}
    for stem in sorted(sources):
        kinds.setdefault(stem.split("-", 1)[0], []).append(stem)
    firsts = [stems[0] for stems in kinds.values()]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for stem, text, made, count in pool.map(lambda s: build(s, None), firsts):
            tex[stem], pdfs[stem] = sources[stem]([count]) if count else text, made
            learned[stem] = count
        rest = [(stem, learned[stems[0]]) for stems in kinds.values() for stem in stems[1:]]
        for stem, text, made, _ in pool.map(lambda item: build(*item), rest):
            tex[stem], pdfs[stem] = text, made
    return tex, pdfs


def unite(pdfs: list[bytes]) -> bytes:
    """One PDF of several, for printing (poppler's pdfunite)."""

    if shutil.which("pdfunite") is None:
        raise DeriveError("pdf", "pdfunite is needed to combine the PDFs: apt-get install poppler-utils")
    with tempfile.TemporaryDirectory(prefix="derive-unite-") as folder:
        names = []
        for k, pdf in enumerate(pdfs):
            name = Path(folder) / f"{k:05d}.pdf"
            name.write_bytes(pdf)
            names.append(str(name))
        target = Path(folder) / "all.pdf"
        subprocess.run(["pdfunite", *names, str(target)], check=True, capture_output=True)
        return fixed_id(target.read_bytes())


def fixed_id(pdf: bytes) -> bytes:
    """The PDF with its random trailer /ID replaced by one made from its content (same input, same bytes).

    The trailer follows the cross-reference table, so changing its length moves no object.
    """

    start = pdf.rfind(b"trailer")
    at = pdf.find(b"/ID", start)
    if start < 0 or at < 0:
        return pdf
    k = pdf.index(b"[", at) + 1
    for _ in range(2):  # two literal strings (...), with escapes and balanced parentheses
        while pdf[k:k + 1].isspace():
            k += 1
        if pdf[k:k + 1] != b"(":
            return pdf  # not the form pdfunite writes: leave it
        depth = 0
        while True:
            ch = pdf[k:k + 1]
            if ch == b"\\":
                k += 2
                continue
            depth += ch == b"("
            depth -= ch == b")"
            k += 1
            if depth == 0:
                break
    end = pdf.index(b"]", k) + 1
    digest = hashlib.md5(pdf[:start]).hexdigest().encode()
    return pdf[:at] + b"/ID [<" + digest + b"> <" + digest + b">]" + pdf[end:]


def to_json(exercises: list) -> str:
    """Every version's given numbers and key, for other tools."""


    versions = []
    for ex in exercises:
        spec = ex.solution.spec
        params = {}
        for l in range(1, spec.layers + 1):
            params[f"W{l}"] = [[to_float(v) for v in row] for row in in_layout(spec.weights[l - 1], spec.weight_layout)]
            params[f"b{l}"] = [to_float(v) for v in spec.biases[l - 1]]
        versions.append({
            "version": ex.ident, "places": ex.places, "parameters": params,
            "inputs": [[to_float(v) for v in row] for row in spec.inputs],
            "targets": [[to_float(v) for v in row] for row in spec.targets],
            "key": {b.name: b.derive_key for b in ex.blanks},
            "exact": {b.name: b.derive_exact for b in ex.blanks},
        })
    json.dumps(versions)  # every value is plain data
    entries = exercises[0].meta.entries if exercises else {}  # the course, author, date, institution, when given
    return dumps({"document": entries, "versions": versions} if entries else {"versions": versions}) + "\n"
