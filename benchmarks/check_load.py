"""The load of `derive check` on a student's file where every answer is wrong (issue 14).

    python3 benchmarks/check_load.py [--sizes 60,60,1] [--limit-seconds 30] [--limit-mb 500]

Writes a ReLU network of the given sizes (weights drawn reproducibly at 4 decimals)
and an answers file that gives every quantity of its worked solution (the given numbers too) wrong (each
exact value times 1.1 plus 0.01, at 4 decimals), then runs ``derive check`` on them
in a fresh child process, timed by wall clock and by CPU time (user + system), its
peak memory (max RSS) from ``wait4``. The target (issue 14: a [60, 60, 1] network in
under 30 s and 500 MB) is judged on the CPU time, the time the check itself needs:
on a machine shared with other jobs the wall clock also counts their turns (the
load average is printed beside it). Exit code 0 when the targets are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import specs  # noqa: E402


def network(sizes, seed: int = 60) -> str:
    """A ReLU network with an identity output and the mse loss, one sample."""
    rng = random.Random(seed)
    weights, biases = [], []
    for n_in, n_out in zip(sizes, sizes[1:]):
        bound = 1 / n_in**0.5
        weights.append([[round(rng.uniform(-bound, bound), 4) for _ in range(n_in)] for _ in range(n_out)])
        biases.append([round(rng.uniform(-bound, bound), 4) for _ in range(n_out)])
    inputs = [[round(rng.uniform(-1, 1), 4) for _ in range(sizes[0])]]
    targets = [[round(rng.uniform(-1, 1), 4) for _ in range(sizes[-1])]]
    acts = ["relu"] * (len(sizes) - 2) + ["identity"]
    return specs.toml_spec(f"A {'-'.join(map(str, sizes))} ReLU network", sizes, acts, "mse", "out_in",
                           weights, biases, inputs, targets)


def wrong_answers(spec_path: Path) -> tuple[str, int]:
    """Every quantity of the worked solution (the given numbers too), each one wrong: (TOML text, how many)."""
    from derive.core.solve import solve
    from derive.core.steps import Steps

    steps = Steps(solve(str(spec_path)))
    lines = []
    for step in steps:
        if step.name == "eta":
            continue
        value = float(steps.exact(step.name)) * 1.1 + 0.01
        lines.append(f'"{step.name}" = {value:.4f}')
    return "\n".join(lines) + "\n", len(lines)


def measure(argv, cwd) -> tuple[float, float, int, int, str]:
    """(wall seconds, CPU seconds, max RSS bytes, exit code, stderr) of one child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return (seconds, cpu, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status),
                err.read().decode(errors="replace"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="60,60,1")
    p.add_argument("--limit-seconds", type=float, default=30)
    p.add_argument("--limit-mb", type=float, default=500)
    p.add_argument("--keep", help="also keep the spec and answers in this folder")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="check-load-") as folder:
        folder = Path(args.keep or folder)
        folder.mkdir(parents=True, exist_ok=True)
        spec = folder / "net.toml"
        spec.write_text(network(sizes), encoding="utf-8")
        text, count = wrong_answers(spec)
        (folder / "answers.toml").write_text(text, encoding="utf-8")
        seconds, cpu, rss, code, err = measure([sys.executable, "-m", "derive", "check", "net.toml", "answers.toml",
                                           "--format", "json", "--out", "report"], folder)
        report = folder / "report" / "check.json"
        wrong = report.read_text(encoding="utf-8").count('"verdict": "wrong"') if report.exists() else 0
    parameters = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    print(f"derive check on a {sizes} ReLU network ({parameters} parameters), {count} answers, every one wrong")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"  exit code {code}, {wrong} judged wrong, {cpu:.1f} s CPU ({seconds:.1f} s wall clock at load average "
          f"{load:.1f}), {rss / 2**20:.0f} MB peak")
    if code not in (0, 1):
        print("  " + err.strip()[-2000:])
        return 1
    met = cpu <= args.limit_seconds and rss <= args.limit_mb * 2**20
    print(f"  target (under {args.limit_seconds:g} s CPU and {args.limit_mb:g} MB): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
