"""Read a student's answers: names as the worked solution prints them, with the aliases people type.

An answers file is TOML or JSON of ``name = number`` pairs. Names are the JSON
``quantities`` names (``out_o1``, ``dE_total/dw5``, ``w5_new``, ``dE/dW1_1_3`` ...;
see the README), compared without regard to case or spaces, and these aliases:

* the loss as ``E`` or ``E_total`` in either scheme: ``dE/dw5`` is ``dE_total/dw5``;
* an updated parameter as ``w5+``, ``w5'``, ``w5^+``, ``new_w5``, ``w5_updated``;
* a gradient as ``grad_w5``, ``w5_grad``, ``w5.grad``;
* ``∂`` for ``d``, ``δ`` for ``delta``, ``−`` for ``-``; names without underscores
  (``outh1``) when that is not ambiguous;
* for one hidden layer, the names of the other scheme (``a1_1`` for ``out_h1``).

Whole tensors go under the JSON document's keys, in the spec's layout:
``gradients.W1 = [[...]]``, ``gradients.b1 = [...]`` (a 1 x n row is accepted, as
PyTorch prints a bias of shape (1, n)), ``updated.W2 = ...``; a ``[quantities]``
table of ``name = number`` is read like top-level pairs.

Every problem is a :class:`derive.errors.DeriveError` naming the file and key: an
unknown name (with the nearest known name), a value that is not a number, a tensor
of the wrong shape, a quantity given twice.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

from derive.core.conventions import CONVENTIONS
from derive.core.notation import Notation
from derive.core.spec import decode, read_json, read_toml
from derive.core.steps import names_in
from derive.errors import DeriveError, suggestion

MAX_ANSWERS_BYTES = 5_000_000
TENSOR_TABLES = {"gradients": "gradient", "updated": "updated"}


@dataclass(frozen=True)
class Answer:
    """One answer: the quantity's name, how the file named it, the number as written."""

    name: str  # the canonical name (a key of quantities)
    label: str  # as written in the file: 'dE/dw5', 'gradients.W1[2][3]'
    number: Decimal | int  # as written (keeps its decimals)
    #: -1 when the name is a book's error term of the opposite sign (Han's Err6 is -delta_o1)
    sign: int = 1
    #: how a name of a book's convention was read ('' for derive's own names)
    reading: str = ""
    #: the name is the chosen book's (Han's I4 for net_h1)
    in_book: bool = False

    @property
    def value(self) -> Fraction:
        """The number in derive's sign convention."""
        return self.sign * Fraction(self.number)

    @property
    def text(self) -> str:
        return str(self.number) if isinstance(self.number, int) else _number_text(self.number)


def _number_text(d: Decimal) -> str:
    """The number as the student wrote it (Decimal keeps the digits and the exponent)."""
    return str(d).replace("E", "e")


def normal(name: str) -> str:
    """The form names are compared in: lower case, no spaces, ∂ as d, δ as delta."""
    text = name.strip()
    for a, b in (("∂", "d"), ("δ", "delta"), ("Δ", "delta"), ("η", "eta"), ("−", "-"), ("’", "'"), ("′", "'"),
                 ("·", "*"), ("⁺", "+"), ("θ", "theta"), ("α", "alpha")):
        text = text.replace(a, b)
    return re.sub(r"\s+", "", text).lower()


