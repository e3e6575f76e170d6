"""The speed targets of the issues, measured side by side in one run.

    python3 benchmarks/run.py [--repeat N] [--naive-repeat N] [--subs-sample N] [--json OUT]

Every measurement is a fresh child process, timed by wall clock, with its peak
memory (max RSS) taken from ``wait4``. The commands are run round-robin (each
round runs every command once), so noise from other processes hits all of them
alike; the table gives the median and the minimum of the repeats, and ratios
to the start-up floor ``python -c "import sympy, jinja2"`` measured in the same
run. A target is judged on the minimum (best of N, as ``timeit`` does: noise
only ever adds time); the median ratio is shown beside it.

Targets (issue 2 "Speed", issue 3 "Speed", issue 8 "Size"):

- ``derive solve mlp-relu --format json``: at most 2x the floor;
- ``derive solve mlp-relu --format md,tex,json`` (when those formats exist): under 3x the floor;
- the naive SymPy script (benchmarks/naive.py) on mlp-relu with a batch of 4: derive at least
  20x faster on the same network, with the same gradients (to 1e-9);
- a 784-32-10 network (25,450 parameters) to JSON: at most 3x the floor, under 1 GB (issue 15);
  784-128-10 (101,770 parameters): at most 6x the floor, under 1 GB;
- 10,000 SGD steps on the mazur preset at full precision: "in seconds", taken here as under 10 s
  (the only absolute target; its ratio to the floor is shown too);
- 10,000 Adam steps of the blog network (mazur-adam) at 30+ digits: under 10 s (issue 20).

Issue 15 (depth, FLINT, the blog network) and issue 14 (bounded work):

- ``derive solve mazur --format json``: at most 1.3x the floor; ``--format md,tex,json``: at most 1.6x;
- 10-[20]xd-1 ReLU and sigmoid networks to JSON: d = 8 at most 3x the floor, d = 20 at most 6x and
  under 10 s; the exponent of (time - floor) fitted against d over every depth measured is printed
  (at most 1: linear);
- the mazur network with 1,000 samples: under 10 s;
- 40 worksheet versions as PDFs (``derive worksheet mazur --variants 40 --format pdf``): at most 20 s, and
  their Python part (benchmarks/worksheets.py: a stand-in pdflatex, derive's own CPU time) at most 3 s;
- one exact SGD step of 784-32-10 on FLINT within 100x of a warm float64 PyTorch step, in one
  process (benchmarks/step.py; needs torch; skipped without it).

Exit code 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import specs  # noqa: E402

PY = sys.executable
GB = 1 << 30
#: the children's environment; main() gives them a bytecode cache unless --no-bytecode-cache
CHILD_ENV = dict(os.environ)


@dataclass
class Command:
    key: str
    label: str
    argv: list
    runs: list = field(default_factory=list)  # (seconds, max RSS bytes)
    cpu: list = field(default_factory=list)  # user + system seconds of each run (less swayed by other load)
    output: Path | None = None  # the JSON file the command writes, checked after every run

    def run(self) -> None:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            child = subprocess.Popen(self.argv, cwd=ROOT, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                     env=CHILD_ENV)
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - start
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode != 0:
                err.seek(0)
                raise SystemExit(f"benchmark: `{' '.join(map(str, self.argv))}` failed with exit code "
                                 f"{child.returncode}:\n{err.read().decode(errors='replace')[-2000:]}")
        self.runs.append((seconds, usage.ru_maxrss * 1024))  # ru_maxrss is in KiB on Linux
        self.cpu.append(usage.ru_utime + usage.ru_stime)

    @property
    def times(self):
        return [t for t, _ in self.runs]

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def rss(self) -> int:
        return max(m for _, m in self.runs)


def derive(*args) -> list:
    return [PY, "-m", "derive", *map(str, args)]


def probe_rendered_formats(tmp: Path) -> tuple[bool, str]:
    """Whether `derive solve` accepts --format md,tex: judged by its exit code (2 = bad input)."""
    result = subprocess.run(derive("solve", "mlp-relu", "--format", "md,tex,json", "--out", tmp / "probe"),
                            cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=CHILD_ENV)
    if result.returncode == 0:
        return True, ""
    if result.returncode == 2:
        return False, (result.stderr.strip().splitlines() or ["exit code 2"])[-1]
    raise SystemExit(f"benchmark: derive solve --format md,tex,json failed with exit code "
                     f"{result.returncode}:\n{result.stderr[-2000:]}")


def flat(value):
    if isinstance(value, list):
        return [x for v in value for x in flat(v)]
    return [value]


def max_difference(a: dict, b: dict) -> float:
    """Largest |a - b| / max(1, |b|) over every gradient entry; inf when shapes differ."""
    worst = 0.0
    for name in b:
        xs, ys = flat(a.get(name, [])), flat(b[name])
        if len(xs) != len(ys) or any(x is None for x in xs):
            return float("inf")
        worst = max([worst] + [abs(x - y) / max(1.0, abs(y)) for x, y in zip(xs, ys)])
    return worst


def specs_parameters(depth: int, width: int = 20, n_in: int = 10, n_out: int = 1) -> str:
    sizes = [n_in] + [width] * depth + [n_out]
    return f"{sum((a + 1) * b for a, b in zip(sizes, sizes[1:])):,}"


def fitted_exponent(points) -> float:
    """k of time = c * depth^k, by least squares on the logarithms (times at or below 0 are left out)."""
    import math

    pts = [(math.log(d), math.log(t)) for d, t in points if t > 0]
    if len(pts) < 2:
        return float("nan")
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Measure derive's speed targets side by side.")
    p.add_argument("--repeat", type=int, default=5, help="runs of each derive command and of the floor (default 5)")
    p.add_argument("--naive-repeat", type=int, default=2,
                   help="runs of the naive script, ~30 s each (default 2; 0 skips the comparison)")
    p.add_argument("--subs-sample", type=int, default=1, metavar="N",
                   help="also time the naive script with .subs on its first N parameters (default 1; 0 skips)")
    p.add_argument("--wide", action="store_true",
                   help="also time the 784-128-10 sigmoid network (the relu one is always timed)")
    p.add_argument("--depths", default="2,4,8,12,16,20",
                   help="depths of the 10-[20]xd-1 series (default 2,4,8,12,16,20; 8 and 20 are always added)")
    p.add_argument("--step-repeat", type=int, default=20,
                   help="repeats of the in-process exact step against PyTorch (default 20; 0 skips it)")
    p.add_argument("--worksheet-repeat", type=int, default=1,
                   help="runs of the 40-version worksheet batch, ~45 s each (default 1; 0 skips it)")
    p.add_argument("--worksheet-python-repeat", type=int, default=3,
                   help="runs of the same batch with a stand-in pdflatex, ~5 s each: the Python part (default 3; "
                        "0 skips it)")
    p.add_argument("--only", metavar="KEYS",
                   help="time only these commands (comma-separated keys, e.g. mazur_json,mazur_all,big_sigmoid; "
                        "the floor is always timed; the others' rows are left out and not judged); "
                        "--naive-repeat 0 --subs-sample 0 --step-repeat 0 --worksheet-repeat 0 skip the rest")
    p.add_argument("--no-bytecode-cache", dest="bytecode_cache", action="store_false",
                   help="run derive as the environment says (with PYTHONDONTWRITEBYTECODE set, every run compiles "
                        "derive's modules from source); by default the children share a bytecode cache of their own, "
                        "as an installed package has, like sympy's and jinja2's in the floor")
    p.add_argument("--json", help="write the figures to this JSON file as well")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="derive-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if args.bytecode_cache:
            # pip compiles a package's modules when it installs them, as it did sympy's and jinja2's, which
            # the floor loads compiled; a checkout run with PYTHONDONTWRITEBYTECODE=1 would instead compile
            # every derive module on every run. The cache is filled by the probe run, before any timing.
            CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
            CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        batch4 = tmp / "mlp-relu-batch4.toml"
        batch4.write_text(specs.mlp_relu_batch4_toml(), encoding="utf-8")
        big = {act: tmp / f"784-32-10-{act}.toml" for act in ("relu", "sigmoid")}
        big["relu"].write_text(specs.large_toml("relu", "identity"), encoding="utf-8")
        big["sigmoid"].write_text(specs.large_toml("sigmoid", "sigmoid"), encoding="utf-8")
        big["wide-relu"] = tmp / "784-128-10-relu.toml"
        big["wide-relu"].write_text(specs.large_toml("relu", "identity", sizes=(784, 128, 10)), encoding="utf-8")
        if args.wide:
            big["wide-sigmoid"] = tmp / "784-128-10-sigmoid.toml"
            big["wide-sigmoid"].write_text(specs.large_toml("sigmoid", "sigmoid", sizes=(784, 128, 10)),
                                           encoding="utf-8")
        mazur_text, n = re.subn(r"(?m)^steps\s*=\s*\d+\s*$", "steps = 10000",
                                (ROOT / "derive" / "presets" / "mazur.toml").read_text(encoding="utf-8"))
        assert n == 1, "the mazur preset has no 'steps =' line to change"
        mazur = tmp / "mazur-10000.toml"
        mazur.write_text(mazur_text, encoding="utf-8")
        adam_text, n = re.subn(r"(?m)^steps\s*=\s*\d+\s*$", "steps = 10000",
                               (ROOT / "derive" / "presets" / "mazur-adam.toml").read_text(encoding="utf-8"))
        assert n == 1, "the mazur-adam preset has no 'steps =' line to change"
        adam = tmp / "mazur-adam-10000.toml"
        adam.write_text(adam_text, encoding="utf-8")

        depths = sorted({int(d) for d in args.depths.split(",") if d.strip()} | {8, 20})
        deep = {}
        for act in ("relu", "sigmoid"):
            for d in depths:
                deep[act, d] = tmp / f"deep-{act}-{d}.toml"
                deep[act, d].write_text(specs.deep_toml(d, act), encoding="utf-8")
        batch1000 = tmp / "mazur-1000.toml"
        batch1000.write_text(specs.mazur_batch_toml(1000), encoding="utf-8")

        rendered, why_not = probe_rendered_formats(tmp)

        def out(name):
            return tmp / name

        commands = [
            Command("floor", 'python -c "import sympy, jinja2"', [PY, "-c", "import sympy, jinja2"]),
            Command("mlp_json", "derive solve mlp-relu --format json",
                    derive("solve", "mlp-relu", "--format", "json", "--out", out("mlp")), output=out("mlp")),
        ]
        if rendered:
            commands.append(Command("mlp_all", "derive solve mlp-relu --format md,tex,json",
                                    derive("solve", "mlp-relu", "--format", "md,tex,json", "--out", out("mlp-all")),
                                    output=out("mlp-all")))
        commands += [
            Command("batch4", "derive solve mlp-relu+batch of 4 --format json",
                    derive("solve", batch4, "--format", "json", "--out", out("batch4")), output=out("batch4")),
            Command("big_relu", "derive solve 784-32-10 relu/identity --format json",
                    derive("solve", big["relu"], "--format", "json", "--out", out("big-relu")), output=out("big-relu")),
            Command("big_sigmoid", "derive solve 784-32-10 sigmoid/sigmoid --format json",
                    derive("solve", big["sigmoid"], "--format", "json", "--out", out("big-sigmoid")),
                    output=out("big-sigmoid")),
            Command("mazur_10k", "derive solve mazur, 10,000 steps --format json",
                    derive("solve", mazur, "--format", "json", "--out", out("mazur")), output=out("mazur")),
            Command("adam_10k", "derive solve mazur-adam, 10,000 Adam steps --format json",
                    derive("solve", adam, "--format", "json", "--out", out("adam")), output=out("adam")),
        ]
        commands += [
            Command(f"wide_{act}", f"derive solve 784-128-10 {act} --format json",
                    derive("solve", big[f"wide-{act}"], "--format", "json", "--out", out(f"wide-{act}")),
                    output=out(f"wide-{act}"))
            for act in (("relu", "sigmoid") if args.wide else ("relu",))
        ]
        commands += [
            Command("mazur_json", "derive solve mazur --format json",
                    derive("solve", "mazur", "--format", "json", "--out", out("mazur-json")), output=out("mazur-json")),
            Command("mazur_all", "derive solve mazur --format md,tex,json",
                    derive("solve", "mazur", "--format", "md,tex,json", "--out", out("mazur-all")),
                    output=out("mazur-all")),
            Command("mazur_1000", "derive solve mazur with 1,000 samples --format json",
                    derive("solve", batch1000, "--format", "json", "--out", out("mazur-1000")),
                    output=out("mazur-1000")),
        ]
        commands += [
            Command(f"deep_{act}_{d}", f"derive solve 10-[20]x{d}-1 {act} --format json",
                    derive("solve", deep[act, d], "--format", "json", "--out", out(f"deep-{act}-{d}")),
                    output=out(f"deep-{act}-{d}"))
            for (act, d) in deep
        ]
        if args.only:
            keep = {k.strip() for k in args.only.split(",") if k.strip()} | {"floor"}
            unknown = keep - {c.key for c in commands}
            if unknown:
                raise SystemExit(f"benchmark: --only: unknown keys {', '.join(sorted(unknown))}; known: "
                                 f"{', '.join(c.key for c in commands)}")
            commands = [c for c in commands if c.key in keep]
        naive = Command("naive", "naive SymPy script (benchmarks/naive.py), batch of 4",
                        [PY, HERE / "naive.py", "--out", out("naive.json")])

        print(f"benchmark: {args.repeat} rounds of {len(commands)} commands, naive script x{args.naive_repeat} "
              f"(python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})", file=sys.stderr)
        load_before = os.getloadavg()
        for r in range(max(args.repeat, args.naive_repeat)):
            for c in commands if r < args.repeat else []:
                c.run()
            if r < args.naive_repeat:
                naive.run()
            print(f"  round {r + 1} done", file=sys.stderr)

        worksheets = Command("worksheets", "derive worksheet mazur --variants 40 --format pdf",
                             derive("worksheet", "mazur", "--variants", "40", "--seed", "7", "--format", "pdf",
                                    "--out", out("worksheets")))
        for r in range(args.worksheet_repeat):
            worksheets.run()
            print(f"  worksheet batch {r + 1} done", file=sys.stderr)
        worksheets_python = None
        if args.worksheet_python_repeat > 0:
            # the same batch with a stand-in pdflatex: derive's own CPU time, apart from TeX (benchmarks/worksheets.py)
            result = subprocess.run([PY, HERE / "worksheets.py", "--repeat", str(args.worksheet_python_repeat),
                                     "--json", out("worksheets-python.json")], cwd=ROOT, capture_output=True,
                                    text=True, stdin=subprocess.DEVNULL)
            if result.returncode not in (0, 1):
                raise SystemExit(f"benchmark: benchmarks/worksheets.py failed:\n{result.stderr[-2000:]}")
            worksheets_python = json.loads(out("worksheets-python.json").read_text())["runs"]["fake"]
            print("  worksheet batch with a stand-in pdflatex done", file=sys.stderr)

        subs = None
        if args.subs_sample > 0:
            print(f"  naive script with .subs on {args.subs_sample} parameter(s)", file=sys.stderr)
            subs_cmd = Command("subs", "naive .subs", [PY, HERE / "naive.py", "--subs", "--limit",
                                                      str(args.subs_sample), "--out", out("subs.json")])
            subs_cmd.run()
            subs = json.loads(out("subs.json").read_text())

        step = None
        if args.step_repeat > 0:
            result = subprocess.run([PY, HERE / "step.py", "--repeat", str(args.step_repeat)], cwd=ROOT,
                                    capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if result.returncode == 0:
                step = json.loads(result.stdout)
            else:
                print(f"  exact step against PyTorch skipped: {result.stderr.strip().splitlines()[-1:]}",
                      file=sys.stderr)

        by = {c.key: c for c in commands}
        results = {c.key: json.loads((c.output / "solution.json").read_text()) for c in commands if c.output}
        gradient_difference = None
        if naive.runs and "batch4" in results:
            naive_doc = json.loads(out("naive.json").read_text())
            gradient_difference = max_difference(naive_doc["gradients"], results["batch4"]["gradients"])
        history = len(results["mazur_10k"]["history"]) if "mazur_10k" in results else None

    floor = by["floor"]
    rows, failures = [], []

    def row(label, c, target=None, ok=None, ratio=None, note=""):
        """One table row; ``ok`` is a verdict or a function of the command; no row for a command not timed."""
        if c is None:
            return
        ok = ok(c) if callable(ok) else ok
        best_ratio = c.best / floor.best if ratio is None else ratio[0]
        median_ratio = c.median / floor.median if ratio is None else ratio[1]
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        if ok is False:
            failures.append(label)
        cpu_ratio = f"{min(c.cpu) / min(floor.cpu):.2f}x" if c.cpu and ratio is None else ""
        rows.append([label, f"{c.median:.2f}", f"{c.best:.2f}", f"{best_ratio:.2f}x", f"{median_ratio:.2f}x",
                     cpu_ratio, f"{c.rss / 2**20:.0f} MB", target or "", verdict, note])

    def within(factor, seconds=None, memory=None):
        """The verdict of a target: at most ``factor`` times the floor (and under ``seconds``, ``memory``)."""
        return lambda c: (c.best <= factor * floor.best and (seconds is None or c.best < seconds)
                          and (memory is None or c.rss < memory))

    row("start-up floor: python -c \"import sympy, jinja2\"", floor, note=f"{len(floor.runs)} runs")
    row("derive solve mlp-relu --format json", by.get("mlp_json"), "<= 2x floor", within(2))
    if rendered:
        row("derive solve mlp-relu --format md,tex,json", by.get("mlp_all"), "< 3x floor",
            lambda c: c.best < 3 * floor.best)
    c = by.get("batch4")
    row("derive solve mlp-relu, batch of 4 (241 parameters)", c)
    if naive.runs and c is not None:
        speedup = (naive.best / c.best, naive.median / c.median)
        same = gradient_difference <= 1e-9
        row("naive SymPy: compose, diff x241, .xreplace (batch of 4)", naive, ">= 20x derive",
            speedup[0] >= 20 and same, ratio=speedup,
            note=f"ratio = naive / derive; gradients agree to {gradient_difference:.1e} "
                 f"({'ok' if same else 'DIFFER'})")
    for key, what in (("big_relu", "relu hidden, identity output"), ("big_sigmoid", "sigmoid hidden and output")):
        row(f"derive solve 784-32-10 ({what}) --format json", by.get(key), "<= 3x floor, < 1 GB",
            within(3, memory=GB), note="25,450 parameters, mse, 1 sample")
    row("derive solve 784-128-10 (relu hidden, identity output) --format json", by.get("wide_relu"),
        "<= 6x floor, < 1 GB", within(6, memory=GB), note="101,770 parameters")
    row("derive solve 784-128-10 (sigmoid hidden and output) --format json", by.get("wide_sigmoid"),
        note="101,770 parameters (no target of its own)")
    if step:
        ratio = step["flint/torch"]
        timed = Command("step", "exact step", [])
        timed.runs = [(step["flint"]["best"], 0), (step["flint"]["median"], 0), (step["flint"]["median"], 0)]
        row("exact step 784-32-10 on FLINT vs warm float64 PyTorch", timed, "<= 100x PyTorch",
            ratio["best"] <= 100, ratio=(ratio["best"], ratio["median"]),
            note=f"in one process, ratio = FLINT / PyTorch; FLINT {step['flint']['best'] * 1e3:.1f} ms, "
                 f"PyTorch {step['torch']['best'] * 1e3:.2f} ms; backprop.run with Fractions handed on: "
                 f"{step['run']['best'] * 1e3:.0f} ms ({step['run/torch']['best']:.0f}x)")
    row("derive solve mazur --format json", by.get("mazur_json"), "<= 1.3x floor", within(1.3))
    row("derive solve mazur --format md,tex,json", by.get("mazur_all"), "<= 1.6x floor", within(1.6))
    row("derive solve mazur with 1,000 samples --format json", by.get("mazur_1000"), "< 10 s",
        lambda c: c.best < 10, note="2-2-2 sigmoid, batch of 1,000")
    exponents = {}
    for act in ("relu", "sigmoid"):
        for d in depths:
            target = {8: ("<= 3x floor", within(3)), 20: ("<= 6x floor, < 10 s", within(6, 10))}.get(d, (None, None))
            row(f"derive solve 10-[20]x{d}-1 {act} --format json", by.get(f"deep_{act}_{d}"), *target,
                note=f"{specs_parameters(d)} parameters")
        timed = [(d, by[f"deep_{act}_{d}"].median - floor.median) for d in depths if f"deep_{act}_{d}" in by]
        if len(timed) >= 2:
            exponents[act] = fitted_exponent(timed)
    row("derive solve mazur with 10,000 steps --format json", by.get("mazur_10k"), "< 10 s", lambda c: c.best < 10,
        note=f"2-2-2 sigmoid, 60 digits; history has {history} losses")
    if history is not None and history != 10001:
        failures.append("mazur history length")
    row("derive solve mazur-adam with 10,000 Adam steps --format json", by.get("adam_10k"), "< 10 s",
        lambda c: c.best < 10,
        note="2-2-2 sigmoid, Adam, 60 digits (the first 10 steps on mpmath, the rest on FLINT arb)")
    if worksheets.runs:
        row("derive worksheet mazur --variants 40 --format pdf", worksheets, "<= 20 s", worksheets.best <= 20,
            note=f"sheets and keys: 80 PDFs compiled on every core, and the two combined PDFs; CPU "
                 f"{min(worksheets.cpu):.1f} s (derive and TeX), / {os.cpu_count()} cores = "
                 f"{min(worksheets.cpu) / (os.cpu_count() or 1):.1f} s (an idle machine's wall time, estimated)")
    if worksheets_python:
        timed = Command("worksheets_python", "the Python part", [])
        timed.runs = [(r["own"], 0) for r in worksheets_python]
        row("  its Python part (stand-in pdflatex; derive's own CPU s)", timed, "<= 3 s CPU", timed.best <= 3,
            ratio=(timed.best / min(floor.cpu), timed.median / statistics.median(floor.cpu)),
            note=f"ratios to the floor's CPU time; benchmarks/worksheets.py: wall {min(r['wall'] for r in worksheets_python):.2f} s, "
                 f"the stand-in and pdfunite {min(r['children'] for r in worksheets_python):.2f} s CPU")

    header = ["measurement", "median s", "min s", "ratio (min)", "ratio (median)", "CPU ratio (min)", "peak RSS", "target", "result",
              "note"]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(x).ljust(w) for x, w in zip(cells, widths)) + " |"  # noqa: E731
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    print()
    print(f"Ratios are to the start-up floor unless noted; min = best of {args.repeat} "
          f"(naive: {args.naive_repeat}), judged on the min. The CPU ratio (user + system time, best of the runs) "
          "is shown beside them: on a loaded machine it moves less than wall clock, but it is not what is judged.")
    if not naive.runs:
        print("naive script: skipped (--naive-repeat 0); its target is not measured.")
    if not rendered:
        print(f"derive solve --format md,tex,json: not available yet ({why_not}); its target is not measured.")
    if subs:
        per = subs["substitute"] / subs["parameters"]
        print(f"naive with .subs instead of .xreplace: {per:.1f} s per parameter to put the numbers in "
              f"(measured on {subs['parameters']}), so about {per * subs['total_parameters'] / 60:.0f} min "
              f"for all {subs['total_parameters']} (not run).")
    for act, k in exponents.items():
        print(f"depth series, {act}: time above the floor grows as depth^{k:.2f} (least squares on log-log, "
              f"depths {', '.join(map(str, depths))}; {'linear or better' if k <= 1.1 else 'FASTER THAN LINEAR'})")
        if k > 1.1:
            failures.append(f"depth exponent ({act})")
    print("derive's modules loaded from a bytecode cache (filled before the timed rounds), as after pip install"
          if args.bytecode_cache else
          f"bytecode cache: as the environment says (PYTHONDONTWRITEBYTECODE="
          f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}: derive's modules compiled from source on every run)")
    print(f"Load average (1, 5, 15 min) before the rounds: {' '.join(f'{x:.2f}' for x in load_before)}, "
          f"after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores).")
    print(f"Reproduce: cd {ROOT} && python3 benchmarks/run.py")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "rows": [dict(zip(header, r)) for r in rows],
            "runs": {c.key: c.runs for c in commands + [naive, worksheets]},
            "worksheets_python": worksheets_python,
            "cpu": {c.key: c.cpu for c in commands + [naive, worksheets]},
            "exact_step": step,
            "depth_exponents": exponents,
            "rendered_formats": rendered,
            "gradient_difference": gradient_difference,
            "subs_seconds_per_parameter": subs and subs["substitute"] / subs["parameters"],
        }, indent=1))
    if failures:
        print(f"MISSED: {', '.join(failures)}")
        return 1
    print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
