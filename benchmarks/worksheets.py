"""The Python part of a worksheet batch as PDFs, apart from TeX (issue 15: 40 versions' Python part <= 3 s).

    python3 benchmarks/worksheets.py [--repeat N] [--variants 40] [--tex fake|real|both] [--json OUT]

``derive worksheet mazur --variants 40 --seed 7 --format pdf`` is run as a fresh process
(round-robin with the real build when ``--tex both``). With ``--tex fake`` a stand-in for
pdflatex comes first on PATH: it writes a one-page PDF and a log saying "1 page" (no rerun),
as pdflatex does, so the run does everything derive does (the versions, keys, accepted
answers, distractors, rendering, the compile folders, pdfunite) except typesetting. The
process measures its own CPU time (user + system, ``RUSAGE_SELF``) apart from its
children's (the stand-in, kpsewhich, pdfunite): the Python part is its own.

With ``--tex real`` the same command runs with TeX Live: its wall time (the target: 20 s on
2 cores), its own and its children's CPU time, and the load average around it. On a machine
others are using, wall time is stretched by their load; the CPU time is not, and
(derive's CPU + TeX's CPU) / cores estimates the wall time of an idle machine with every core
busy (an estimate only: the batch has serial parts).

Exit code 0 when the targets measured are met (the Python part's best CPU time <= 3 s;
the real build's best wall time <= 20 s), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
#: the targets of issue 15
PYTHON_SECONDS, WALL_SECONDS = 3.0, 20.0

FAKE_PDFLATEX = """#!/bin/sh
# a stand-in for pdflatex (benchmarks/worksheets.py): JOB.pdf is a one-page PDF, JOB.log says 1 page, no rerun
for a; do last="$a"; done
job="${last%.tex}"
cp "$(dirname "$0")/one-page.pdf" "$job.pdf" || exit 1
printf 'This is a stand-in for pdfTeX\\nOutput written on %s.pdf (1 page, 1000 bytes).\\n' "$job" > "$job.log"
"""


def one_page_pdf() -> bytes:
    """A valid PDF of one empty A4 page (pdfunite combines it like any other)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for k, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (k, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def fake_bin(folder: Path) -> Path:
    """A folder holding the stand-in pdflatex and its PDF, to put first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "one-page.pdf").write_bytes(one_page_pdf())
    script = folder / "pdflatex"
    script.write_text(FAKE_PDFLATEX, encoding="utf-8")
    script.chmod(0o755)
    return folder


def child(report: str, argv: list) -> None:
    """Run derive as its command line does and write this process's CPU time and its children's to ``report``."""
    sys.argv = ["derive", *argv]
    sys.path.insert(0, str(ROOT))
    code = 0
    try:
        runpy.run_module("derive", run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        code = stop.code or 0
    finally:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        Path(report).write_text(json.dumps({"code": code, "own": own.ru_utime + own.ru_stime,
                                            "children": kids.ru_utime + kids.ru_stime}))
    sys.exit(code)


def run(argv: list, env: dict, tmp: Path) -> dict:
    """One timed run of derive in a fresh process: wall seconds, own and children's CPU seconds, load average."""
    report = tmp / "report.json"
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run([PY, __file__, "--child", str(report), "--", *argv], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"benchmark: derive {' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    figures = json.loads(report.read_text())
    return {"wall": wall, "own": figures["own"], "children": figures["children"], "load": load}


def summary(runs: list, key: str) -> tuple[float, float]:
    values = [r[key] for r in runs]
    return min(values), statistics.median(values)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1], argv[3:])
    p = argparse.ArgumentParser(description="The Python part of a 40-version worksheet batch as PDFs, apart from TeX.")
    p.add_argument("--repeat", type=int, default=3, help="runs of each kind (default 3)")
    p.add_argument("--variants", type=int, default=40, help="versions in the batch (default 40)")
    p.add_argument("--tex", choices=("fake", "real", "both"), default="fake",
                   help="the stand-in pdflatex (the Python part; default), TeX Live, or both round-robin")
    p.add_argument("--json", help="write the figures to this JSON file as well")
    args = p.parse_args(argv)

    kinds = ("fake", "real") if args.tex == "both" else (args.tex,)
    with tempfile.TemporaryDirectory(prefix="derive-bench-ws-") as name:
        tmp = Path(name)
        base = dict(os.environ)
        # an installed package's modules are compiled once, as sympy's are: the bytecode is cached for the runs
        base.pop("PYTHONDONTWRITEBYTECODE", None)
        base["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        envs = {"real": base, "fake": dict(base, PATH=f"{fake_bin(tmp / 'fakebin')}{os.pathsep}{base['PATH']}")}
        command = ["worksheet", "mazur", "--variants", str(args.variants), "--seed", "7", "--format", "pdf"]
        run(command + ["--out", str(tmp / "warm")], envs["fake"], tmp)  # fills the bytecode cache (no TeX needed)
        runs = {kind: [] for kind in kinds}
        for k in range(args.repeat):
            for kind in kinds:
                runs[kind].append(run(command + ["--out", str(tmp / f"{kind}-{k}")], envs[kind], tmp))
                print(f"  {kind} TeX run {k + 1} done", file=sys.stderr)

    cores = os.cpu_count() or 1
    failures = []
    print(f"derive {' '.join(command)} ({cores} cores, best and median of {args.repeat})")
    for kind in kinds:
        wall, own, kids = (summary(runs[kind], key) for key in ("wall", "own", "children"))
        loads = [r["load"] for r in runs[kind]]
        print(f"  {kind} pdflatex: wall {wall[0]:.2f} s (median {wall[1]:.2f}), derive's CPU {own[0]:.2f} s "
              f"(median {own[1]:.2f}), its children's CPU {kids[0]:.2f} s (median {kids[1]:.2f}); "
              f"load average {min(loads):.2f} to {max(loads):.2f}")
        if kind == "fake":
            ok = own[0] <= PYTHON_SECONDS
            print(f"    the Python part: {own[0]:.2f} s CPU, target <= {PYTHON_SECONDS:.0f} s: {'ok' if ok else 'MISSED'}")
        else:
            ok = wall[0] <= WALL_SECONDS
            idle = min(r["own"] + r["children"] for r in runs[kind]) / cores
            print(f"    wall {wall[0]:.2f} s, target <= {WALL_SECONDS:.0f} s: {'ok' if ok else 'MISSED'}; "
                  f"CPU / {cores} cores = {idle:.2f} s (an estimate of an idle machine's wall time, not a measurement)")
        if not ok:
            failures.append(kind)
    if args.json:
        Path(args.json).write_text(json.dumps({"command": command, "cores": cores, "runs": runs}, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