class Names:
    """Every name a student may use for each quantity of one network.

    In this order: the names of ``convention`` (a book's, when one is chosen), derive's own
    names and their aliases, the other naming scheme's; then every other book's names that
    read one quantity only (an answer so read says which book's name it was). A name that
    other books read as different quantities is an error that lists the readings.
    """

    def __init__(self, steps, convention: str | None = None):
        self.steps = steps
        self.convention = convention
        canonical = [s.name for s in steps if s.name != "eta"]
        self.canonical = canonical
        self.lookup: dict[str, str] = {}
        self.signs: dict[str, int] = {}
        self.readings: dict[str, str] = {}
        self.ambiguous: dict[str, list[str]] = {}
        self.chosen: set[str] = set()  # the aliases that are the chosen book's names
        self.refused = {}  # a name the chosen book uses for something else: normal name -> what it is there
        if convention and convention != "blog":
            book = CONVENTIONS[convention]
            self.refused = {normal(name): f"in {book.title.split(',')[0]}'s notation {what}" for name, what in book.refused}
            for alias, (name, sign) in self._book(convention).items():
                self.lookup.setdefault(alias, name)
                self.signs.setdefault(alias, sign)
                if normal(name) != alias:
                    self.chosen.add(alias)
        candidates: dict[str, set[str]] = {}
        for name in canonical:
            for alias in self._aliases(name):
                candidates.setdefault(normal(alias), set()).add(name)
        spec = steps.spec
        if len(spec.sizes) == 3:  # the other scheme's names for the same quantities
            other = "layered" if steps.notation.units else "units"
            if other == "units" and max(spec.sizes) > 9:
                other = None
            if other:
                alternative = _renamed(steps, Notation(other, spec.sizes, spec.batch, spec.weight_layout,
                                                         spec.coupled_output))
                for name, alt in alternative.items():
                    for alias in self._aliases(alt):
                        candidates.setdefault(normal(alias), set()).add(name)
        for name in canonical:  # a canonical name always means itself
            self.lookup.setdefault(normal(name), name)
        for alias, names in candidates.items():
            if alias not in self.lookup and len(names) == 1:
                self.lookup[alias] = next(iter(names))
        # the other books' names are read only when a written name is none of the above: building them for
        # every quantity of a large network takes seconds and hundreds of megabytes that most files never need
        self._others_read = False

    def _book(self, key: str) -> dict[str, tuple[str, int]]:
        """A book's names of every quantity: alias -> (derive's name, sign of the book's value)."""
        spec = self.steps.spec
        book = CONVENTIONS[key]
        notation = Notation.for_spec(spec, convention=key)
        found: dict[str, tuple[str, int]] = {}
        kinds = {s.name: s.kind for s in self.steps}
        for name, text in _renamed(self.steps, notation).items():
            # the error term, alone or in a path's product (Err6*w46), carries the book's sign
            sign = book.error_sign if kinds[name] == "delta" or (kinds[name] == "path" and "*" in text) else 1
            for alias in self._aliases(text):
                found.setdefault(normal(alias), (name, sign))
        return found

    def _other_books(self, chosen: str | None) -> None:
        """Names of the other books: read when they mean one quantity, listed when they mean several."""
        readings: dict[str, dict[tuple[str, int], list[str]]] = {}
        for key, book in CONVENTIONS.items():
            if key in (chosen, "blog"):
                continue
            for alias, meaning in self._book(key).items():
                readings.setdefault(alias, {}).setdefault(meaning, []).append(book.title.split(",")[0])
        for alias, meanings in readings.items():
            if alias in self.lookup:
                continue
            if len(meanings) == 1:
                (name, sign), books = next(iter(meanings.items()))
                self.lookup[alias], self.signs[alias] = name, sign
                self.readings[alias] = f"{' / '.join(books)}'s name for {'-' if sign < 0 else ''}{name}"
            else:
                self.ambiguous[alias] = [f"{'-' if sign < 0 else ''}{name} ({' / '.join(books)})"
                                         for (name, sign), books in meanings.items()]

    def get(self, written: str) -> str | None:
        """The canonical name a written name stands for, or None (the other books' names read on a miss)."""
        found = self.lookup.get(normal(written))
        if found is None and not self._others_read:
            self._others_read = True
            self._other_books(self.convention)
            found = self.lookup.get(normal(written))
        return found

    def sign(self, written: str) -> int:
        """-1 when the written name is a book's error term of the opposite sign."""
        return self.signs.get(normal(written), 1)

    def reading(self, written: str) -> str:
        """How a name of another book was read ('' for the chosen convention's and derive's names)."""
        return self.readings.get(normal(written), "")

    def in_book(self, written: str) -> bool:
        """True for a name of the chosen book (Han's I4), which a report shows with derive's (net_h1)."""
        return normal(written) in self.chosen

    @staticmethod
    def _aliases(name: str) -> list[str]:
        forms = {name}
        for form in list(forms):  # the loss as E or E_total, alone or on top of a derivative
            forms.add(re.sub(r"^(d?)E_total(?=$|/|\[)", r"\1E", form))
            forms.add(re.sub(r"^(d?)E(?=$|/|\[)", r"\1E_total", form))
        for form in list(forms):
            if form.endswith("_new"):
                base = form[:-4]
                forms.update({f"{base}+", f"{base}'", f"{base}^+", f"{base}^{{+}}", f"new_{base}", f"{base}_updated",
                              f"{base}(new)", f"{base}new"})
            match = re.fullmatch(r"dE(?:_total)?/d(.+)", form)
            if match and "[" not in match[1]:
                p = match[1]
                forms.update({f"grad_{p}", f"{p}_grad", f"{p}.grad", f"grad({p})", f"gradient_{p}"})
        for form in list(forms):
            forms.add(form.replace("_", ""))
        return sorted(forms)

    def resolve(self, written: str, where: str) -> str:
        """The canonical name of a written name, or a DeriveError suggesting the nearest known one."""
        if normal(written) in self.refused:
            raise DeriveError(f"{where}: {_show(written)}", self.refused[normal(written)])
        found = self.get(written)
        if found is not None:
            return found
        readings = self.ambiguous.get(normal(written))
        if readings:
            raise DeriveError(f"{where}: {_show(written)}", "ambiguous: textbooks use this name for different "
                              f"quantities: {'; '.join(readings)}; name the book with --convention "
                              f"(or [document] convention in the spec)")
        raise DeriveError(f"{where}: {_show(written)}", f"unknown quantity{self.suggest(written)}")

    def suggest(self, written: str) -> str:
        key = normal(written)
        by_normal = {normal(n): n for n in self.canonical}
        pool = sorted(self.lookup)
        close = difflib.get_close_matches(key, pool, n=1, cutoff=0.5) or difflib.get_close_matches(key, pool, n=1, cutoff=0)
        if not close:
            return "; `derive solve` lists every name in solution.json under quantities"
        name = self.lookup[close[0]]
        return f" (did you mean '{by_normal.get(normal(name), name)}'?)"


