"""The solution as plain data: the JSON document (numbers as floats, in the spec's own layout)."""

from __future__ import annotations

import json
import math

from derive.core.numeric import to_float
from derive.core.quantities import quantities
from derive.core.solve import Solution


def in_layout(matrix, layout: str):
    """A weight matrix stored (out x in) written back in the spec's layout."""
    rows = [list(row) for row in matrix]
    return rows if layout == "out_in" else [list(col) for col in zip(*rows)]


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
    if solution.trajectory is not None:
        doc["training"] = training(solution)
    doc["quantities"] = {name: to_float(v) for name, v in quantities(solution).items()}
    return doc


def training(solution: Solution) -> dict:
    """The optimizer, its settings, the mini-batches, each step's loss and every parameter's final state."""
    trajectory, n = solution.trajectory, solution.notation
    plan = trajectory.training
    settings = plan.settings
    final = {}
    for (kind, l, j, i), state in trajectory.final_state.items():
        name = (n.weight(l, j, i) if kind == "W" else n.bias(l, j)).text
        for key, value in state.items():
            final[f"{key}_{name}"] = to_float(value)
    return {
        "optimizer": settings.optimizer,
        "form": settings.form,
        "hyper_parameters": {k: v if isinstance(v, bool) else to_float(v) for k, v in settings.values},
        "l2": to_float(plan.l2),
        "decay_biases": plan.decay_biases,
        "mode": plan.mode,
        "batches": [[s + 1 for s in batch] for batch in trajectory.batches],
        "batch_losses": _floats(trajectory.batch_losses),
        "final_state": final,
    }


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


def to_json(solution: Solution, metadata: dict | None = None) -> str:
    """The JSON document as text (deterministic: insertion order, shortest float repr); ``metadata``: the
    course, author, date and institution the documents print, after the title (left out when none is given)."""
    doc = document(solution)
    if metadata:
        doc = {"title": doc.pop("title"), "document": metadata, **doc}
    return dumps(doc) + "\n"


def circuit_json(circuit) -> str:
    """The circuit's numbers: every wire's value and gradient, every gate with its local gradients."""
    doc = {
        "formula": {name: text for name, text, _ in circuit.spec.formulas},
        "output": circuit.output,
        "composite": circuit.spec.composite,
        "values": {w: to_float(circuit.values[w]) for w in circuit.wires},
        "gradients": {w: to_float(circuit.gradients[w]) for w in circuit.wires if w in circuit.gradients},
        "gates": [{"gate": g.index, "kind": g.kind, "label": g.label, "inputs": list(g.inputs), "output": g.output,
                   "value": to_float(circuit.values[g.output]),
                   "local": [to_float(circuit.local[(g.index, k)]) for k in range(len(g.inputs))
                             if (g.index, k) in circuit.local]}
                  for g in circuit.gates],
        "quantities": {name: to_float(v) for name, v in circuit.quantities().items()},
    }
    return json.dumps(doc, indent=1) + "\n"
