"""One exact SGD step of a 784-32-10 network against a warm float64 PyTorch step, in one process.

    python3 benchmarks/step.py [--repeat N] [--activation relu|sigmoid]

Prints JSON: the best and median seconds of
- ``torch``: forward, backward (autograd) and update of the same network in float64, warm;
- ``flint``: derive's exact step on FLINT (derive.core.flintpass: forward, deltas, outer products,
  update as fmpq_mat products; net, out and deltas handed on as Fractions) from the matrices a
  previous step left, the gradients and new parameters kept as matrices;
- ``run``: ``backprop.run`` whole, the values handed on as Fractions (conversion included);
and the ratios flint/torch and run/torch (issue 15: the exact step within 100x of PyTorch).
Both sides are interleaved (A, B, A, B, ...) and warmed up first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import specs  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--activation", default="relu")
    args = p.parse_args(argv)

    import torch

    from derive.core import backprop, flintpass
    from derive.core.spec import parse

    output = "identity" if args.activation == "relu" else "sigmoid"
    spec = parse(specs.large_toml(args.activation, output), "784-32-10.toml")
    rules = backprop.Rules.for_spec(spec)
    if not rules.exact:
        raise SystemExit("the exact step is measured on a rational network (relu)")

    torch.set_num_threads(1)
    W = [torch.tensor([[float(x) for x in row] for row in spec.weights[l]], dtype=torch.float64, requires_grad=True)
         for l in range(spec.layers)]
    b = [torch.tensor([float(x) for x in spec.biases[l]], dtype=torch.float64, requires_grad=True)
         for l in range(spec.layers)]
    x = torch.tensor([[float(v) for v in row] for row in spec.inputs], dtype=torch.float64)
    t = torch.tensor([[float(v) for v in row] for row in spec.targets], dtype=torch.float64)
    eta = float(spec.learning_rate)

    def torch_step():
        a = x
        for l in range(spec.layers):
            a = a @ W[l].T + b[l]
            if l < spec.layers - 1:
                a = torch.relu(a)
        loss = torch.nn.functional.mse_loss(a, t)
        for p_ in W + b:
            p_.grad = None
        loss.backward()
        with torch.no_grad():
            for p_ in W + b:
                p_ -= eta * p_.grad

    first = backprop.run(spec, rules)
    weights, biases = first.new_weights, first.new_biases  # carry their FLINT matrices, as the step loop does

    def flint_step():
        flintpass.run(spec, rules, weights, biases, backprop.Pass, handed_on=False)

    def run_step():
        backprop.run(spec, rules)

    timings = {"torch": [], "flint": [], "run": []}
    steps = {"torch": torch_step, "flint": flint_step, "run": run_step}
    for f in steps.values():  # warm up
        f()
        f()
    for _ in range(args.repeat):
        for name, f in steps.items():
            start = time.perf_counter()
            f()
            timings[name].append(time.perf_counter() - start)
    result = {name: {"best": min(v), "median": statistics.median(v)} for name, v in timings.items()}
    for name in ("flint", "run"):
        result[f"{name}/torch"] = {"best": result[name]["best"] / result["torch"]["best"],
                                   "median": result[name]["median"] / result["torch"]["median"]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
