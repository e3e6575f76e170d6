"""The naive approach a user would write: the whole loss as one SymPy expression, diff, numbers in.

The network is the mlp-relu preset (10-20-1, ReLU hidden, identity output, MSE, the
``x @ W1 + b1`` layout, its weights) with a batch of 4 inputs: the preset's input
plus 3 reproducible ones (see :func:`specs.mlp_relu_batch4`). The script

1. composes the MSE loss as one SymPy expression in all 241 parameters
   (``sympy.Matrix`` products, ReLU as ``sympy.Max(0, z)``),
2. calls ``sympy.diff`` once per parameter,
3. puts the numbers in (exact rationals from the decimal text).

Step 3 is done with ``.xreplace`` by default. ``.subs`` gives the same numbers but
takes about half a minute per parameter on this expression (it substitutes the 241
symbols one at a time, re-evaluating the whole expression each time): about two
hours for all 241, so ``--subs`` is meant with ``--limit N``.

    python3 benchmarks/naive.py [--subs] [--limit N] [--out OUT.json]

prints the time and writes the gradients (the spec's layout, floats) and timings
to OUT.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sympy as sp  # noqa: E402

from specs import mlp_relu_batch4  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subs", action="store_true", help="put the numbers in with .subs (slow) instead of .xreplace")
    p.add_argument("--limit", type=int, help="differentiate only the first N parameters")
    p.add_argument("--out", help="write gradients and timings to this JSON file")
    args = p.parse_args(argv)

    data = mlp_relu_batch4()
    preset = data["preset"]
    params = preset["parameters"]
    n_in, n_hidden, n_out = preset["network"]["sizes"]
    start = time.perf_counter()

    # 1. the parameters as symbols in the preset's x @ W layout, and the whole loss
    W1 = sp.Matrix(n_in, n_hidden, lambda i, j: sp.Symbol(f"W1_{i}_{j}"))
    b1 = sp.Matrix(1, n_hidden, lambda _, j: sp.Symbol(f"b1_{j}"))
    W2 = sp.Matrix(n_hidden, n_out, lambda i, j: sp.Symbol(f"W2_{i}_{j}"))
    b2 = sp.Matrix(1, n_out, lambda _, j: sp.Symbol(f"b2_{j}"))
    loss = sp.Integer(0)
    for x, t in zip(data["inputs"], data["targets"]):
        x = sp.Matrix([[sp.Rational(str(v)) for v in x]])
        hidden = (x * W1 + b1).applyfunc(lambda z: sp.Max(0, z))
        out = hidden * W2 + b2
        for k in range(n_out):
            loss += (out[0, k] - sp.Rational(str(t[k]))) ** 2
    loss = loss / (len(data["inputs"]) * n_out)
    composed = time.perf_counter()

    values, order = {}, []
    for name, M in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        rows = params[name] if name.startswith("W") else [params[name]]
        for i in range(M.rows):
            for j in range(M.cols):
                values[M[i, j]] = sp.Rational(str(rows[i][j]))
                order.append((name, i, j, M[i, j]))
    if args.limit is not None:
        order = order[: args.limit]

    # 2. and 3. one derivative per parameter, then the numbers put in
    gradients, diff_time, put_time = {}, 0.0, 0.0
    for name, i, j, symbol in order:
        t0 = time.perf_counter()
        derivative = sp.diff(loss, symbol)
        t1 = time.perf_counter()
        value = derivative.subs(values) if args.subs else derivative.xreplace(values)
        value = float(value)
        t2 = time.perf_counter()
        diff_time, put_time = diff_time + t1 - t0, put_time + t2 - t1
        gradients.setdefault(name, {})[(i, j)] = value
    elapsed = time.perf_counter() - start

    shaped = {}
    for name, M in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        got = gradients.get(name, {})
        grid = [[got.get((i, j)) for j in range(M.cols)] for i in range(M.rows)]
        shaped[name] = grid if name.startswith("W") else grid[0]
    how = ".subs" if args.subs else ".xreplace"
    print(f"naive: {elapsed:.2f} s for {len(order)} of {len(values)} parameters "
          f"(compose {composed - start:.2f} s, diff {diff_time:.2f} s, {how} {put_time:.2f} s)")
    if args.out:
        Path(args.out).write_text(json.dumps({
            "seconds": elapsed, "compose": composed - start, "diff": diff_time, "substitute": put_time,
            "parameters": len(order), "total_parameters": len(values), "method": how, "gradients": shaped,
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