def _renamed(steps, notation: Notation) -> dict[str, str]:
    """Each step's name in another notation, by its place in the network."""
    return {name: found.text for name, found in names_in(steps, notation).items()}


def _show(key: str) -> str:
    return key if len(key) <= 60 else key[:57] + "..."


# -- reading the file -------------------------------------------------------------------------

def load(path: str | Path, steps, convention: str | None = None) -> list[Answer]:
    """Read an answers file (TOML or JSON) into answers for this network's quantities."""
    text, kind = read_text(path)
    return parse(text, str(path), steps, kind, convention)


def read_text(path: str | Path) -> tuple[str, str]:
    """An answers file's text and kind ('toml' or 'json'); a DeriveError when it cannot be read."""
    where = str(path)
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_ANSWERS_BYTES + 1)
    except FileNotFoundError:
        raise DeriveError(where, "no such answers file") from None
    except IsADirectoryError:
        raise DeriveError(where, "is a directory, not an answers file") from None
    except OSError as error:
        raise DeriveError(where, f"cannot be read ({error.strerror or error})") from None
    if len(raw) > MAX_ANSWERS_BYTES:
        raise DeriveError(where, f"is larger than {MAX_ANSWERS_BYTES // 1_000_000} MB")
    text = decode(raw, where).removeprefix("\ufeff")
    kind = "json" if path.suffix.lower() == ".json" or text.lstrip().startswith("{") else "toml"
    return text, kind


_TOML_LINE = re.compile(r"""^\s*(?P<key>[^\s"'\[#=][^=]*?)\s*=""")


def parse(text: str, where: str, steps, kind: str = "toml", convention: str | None = None) -> list[Answer]:
    """Answers from TOML or JSON text; ``convention`` reads a book's names and signs first (Han's Err6)."""
    return _answers(read_document(text, where, kind), where, steps, convention)


def read_document(text: str, where: str, kind: str = "toml") -> dict:
    """The parsed TOML or JSON of an answers file, with a clear message for a name TOML needs in quotes."""
    if not text.strip():
        raise DeriveError(where, "the answers file is empty; write one `name = number` per line")
    if kind == "json":
        if not text.lstrip().startswith("{"):
            raise DeriveError(where, 'the top level must be an object of "name": number pairs')
        document = read_json(text, where)
    else:
        for number, line in enumerate(text.split("\n"), 1):
            match = _TOML_LINE.match(line)
            if match and not re.fullmatch(r"[A-Za-z0-9_\-]+(\s*\.\s*[A-Za-z0-9_\-]+)*", match["key"]):
                key = match["key"].strip()
                raise DeriveError(
                    f"{where}: line {number}",
                    f"the name {key} must be in quotes in TOML, for example \"{key}\" = 0.0822",
                )
        document = read_toml(text, where)
    return document


