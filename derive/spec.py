"""Read a network spec (TOML or JSON, a file or a built-in preset) into a frozen NetworkSpec.

Numbers are taken from their decimal text: 0.15 becomes exactly 3/20. Nothing from
the file is ever evaluated; every problem is reported as a DeriveError naming the
file, the key and what is wrong.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from .errors import DeriveError, suggestion
from .functions import ACTIVATIONS, LOSSES

PRESET_DIR = Path(__file__).parent / "presets"
LAYOUTS = ("out_in", "in_out")
NOTATIONS = ("auto", "units", "layered")
MAX_SPEC_BYTES = 50_000_000

Matrix = tuple[tuple[Fraction, ...], ...]


@dataclass(frozen=True)
class NetworkSpec:
    """A network with its starting parameters, data and training settings.

    Weights are stored as ``weights[l][j][i]``: layer ``l`` (0-based, the first layer
    after the input), to unit ``j`` from unit ``i``, whatever the file's
    ``weight_layout``; the layout is kept so that output can be written back in it.
    """

    name: str
    title: str
    source: str
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    weight_layout: str
    notation: str
    weights: tuple[Matrix, ...]
    biases: tuple[tuple[Fraction, ...], ...]
    inputs: Matrix
    targets: Matrix
    learning_rate: Fraction
    update_biases: bool
    steps: int

    @property
    def layers(self) -> int:
        """Number of layers with weights (hidden layers plus the output layer)."""
        return len(self.sizes) - 1

    @property
    def batch(self) -> int:
        """Number of samples."""
        return len(self.inputs)

    @property
    def parameter_count(self) -> int:
        """Number of weights and biases."""
        return sum(n_in * n_out + n_out for n_in, n_out in zip(self.sizes, self.sizes[1:]))

    def with_parameters(self, weights, biases) -> "NetworkSpec":
        """The same spec with other starting parameters."""
        from dataclasses import replace

        return replace(self, weights=weights, biases=biases)


def preset_names() -> list[str]:
    """Names of the built-in examples."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load(source: str | Path) -> NetworkSpec:
    """Load a spec from a file path or a preset name; raise DeriveError on any problem."""
    source = str(source)
    path = Path(source)
    if source in preset_names() and not path.exists():
        path = PRESET_DIR / f"{source}.toml"
        return parse(path.read_text(encoding="utf-8"), source, "toml", name=source)
    where = source
    if not path.exists():
        hint = suggestion(source, preset_names())
        raise DeriveError(where, f"no such file or built-in example{hint}; `derive presets` lists the examples")
    if path.is_dir():
        raise DeriveError(where, "is a directory, not a spec file")
    if path.stat().st_size > MAX_SPEC_BYTES:
        raise DeriveError(where, f"file is larger than {MAX_SPEC_BYTES // 1_000_000} MB")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DeriveError(where, f"cannot be read ({error.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DeriveError(where, f"is not UTF-8 text (byte {error.start})") from None
    kind = "json" if path.suffix.lower() == ".json" else "toml"
    return parse(text, where, kind, name=path.stem)


def parse(text: str, where: str, kind: str = "toml", name: str = "network") -> NetworkSpec:
    """Parse spec text (TOML or JSON) into a NetworkSpec."""
    if not text.strip():
        raise DeriveError(where, "the file is empty")
    if "\x00" in text:
        raise DeriveError(where, "is a binary file, not TOML or JSON text")
    document = read_json(text, where) if kind == "json" else read_toml(text, where)
    return _build(document, where, name)


def read_toml(text: str, where: str) -> dict:
    """TOML text to a dict with Decimal floats, or a DeriveError with the line."""
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise DeriveError(where, f"invalid TOML: {error}") from None


def read_json(text: str, where: str) -> dict:
    """JSON text to a dict with Decimal floats, rejecting NaN and duplicate keys."""

    def constant(word):
        raise ValueError(f"{word} is not a number derive accepts")

    def pairs(items):
        seen = {}
        for key, value in items:
            if key in seen:
                raise ValueError(f"duplicate key '{key}'")
            seen[key] = value
        return seen

    try:
        document = json.loads(text, parse_float=Decimal, parse_constant=constant, object_pairs_hook=pairs)
    except json.JSONDecodeError as error:
        raise DeriveError(where, f"invalid JSON: {error.msg} (at line {error.lineno}, column {error.colno})") from None
    except ValueError as error:
        raise DeriveError(where, f"invalid JSON: {error}") from None
    if not isinstance(document, dict):
        raise DeriveError(where, "the top level must be an object with the sections network, parameters, data, training")
    return document


SECTIONS = {
    "title": False,
    "network": True,
    "parameters": True,
    "data": True,
    "training": True,
}
NETWORK_KEYS = ("sizes", "activations", "loss", "weight_layout", "notation")
DATA_KEYS = ("inputs", "targets")
TRAINING_KEYS = ("learning_rate", "update_biases", "steps")
MAX_STEPS = 1_000_000


class _Reader:
    """Validating accessors that name the file and key in every error."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, problem: str):
        raise DeriveError(f"{self.where}: {key}" if key else self.where, problem)

    def table(self, document: dict, key: str, allowed) -> dict:
        value = document.get(key)
        if value is None:
            self.fail(f"[{key}]", "missing section")
        if not isinstance(value, dict):
            self.fail(key, f"must be a section (table), not {_kind(value)}")
        for inner in value:
            if inner not in allowed:
                self.fail(f"{key}.{inner}", f"unknown key{suggestion(inner, allowed)}; allowed: {', '.join(allowed)}")
        return value

    def number(self, value, key: str) -> Fraction:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            shown = f"text {value!r}" if isinstance(value, str) else _kind(value)
            self.fail(key, f"expected a number, got {shown}")
        if isinstance(value, Decimal):
            if not value.is_finite():
                self.fail(key, f"expected a finite number, got {value}")
            if abs(value.adjusted()) > 300:
                self.fail(key, f"the number {value} is too large or too small (keep exponents within 1e±300)")
            return Fraction(value)
        if abs(value) > 10**300:
            self.fail(key, "the number is too large")
        return Fraction(value)

    def vector(self, value, key: str, length: int) -> tuple[Fraction, ...]:
        if not isinstance(value, list):
            self.fail(key, f"expected a list of {length} numbers, got {_kind(value)}")
        if len(value) != length:
            self.fail(key, f"expected {length} numbers, got {len(value)}")
        return tuple(self.number(v, f"{key}[{i}]") for i, v in enumerate(value))

    def matrix(self, value, key: str, rows: int, cols: int, why: str) -> tuple[tuple[Fraction, ...], ...]:
        if not isinstance(value, list) or any(not isinstance(row, list) for row in value):
            self.fail(key, f"expected a {rows} x {cols} matrix (a list of {rows} rows), got {_kind(value)}")
        if len(value) != rows:
            self.fail(key, f"expected {rows} rows ({why}), got {len(value)}")
        return tuple(self.vector(row, f"{key}[{r}]", cols) for r, row in enumerate(value))


def _kind(value) -> str:
    """A short name for a parsed TOML/JSON value's type."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a section"
    if isinstance(value, (int, Decimal)):
        return f"the number {value}"
    return type(value).__name__


def _build(document: dict, where: str, name: str) -> NetworkSpec:
    r = _Reader(where)
    for key in document:
        if key not in SECTIONS:
            r.fail(key, f"unknown section{suggestion(key, SECTIONS)}; allowed: {', '.join(SECTIONS)}")
    title = document.get("title", name)
    if not isinstance(title, str):
        r.fail("title", f"expected text, got {_kind(title)}")
    if len(title) > 500:
        r.fail("title", "is longer than 500 characters")

    network = r.table(document, "network", NETWORK_KEYS)
    sizes = network.get("sizes")
    if sizes is None:
        r.fail("network.sizes", "missing key (a list of layer sizes, input first, for example [2, 2, 2])")
    if not isinstance(sizes, list) or len(sizes) < 2:
        r.fail("network.sizes", "expected a list of at least two layer sizes, input first, for example [2, 2, 2]")
    for i, size in enumerate(sizes):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            r.fail(f"network.sizes[{i}]", f"expected a positive whole number, got {_kind(size)}")
        if size > 100_000:
            r.fail(f"network.sizes[{i}]", f"{size} units is more than derive handles (at most 100000)")
    layers = len(sizes) - 1

    activations = network.get("activations")
    if activations is None:
        r.fail("network.activations", f"missing key (one activation per layer after the input: {layers})")
    if isinstance(activations, str):
        activations = [activations] * layers
    if not isinstance(activations, list) or len(activations) != layers:
        r.fail("network.activations", f"expected a list of {layers} activation names (one per layer after the input)")
    for i, act in enumerate(activations):
        if not isinstance(act, str):
            r.fail(f"network.activations[{i}]", f"expected an activation name, got {_kind(act)}")
        if act not in ACTIVATIONS:
            r.fail(
                f"network.activations[{i}]",
                f"unknown activation '{act}'{suggestion(act, ACTIVATIONS)}; known: {', '.join(ACTIVATIONS)}",
            )

    loss = network.get("loss")
    if loss is None:
        r.fail("network.loss", f"missing key; known losses: {', '.join(LOSSES)}")
    if not isinstance(loss, str) or loss not in LOSSES:
        shown = f"'{loss}'" if isinstance(loss, str) else _kind(loss)
        hint = suggestion(loss, LOSSES) if isinstance(loss, str) else ""
        r.fail("network.loss", f"unknown loss {shown}{hint}; known: {', '.join(LOSSES)}")

    layout = network.get("weight_layout", "out_in")
    if layout not in LAYOUTS:
        r.fail("network.weight_layout", f"expected 'out_in' or 'in_out', got {_kind(layout)}{suggestion(str(layout), LAYOUTS)}")
    notation = network.get("notation", "auto")
    if notation not in NOTATIONS:
        r.fail("network.notation", f"expected one of {', '.join(NOTATIONS)}, got {_kind(notation)}")

    allowed = [f"{p}{l}" for l in range(1, layers + 1) for p in ("W", "b")]
    parameters = r.table(document, "parameters", allowed)
    weights, biases = [], []
    for l in range(1, layers + 1):
        n_in, n_out = sizes[l - 1], sizes[l]
        for key in (f"W{l}", f"b{l}"):
            if key not in parameters:
                r.fail(f"parameters.{key}", "missing key")
        if layout == "out_in":
            w = r.matrix(parameters[f"W{l}"], f"parameters.W{l}", n_out, n_in,
                         f"out_in layout: one row per unit of layer {l}, {n_out} units, each with {n_in} inputs")
        else:
            w = r.matrix(parameters[f"W{l}"], f"parameters.W{l}", n_in, n_out,
                         f"in_out layout: one row per input of layer {l}, {n_in} inputs, each with {n_out} outputs")
            w = tuple(zip(*w))
        weights.append(w)
        biases.append(r.vector(parameters[f"b{l}"], f"parameters.b{l}", n_out))

    data = r.table(document, "data", DATA_KEYS)
    rows = {}
    for key, width in (("inputs", sizes[0]), ("targets", sizes[-1])):
        value = data.get(key)
        if value is None:
            r.fail(f"data.{key}", "missing key (one row per sample)")
        if isinstance(value, list) and value and not any(isinstance(v, list) for v in value):
            value = [value]  # one sample may be written as a flat list
        if not isinstance(value, list) or not value:
            r.fail(f"data.{key}", "expected a list of rows, one per sample, for example [[0.05, 0.10]]")
        if len(value) > 100_000:
            r.fail(f"data.{key}", "more than 100000 samples")
        rows[key] = r.matrix(value, f"data.{key}", len(value), width, "one per sample")
    if len(rows["inputs"]) != len(rows["targets"]):
        r.fail("data.targets", f"expected {len(rows['inputs'])} rows, one per input row, got {len(rows['targets'])}")

    training = r.table(document, "training", TRAINING_KEYS)
    if "learning_rate" not in training:
        r.fail("training.learning_rate", "missing key")
    eta = r.number(training["learning_rate"], "training.learning_rate")
    if eta <= 0:
        r.fail("training.learning_rate", f"must be positive, got {float(eta):g}")
    update_biases = training.get("update_biases", True)
    if not isinstance(update_biases, bool):
        r.fail("training.update_biases", f"expected true or false, got {_kind(update_biases)}")
    steps = training.get("steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        r.fail("training.steps", f"expected a whole number of at least 1, got {_kind(steps)}")
    if steps > MAX_STEPS:
        r.fail("training.steps", f"{steps} is more than {MAX_STEPS}")

    return NetworkSpec(
        name=name,
        title=title,
        source=where,
        sizes=tuple(sizes),
        activations=tuple(activations),
        loss=loss,
        weight_layout=layout,
        notation=notation,
        weights=tuple(weights),
        biases=tuple(biases),
        inputs=rows["inputs"],
        targets=rows["targets"],
        learning_rate=eta,
        update_biases=update_biases,
        steps=steps,
    )

