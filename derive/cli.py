"""The command line: parse arguments, call the core, write files, return an exit code.

Exit codes: 0 success; 1 answers checked and some are wrong; 2 bad input (a
message naming the file, the key and the problem); 3 an internal check failed
(a bug in derive); 130 interrupted (SIGINT); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from derive import __version__, lazy
from derive.core import circuit, circuit_versions
from derive.core.conventions import CONVENTIONS
from derive.core.derivation import ChainRuleMismatch
from derive.core.functions import LOSSES
from derive.core.notation import DOCUMENT_NOTATIONS
from derive.core.spec import TITLE_KEYS, preset_names
from derive.core.versions import load
from derive.documents.metadata import TITLE_WORDS, Metadata, document_metadata, given
from derive.documents.options import SYMBOLIC_MODES, Options
from derive.errors import DeriveError
from derive.io.files import write_files
from derive.io.progress import Progress

#: what the subcommands use beyond the spec and the core, imported when a command first reads it (see
#: derive.lazy): a worked solution in JSON never loads the worksheets, the grading or the slides
LAZY_MODULES = {
    "solve": "derive.core.solve",
    "neuron_circuit": "derive.core.neuron_circuit",
    "circuit_spec": "derive.core.circuit_spec",
    "circuit_slides": "derive.documents.circuit_slides",
    "slides": "derive.documents.slides",
    "symbolic_slides": "derive.documents.symbolic_slides",
    "batch": "derive.exercises.batch",
    "circuit_sheets": "derive.exercises.circuits",
    "formula_sheets": "derive.exercises.formula_sheets",
    "worksheet": "derive.exercises.worksheet",
    "circuit_files": "derive.formats.circuit",
    "escape": "derive.formats.escape",
    "latex": "derive.formats.latex",
    "registry": "derive.formats.registry",
    "check": "derive.grading.check",
    "circuit_grading": "derive.grading.circuits",
    "formula_grading": "derive.grading.formulas",
    "rounding": "derive.grading.rounding",
    "statedict": "derive.io.statedict",
    "torchio": "derive.io.torchio",
}
m = lazy.Modules(LAZY_MODULES)

_PROGRESS = Progress()


def _note(text: str) -> None:
    """A one-line notice on stderr that is not an error."""
    print(f"derive: note: {text}", file=sys.stderr)


def _formats(registry, text: str | None, defaults: tuple[str, ...] | None = None) -> list:
    """The formats ``--format`` chose from a registry (``defaults``: a kind of job's own); the defaults that need
    TeX are left out, with a note, when TeX is missing (one asked for by name stays, and says why it cannot be made)."""
    chosen, left_out = registry.choose(text, defaults)
    if left_out:
        _note(f"no {' or '.join(f.title for f in left_out)}: {m.latex.problem() or 'TeX Live is not complete'}; "
              "the other formats are written")
    return chosen


def _progress(done: int, total: int, what: str = "training") -> None:
    """A one-line progress bar on the terminal for anything that runs longer than 2 s."""
    _PROGRESS(done, total, what)


def _typesettable(spec, formats, command_line: Metadata = Metadata(), latex_formats=("tex", "pdf", "beamer")) -> None:
    """Refuse up front a title, name or title-page entry the PDF cannot typeset, when a LaTeX format is asked for."""
    if {f.name for f in formats} & set(latex_formats):
        m.escape.check_latex(spec.title, spec.source, "title")
        m.escape.check_latex(spec.name, spec.source, "file name")
        for key in TITLE_KEYS:
            if getattr(command_line, key):
                m.escape.check_latex(getattr(command_line, key), f"--{key}", TITLE_WORDS[key])
            else:
                m.escape.check_latex(getattr(spec, key, ""), f"{spec.source}: document.{key}", TITLE_WORDS[key])


def cmd_presets(args) -> int:
    rows = [(name, "-".join(map(str, spec.sizes)), spec.loss, spec.title)
            for name, spec in ((name, load(name)) for name in preset_names())]
    rows += [(name, "circuit", ", ".join(spec.outputs), spec.title)
             for name, spec in ((name, m.circuit_spec.load(name)) for name in m.circuit_spec.circuit_preset_names())]
    widths = [max(len(row[c]) for row in rows) for c in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    return 0


def cmd_solve(args) -> int:

    formats = _formats(m.registry.SOLUTION, args.format)
    options = Options(digits=args.digits, notation=args.notation, convention=args.convention, detail=args.detail,
                      symbolic=args.symbolic or "", verification=not args.no_verification, metadata=_metadata(args))
    circuit = _circuit(args)
    if options.symbolic and (circuit is not None or args.as_circuit or args.unit):
        raise DeriveError("--symbolic", "the derivation in general form is written for networks, not for circuits")
    if circuit is not None:  # a formula spec: its circuit of gates
        out = _out(args, circuit.spec)
        for path in write_files(out, m.circuit_files.circuit_files(circuit, formats, options, out)):
            print(path)
        return 0
    if args.as_circuit or args.unit:  # one neuron of the network as its circuit of gates
        circuit, link = _neuron(args)
        out = _out(args, circuit.spec)
        for path in write_files(out, m.circuit_files.circuit_files(circuit, formats, options, out, link)):
            print(path)
        return 0
    spec = load(args.spec)
    _typesettable(spec, formats, options.metadata)
    if {f.name for f in formats} - {"json"}:
        _small_enough(spec, args.max_parameters, "worked solution")
    solution = m.solve.solve(spec, notation=options.notation, progress=_progress, convention=options.convention)
    out = _out(args, spec)
    files = m.registry.SOLUTION.files(m.registry.Written.of_solution(solution, options, out), formats)
    drift = None
    if args.round_intermediate is not None:  # the answer key of a hand calculation, with its drift

        key, drift = m.rounding.key_files(solution, args.round_intermediate)
        files.update(key)
    stale = m.registry.failed_names("solution") if any(f.name == "pdf" for f in formats) else ()
    for path in write_files(out, files, stale):
        print(path)
    if drift:
        print(drift)
    return 0


def _circuit(args):
    """The solved circuit when the spec is a formula spec ([expression]) or a version of one, else None."""
    if not circuit_versions.is_circuit(args.spec):
        return None
    return circuit.solve(circuit_versions.load(args.spec, composite=getattr(args, "composite", None)))


def _neuron(args):
    """One neuron of a network spec as its solved circuit, and its link to the network (checked)."""
    spec = load(args.spec)
    solution = m.solve.solve(spec, notation=args.notation)
    circuit_spec, link = m.neuron_circuit.neuron(solution, args.unit)
    if args.composite:
        circuit_spec = replace(circuit_spec, composite=args.composite)
    solved = circuit.solve(circuit_spec)
    m.neuron_circuit.check(solved, link)
    return solved, link


def cmd_check(args) -> int:
    """Check a student's answers; exit 0 when all are right, 1 when some are wrong."""

    formats = _formats(m.check.CHECKS, args.format)
    for option, value in (("--max-answers", args.max_answers), ("--budget", args.budget),
                          ("--max-parameters", args.max_parameters)):
        if value is not None and value < 1:
            raise DeriveError(option, f"expected a positive whole number, got {value}")
    if circuit_versions.is_circuit(args.spec):
        report = m.circuit_grading.check_file(args.spec, args.answers)
        job = m.circuit_grading.checked(report)
    elif m.formula_grading.is_formula_file(args.answers):  # formulas in quotes: the derivation itself
        report = m.formula_grading.check_file(args.spec, args.answers)
        job = m.formula_grading.checked(report)
    else:
        report = m.check.check_file(args.spec, args.answers, args.convention, _progress, args.budget,
                                         args.max_answers, args.max_parameters)
        job = m.check.Checked(report)
    files = m.check.CHECKS.files(job, formats)
    if args.out:
        for path in write_files(Path(args.out), files):
            print(path)
        print(report.summary())
    else:
        sys.stdout.write("\n".join(files.values()))
    return report.exit_code


#: import-torch's optimizer options -> [training] keys (numbers as the decimal text given)
TRAINING_OPTIONS = ("momentum", "dampening", "eps", "weight_decay", "alpha", "lr_decay", "initial_accumulator_value",
                    "l2", "batch_size")


def _training_options(args) -> dict:
    """The [training] keys of import-torch's optimizer options, each checked when the spec text is read."""
    keys = {}
    if args.optimizer:
        keys["optimizer"] = args.optimizer
    if args.betas:
        parts = [p.strip() for p in args.betas.split(",")]
        if len(parts) != 2:
            raise DeriveError("--betas", f"expected two numbers separated by a comma (0.9,0.999), got {args.betas!r}")
        for key, text in zip(("beta1", "beta2"), parts):
            keys[key] = _decimal_option(text, "--betas")
    for key in TRAINING_OPTIONS:
        value = getattr(args, key)
        if value is not None:
            option = "--" + key.replace("_", "-")
            if key == "batch_size" and not value.strip().isdigit():
                raise DeriveError(option, f"expected a whole number of samples, got {value!r}")
            keys[key] = int(value) if key == "batch_size" else _decimal_option(value, option)
    for key in ("centered", "amsgrad"):
        if getattr(args, key):
            keys[key] = True
    if args.no_decay_biases:
        keys["decay_biases"] = False
    return keys


def _decimal_option(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise DeriveError(option, f"expected a number, got {text!r}") from None
    if not value.is_finite():
        raise DeriveError(option, f"expected a finite number, got {text!r}")
    return value


def cmd_import_torch(args) -> int:
    if not args.out.strip():
        raise DeriveError("--out", "the output file name is empty text")
    out = Path(args.out)
    if args.out.endswith(("/", "\\")) or out.name in ("", ".", ".."):
        raise DeriveError(args.out, "is a folder name; --out names the spec file to write, such as model.toml")
    activations = [a.strip() for a in args.activations.split(",") if a.strip()]
    if not activations:
        raise DeriveError("--activations", "no activation given; name one per Linear layer, such as sigmoid,sigmoid")
    text = m.torchio.from_state_dict(args.model, activations, m.statedict.rows(args.inputs, "--inputs"),
                                     m.statedict.rows(args.targets, "--targets"),
                           args.loss, args.lr, not args.fixed_biases, args.steps, args.title, _training_options(args))
    for path in write_files(out.parent if str(out.parent) else Path("."), {out.name: text}):
        print(path)
    return 0


def cmd_worksheet(args) -> int:

    formats = _formats(m.batch.WORKSHEETS, args.format, m.formula_sheets.DEFAULTS if args.symbolic else None)
    blanks = args.blanks or (m.formula_sheets.BLANKS if args.symbolic else "full")
    options = Options(places=args.places, blanks=blanks, formulas=args.formulas, convention=args.convention,
                      symbolic="general" if args.symbolic else "", metadata=_metadata(args))
    if options.symbolic:  # the blanks are formulas: one sheet and its key, the same for every version
        return _formula_worksheet(args, options, formats)
    if args.variants is not None and not 1 <= args.variants <= 1000:
        raise DeriveError("--variants", f"expected from 1 to 1000 versions, got {args.variants}")
    if len(args.spec) > 1 and not args.exam:
        raise DeriveError("worksheet", f"{len(args.spec)} specs were given: several networks make an exam paper, "
                          "add --exam (or give one spec)")
    if circuit_versions.is_circuit(args.spec[0]) and len(args.spec) == 1 and not args.exam:
        # a formula spec: the students fill in its circuit
        spec = circuit_versions.load(args.spec[0], composite=args.composite)
        made = m.circuit_sheets.exercises(spec, options, args.variants, args.seed, _progress)
        job = m.circuit_sheets.CircuitBatch(made, _progress)
        for path in write_files(_out(args, spec), m.batch.WORKSHEETS.files(job, formats)):
            print(path)
        return 0
    specs = [load(source) for source in args.spec]
    if options.convention:  # the versions are made from the spec: they speak its convention
        specs = [replace(spec, convention=options.convention) for spec in specs]
    for spec in specs:
        _typesettable(spec, formats, options.metadata)
        _small_enough(spec, args.max_parameters, "worksheet")
    pdf = any(f.name == "pdf" for f in formats)
    if args.exam:
        job = m.batch.Exam(m.batch.exams(specs, options, args.variants, args.seed, _progress, args.marks), _progress, pdf)
        name = ("exam-" + "-".join(s.name for s in specs))[:80]
        out = _out(args, specs[0]) if args.out is not None else Path("outputs") / name
    else:
        made = m.batch.exercises(specs[0], options, args.variants, args.seed, _progress, args.marks)
        for note in dict.fromkeys(m.worksheet.thin_note(ex) for ex in made if m.worksheet.thin_note(ex)):
            _note(note)
        job, out = m.batch.Batch(made, _progress, pdf), _out(args, specs[0])
    for path in write_files(out, m.batch.WORKSHEETS.files(job, formats)):
        print(path)
    return 0


def _formula_worksheet(args, options: Options, formats: list) -> int:
    """A worksheet whose blanks are formulas (worksheet --symbolic), its key and an answers template."""
    if args.variants is not None:
        raise DeriveError("--variants", "the formulas are the same in every version; a formula worksheet has one")
    if len(args.spec) > 1 or args.exam:
        raise DeriveError("--symbolic", "a formula worksheet is made for one network (no --exam)")
    if circuit_versions.is_circuit(args.spec[0]):
        raise DeriveError("--symbolic", "a formula spec's worksheet is its circuit; --symbolic is for networks")
    spec = load(args.spec[0])
    if options.convention:
        spec = replace(spec, convention=options.convention)
    _typesettable(spec, formats, options.metadata)
    _small_enough(spec, args.max_parameters, "worksheet")
    job = m.formula_sheets.FormulaBatch(m.formula_sheets.exercise(m.solve.solve(spec), options))
    for path in write_files(_out(args, spec), m.batch.WORKSHEETS.files(job, formats)):
        print(path)
    return 0


def cmd_slides(args) -> int:

    formats = _formats(m.registry.SLIDES, args.format)
    options = Options(digits=args.digits, notation=args.notation, convention=args.convention,
                      symbolic=args.symbolic or "", verification=not args.no_verification, metadata=_metadata(args))
    circuit = _circuit(args)
    if options.symbolic and (circuit is not None or args.as_circuit or args.unit):
        raise DeriveError("--symbolic", "the derivation in general form is written for networks, not for circuits")
    if circuit is None and (args.as_circuit or args.unit):
        circuit = _neuron(args)[0]
    if circuit is not None:  # a formula spec (or a neuron): the circuit annotated gate by gate
        slides, out = m.circuit_slides.deck(circuit, digits=options.digits), _out(args, circuit.spec)
        slides = replace(slides, meta=document_metadata(circuit.spec, options.metadata))
    else:
        spec = load(args.spec)
        _typesettable(spec, formats, options.metadata)
        _small_enough(spec, args.max_parameters, "set of slides")
        solution = m.solve.solve(spec, notation=options.notation, progress=_progress, convention=options.convention)
        slides = (m.symbolic_slides.deck if options.symbolic else m.slides.deck)(solution, options)
        out = _out(args, spec)
    if args.per_page != 1 and not args.handout:
        raise DeriveError(args.spec, "--per-page is for a handout: add --handout")
    slides = replace(slides, handout=args.handout, per_page=args.per_page)
    stale = m.registry.failed_names("slides") if any(f.name == "beamer" for f in formats) else ()
    for path in write_files(out, m.registry.SLIDES.files(m.registry.Shown(slides, out), formats), stale):
        print(path)
    return 0


#: the largest networks a document is made for by default (JSON has no limit); --max-parameters raises it
MAX_PARAMETERS = {"worked solution": 5000, "set of slides": 5000, "worksheet": 100}


def _small_enough(spec, limit: int | None, what: str) -> None:
    """Refuse, with a clear message, a document too large to read or to make in reasonable time."""
    limit = MAX_PARAMETERS[what] if limit is None else limit
    if spec.parameter_count > limit:
        raise DeriveError(spec.source, f"{spec.parameter_count} parameters is more than a {what} is made for "
                          f"(at most {limit}); --format json still solves it, --max-parameters raises the limit")


def _format_help(registry) -> str:
    """--format's help, from the registry: every format, the defaults, and the defaults without TeX."""
    without = [f.name for f in registry.formats if f.default and not f.needs_tex]
    tex = "" if len(without) == len(registry.defaults) else f"; without TeX, {','.join(without)}"
    return f"comma-separated: {', '.join(registry.names)} (default {','.join(registry.defaults)}{tex})"


def _document_arguments(sp, formats, digits: int, digits_help: str, notations=DOCUMENT_NOTATIONS):
    """The arguments every subcommand that renders documents of one spec shares."""
    sp.add_argument("spec", metavar="SPEC|PRESET", help="a TOML or JSON spec file, or a built-in example")
    sp.add_argument("--format", help=_format_help(formats))
    sp.add_argument("--out", help="output folder (default: outputs/<name>/)")
    sp.add_argument("--notation", choices=notations,
                    help="how the documents write the solution: units (the blog's names, one hidden layer), layered "
                    "(z, a with layer superscripts)" + (" or matrix (vectors and matrices with the numbers put in)"
                                                        if "matrix" in notations else "")
                    + "; default: the spec's naming scheme. The JSON names never change")
    sp.add_argument("--convention", choices=tuple(CONVENTIONS),
                    help="name every quantity as this textbook does (han, mitchell, hagan, nielsen, deeplearning-ai, "
                    "pytorch, blog); default: the spec's [document] convention. The JSON names never change")
    sp.add_argument("--digits", type=int, default=digits, help=digits_help)
    sp.add_argument("--max-parameters", type=int, help="refuse larger networks (default 5000; JSON has no limit)")
    sp.add_argument("--composite", choices=("as-written", "whole", "split"),
                    help="a formula spec's composite gates: sigmoid as one gate (whole), as its primitive gates "
                    "(split), or as the formula writes it (default)")
    sp.add_argument("--as-circuit", action="store_true",
                    help="a network spec: one neuron (the first unit of the first layer, or --unit) as its circuit "
                    "of gates, linked to the network's numbers")
    sp.add_argument("--unit", help="with --as-circuit: the unit, as the worked solution names it (h2, o1, a1_2)")
    sp.add_argument("--no-verification", action="store_true",
                    help="leave out the appendix 'How these numbers were checked' (the chain rule checked against "
                    "SymPy's direct derivative)")
    return sp


def _title_arguments(sp, where: str) -> None:
    """--course, --author, --date, --institution: the document's entries over the spec's [document] ones."""
    for key in TITLE_KEYS:
        sp.add_argument(f"--{key}", help=f"{TITLE_WORDS[key]} on the {where} (default: the spec's [document] {key})")


def _metadata(args) -> Metadata:
    """The course, author, date and institution the command line gives (checked)."""
    return given(**{key: getattr(args, key) for key in TITLE_KEYS})


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage problem as one line, like every other error."""

    def error(self, message):
        self.exit(2, f"derive: error: {message} (see derive {self.prog.split(' ', 1)[-1] if ' ' in self.prog else ''} --help)\n".replace("  ", " "))


def _out(args, spec) -> Path:
    """The output folder: --out, or outputs/<name>/."""
    if args.out is not None and not args.out.strip():
        raise DeriveError("--out", "the output folder is empty text")
    return Path(args.out) if args.out else Path("outputs") / spec.name


def _presets_arguments(sp) -> None:
    """``derive presets`` takes no arguments."""


def _solve_arguments(sp) -> None:
    _document_arguments(sp, m.registry.SOLUTION, 9,
                        "significant digits printed in the documents (default 9, as the blog; values are exact)")
    _title_arguments(sp, "title block and running head")
    sp.add_argument("--detail", help="parameters whose derivation the matrix form (a large network, --notation "
                    "matrix) writes out in full: "
                    "comma-separated names (W1_1_3,b2_1), 'all' or 'none' (default: a few per layer)")
    sp.add_argument("--symbolic", nargs="?", const="general", choices=SYMBOLIC_MODES, metavar="then-numbers",
                    help="write the derivation itself: every quantity as its general formula in the network's "
                    "symbols, each derivative with its rule, and the four backpropagation equations; with "
                    "'then-numbers' each formula is followed by its numbers")
    sp.add_argument("--round-intermediate", type=int, metavar="K",
                    help="also write answer-key-Kdp.toml: the answers of a hand calculation that rounds every "
                    "intermediate to K decimals and reuses it, with each value's drift from the exact one")


def _check_arguments(sp) -> None:
    sp.add_argument("spec", metavar="SPEC|PRESET", help="a TOML or JSON spec file, or a built-in example")
    sp.add_argument("answers", metavar="ANSWERS", help="a TOML or JSON file of name = number pairs, or of name = "
                    "\"formula\" pairs such as \"dE/dw5\" = \"(out_o1 - t_o1)*out_o1*(1-out_o1)*out_h1\" (see the README)")
    sp.add_argument("--format", help=_format_help(m.check.CHECKS))
    sp.add_argument("--out", help="write check.txt / check.md / check.json to this folder instead of printing")
    sp.add_argument("--convention", choices=tuple(CONVENTIONS),
                    help="read the answers' names and signs as this textbook writes them (han: Err6, w46, theta6, "
                    "I6, O6); default: the spec's [document] convention")
    sp.add_argument("--max-answers", type=int, help="refuse answers files with more answers (default 50000)")
    sp.add_argument("--max-parameters", type=int, help="refuse larger networks (default 5000)")
    sp.add_argument("--budget", type=int, help="the most step evaluations the diagnosis of wrong answers may take "
                    "(default 50000000)")


def _import_torch_arguments(sp) -> None:
    sp.add_argument("model", metavar="MODEL.pt", help="a state dict saved with torch.save (read with weights_only)")
    sp.add_argument("--activations", required=True, help="one per Linear layer, comma-separated: sigmoid,relu,...")
    sp.add_argument("--inputs", required=True, help="the inputs as JSON rows, e.g. '[[0.05, 0.1]]'")
    sp.add_argument("--targets", required=True, help="the targets as JSON rows, e.g. '[[0.01, 0.99]]'")
    sp.add_argument("--loss", default="mse", help=f"{', '.join(LOSSES)} (default mse, as nn.MSELoss)")
    sp.add_argument("--lr", default="0.1", help="learning rate (default 0.1)")
    sp.add_argument("--steps", type=int, default=1)
    sp.add_argument("--fixed-biases", action="store_true", help="do not update the biases")
    sp.add_argument("--optimizer", help="sgd, momentum, nesterov, rmsprop, adam, adamw or adagrad (default sgd)")
    sp.add_argument("--betas", help="Adam's beta1,beta2 (default 0.9,0.999)")
    for key in TRAINING_OPTIONS:
        sp.add_argument("--" + key.replace("_", "-"), help=f"the optimizer's {key} (see the README)" if key not in
                        ("l2", "batch_size") else {"l2": "lambda of an L2 penalty lambda/2 sum w^2 in the loss",
                                                   "batch_size": "samples per step (mini-batches in order)"}[key])
    sp.add_argument("--centered", action="store_true", help="RMSprop: centered")
    sp.add_argument("--amsgrad", action="store_true", help="Adam, AdamW: AMSGrad")
    sp.add_argument("--no-decay-biases", action="store_true", help="no weight decay or L2 penalty on the biases")
    sp.add_argument("--title", help="the spec's title")
    sp.add_argument("--out", default="model.toml", help="the spec file to write (default model.toml)")


def _worksheet_arguments(sp) -> None:
    sp.add_argument("spec", metavar="SPEC|PRESET", nargs="+",
                    help="a TOML or JSON spec file, or a built-in example (several with --exam)")
    sp.add_argument("--exam", action="store_true",
                    help="an exam paper: every spec a numbered question, with a cover page and a marks table")
    sp.add_argument("--marks", help="marks per blank: a number for every blank and/or STAGE=N for the stages "
                    "forward, loss, backward, update (default 1 each), e.g. 1,backward=2")
    sp.add_argument("--blanks",
                    help="what students fill in, comma-separated: levels forward | output | full, stages forward | "
                    "loss | backward | update, or quantity names (out_o1, dE_total/dw5); with an optimizer, "
                    "a parameter's name (w5) asks for its state and value after every step; default full "
                    "(backward with --symbolic)")
    sp.add_argument("--variants", type=int, help="draw this many versions with new numbers (default: the spec as it is)")
    sp.add_argument("--seed", type=int, default=1, help="the seed the versions are drawn from (default 1)")
    sp.add_argument("--places", type=int, default=4, help="decimal places the students give (default 4)")
    sp.add_argument("--formulas", action="store_true", help="print the formulas students may use on the sheet")
    sp.add_argument("--symbolic", action="store_true",
                    help="the blanks are formulas in the network's symbols (default blanks: backward; formats pdf, "
                    "tex, md, default pdf,md); the key shows each formula, and `derive check` reads the filled-in "
                    "answers-template.toml")
    sp.add_argument("--max-parameters", type=int, help="refuse larger networks (default 100)")
    sp.add_argument("--format", help=_format_help(m.batch.WORKSHEETS) + "; qti is for Canvas")
    sp.add_argument("--out", help="output folder (default: outputs/<name>/)")
    sp.add_argument("--composite", choices=("as-written", "whole", "split"),
                    help="a formula spec's composite gates: sigmoid as one gate (whole), as its primitive gates "
                    "(split), or as the formula writes it (default)")
    sp.add_argument("--convention", choices=tuple(CONVENTIONS),
                    help="name every quantity as this textbook does (han, mitchell, hagan, ...); default: the spec's")
    _title_arguments(sp, "sheets' and keys' title and running head")


def _slides_arguments(sp) -> None:
    _document_arguments(sp, m.registry.SLIDES, 6, "significant digits on the slides (default 6)")
    sp.add_argument("--symbolic", nargs="?", const="general", choices=SYMBOLIC_MODES, metavar="then-numbers",
                    help="slides of the derivation itself: the general formulas, each derivative with its rules, "
                    "the four backpropagation equations; with 'then-numbers' each formula followed by its numbers")
    sp.add_argument("--handout", action="store_true",
                    help="a handout to print (handout.pdf): one page per frame with every step shown")
    sp.add_argument("--per-page", type=int, choices=(1, 2, 4), default=1,
                    help="with --handout: frames on each printed sheet (1, 2 or 4; default 1)")
    _title_arguments(sp, "title frame")


#: the subcommands: name -> (help, the function that adds its arguments, the function that runs it)
COMMANDS = {
    "presets": ("list the built-in examples", _presets_arguments, cmd_presets),
    "solve": ("solve a network and write the worked solution", _solve_arguments, cmd_solve),
    "check": ("check a hand calculation's answers: right, consistent or which mistake", _check_arguments, cmd_check),
    "import-torch": ("write a spec file from a saved PyTorch state dict", _import_torch_arguments, cmd_import_torch),
    "worksheet": ("printable worksheets and answer keys, a version per student, Moodle and Canvas quizzes",
                  _worksheet_arguments, cmd_worksheet),
    "slides": ("lecture slides that walk through one example step by step", _slides_arguments, cmd_slides),
}


def parser(argv=None) -> argparse.ArgumentParser:
    """The argument parser. Only the subcommand ``argv`` names gets its arguments (their help reads the format
    registries, which would import every document module); without one, as for ``--help``, all do."""
    argv = sys.argv[1:] if argv is None else argv
    named = next((a for a in argv if not a.startswith("-")), None)
    p = _Parser(
        prog="derive",
        description="Exact, step-by-step worked solutions of a small neural network's forward pass, "
        "backpropagation and gradient-descent update.",
    )
    p.add_argument("--version", action="version", version=f"derive {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, (purpose, arguments, run) in COMMANDS.items():
        sp = sub.add_parser(name, help=purpose)
        if named not in COMMANDS or named == name:
            arguments(sp)
        sp.set_defaults(run=run)
    return p




class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as an interrupt: temporary folders removed, old outputs left as they were."""


def _terminate(signum, frame):
    raise Terminated()


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM raises :class:`Terminated` while the command runs (in the main thread; the old handler after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None) -> int:
    if argv is None:
        # the program itself (not a caller passing arguments): what loading SymPy and derive made lives until the
        # exit, and the collector need not scan it again at every full collection (a tenth of a small command);
        # one run makes few reference cycles, so it looks for them less often (a large network's values are
        # hundreds of thousands of tuples)
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
    args = parser(argv).parse_args(argv)
    try:
        with _sigterm_as_interrupt():
            return args.run(args)
    except DeriveError as error:
        print(f"derive: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        terminated = isinstance(interrupt, Terminated)
        print(f"derive: {'terminated' if terminated else 'interrupted'}; the outputs are the old ones or all the "
              "new ones, never a mix", file=sys.stderr)
        return 143 if terminated else 130
    except RecursionError:
        print("derive: error: the input is nested too deeply", file=sys.stderr)
        return 2
    except OverflowError:
        print(f"derive: error: {getattr(args, 'spec', 'the input')}: a value of the solution is beyond what a "
              "double holds (about 1.8e308), so JSON cannot write it; use smaller numbers", file=sys.stderr)
        return 2
    except Exception as error:  # an internal failure: say so plainly, with what to report

        kind = "an internal check failed" if isinstance(error, ChainRuleMismatch) else "internal error"
        print(f"derive: {kind}: {type(error).__name__}: {error} (please report this)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
