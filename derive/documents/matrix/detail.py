"""Which parameters the matrix form derives in full, as scalars: the option ``detail``, or a few per layer."""

from __future__ import annotations

from derive.documents.context import Context
from derive.errors import DeriveError, suggestion


def parameter_names(m: Context) -> dict:
    """Every parameter by the name the document prints and by its name in the data (JSON) where that differs."""
    names = {}
    for n in (m.n, m.s.notation):
        for l in range(1, m.spec.layers + 1):
            for j in range(m.spec.sizes[l]):
                for i in range(m.spec.sizes[l - 1]):
                    names.setdefault(n.weight(l, j, i).text, ("W", l, j, i))
                names.setdefault(n.bias(l, j).text, ("b", l, j, None))
    return names


def default_detail(m: Context) -> list[tuple]:
    """The output layer's first weight and bias; a weight into an active and an inactive hidden unit."""
    spec, run = m.spec, m.run
    L = spec.layers
    active = [j for j in range(spec.sizes[L - 1]) if run.dout_dnet[L - 1][0][j] != 0] if L > 1 else []
    chosen = [("W", L, 0, active[0] if active else 0), ("b", L, 0, None)]
    for l in range(L - 1, 0, -1):
        live = [j for j in range(spec.sizes[l]) if run.dout_dnet[l][0][j] != 0]
        dead = [j for j in range(spec.sizes[l]) if run.dout_dnet[l][0][j] == 0]
        for group in (live, dead):
            if group:
                chosen.append(("W", l, group[0], 0))
    return chosen


def chosen(m: Context, detail) -> list[tuple]:
    if detail is None:
        return default_detail(m)
    names = parameter_names(m)
    if detail.strip() == "all":
        return list(dict.fromkeys(names.values()))
    if detail.strip() == "none":
        return []
    out = []
    for word in (w.strip() for w in detail.split(",") if w.strip()):
        if word not in names:
            raise DeriveError("--detail", f"unknown parameter '{word}'{suggestion(word, names)}")
        out.append(names[word])
    return out
