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

SOLVE_FORMATS = ("json",)


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
    spec = load(args.spec)
    solution = solve(spec, notation=args.notation, progress=_progress)
    files = {}
    if "json" in formats:
        from .export import to_json

        files["solution.json"] = to_json(solution)
    out = Path(args.out) if args.out else Path("outputs") / spec.name
    for path in write_files(out, files):
        print(path)
    return 0


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