def _answers(document: dict, where: str, steps, convention: str | None = None) -> list[Answer]:
    names = Names(steps, convention)
    answers: dict[str, Answer] = {}
    _collect(document, "", where, steps, names, answers, top=True)
    if not answers:
        raise DeriveError(where, "holds no answers; write one `name = number` per line, e.g. out_o1 = 0.7514")
    order = {name: i for i, name in enumerate(steps.steps)}
    return sorted(answers.values(), key=lambda a: order[a.name])


def _collect(document: dict, prefix: str, where: str, steps, names: Names, answers: dict, top: bool):
    for key, value in document.items():
        label = f"{prefix}{key}"
        if isinstance(value, dict):
            if top and key in ("quantities", "answers"):
                _collect(value, "", where, steps, names, answers, top=False)
            elif top and key in TENSOR_TABLES:
                for tensor, entries in value.items():
                    _tensor(f"{key}.{tensor}", TENSOR_TABLES[key], tensor, entries, where, steps, answers)
            else:
                raise DeriveError(f"{where}: {_show(label)}", "unknown section; answers are `name = number` pairs, "
                                  "or whole tensors under gradients.W1, updated.b1, ...")
            continue
        if top and "." in key and key.split(".", 1)[0] in TENSOR_TABLES:  # JSON: "gradients.W1": [[...]]
            table, tensor = key.split(".", 1)
            _tensor(key, TENSOR_TABLES[table], tensor, value, where, steps, answers)
            continue
        if isinstance(value, list) and not names.get(key):
            raise DeriveError(f"{where}: {_show(label)}", "a list of numbers goes under gradients.W1, updated.W1, ... "
                              "(the tensors of the JSON document)" + names.suggest(key))
        name = names.resolve(key, where)
        _add(answers, Answer(name, label, _number(value, f"{where}: {_show(label)}"), names.sign(key),
                             names.reading(key), names.in_book(key)), where)


def plain(value, where: str = "answers"):
    """Answers given from Python as the data an answers file holds: nested mappings, arrays and tensors as lists.

    A NumPy array or PyTorch tensor becomes nested lists, a float the shortest decimal that prints it
    (as ``repr``), a Fraction its decimal (exact when it terminates, else to 40 significant digits),
    a Decimal or int stays as it is.
    """
    if isinstance(value, Mapping):
        out = {}
        for key, inner in value.items():
            if not isinstance(key, str):
                raise DeriveError(where, f"a name must be text, got {type(key).__name__} {key!r:.40}")
            out[key] = plain(inner, f"{where}: {_show(key)}" if where == "answers" else f"{where}.{_show(key)}")
        return out
    if hasattr(value, "detach"):  # a PyTorch tensor
        value = value.detach().cpu().tolist()
    elif hasattr(value, "tolist") and not isinstance(value, (Decimal, Fraction)):  # a NumPy array or scalar
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(v, where) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else Decimal(str(value).replace("inf", "Infinity"))
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        exact = _terminating(value)
        if exact is not None:
            return exact
        with localcontext() as context:
            context.prec = 40
            return Decimal(value.numerator) / Decimal(value.denominator)
    return value


