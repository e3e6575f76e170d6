"""The solution as plain data: the named quantities and the JSON document."""

from __future__ import annotations

import json
import math

from .numeric import to_float
from .solve import Solution


def in_layout(matrix, layout: str):
    """A weight matrix stored (out x in) written back in the spec's layout."""
    rows = [list(row) for row in matrix]
    return rows if layout == "out_in" else [list(col) for col in zip(*rows)]


def quantities(solution: Solution) -> dict:
    """Every scalar of the worked solution by its printed name, exact values, in reading order.

    Names follow :mod:`derive.notation` in the spec's own scheme (``solution.notation``), never
    the notation the documents are written in: the data is the same whatever ``--notation``.
    Forward pass, loss, backward pass (per unit: dE/dout, the paths through the layer above
    for hidden units, dout/dnet, delta), then per parameter: its value, d net/d parameter,
    per-sample contributions when there are several samples, the gradient and the updated value.
    """
    s, n, r = solution.spec, solution.notation, solution.first
    L, N = s.layers, s.batch
    q = {}
    for smp in range(N):
        for i in range(s.sizes[0]):
            q[n.input(smp, i).text] = r.out[0][smp][i]
        for k in range(s.sizes[-1]):
            q[n.target(smp, k).text] = s.targets[smp][k]
    names = {}  # (l, j, i) -> the parameter's Name (i None for the bias), made once
    for l in range(1, L + 1):
        for j in range(s.sizes[l]):
            for i in range(s.sizes[l - 1]):
                name = names[l, j, i] = n.weight(l, j, i)
                q[name.text] = r.weights[l][j][i]
            name = names[l, j, None] = n.bias(l, j)
            q[name.text] = r.biases[l][j]
    for smp in range(N):
        for l in range(1, L + 1):
            for j in range(s.sizes[l]):
                q[n.net(l, smp, j).text] = r.net[l][smp][j]
                q[n.out(l, smp, j).text] = r.out[l][smp][j]
    for smp in range(N):
        for k in range(s.sizes[-1]):
            q[n.error(smp, k).text] = r.errors[smp][k]
        if N > 1:
            q[n.sample_loss(smp).text] = r.sample_losses[smp]
    q[n.loss().text] = r.loss
    for l in range(L, 0, -1):
        for smp in range(N):
            top = n.sample_loss(smp)
            if r.jacobian[l] is not None:
                _softmax_quantities(q, n, r, l, smp, s.sizes[l])
                continue
            for j in range(s.sizes[l]):
                out = n.out(l, smp, j)
                if l < L:
                    for k in range(s.sizes[l + 1]):
                        q[n.path(l, smp, j, k).text] = r.delta[l + 1][smp][k] * r.weights[l + 1][k][j]
                q[n.derivative(top, out).text] = r.dE_dout[l][smp][j]
                q[n.derivative(out, n.net(l, smp, j)).text] = r.dout_dnet[l][smp][j]
                q[n.delta(l, smp, j).text] = r.delta[l][smp][j]
        loss = n.loss()
        sample_losses = [n.sample_loss(smp) for smp in range(N)]
        for j in range(s.sizes[l]):
            nets = [n.net(l, smp, j) for smp in range(N)]
            for i in list(range(s.sizes[l - 1])) + [None]:
                p = names[l, j, i]
                for smp in range(N):
                    q[n.derivative(nets[smp], p).text] = r.out[l - 1][smp][i] if i is not None else 1
                    if N > 1:
                        q[n.derivative(sample_losses[smp], p).text] = (
                            r.delta[l][smp][j] * (r.out[l - 1][smp][i] if i is not None else 1)
                        )
                q[n.derivative(loss, p).text] = r.grad_W[l][j][i] if i is not None else r.grad_b[l][j]
                if i is not None:
                    q[n.updated(p).text] = r.new_weights[l][j][i]
                elif s.update_biases:
                    q[n.updated(p).text] = r.new_biases[l][j]
    return q


def _floats(value):
    """Nested tuples of exact values as nested lists of floats."""
    if isinstance(value, (tuple, list)):
        return [_floats(v) for v in value]
    return to_float(value)


def _parameters(weights, biases, spec):
    out = {}
    for l in range(1, spec.layers + 1):
        out[f"W{l}"] = _floats(in_layout(weights[l], spec.weight_layout))
        out[f"b{l}"] = _floats(biases[l])
    return out


def document(solution: Solution) -> dict:
    """The JSON document: loss, forward values, gradients, updated parameters, history, quantities."""
    s, r = solution.spec, solution.first
    grads = {}
    for l in range(1, s.layers + 1):
        grads[f"W{l}"] = _floats(in_layout(r.grad_W[l], s.weight_layout))
        grads[f"b{l}"] = _floats(r.grad_b[l])
    doc = {
        "title": s.title,
        "network": {
            "sizes": list(s.sizes),
            "activations": list(s.activations),
            "loss": s.loss,
            "weight_layout": s.weight_layout,
            "learning_rate": to_float(s.learning_rate),
            "update_biases": s.update_biases,
            "steps": s.steps,
            "notation": solution.notation.scheme,
        },
        "exact": solution.exact,
        "verification": solution.verification.method,
        "loss": to_float(r.loss),
        "forward": [{"net": _floats(r.net[l]), "out": _floats(r.out[l])} for l in range(1, s.layers + 1)],
        "gradients": grads,
        "updated": _parameters(r.new_weights, r.new_biases, s),
        "history": _floats(solution.history),
    }
    if s.steps > 1:
        doc["final"] = _parameters(solution.final_weights, solution.final_biases, s)
    doc["quantities"] = {name: to_float(v) for name, v in quantities(solution).items()}
    return doc


#: json.dumps(value, ensure_ascii=False) without making a new encoder for every value
_encode = json.JSONEncoder(ensure_ascii=False).encode
#: what that encoder does with a str (json.encoder's own choice of the C or Python function)
_encode_str = json.encoder.encode_basestring


def _scalar(value) -> str:
    """One value as JSON text, exactly as json.dumps(value, ensure_ascii=False) writes it."""
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)  # what the encoder writes for a finite float
    return _encode(value)


def dumps(value, depth: int = 0) -> str:
    """JSON text with objects indented and every list of numbers on one line (matrices row by row)."""
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, dict) and value:
        items = (f"{inner}{_encode_str(k) if type(k) is str else json.dumps(k, ensure_ascii=False)}: "
                 f"{dumps(v, depth + 1) if isinstance(v, (dict, list)) else _scalar(v)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, (list, dict)) for v in value):
        return "[\n" + ",\n".join(f"{inner}{dumps(v, depth + 1)}" for v in value) + f"\n{pad}]"
    return _encode(value)


def to_json(solution: Solution) -> str:
    """The JSON document as text (deterministic: insertion order, shortest float repr)."""
    return dumps(document(solution)) + "\n"


def _softmax_quantities(q: dict, n, r, l: int, smp: int, K: int):
    """A softmax layer's backward step: each dE/dout, the Jacobian d out_k/d net_j, each delta."""
    top = n.sample_loss(smp)
    for k in range(K):
        q[n.derivative(top, n.out(l, smp, k)).text] = r.dE_dout[l][smp][k]
    for j in range(K):
        for k in range(K):
            q[n.derivative(n.out(l, smp, k), n.net(l, smp, j)).text] = r.jacobian[l][smp][k][j]
    for j in range(K):
        q[n.delta(l, smp, j).text] = r.delta[l][smp][j]
