"""Read a network spec (TOML or JSON, a file or a built-in preset) into a frozen NetworkSpec.

Numbers are taken from their decimal text: 0.15 becomes exactly 3/20. A number may
also be written in quotes as an exact constant, ``"1 + sin(pi/4)"``, ``"sqrt(2)/2"``,
``"e^-1"``: it is read by :mod:`derive.core.expressions` (an allow-listed parser, never
evaluated as code), kept as a Fraction when it is rational and otherwise as the
constant to 60 digits (the network is then computed at that precision), and printed
in the givens as written. Nothing from the file is ever evaluated; every problem is
reported as a DeriveError naming the file, the key and what is wrong (for a constant,
the column too).
"""

from __future__ import annotations

import datetime
import json
import re
import tomllib
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from derive.core import expressions
from derive.core.conventions import CONVENTIONS
from derive.core.functions import ACTIVATIONS, LOSSES
from derive.core.numeric import from_constant
from derive.core.optimizers import HYPER_KEYS, OPTIMIZERS, Training, settings
from derive.errors import DeriveError, printable, suggestion

PRESET_DIR = Path(__file__).parent.parent / "presets"
LAYOUTS = ("out_in", "in_out")
NOTATIONS = ("auto", "units", "layered", "matrix")
MAX_SPEC_BYTES = 50_000_000
MAX_DIGITS = 1000  # per number: far beyond any real spec, and keeps exact arithmetic fast
MAX_EXPONENT = 300
MAX_UNITS = 100_000
MAX_SAMPLES = 100_000
MAX_STEPS = 1_000_000
MAX_TITLE = 500

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
    #: the textbook convention the documents and the check speak (derive.core.conventions), '' for derive's own
    convention: str = ""
    #: remarks printed with the worked solution (the [document] notes: why a source's printed figures differ)
    notes: tuple[str, ...] = ()
    #: the title page's course, author (the lecturer), date and institution ([document]; '' when not given)
    course: str = ""
    author: str = ""
    date: str = ""
    institution: str = ""
    #: the numbers written as constants: (place, the text as written); places as 'inputs[s][i]', 'targets[s][k]',
    #: 'W2[j][i]' (to unit j from unit i, whatever the layout), 'b1[j]', 'learning_rate'
    written: tuple[tuple[str, str], ...] = ()

    def written_as(self, key: str) -> str | None:
        """The text a number was written as when it is a constant (``"1 + sin(pi/4)"``), else None."""
        for k, text in self.written:
            if k == key:
                return text
        return None

    @property
    def rational(self) -> bool:
        """True when every number of the spec is rational (no irrational constant such as pi/4)."""
        def rational(rows):
            return all(type(x) is Fraction for row in rows for x in row)

        return (all(rational(W) for W in self.weights) and rational(self.biases) and rational(self.inputs)
                and rational(self.targets) and type(self.learning_rate) is Fraction)
    training: Training = Training()  # the optimizer, L2 penalty, mini-batches (default: plain gradient descent)

    @property
    def layers(self) -> int:
        """Number of layers with weights (hidden layers plus the output layer)."""
        return len(self.sizes) - 1

    @property
    def batch(self) -> int:
        """Number of samples."""
        return len(self.inputs)

    @property
    def coupled_output(self) -> bool:
        """True when the output activation couples the outputs (softmax): each depends on every net input."""
        return ACTIVATIONS[self.activations[-1]].coupled

    @property
    def parameter_count(self) -> int:
        """Number of weights and biases."""
        return sum(n_in * n_out + n_out for n_in, n_out in zip(self.sizes, self.sizes[1:]))

    def with_parameters(self, weights, biases) -> "NetworkSpec":
        """The same spec with other starting parameters."""

        return replace(self, weights=weights, biases=biases)