def _terminating(value: Fraction):
    """The exact decimal of a fraction whose denominator has no prime factor but 2 and 5, else None."""
    d, twos, fives = value.denominator, 0, 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    if d != 1:
        return None
    places = max(twos, fives)
    return Decimal(value.numerator * 10**places // value.denominator).scaleb(-places)


def from_data(document: Mapping, where: str, steps, convention: str | None = None) -> list[Answer]:
    """Answers from Python data: a mapping as :func:`plain` makes it (names and tensor tables as in a file)."""
    document = plain(document, where)
    if not document:
        raise DeriveError(where, "holds no answers; give a mapping of names to numbers, e.g. {'out_o1': 0.7514}")
    return _answers(document, where, steps, convention)


def _number(value, where: str):
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        problem = getattr(value, "problem", None)
        if problem:
            raise DeriveError(where, f"the number {value.text} {problem}")
        if isinstance(value, str):
            shown = value if len(value) <= 40 else value[:37] + "..."
            raise DeriveError(where, f"expected a number, got the text '{shown}' (write numbers without quotes)")
        kind = {bool: "true/false", list: "a list", dict: "a section"}.get(type(value), type(value).__name__)
        raise DeriveError(where, f"expected a number, got {kind}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise DeriveError(where, f"expected a finite number, got {value}")
        if abs(value.adjusted()) > 300:
            raise DeriveError(where, f"the number {value} is too large or too small")
    elif abs(value) > 10**300:
        raise DeriveError(where, "the number is too large")
    return value


def _add(answers: dict, answer: Answer, where: str):
    if answer.name in answers:
        first = answers[answer.name].label
        again = "" if first == answer.label else f" (as {first} and as {answer.label})"
        raise DeriveError(f"{where}: {_show(answer.label)}", f"{answer.name} is given twice{again}; give each quantity once")
    answers[answer.name] = answer


def _tensor(label: str, kind: str, tensor: str, value, where: str, steps, answers: dict):
    spec = steps.spec
    at = f"{where}: {_show(label)}"
    match = re.fullmatch(r"([Wb])(\d+)", tensor)
    if not match or not 1 <= int(match[2]) <= spec.layers:
        known = [f"{p}{l}" for l in range(1, spec.layers + 1) for p in ("W", "b")]

        raise DeriveError(at, f"unknown tensor{suggestion(tensor, known)}; this network has {', '.join(known)}")
    p, l = match[1], int(match[2])
    n_in, n_out = spec.sizes[l - 1], spec.sizes[l]
    if kind == "updated" and p == "b" and not spec.update_biases:
        raise DeriveError(at, "this problem does not update the biases (training.update_biases = false)")
    if p == "W":
        rows, cols = (n_out, n_in) if spec.weight_layout == "out_in" else (n_in, n_out)
        why = f"{spec.weight_layout} layout"
        out_in = spec.weight_layout == "out_in"
        if rows != cols and _is_grid(value, cols, rows):  # the other layout's shape: unambiguous when not square
            rows, cols, out_in = cols, rows, not out_in
        grid = _grid(value, rows, cols, at, why)
        for r in range(rows):
            for c in range(cols):
                j, i = (r, c) if out_in else (c, r)
                name = steps.by_key[(kind, "W", l, j, i)].name
                _add(answers, Answer(name, f"{label}[{r + 1}][{c + 1}]", _number(grid[r][c], f"{at}[{r + 1}][{c + 1}]")), where)
    else:
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
            value = value[0]  # a (1 x n) row, as PyTorch prints a bias of shape (1, n)
        elif _is_grid(value, n_out, 1):
            value = [row[0] for row in value]  # an (n x 1) column, as a column-vector course or NumPy prints db1
        if not isinstance(value, list) or any(isinstance(v, list) for v in value) or len(value) != n_out:
            raise DeriveError(at, f"expected {n_out} numbers (one per unit of layer {l}) as a list, a row or a column, "
                              f"got {_shape(value)}")
        for j in range(n_out):
            name = steps.by_key[(kind, "b", l, j, None)].name
            _add(answers, Answer(name, f"{label}[{j + 1}]", _number(value[j], f"{at}[{j + 1}]")), where)


def _is_grid(value, rows: int, cols: int) -> bool:
    """True for a list of ``rows`` lists of ``cols`` values each (no deeper lists)."""
    return (isinstance(value, list) and len(value) == rows
            and all(isinstance(row, list) and len(row) == cols and not any(isinstance(v, list) for v in row)
                    for row in value))


def _grid(value, rows: int, cols: int, at: str, why: str):
    if not _is_grid(value, rows, cols):
        other = f" (or its transpose, {cols} x {rows})" if rows != cols else ""
        raise DeriveError(at, f"expected a {rows} x {cols} matrix{other} ({why}: {rows} rows of {cols} numbers), "
                          f"got {_shape(value)}")
    return value


def _shape(value) -> str:
    if not isinstance(value, list):
        return "a single value" if isinstance(value, (int, Decimal)) else "no list"
    if value and all(isinstance(row, list) for row in value):
        widths = sorted({len(row) for row in value})
        return f"{len(value)} rows of {'/'.join(map(str, widths))} numbers"
    return f"a list of {len(value)} values"
