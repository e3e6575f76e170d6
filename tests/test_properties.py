"""Property-based tests: random valid specs solve and agree with a float64 reference; broken ones fail cleanly."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from derive.cli import main
from derive.core.numeric import MP, to_decimal, to_mp
from derive.core.solve import solve
from derive.core.spec import parse
from derive.errors import DeriveError
from derive.io.export import document

ACTIVATIONS = ["sigmoid", "tanh", "relu", "identity"]
LOSSES = ["mse", "half_sse", "sse"]
LAYOUTS = ["out_in", "in_out"]
SECTIONS = ["network", "parameters", "data", "training"]
RTOL, ATOL = 1e-9, 1e-12

# DERIVE_EXAMPLES_SCALE scales every property up for a thorough run; the defaults keep CI fast
SCALE = float(os.environ.get("DERIVE_EXAMPLES_SCALE", "1"))


def examples(count: int) -> settings:
    return settings(
        max_examples=max(1, int(count * SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---------------------------------------------------------------- random valid specs

# short decimals from -1 to 1 with 0 to 2 places (-1, 0.5, -0.07), as the oracle tests use
decimals = st.sampled_from([0, 1, 2]).flatmap(
    lambda places: st.integers(-(10**places), 10**places).map(lambda n: Decimal(n).scaleb(-places))
)
titles = st.text(st.characters(categories=["L", "N", "P", "S"], include_characters=" "), max_size=30)


@st.composite
def valid_specs(draw) -> dict:
    """A spec as the parsed structure a student would write: 0-2 hidden layers of 1-3 units, batch 1-3."""
    sizes = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(2, 4)))]
    layers = len(sizes) - 1
    layout = draw(st.sampled_from(LAYOUTS))
    activations = [draw(st.sampled_from(ACTIVATIONS)) for _ in range(layers)]
    batch = draw(st.integers(1, 3))

    def matrix(rows, cols):
        return [[draw(decimals) for _ in range(cols)] for _ in range(rows)]

    parameters = {}
    for l in range(1, layers + 1):
        n_in, n_out = sizes[l - 1], sizes[l]
        parameters[f"W{l}"] = matrix(n_out, n_in) if layout == "out_in" else matrix(n_in, n_out)
        parameters[f"b{l}"] = [draw(decimals) for _ in range(n_out)]
    network = {"sizes": sizes, "activations": activations, "loss": draw(st.sampled_from(LOSSES))}
    if layout == "in_out" or draw(st.booleans()):  # out_in is the default: sometimes left out
        network["weight_layout"] = layout
    if len(set(activations)) == 1 and draw(st.booleans()):
        network["activations"] = activations[0]  # one name for every layer
    return {
        "title": draw(titles),
        "network": network,
        "parameters": parameters,
        "data": {"inputs": matrix(batch, sizes[0]), "targets": matrix(batch, sizes[-1])},
        "training": {
            "learning_rate": draw(st.sampled_from([Decimal("0.1"), Decimal("0.25"), Decimal("0.5"), Decimal("1")])),
            "update_biases": draw(st.booleans()),
            "steps": draw(st.integers(1, 3)),
        },
    }


# ---------------------------------------------------------------- writing a spec as TOML or JSON


def _key(key: str, kind: str) -> str:
    return key if kind == "toml" and re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _value(value, kind: str) -> str:
    """One value as TOML or JSON text; non-finite Decimals as each format spells them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        assert kind == "json", "TOML has no null"
        return "null"
    if isinstance(value, Decimal):
        if value.is_nan():
            return "nan" if kind == "toml" else "NaN"
        if value.is_infinite():
            sign = "-" if value < 0 else ""
            return f"{sign}inf" if kind == "toml" else f"{sign}Infinity"
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v, kind) for v in value) + "]"
    if isinstance(value, dict):
        sep = " = " if kind == "toml" else ": "
        return "{" + ", ".join(f"{_key(k, kind)}{sep}{_value(v, kind)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def write(spec: dict, kind: str, duplicate: tuple[str, str] | None = None) -> str:
    """The spec as TOML (top-level values, then one [section] per table) or JSON; ``duplicate`` repeats one key."""
    if kind == "json":
        sections = []
        for name, value in spec.items():
            if isinstance(value, dict):
                items = [f"    {_key(k, kind)}: {_value(v, kind)}" for k, v in value.items()]
                if duplicate and duplicate[0] == name:
                    items.append(f"    {_key(duplicate[1], kind)}: {_value(value[duplicate[1]], kind)}")
                sections.append(f"  {_key(name, kind)}: {{\n" + ",\n".join(items) + "\n  }")
            else:
                sections.append(f"  {_key(name, kind)}: {_value(value, kind)}")
        return "{\n" + ",\n".join(sections) + "\n}\n"
    lines = [f"{_key(k, kind)} = {_value(v, kind)}" for k, v in spec.items() if not isinstance(v, dict)]
    for name, value in spec.items():
        if isinstance(value, dict):
            lines += ["", f"[{_key(name, kind)}]"] + [f"{_key(k, kind)} = {_value(v, kind)}" for k, v in value.items()]
            if duplicate and duplicate[0] == name:
                lines.append(f"{_key(duplicate[1], kind)} = {_value(value[duplicate[1]], kind)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the float64 reference


def reference(spec: dict):
    """Loss, first-step gradients and updates (in the spec's layout) and the loss history, in float64.

    Returns None when a ReLU's net input comes within 1e-9 of its kink, where float64
    cannot tell which side the exact value is on.
    """
    net = spec["network"]
    sizes, layout = net["sizes"], net.get("weight_layout", "out_in")
    acts = net["activations"] if isinstance(net["activations"], list) else [net["activations"]] * (len(sizes) - 1)
    params = spec["parameters"]
    W = [np.array(params[f"W{l}"], dtype=float) for l in range(1, len(sizes))]
    W = [w if layout == "out_in" else w.T for w in W]  # (out x in) from here on
    b = [np.array(params[f"b{l}"], dtype=float) for l in range(1, len(sizes))]
    x = np.array(spec["data"]["inputs"], dtype=float)
    t = np.array(spec["data"]["targets"], dtype=float)
    train = spec["training"]
    lr = float(train["learning_rate"])
    f = {"sigmoid": lambda z: np.exp(-np.logaddexp(0, -z)), "tanh": np.tanh,
         "relu": lambda z: np.maximum(z, 0), "identity": lambda z: z}
    # derivatives from z, not a(1 - a) or 1 - a^2, which cancel to nothing in float64 when the unit saturates
    df = {"sigmoid": lambda z: np.exp(-np.logaddexp(0, -z) - np.logaddexp(0, z)),
          "tanh": lambda z: 4 * np.exp(-2 * np.abs(z)) / (1 + np.exp(-2 * np.abs(z))) ** 2,
          "relu": lambda z: (z > 0).astype(float), "identity": lambda z: np.ones_like(z)}

    def run(W, b):
        outs, nets = [x], []
        for w, bias, act in zip(W, b, acts):
            z = outs[-1] @ w.T + bias
            if act == "relu" and np.any(np.abs(z) < 1e-9):
                return None
            nets.append(z)
            outs.append(f[act](z))
        err = outs[-1] - t
        loss = {"mse": np.mean(err**2), "half_sse": 0.5 * np.sum(err**2), "sse": np.sum(err**2)}[net["loss"]]
        dE_da = {"mse": 2 * err / err.size, "half_sse": err, "sse": 2 * err}[net["loss"]]
        gW, gb = [None] * len(W), [None] * len(W)
        for l in reversed(range(len(W))):
            delta = dE_da * df[acts[l]](nets[l])
            gW[l], gb[l] = delta.T @ outs[l], delta.sum(axis=0)
            dE_da = delta @ W[l]
        return float(loss), gW, gb

    history, first = [], None
    for _ in range(train["steps"]):
        result = run(W, b)
        if result is None:
            return None
        loss, gW, gb = result
        history.append(loss)
        W = [w - lr * g for w, g in zip(W, gW)]
        if train["update_biases"]:
            b = [bias - lr * g for bias, g in zip(b, gb)]
        if first is None:
            first = (loss, gW, [w.copy() for w in W], [bias.copy() for bias in b], gb)
    result = run(W, b)
    if result is None:
        return None
    history.append(result[0])
    loss, gW, newW, newb, gb = first
    in_layout = (lambda m: m) if layout == "out_in" else (lambda m: m.T)
    gradients, updated = {}, {}
    for l in range(len(gW)):
        gradients[f"W{l + 1}"], gradients[f"b{l + 1}"] = in_layout(gW[l]), gb[l]
        updated[f"W{l + 1}"], updated[f"b{l + 1}"] = in_layout(newW[l]), newb[l]
    return {"loss": loss, "gradients": gradients, "updated": updated, "history": history}


def agree(ours, theirs) -> bool:
    """Equal to RTOL relative, measured against the largest value of the quantity (cancellation leaves tiny values)."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    return ours.shape == theirs.shape and bool(np.all(np.abs(ours - theirs) <= RTOL * np.maximum(np.abs(ours), np.abs(theirs)) + ATOL * scale))


@examples(60)
@given(spec=valid_specs(), kind=st.sampled_from(["toml", "json"]))
def test_valid_specs_solve_and_match_the_float64_reference(spec, kind):
    """Every valid spec solves; its loss, gradients, updates and history agree with numpy in float64."""
    expected = reference(spec)
    assume(expected is not None)
    solution = solve(parse(write(spec, kind), f"x.{kind}", kind))
    doc = document(solution)
    assert agree(doc["loss"], expected["loss"])
    assert agree(doc["history"], expected["history"])
    for name in expected["gradients"]:
        assert agree(doc["gradients"][name], expected["gradients"][name]), name
        assert agree(doc["updated"][name], expected["updated"][name]), name


# ---------------------------------------------------------------- random invalid specs

# text TOML and JSON can both hold: no lone surrogates, no raw DEL (TOML refuses it in strings)
texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x7f"), max_size=10)
bad_numbers = st.one_of(
    texts,
    st.none(),
    st.booleans(),
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("1e400"), Decimal("-2e-400")]),
    st.just([]),
    st.just({"a": 1}),
)
not_whole = st.one_of(
    st.integers(-5, 0),
    st.sampled_from([Decimal("1.5"), Decimal("2.0"), 1_000_001]),
    texts,
    st.booleans(),
)


def numeric_leaves(spec: dict):
    """(dotted key as derive names it, container, index) of every number a spec holds."""
    for section in ("parameters", "data"):
        for name, value in spec[section].items():
            for i, row in enumerate(value):
                if isinstance(row, list):
                    for j in range(len(row)):
                        yield f"{section}.{name}[{i}][{j}]", row, j
                else:
                    yield f"{section}.{name}[{i}]", value, i
    yield "training.learning_rate", spec["training"], "learning_rate"


def vectors(spec: dict):
    """(dotted key, list) of every row of numbers: matrix rows, biases, sample rows."""
    for section in ("parameters", "data"):
        for name, value in spec[section].items():
            if value and isinstance(value[0], list):
                yield from ((f"{section}.{name}[{i}]", row) for i, row in enumerate(value))
            else:
                yield f"{section}.{name}", value


@st.composite
def invalid_specs(draw, kind: str):
    """(text, start of the key the error must name or '') for a valid spec with one mistake that makes it invalid."""
    spec = draw(valid_specs())
    layers = len(spec["network"]["sizes"]) - 1
    mutation = draw(st.sampled_from(
        ["drop_section", "drop_key", "bad_number", "vector_length", "bad_size", "bigger_size",
         "unknown_name", "wrong_type", "unknown_key", "duplicate", "garbage"]))
    duplicate, key = None, ""
    if mutation == "drop_section":
        key = draw(st.sampled_from(SECTIONS))
        del spec[key]
    elif mutation == "drop_key":
        required = [("network", "sizes"), ("network", "activations"), ("network", "loss"), ("data", "inputs"),
                    ("data", "targets"), ("training", "learning_rate")]
        required += [("parameters", f"{p}{l}") for l in range(1, layers + 1) for p in "Wb"]
        section, name = draw(st.sampled_from(required))
        del spec[section][name]
        key = f"{section}.{name}"
    elif mutation == "bad_number":
        key, container, index = draw(st.sampled_from(list(numeric_leaves(spec))))
        container[index] = draw(bad_numbers.filter(lambda v: kind == "json" or v is not None))
    elif mutation == "vector_length":
        key, row = draw(st.sampled_from(list(vectors(spec))))
        if row and draw(st.booleans()):
            row.pop()
        else:
            row.append(Decimal("0.5"))
    elif mutation == "bad_size":
        i = draw(st.integers(0, layers))
        spec["network"]["sizes"][i] = draw(not_whole)
        key = f"network.sizes[{i}]"
    elif mutation == "bigger_size":
        i = draw(st.integers(0, layers))
        spec["network"]["sizes"][i] += draw(st.integers(1, 3))
        key = "parameters.W"  # the first weight matrix that meets the changed layer
    elif mutation == "unknown_name":
        field, known = draw(st.sampled_from([("activations", ACTIVATIONS), ("loss", LOSSES), ("weight_layout", LAYOUTS)]))
        name = draw(texts.filter(lambda s: s not in known))
        if field == "activations" and isinstance(spec["network"]["activations"], list):
            i = draw(st.integers(0, layers - 1))
            spec["network"]["activations"][i] = name
            key = f"network.activations[{i}]"
        else:
            spec["network"][field] = name
            key = f"network.{field}"
    elif mutation == "wrong_type":
        section, name, values = draw(st.sampled_from([
            ("network", "sizes", [Decimal("2"), "2-2-2", {"a": 1}, [], [2]]),
            ("network", "activations", [1, {"a": 1}, [], True]),
            ("network", "loss", [1, ["mse"], True]),
            ("data", "inputs", [1, "0.5 0.5", [], {"a": 1}]),
            ("data", "targets", [Decimal("0.5"), "x", []]),
            ("training", "learning_rate", [0, Decimal("-0.5"), "0.5", [Decimal("0.5")]]),
            ("training", "update_biases", ["yes", 1, Decimal("0")]),
            ("training", "steps", [0, -1, Decimal("1.5"), "1", True]),
        ]))
        spec[section][name] = draw(st.sampled_from(values))
        key = f"{section}.{name}"
    elif mutation == "unknown_key":
        section = draw(st.sampled_from(SECTIONS))
        allowed = {"network": ["sizes", "activations", "loss", "weight_layout", "notation"],
                   "parameters": list(spec["parameters"]), "data": ["inputs", "targets"],
                   "training": ["learning_rate", "update_biases", "steps"]}[section]
        name = draw(texts.filter(lambda s: s not in allowed))
        spec[section][name] = Decimal("1")
        key = f"{section}."
    elif mutation == "duplicate":
        section = draw(st.sampled_from(SECTIONS))
        name = draw(st.sampled_from(sorted(spec[section])))
        duplicate, key = (section, name), f"{section}.{name}"
    text = write(spec, kind, duplicate)
    if mutation == "garbage":
        raw = text.encode()
        at = draw(st.integers(0, len(raw)))
        junk = draw(st.binary(max_size=20)) + draw(st.sampled_from([b"\x00", b"\xff", b"\xc3\x28", b"\xfe"]))
        return raw[:at] + junk + raw[at:], ""
    return text, key


def check_one_clean_error(text, key: str, kind: str) -> str:
    """Parse; the error must be a DeriveError naming the file, then the expected key."""
    where = f"x.{kind}"
    try:
        parse(text, where, kind)
    except DeriveError as error:
        message = str(error)
    else:
        raise AssertionError("an invalid spec was accepted")
    assert "\n" not in message and "\r" not in message
    assert message.startswith(f"{where}: {key}"), message
    return message


@examples(100)
@given(data=st.data(), kind=st.sampled_from(["toml", "json"]))
def test_invalid_specs_raise_one_clean_derive_error(data, kind):
    """A valid spec with one mistake raises DeriveError (never another exception) naming the key."""
    text, key = data.draw(invalid_specs(kind))
    check_one_clean_error(text, key, kind)


@examples(60)
@given(data=st.data(), kind=st.sampled_from(["toml", "json"]))
def test_invalid_specs_exit_2_through_the_command_line(data, kind):
    """Through `derive solve`: exit code 2, one line on stderr, nothing on stdout, no output folder."""
    text, key = data.draw(invalid_specs(kind))
    message = check_one_clean_error(text, key, kind)
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder) / f"x.{kind}", Path(folder) / "out"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["solve", str(path), "--out", str(out)])
        assert code == 2
        assert stderr.getvalue() == f"derive: error: {folder}/{message}\n"
        assert stdout.getvalue() == ""
        assert not out.exists()


@examples(300)
@given(st.integers(min_value=-(2 ** 200), max_value=2 ** 200).filter(bool), st.integers(min_value=-400, max_value=200),
       st.sampled_from([1, 2, 9, 30, 40, 60]))
def test_to_decimal_of_an_mpf_is_what_mpmath_prints(man, exp, digits):
    """to_decimal converts an mpf in decimal arithmetic; the oracle is mpmath's own fixed-point text."""
    x = MP.mpf((man, exp))
    want = Decimal(MP.nstr(x, digits, min_fixed=-mpmath.inf, max_fixed=mpmath.inf))
    got = to_decimal(x, digits)
    assert got.as_tuple() == want.as_tuple(), (x, digits)


@examples(300)
@given(st.integers(min_value=-(2 ** 200), max_value=2 ** 200), st.integers(min_value=1, max_value=2 ** 400))
def test_to_mp_of_a_fraction_is_mpmaths_correctly_rounded_quotient(p, q):
    """to_mp divides in integers; the oracle is mpmath's own division of the exact numerator."""
    assert to_mp(Fraction(p, q))._mpf_ == (MP.mpf(p) / q)._mpf_