def preset_names() -> list[str]:
    """Names of the built-in examples."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def read(source: str | Path) -> NetworkSpec:
    """Read a spec from a file path or a preset name (worksheet versions: :func:`derive.core.versions.load`).

    Raises DeriveError on any problem.
    """
    source = str(source)
    if not source:
        raise DeriveError(
            "''", "no spec file given; name a TOML or JSON file or a built-in example (`derive presets` lists them)"
        )
    path = Path(source)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in the name
        info = None
    except OSError as error:  # a name too long, a folder that may not be entered, ...
        raise DeriveError(source, f"cannot be read ({error.strerror or error})") from None
    if info is None:
        if source in preset_names():
            text = (PRESET_DIR / f"{source}.toml").read_text(encoding="utf-8")
            return parse(text, source, "toml", name=source)
        if path.suffix or "/" in source or "\\" in source:
            raise DeriveError(source, "no such file")
        hint = suggestion(source, preset_names())
        raise DeriveError(source, f"no such file or built-in example{hint}; `derive presets` lists the examples")
    if path.is_dir():
        if source in preset_names():  # a folder of that name (an earlier run's --out) never hides the example
            text = (PRESET_DIR / f"{source}.toml").read_text(encoding="utf-8")
            return parse(text, source, "toml", name=source)
        raise DeriveError(source, "is a directory, not a spec file")
    try:
        with open(path, "rb") as stream:
            # a bounded read: a device such as /dev/zero must not fill the memory
            raw = stream.read(MAX_SPEC_BYTES + 1)
    except OSError as error:
        raise DeriveError(source, f"cannot be read ({error.strerror or error})") from None
    if len(raw) > MAX_SPEC_BYTES:
        raise DeriveError(source, f"is larger than {MAX_SPEC_BYTES // 1_000_000} MB; a spec file is a few kilobytes")
    suffix = path.suffix.lower()
    kind = "json" if suffix == ".json" else "toml" if suffix == ".toml" else None
    # the name becomes the default output folder outputs/<name>: '...toml' must not make it outputs/..
    name = path.stem if path.stem.strip(".") else "network"
    return parse(raw, source, kind, name=name)


def decode(raw: bytes, where: str) -> str:
    """The text of a spec file's bytes: UTF-8, with or without a byte order mark."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DeriveError(
            where, "is UTF-16 text; save it as UTF-8 (the encoding choice is in the editor's Save As dialog)"
        )
    if b"\x00" in raw:
        raise DeriveError(where, "is a binary file, not TOML or JSON text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        byte = raw[error.start]
        raise DeriveError(
            where, f"is not UTF-8 text (byte 0x{byte:02x} at line {line} is not valid UTF-8); save it as UTF-8 text"
        ) from None
    return text


def parse(text: str | bytes, where: str, kind: str | None = "toml", name: str = "network") -> NetworkSpec:
    """Parse spec text or bytes (TOML or JSON; ``kind`` None: JSON if it starts with '{') into a NetworkSpec."""
    if isinstance(text, (bytes, bytearray)):
        text = decode(bytes(text), where)
    text = text.removeprefix("\ufeff")  # a byte order mark, as some editors write
    if not text.strip():
        raise DeriveError(where, "the file is empty")
    if "\x00" in text:
        raise DeriveError(where, "is a binary file, not TOML or JSON text")
    if kind is None:
        kind = "json" if text.lstrip().startswith("{") else "toml"
    document = read_json(text, where) if kind == "json" else read_toml(text, where)
    return _build(document, where, name)


_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_TOO_LARGE_OR_SMALL = f"is too large or too small (keep exponents within 1e±{MAX_EXPONENT})"


class _BadNumber:
    """A number the file spells out but derive refuses: too long or too large; reported with its key."""

    def __init__(self, text: str, problem: str):
        self.text, self.problem = text, problem


def _decimal(text: str):
    """A float literal as an exact Decimal, or a _BadNumber when it is unreasonably long or large."""
    if len(text) > MAX_DIGITS and sum(map(str.isdigit, text)) > MAX_DIGITS:
        return _BadNumber(text, f"has more than {MAX_DIGITS} digits")
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return _BadNumber(text, _TOO_LARGE_OR_SMALL)


def _integer(text: str):
    """A JSON integer literal, or a _BadNumber when it is too long for Python to convert."""
    if len(text) > MAX_EXPONENT + 10:
        return _BadNumber(text, "is too large")
    return int(text)


def _constant(word: str) -> Decimal:
    """JSON's non-standard NaN, Infinity, -Infinity; refused later with their key."""
    return Decimal(word)


_POSITION = re.compile(
    r"^(?P<message>.*?) \((?:at line (?P<line>\d+), column (?P<column>\d+)|at end of document)\)$", re.S
)
_TOML_KEY = re.compile(r"""^\s*(?P<key>[A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*|"[^"\n]*"|'[^'\n]*')\s*=""")
_TOML_TABLE = re.compile(r"^\s*\[\[?\s*(?P<name>[^\[\]\n]+?)\s*\]\]?\s*(?:#.*)?$")


def _toml_table_at(lines: list[str], line: int) -> str:
    """The name of the [section] that line ``line`` (from 1) is in, or '' at the top level."""
    for text in reversed(lines[: line - 1]):
        match = _TOML_TABLE.match(text)
        if match:
            return _dotted(match["name"])
    return ""


def read_toml(text: str, where: str) -> dict:
    """TOML text to a dict with Decimal floats, or a DeriveError with the line."""
    try:
        return tomllib.loads(text, parse_float=_decimal)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(str(error), text, where) from None
    except RecursionError:
        raise DeriveError(where, "invalid TOML: lists or tables are nested too deeply") from None
    except ValueError:  # a whole number with thousands of digits
        long_number = re.search(r"[0-9_]{4000,}", text)
        line = text.count("\n", 0, long_number.start()) + 1 if long_number else None
        at = f" at line {line}" if line else ""
        raise DeriveError(where, f"invalid TOML{at}: a number has thousands of digits") from None


def _toml_error(message: str, text: str, where: str) -> DeriveError:
    """tomllib's message in a student's words: duplicate keys and sections by name, the line, a hint."""
    match = _POSITION.match(message)
    if not match:
        return DeriveError(where, f"invalid TOML: {message}")
    lines = text.split("\n")  # tomllib counts lines by '\n' only
    problem = match["message"]
    if match["line"] is None:  # "at end of document"
        line, column = len(lines), len(lines[-1]) + 1
    else:
        line, column = int(match["line"]), int(match["column"])
    header = _TOML_TABLE.match(lines[line - 1]) if line <= len(lines) else None
    section = _dotted(header["name"]) if header else ""
    if problem == "Cannot overwrite a value" and header:
        return DeriveError(
            f"{where}: {_show_key(section)}",
            f"given as a value and again as the section [{section}] at line {line}; each key may appear only once",
        )
    if problem == "Cannot overwrite a value":
        # tomllib points after the value, which may span lines: the key is on the nearest line above
        for number in range(line, 0, -1):
            key = _TOML_KEY.match(lines[number - 1])
            if key:
                table, name = _toml_table_at(lines, number), _dotted(key["key"].strip("\"'"))
                return DeriveError(
                    f"{where}: {_show_key(f'{table}.{name}' if table else name)}",
                    f"duplicate key: given again at line {number}; each key may appear only once",
                )
    if problem.startswith("Cannot declare") and problem.endswith("twice") and header:
        return DeriveError(
            f"{where}: {_show_key(section)}",
            f"duplicate section: [{section}] appears again at line {line}; put all its keys under one header",
        )
    if problem.startswith("Duplicate inline table key"):
        key = problem.rsplit(" ", 1)[-1]
        return DeriveError(where, f"invalid TOML at line {line}: duplicate key {key} in an inline table")
    hint = ""
    rest = lines[line - 1][column - 1 :] if line <= len(lines) else ""
    if problem == "Illegal character '\\n'":
        problem = "the text has no closing quote"
    elif problem == "Invalid value" and re.match(r"[A-Za-z_]", rest) and not re.match(r"(true|false|nan|inf)\b", rest):
        hint = '; text must be in quotes, for example loss = "mse"'
    elif problem.startswith("Expected newline") and rest.startswith(","):
        hint = "; write decimals with a point (0.5) and lists in brackets ([1, 2])"
    elif text.lstrip().startswith("{"):
        hint = "; the file looks like JSON: name it .json"
    at = f"line {line}, column {column}" if match["line"] else "the end of the file"
    return DeriveError(where, f"invalid TOML at {at}: {_lower_first(problem)}{hint}")


def _dotted(name: str) -> str:
    """A TOML dotted key without the spaces around its dots."""
    return re.sub(r"\s*\.\s*", ".", name)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


class _Object(dict):
    """A JSON object that remembers the keys given more than once."""

    duplicates: list


def _object(pairs) -> _Object:
    result = _Object()
    result.duplicates = []
    for key, value in pairs:
        if key in result and key not in result.duplicates:
            result.duplicates.append(key)
        result[key] = value
    return result


def _first_duplicate(document) -> str | None:
    """The dotted key of the first key given twice in a parsed JSON document, in reading order."""
    stack = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _Object):
            if value.duplicates:
                key = _show_key(value.duplicates[0])
                return f"{path}.{key}" if path else key
            children = [(f"{path}.{_show_key(k)}" if path else _show_key(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    return None


def read_json(text: str, where: str) -> dict:
    """JSON text to a dict with Decimal floats; duplicate keys named by their dotted key."""
    try:
        document = json.loads(
            text, parse_float=_decimal, parse_int=_integer, parse_constant=_constant, object_pairs_hook=_object
        )
    except json.JSONDecodeError as error:
        hint = ""
        if text[: error.pos].rstrip().endswith(",") and text[error.pos : error.pos + 1] in ("}", "]"):
            hint = "; JSON allows no comma before a closing bracket"
        elif text[error.pos : error.pos + 1] == "'" and "double quotes" not in error.msg:
            hint = "; JSON text and keys take double quotes"
        raise DeriveError(
            where, f"invalid JSON at line {error.lineno}, column {error.colno}: {_lower_first(error.msg)}{hint}"
        ) from None
    except RecursionError:
        raise DeriveError(where, "invalid JSON: lists or objects are nested too deeply") from None
    duplicate = _first_duplicate(document)
    if duplicate:
        raise DeriveError(f"{where}: {duplicate}", "duplicate key: given more than once; each key may appear only once")
    if not isinstance(document, dict):
        raise DeriveError(
            where,
            "the top level must be an object {...} with the sections network, parameters, data, training, "
            f"not {_kind(document)}",
        )
    return document


SECTIONS = {
    "title": False,
    "network": True,
    "parameters": True,
    "data": True,
    "training": True,
    "document": False,
}
SECTION_CONTENTS = {
    "document": "how the documents and the check speak: convention = \"han\", ...; the title page's course, "
                "author, date, institution",
    "network": "the layer sizes, activations and loss",
    "parameters": "the weights and biases W1, b1, W2, b2, ...",
    "data": "the inputs and targets",
    "training": "the learning rate",
}
NETWORK_KEYS = ("sizes", "activations", "loss", "weight_layout", "notation")
DATA_KEYS = ("inputs", "targets")
TRAINING_KEYS = ("learning_rate", "update_biases", "steps", "optimizer", *HYPER_KEYS, "form", "l2",
                 "decay_biases", "batch_size", "order", "mode")
MODES = ("batch", "online")
#: the longest note a [document] may carry, in characters
MAX_NOTE = 2000
#: the [document] keys a title page prints (text; a date may be a TOML date)
TITLE_KEYS = ("course", "author", "date", "institution")
#: the longest title-page entry, in characters
MAX_TITLE_ENTRY = 200
DOCUMENT_KEYS = ("convention", "notes", *TITLE_KEYS)
#: other names for the title-page keys, which an error message points to the right one
_TITLE_ALIASES = {"lecturer": ("author", "the lecturer"), "teacher": ("author", "the lecturer"),
                  "instructor": ("author", "the lecturer"), "university": ("institution", "the university"),
                  "school": ("institution", "the school"), "module": ("course", "the module")}
_HOME = {key: section for section, keys in
         (("network", NETWORK_KEYS), ("data", DATA_KEYS), ("training", TRAINING_KEYS), ("document", DOCUMENT_KEYS))
         for key in keys}
_MISSING = object()


def _show_key(key: str) -> str:
    """A key as a message shows it: bare when it is a plain name, else quoted and shortened."""
    if re.fullmatch(r"[A-Za-z0-9_\-]{1,60}(?:\.[A-Za-z0-9_\-]{1,60})*", key):
        return key
    return json.dumps(key[:40] + ("..." if len(key) > 40 else ""), ensure_ascii=False)


def _listing(names) -> str:
    """Names separated by commas, the middle left out of a long list."""
    names = list(names)
    if len(names) > 8:
        names = names[:4] + ["..."] + names[-2:]
    return ", ".join(names)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value) -> str:
    """A short description of a parsed TOML/JSON value, as a message shows it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"text {_short(value)!r}"
    if isinstance(value, list):
        if not value:
            return "an empty list"
        if all(isinstance(v, list) for v in value):
            return f"a list of {len(value)} list{'s' * (len(value) != 1)}"
        if all(isinstance(v, (int, Decimal, _BadNumber)) and not isinstance(v, bool) for v in value):
            return f"a list of {_numbers(len(value))}"
        return f"a list of {len(value)} item{'s' * (len(value) != 1)}"
    if isinstance(value, dict):
        return "a table of keys"
    if isinstance(value, Decimal):
        if value.is_nan():
            return "NaN"
        if value.is_infinite():
            return "-infinity" if value < 0 else "infinity"
        return f"the number {_short(str(value))}"
    if isinstance(value, int):
        return f"the number {_short(str(value))}"
    if isinstance(value, _BadNumber):
        return f"the number {_short(value.text)}"
    if isinstance(value, datetime.datetime):
        return "a date and time"
    if isinstance(value, datetime.date):
        return "a date"
    if isinstance(value, datetime.time):
        return "a time of day"
    return type(value).__name__


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _numbers(count: int) -> str:
    return f"{count} number" if count == 1 else f"{count} numbers"


class _Reader:
    """Validating accessors that name the file and key in every error."""

    def __init__(self, where: str):
        self.where = where
        self.written: dict[str, str] = {}

    def fail(self, key: str, problem: str):
        raise DeriveError(f"{self.where}: {key}" if key else self.where, problem)

    def table(self, document: dict, key: str, allowed, home: str = "") -> dict:
        value = document.get(key, _MISSING)
        if value is _MISSING:
            self.fail(key, f"missing section [{key}] ({SECTION_CONTENTS[key]})")
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            self.fail(
                key, f"expected one section [{key}], got {len(value)} [[{key}]] entries; write [{key}] with single brackets"
            )
        if not isinstance(value, dict):
            self.fail(key, f"expected a section [{key}] ({SECTION_CONTENTS[key]}), got {_kind(value)}")
        for inner in value:
            if inner in allowed:
                continue
            shown = f"{key}.{_show_key(inner)}"
            if inner == "title":
                self.fail(shown, "unknown key; title goes at the top of the file, before the first [section]")
            if inner in _HOME:
                self.fail(shown, f"belongs in the [{_HOME[inner]}] section, not in [{key}]")
            self.fail(shown, f"unknown key{suggestion(inner, allowed)}; allowed here: {_listing(allowed)}")
        return value

    def number(self, value, key: str) -> Fraction:
        if isinstance(value, str):
            return self.constant(value, key)
        if isinstance(value, _BadNumber):
            self.fail(key, f"the number {_short(value.text)} {value.problem}")
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            self.fail(key, f"expected a number, got {_kind(value)}")
        if isinstance(value, Decimal):
            if not value.is_finite():
                self.fail(key, f"expected a finite number, got {_kind(value)}")
            if value.is_zero():
                return Fraction(0)
            if abs(value.adjusted()) > MAX_EXPONENT:
                self.fail(key, f"the number {_short(str(value))} {_TOO_LARGE_OR_SMALL}")
            return Fraction(value)
        if abs(value) > 10**MAX_EXPONENT:
            self.fail(key, f"the number {_short(str(value))} is too large")
        return Fraction(value)

    def constant(self, text: str, key: str):
        """A number written in quotes as an exact constant ("1 + sin(pi/4)"): a Fraction or a 60-digit mpf."""
        if re.fullmatch(r"\s*[+-]?\d+,\d+\s*", text):  # a decimal comma, as some languages write it
            self.fail(key, f"column {text.index(',') + 1}: write decimals with a point ({text.strip().replace(',', '.')}), "
                      "not a comma")
        value = expressions.constant(text, self.where, key)
        number = from_constant(value)
        if not _PLAIN_NUMBER.fullmatch(text.strip()):
            self.written[key] = text.strip()
        return number

    def vector(self, value, key: str, length: int, what: str) -> tuple[Fraction, ...]:
        """A list of ``length`` numbers; ``what`` says what each is, e.g. 'one per unit of layer 1'."""
        if not isinstance(value, list):
            self.fail(key, f"expected a list of {_numbers(length)} ({what}), got {_kind(value)}")
        if len(value) != length:
            self.fail(key, f"expected {_numbers(length)} ({what}), got {len(value)}")
        return tuple(self.number(v, f"{key}[{i}]") for i, v in enumerate(value))

    def matrix(self, value, key: str, rows: int, cols: int, why: str, each: str) -> tuple[tuple[Fraction, ...], ...]:
        """A list of ``rows`` lists of ``cols`` numbers; ``why`` explains the rows, ``each`` the numbers in a row."""
        shape = f"{_rows(rows)} of {_numbers(cols)}"
        if not isinstance(value, list) or not value:
            self.fail(key, f"expected {shape} ({why}), got {_kind(value)}")
        if not any(isinstance(row, list) for row in value):
            flat = _numbers(len(value))
            self.fail(key, f"expected {shape} ({why}), each row in its own brackets, got a flat list of {flat}")
        if len(value) != rows:
            self.fail(key, f"expected {_rows(rows)} ({why}), got {len(value)}")
        for r, row in enumerate(value):
            if not isinstance(row, list):
                self.fail(f"{key}[{r}]", f"expected a row of {_numbers(cols)} ({each}), got {_kind(row)}")
        return tuple(self.vector(row, f"{key}[{r}]", cols, each) for r, row in enumerate(value))


def _build(document: dict, where: str, name: str) -> NetworkSpec:
    r = _Reader(where)
    for key in document:
        if key in SECTIONS:
            continue
        home = _HOME.get(key) or ("parameters" if re.fullmatch(r"[Wb][0-9]+", key) else None)
        if home:
            r.fail(key, f"belongs in the [{home}] section, not at the top level")
        r.fail(_show_key(key), f"unknown section{suggestion(key, SECTIONS)}; allowed: {', '.join(SECTIONS)}")
    title = document.get("title", _MISSING)
    if title is _MISSING:  # the file's name, which may hold any character the system allows
        title = printable(name)
    if not isinstance(title, str):
        r.fail("title", f"expected text, got {_kind(title)}")
    if len(title) > MAX_TITLE:
        r.fail("title", f"is longer than {MAX_TITLE} characters")
    for i, char in enumerate(title):
        if not char.isprintable() and char != " ":
            r.fail("title", f"contains a control or invalid character ({char!r}) at position {i + 1}; "
                   "a title is one line of text")

    network = r.table(document, "network", NETWORK_KEYS)
    sizes = network.get("sizes", _MISSING)
    if sizes is _MISSING:
        r.fail("network.sizes", "missing key (the layer sizes, input first, for example sizes = [2, 2, 2])")
    if not isinstance(sizes, list):
        r.fail("network.sizes", f"expected a list of layer sizes, input first, for example [2, 2, 2], "
               f"got {_kind(sizes)}")
    if len(sizes) < 2:
        r.fail("network.sizes", f"expected at least two layer sizes (the input and the output layer), got {len(sizes)}")
    for i, size in enumerate(sizes):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            r.fail(f"network.sizes[{i}]", f"expected a positive whole number of units{_no_point(size)}, got {_kind(size)}")
        if size > MAX_UNITS:
            r.fail(f"network.sizes[{i}]", f"{size} units is more than derive handles (at most {MAX_UNITS})")
    layers = len(sizes) - 1
    per_layer = "one per layer after the input"
    names = f"{layers} activation name{'s' * (layers != 1)}"

    activations = network.get("activations", _MISSING)
    if activations is _MISSING:
        r.fail("network.activations", f"missing key ({names}, {per_layer}, or one name for every layer)")
    if isinstance(activations, str):
        if activations not in ACTIVATIONS:
            r.fail("network.activations", _unknown("activation", activations, ACTIVATIONS))
        activations = [activations] * layers
    if not isinstance(activations, list):
        r.fail("network.activations", f"expected a list of {names} ({per_layer}) or one name, got {_kind(activations)}")
    if len(activations) != layers:
        r.fail("network.activations", f"expected {names} ({per_layer}), got {len(activations)}")
    for i, act in enumerate(activations):
        if not isinstance(act, str):
            r.fail(f"network.activations[{i}]", f"expected an activation name ({', '.join(ACTIVATIONS)}), "
                   f"got {_kind(act)}")
        if act not in ACTIVATIONS:
            r.fail(f"network.activations[{i}]", _unknown("activation", act, ACTIVATIONS))

    loss = network.get("loss", _MISSING)
    if loss is _MISSING:
        r.fail("network.loss", f"missing key (one of {', '.join(LOSSES)})")
    if not isinstance(loss, str):
        r.fail("network.loss", f"expected a loss name ({', '.join(LOSSES)}), got {_kind(loss)}")
    if loss not in LOSSES:
        r.fail("network.loss", _unknown("loss", loss, LOSSES))
    for i, act in enumerate(activations[:-1]):
        if ACTIVATIONS[act].coupled:
            r.fail(f"network.activations[{i}]", f"{act} couples the units of a layer into probabilities; "
                   "derive takes it on the output layer only")
    rule = LOSSES[loss]
    if rule.takes_logits:
        # as torch.nn.CrossEntropyLoss: the output layer's net inputs are logits and the loss applies the
        # softmax; the documents write that softmax as the output activation, so both spellings mean it once
        if not (ACTIVATIONS[activations[-1]].passthrough or activations[-1] == rule.link):
            r.fail(f"network.activations[{layers - 1}]",
                   f"{loss} applies the {rule.link} to the output layer's net inputs (the logits) itself, "
                   f"as torch.nn.{rule.torch.name} does; the output activation must be identity (or {rule.link}, "
                   f"meaning the same), got {activations[-1]}")
        activations = [*activations[:-1], rule.link]
    if ACTIVATIONS[activations[-1]].coupled and sizes[-1] < 2:
        r.fail(f"network.sizes[{len(sizes) - 1}]", f"{activations[-1]} over a single output is always 1 and passes "
               "no gradient back; use two or more outputs (or sigmoid with bce for a yes/no output)")

    layout = network.get("weight_layout", "out_in")
    if not isinstance(layout, str):
        r.fail("network.weight_layout", f"expected a layout name ({', '.join(LAYOUTS)}), got {_kind(layout)}")
    if layout not in LAYOUTS:
        r.fail("network.weight_layout", _unknown("layout", layout, LAYOUTS))
    notation = network.get("notation", "auto")
    if not isinstance(notation, str):
        r.fail("network.notation", f"expected a notation name ({', '.join(NOTATIONS)}), got {_kind(notation)}")
    if notation not in NOTATIONS:
        r.fail("network.notation", _unknown("notation", notation, NOTATIONS))

    allowed = [f"{p}{l}" for l in range(1, layers + 1) for p in ("W", "b")]
    parameters = r.table(document, "parameters", allowed)
    weights, biases = [], []
    for l in range(1, layers + 1):
        n_in, n_out = sizes[l - 1], sizes[l]
        if layout == "out_in":
            rows, cols = n_out, n_in
            why = f"out_in layout: one row per unit of layer {l}, {n_out} units, each with {n_in} inputs"
            each = f"one per input of layer {l}"
        else:
            rows, cols = n_in, n_out
            why = f"in_out layout: one row per input of layer {l}, {n_in} inputs, each with {n_out} outputs"
            each = f"one per unit of layer {l}"
        if f"W{l}" not in parameters:
            r.fail(f"parameters.W{l}", f"missing key (the weights of layer {l}: {rows} x {cols}, {why})")
        if f"b{l}" not in parameters:
            r.fail(f"parameters.b{l}", f"missing key (the biases of layer {l}: {_numbers(n_out)}, one per unit)")
        w = r.matrix(parameters[f"W{l}"], f"parameters.W{l}", rows, cols, why, each)
        weights.append(w if layout == "out_in" else tuple(zip(*w)))
        biases.append(r.vector(parameters[f"b{l}"], f"parameters.b{l}", n_out, f"one per unit of layer {l}"))

    data = r.table(document, "data", DATA_KEYS)
    samples = {}
    for key, width, what in (("inputs", sizes[0], "input"), ("targets", sizes[-1], "output")):
        value = data.get(key, _MISSING)
        if value is _MISSING:
            r.fail(f"data.{key}", f"missing key (one row of {_numbers(width)} per sample, one per {what} unit)")
        each = f"one per {what} unit"
        if isinstance(value, list) and value and not any(isinstance(v, list) for v in value):
            # one sample may be written as a flat list
            samples[key] = (r.vector(value, f"data.{key}", width, each),)
            continue
        if not isinstance(value, list) or not value:
            r.fail(f"data.{key}", f"expected a list of rows, one per sample, each of {_numbers(width)} ({each}), "
                   f"got {_kind(value)}")
        if len(value) > MAX_SAMPLES:
            r.fail(f"data.{key}", f"{len(value)} samples is more than derive handles (at most {MAX_SAMPLES})")
        samples[key] = r.matrix(value, f"data.{key}", len(value), width, "one per sample", each)
    if len(samples["inputs"]) != len(samples["targets"]):
        expected, got = _rows(len(samples["inputs"])), len(samples["targets"])
        r.fail("data.targets", f"expected {expected}, one per input row, got {got}")
    if rule.targets != "any":
        _check_probabilities(r, rule, samples["targets"], any(isinstance(v, list) for v in data["targets"]))

    training = r.table(document, "training", TRAINING_KEYS)
    if "learning_rate" not in training:
        r.fail("training.learning_rate",
               "missing key (the step size of gradient descent, for example learning_rate = 0.5)")
    eta = r.number(training["learning_rate"], "training.learning_rate")
    if eta <= 0:
        shown = _kind(training["learning_rate"]).removeprefix("the number ")
        r.fail("training.learning_rate", f"must be positive, got {shown}")
    update_biases = training.get("update_biases", True)
    if not isinstance(update_biases, bool):
        r.fail("training.update_biases", f"expected true or false, got {_kind(update_biases)}")
    steps = training.get("steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        r.fail("training.steps", f"expected a whole number of at least 1{_no_point(steps)}, got {_kind(steps)}")
    if steps > MAX_STEPS:
        r.fail("training.steps", f"{steps} steps is more than derive runs (at most {MAX_STEPS})")
    plan = _training(r, training, len(samples["inputs"]), eta)

    convention, notes = "", ()
    if "document" in document:
        for inner in document["document"] if isinstance(document["document"], dict) else ():
            if inner in _TITLE_ALIASES:
                r.fail(f"document.{inner}", f"unknown key; {_TITLE_ALIASES[inner][1]} is written as "
                       f"{_TITLE_ALIASES[inner][0]} = \"...\"")
        section = r.table(document, "document", DOCUMENT_KEYS)
        convention = section.get("convention", "")
        if "convention" in section and not isinstance(convention, str):
            r.fail("document.convention", f"expected a convention name ({', '.join(CONVENTIONS)}), got {_kind(convention)}")
        if "convention" in section and convention not in CONVENTIONS:
            r.fail("document.convention", _unknown("convention", convention, CONVENTIONS))
        notes = section.get("notes", [])
        if not isinstance(notes, list):
            r.fail("document.notes", f"expected a list of sentences, got {_kind(notes)}")
        for k, note in enumerate(notes):
            if not isinstance(note, str) or not note.strip():
                r.fail(f"document.notes[{k}]", f"expected a sentence, got {_kind(note) if not isinstance(note, str) else 'empty text'}")
            if len(note) > MAX_NOTE:
                r.fail(f"document.notes[{k}]", f"a note of {len(note)} characters; at most {MAX_NOTE}")
        notes = tuple(typographic(note.strip()) for note in notes)
    title_page = _title_page(r, document.get("document", {}))

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
        inputs=samples["inputs"],
        targets=samples["targets"],
        learning_rate=eta,
        update_biases=update_biases,
        steps=steps,
        convention=convention,
        notes=notes,
        **title_page,
        written=tuple((_canonical(key, layout), text) for key, text in r.written.items()),
        training=plan,
    )


def _title_page(r, section) -> dict:
    """The [document] table's course, author, date and institution, as text ('' where not given)."""
    entries = {}
    for key in TITLE_KEYS:
        value = section.get(key, "") if isinstance(section, dict) else ""
        if isinstance(value, (datetime.date, datetime.datetime)):
            value = value.isoformat()
        if not isinstance(value, str):
            r.fail(f"document.{key}", f"expected text, got {_kind(value)}")
        if len(value) > MAX_TITLE_ENTRY or "\n" in value:
            r.fail(f"document.{key}", f"expected one line of at most {MAX_TITLE_ENTRY} characters")
        entries[key] = typographic(value.strip())
    return entries


_QUOTED = re.compile(r'"([^"\n]*)"')


def typographic(text: str) -> str:
    """Straight double quotes around a phrase as typographic ones ("after 10,000 steps" -> “after 10,000 steps”).

    A printed straight quote looks like a double prime (″) in the PDF; an unpaired one is left as written.
    """
    return _QUOTED.sub("\u201c\\1\u201d", text)


def _canonical(key: str, layout: str) -> str:
    """A number's place whatever the file's shape: 'inputs[s][i]', 'targets[s][k]', 'W2[j][i]', 'b1[j]', 'learning_rate'."""
    flat = re.fullmatch(r"data\.(inputs|targets)\[(\d+)\]", key)
    if flat:
        return f"{flat[1]}[0][{flat[2]}]"
    weight = re.fullmatch(r"parameters\.W(\d+)\[(\d+)\]\[(\d+)\]", key)
    if weight and layout == "in_out":
        return f"W{weight[1]}[{weight[3]}][{weight[2]}]"
    return key.split(".", 1)[-1]


def _training(r: _Reader, training: dict, samples: int, eta: Fraction) -> Training:
    """The optimizer and its hyper-parameters, the L2 penalty, the mini-batches and the mode of [training]."""
    name = training.get("optimizer", "sgd")
    if not isinstance(name, str):
        r.fail("training.optimizer", f"expected an optimizer name ({', '.join(OPTIMIZERS)}), got {_kind(name)}")
    if name not in OPTIMIZERS:
        r.fail("training.optimizer", _unknown("optimizer", name, OPTIMIZERS))
    entry = OPTIMIZERS[name]
    given = {}
    for key in HYPER_KEYS:
        if key not in training:
            continue
        where = f"training.{key}"
        takers = [o for o in OPTIMIZERS if key in OPTIMIZERS[o].keys()]
        if key not in entry.keys():
            r.fail(where, f"the optimizer {name} takes no {key} (it is a setting of {', '.join(takers)}); "
                   f"{name} takes: {', '.join(entry.keys()) or 'only the learning rate'}")
        hyper = next(h for h in entry.hyper if h.key == key)
        value = training[key]
        if hyper.kind == "bool":
            if not isinstance(value, bool):
                r.fail(where, f"expected true or false, got {_kind(value)}")
            given[key] = value
            continue
        number = r.number(value, where)
        shown = _kind(value).removeprefix("the number ")
        if number < 0:
            r.fail(where, f"must not be negative ({hyper.words}), got {shown}")
        if hyper.kind == "unit" and number >= 1:
            r.fail(where, f"must be at least 0 and less than 1 ({hyper.words}), got {shown}")
        given[key] = number
    if name == "nesterov" and given.get("momentum", 1) == 0:
        r.fail("training.momentum", "Nesterov momentum needs a momentum above 0 (with 0 it is plain sgd)")
    mode = training.get("mode", "batch")
    if not isinstance(mode, str):
        r.fail("training.mode", f"expected {' or '.join(MODES)}, got {_kind(mode)}")
    if mode not in MODES:
        r.fail("training.mode", _unknown("mode", mode, MODES))
    default_form = "mitchell" if mode == "online" and "mitchell" in entry.forms else entry.forms[0]
    form = training.get("form", default_form)
    if not isinstance(form, str):
        r.fail("training.form", f"expected a form name ({', '.join(entry.forms)}), got {_kind(form)}")
    if form not in entry.forms:
        r.fail("training.form", _unknown(f"form of {name}", form, entry.forms))
    if form == "mitchell" and given.get("dampening"):
        r.fail("training.dampening", "Mitchell's momentum has no dampening; leave it out or use form = \"pytorch\"")
    l2 = r.number(training.get("l2", 0), "training.l2")
    if form == "sutskever" and (l2 or given.get("weight_decay")):
        r.fail("training.form", "the classical (Sutskever) Nesterov form takes the gradient at the look-ahead "
               "point, where weight decay and the L2 penalty are not defined the same way; use form = \"pytorch\"")
    if l2 < 0:
        r.fail("training.l2", f"must not be negative (the lambda of the penalty lambda/2 sum w^2), got {_fraction(l2)}")
    decay_biases = training.get("decay_biases", True)
    if not isinstance(decay_biases, bool):
        r.fail("training.decay_biases", f"expected true or false, got {_kind(decay_biases)}")
    size = training.get("batch_size", 0)
    if "batch_size" in training:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= samples:
            r.fail("training.batch_size", f"expected a whole number of samples from 1 to {samples}"
                   f"{_no_point(size)}, got {_kind(size)}")
        if mode == "online" and size != 1:
            r.fail("training.batch_size", f"online mode updates after every sample (batch_size 1), got {size}")
    if mode == "online":
        size = 1
    if size == samples:
        size = 0
    order = training.get("order", [])
    if "order" in training:
        if not isinstance(order, list) or not order:
            r.fail("training.order", f"expected a list of the sample numbers 1 to {samples} in the order the "
                   f"steps take them, got {_kind(order)}")
        for k, number in enumerate(order):
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= samples:
                r.fail(f"training.order[{k}]", f"expected a sample number from 1 to {samples}, got {_kind(number)}")
        if sorted(order) != list(range(1, samples + 1)):
            missing = sorted(set(range(1, samples + 1)) - set(order))
            problem = (f"sample {missing[0]} is missing" if missing else
                       f"sample {next(n for n in order if order.count(n) > 1)} appears twice")
            r.fail("training.order", f"expected every sample number from 1 to {samples} once; {problem}")
        if order == sorted(order):
            order = []
    return Training(settings(name, eta, given, form), l2, decay_biases, size, tuple(n - 1 for n in order), mode)


def _check_probabilities(r, loss, targets, rows: bool):
    """Targets of a cross-entropy are probabilities; a sample's class probabilities sum to 1."""
    for s, row in enumerate(targets):
        where = f"data.targets[{s}]" if rows else "data.targets"
        for k, value in enumerate(row):
            if not 0 <= value <= 1:
                r.fail(f"{where}[{k}]", f"{loss.name} takes targets between 0 and 1 (probabilities), "
                       f"got {_fraction(value)}")
        if loss.targets == "classes" and sum(row) != 1:
            r.fail(where, f"{loss.name} takes one-hot targets or class probabilities that sum to 1, "
                   f"but these sum to {_fraction(sum(row))}")


def _fraction(value: Fraction) -> str:
    """An exact number as the decimal it was written as (or a fraction when it is not one)."""
    text = _decimal_text(value)
    return text if text is not None else str(value)


def _decimal_text(value: Fraction):
    d = value.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d != 1:
        return None
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    return f"{Decimal(value.numerator) / Decimal(value.denominator):.{places}f}"


def _no_point(value) -> str:
    """For a whole number written as a decimal (2.0, 2e0): say how to write it."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return " (written without a point or exponent)"
    return ""


def _unknown(what: str, name: str, known) -> str:
    """'unknown loss 'MSE' (did you mean 'mse'?); known: ...'."""
    return f"unknown {what} {_short(name)!r}{suggestion(name, known)}; known: {', '.join(known)}"
