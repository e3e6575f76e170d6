"""The command line: parse arguments, call the core, write files, return an exit code.

Exit codes: 0 success; 1 answers checked and some are wrong; 2 bad input (a
message naming the file, the key and the problem); 3 an internal check failed
(a bug in derive); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import DeriveError
from .spec import load, preset_names

SOLVE_FORMATS = ("md", "tex", "pdf", "json")


def _formats(text: str, allowed) -> list[str]:
    chosen = [f.strip() for f in text.split(",") if f.strip()]
    for f in chosen:
        if f not in allowed:
            from .errors import suggestion

            raise DeriveError("--format", f"unknown format '{f}'{suggestion(f, allowed)}; choose from {', '.join(allowed)}")
    return chosen


def _progress(done: int, total: int) -> None:
    """A one-line progress bar on the terminal for long runs."""
    if total < 1000 or not sys.stderr.isatty():
        return
    if done % max(1, total // 100) and done != total:
        return
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\rtraining [{'#' * filled}{'.' * (width - filled)}] {done}/{total} steps")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_presets(args) -> int:
    for name in preset_names():
        spec = load(name)
        sizes = "-".join(map(str, spec.sizes))
        print(f"{name:<12} {sizes:<8} {spec.loss:<9} {spec.title}")
    return 0


def cmd_solve(args) -> int:
    from .solve import solve
    from .writer import write_files

    formats = _formats(args.format, SOLVE_FORMATS)
    if args.digits < 1 or args.digits > 30:
        raise DeriveError("--digits", f"expected a number of significant digits from 1 to 30, got {args.digits}")
    spec = load(args.spec)
    solution = solve(spec, notation=args.notation, progress=_progress)
    out = Path(args.out) if args.out else Path("outputs") / spec.name
    files = solution_files(solution, formats, args.digits, args.detail, out)
    for path in write_files(out, files):
        print(path)
    return 0


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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="derive",
        description="Exact, step-by-step worked solutions of a small neural network's forward pass, "
        "backpropagation and gradient-descent update.",
    )
    p.add_argument("--version", action="version", version=f"derive {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sp = sub.add_parser("presets", help="list the built-in examples")
    sp.set_defaults(run=cmd_presets)

    sp = sub.add_parser("solve", help="solve a network and write the worked solution")
    sp.add_argument("spec", metavar="SPEC|PRESET", help="a TOML or JSON spec file, or a built-in example")
    sp.add_argument("--format", default=",".join(SOLVE_FORMATS), help=f"comma-separated: {', '.join(SOLVE_FORMATS)}")
    sp.add_argument("--out", help="output folder (default: outputs/<name>/)")
    sp.add_argument("--notation", choices=("units", "layered"), help="naming scheme (default: the spec's, or automatic)")
    sp.add_argument("--digits", type=int, default=9,
                    help="significant digits printed in the documents (default 9, as the blog; values are exact)")
    sp.add_argument("--detail", help="parameters whose derivation a large network writes out in full: "
                    "comma-separated names (W1_1_3,b2_1), 'all' or 'none' (default: a few per layer)")
    sp.set_defaults(run=cmd_solve)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except DeriveError as error:
        print(f"derive: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("derive: interrupted; no output was written", file=sys.stderr)
        return 130
    except RecursionError:
        print("derive: error: the input is nested too deeply", file=sys.stderr)
        return 2
    except Exception as error:  # an internal failure: say so plainly, with what to report
        from .derivation import ChainRuleMismatch

        kind = "an internal check failed" if isinstance(error, ChainRuleMismatch) else "internal error"
        print(f"derive: {kind}: {type(error).__name__}: {error} (please report this)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
