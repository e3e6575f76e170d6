"""Bad spec files: the catalogue in tests/broken/, each with the one line of error it must give."""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import main
from derive.core.functions import ACTIVATIONS, LOSSES
from derive.core.spec import parse, preset_names
from derive.core.versions import load
from derive.errors import DeriveError, printable, suggestion

BROKEN = Path(__file__).parent / "broken"
#: the registries' names, as the messages list them (a new entry joins the lists)
ACTS, LOSS_NAMES = ", ".join(ACTIVATIONS), ", ".join(LOSSES)
ROOT = Path(__file__).parent.parent

# (file as given on the command line, run from tests/broken/; what follows "derive: error: FILE: ")
CATALOGUE = [
    # syntax
    ("syntax_unclosed_array.toml", "invalid TOML at line 12, column 1: unclosed array"),
    ("syntax_unquoted_text.toml", "invalid TOML at line 7, column 8: invalid value; text must be in quotes, for example loss = \"mse\""),
    ("syntax_decimal_comma.toml", "invalid TOML at line 21, column 18: expected newline or end of document after a statement; write decimals with a point (0.5) and lists in brackets ([1, 2])"),
    ("syntax_missing_equals.toml", "invalid TOML at line 5, column 7: expected '=' after a key in a key/value pair"),
    ("syntax_unterminated_string.toml", "invalid TOML at line 7, column 17: the text has no closing quote"),
    ("syntax_unclosed_header.toml", "invalid TOML at line 16, column 6: expected ']' at the end of a table declaration"),
    ("syntax_json_in_toml.toml", "invalid TOML at line 1, column 1: invalid statement; the file looks like JSON: name it .json"),
    ("duplicate_key.toml", "parameters.b1: duplicate key: given again at line 13; each key may appear only once"),
    ("duplicate_key_multiline.toml", "parameters.W2: duplicate key: given again at line 15; each key may appear only once"),
    ("duplicate_section.toml", "training: duplicate section: [training] appears again at line 25; put all its keys under one header"),
    # JSON syntax and JSON-only values
    ("syntax_trailing_comma.json", "invalid JSON at line 14, column 3: expecting property name enclosed in double quotes; JSON allows no comma before a closing bracket"),
    ("syntax_single_quotes.json", "invalid JSON at line 13, column 5: expecting property name enclosed in double quotes"),
    ("syntax_truncated.json", "invalid JSON at line 60, column 25: expecting ',' delimiter"),
    ("duplicate_key.json", "parameters.b1: duplicate key: given more than once; each key may appear only once"),
    ("learning_rate_nan.json", "training.learning_rate: expected a finite number, got NaN"),
    ("weight_infinity.json", "parameters.W1[0][0]: expected a finite number, got -infinity"),
    ("loss_null.json", f"network.loss: expected a loss name ({LOSS_NAMES}), got null"),
    ("section_null.json", "data: expected a section [data] (the inputs and targets), got null"),
    ("big_integer.json", "training.learning_rate: the number 1000000000000000000000000000000000000... is too large"),
    ("top_level_list.json", "the top level must be an object {...} with the sections network, parameters, data, training, not a list of 3 numbers"),
    ("nested_too_deeply.json", "invalid JSON: lists or objects are nested too deeply"),
    # encodings and non-text
    ("binary.toml", "is a binary file, not TOML or JSON text"),
    ("utf16.toml", "is UTF-16 text; save it as UTF-8 (the encoding choice is in the editor's Save As dialog)"),
    ("latin1.toml", "is not UTF-8 text (byte 0xdc at line 1 is not valid UTF-8); save it as UTF-8 text"),
    ("empty.toml", "the file is empty"),
    ("whitespace_only.toml", "the file is empty"),
    ("comments_only.toml", "network: missing section [network] (the layer sizes, activations and loss)"),
    # sections
    ("missing_network.toml", "network: missing section [network] (the layer sizes, activations and loss)"),
    ("missing_parameters.toml", "parameters: missing section [parameters] (the weights and biases W1, b1, W2, b2, ...)"),
    ("missing_data.toml", "data: missing section [data] (the inputs and targets)"),
    ("missing_training.toml", "training: missing section [training] (the learning rate)"),
    ("section_not_table.toml", "network: expected a section [network] (the layer sizes, activations and loss), got text '2-2-2 sigmoid'"),
    ("array_of_tables.toml", "data: expected one section [data], got 1 [[data]] entries; write [data] with single brackets"),
    ("unknown_section.toml", "trainig: unknown section (did you mean 'training'?); allowed: title, network, parameters, data, training, document"),
    ("key_outside_section.toml", "learning_rate: belongs in the [training] section, not at the top level"),
    ("title_in_section.toml", "training.title: unknown key; title goes at the top of the file, before the first [section]"),
    ("key_in_wrong_section.toml", "network.learning_rate: belongs in the [training] section, not in [network]"),
    ("unknown_key.toml", "network.activation: unknown key (did you mean 'activations'?); allowed here: sizes, activations, loss, weight_layout, notation"),
    # network
    ("sizes_missing.toml", "network.sizes: missing key (the layer sizes, input first, for example sizes = [2, 2, 2])"),
    ("sizes_not_list.toml", "network.sizes: expected a list of layer sizes, input first, for example [2, 2, 2], got text '2-2-2'"),
    ("sizes_too_few.toml", "network.sizes: expected at least two layer sizes (the input and the output layer), got 1"),
    ("sizes_zero.toml", "network.sizes[1]: expected a positive whole number of units, got the number 0"),
    ("sizes_negative.toml", "network.sizes[1]: expected a positive whole number of units, got the number -2"),
    ("sizes_fraction.toml", "network.sizes[1]: expected a positive whole number of units, got the number 2.5"),
    ("sizes_decimal_point.toml", "network.sizes[1]: expected a positive whole number of units (written without a point or exponent), got the number 2.0"),
    ("sizes_text.toml", "network.sizes[1]: expected a positive whole number of units, got text '2'"),
    ("sizes_huge.toml", "network.sizes[1]: 1000000 units is more than derive handles (at most 100000)"),
    ("activation_typo.toml", f"network.activations[1]: unknown activation 'sigmoind' (did you mean 'sigmoid'?); known: {ACTS}"),
    ("activation_case.toml", f"network.activations: unknown activation 'ReLU' (did you mean 'relu'?); known: {ACTS}"),
    ("activation_unknown.toml", f"network.activations[0]: unknown activation 'swish'; known: {ACTS}"),
    ("activations_count.toml", "network.activations: expected 2 activation names (one per layer after the input), got 3"),
    ("activation_number.toml", f"network.activations[1]: expected an activation name ({ACTS}), got the number 1"),
    ("activations_missing.toml", "network.activations: missing key (2 activation names, one per layer after the input, or one name for every layer)"),
    ("softmax_hidden.toml", "network.activations[0]: softmax couples the units of a layer into probabilities; derive takes it on the output layer only"),
    ("softmax_single.toml", "network.sizes[2]: softmax over a single output is always 1 and passes no gradient back; use two or more outputs (or sigmoid with bce for a yes/no output)"),
    ("cross_entropy_sigmoid.toml", "network.activations[1]: cross_entropy applies the softmax to the output layer's net inputs (the logits) itself, as torch.nn.CrossEntropyLoss does; the output activation must be identity (or softmax, meaning the same), got sigmoid"),
    ("cross_entropy_target_sum.toml", "data.targets[0]: cross_entropy takes one-hot targets or class probabilities that sum to 1, but these sum to 1.1"),
    ("cross_entropy_negative.toml", "data.targets[0][0]: cross_entropy takes targets between 0 and 1 (probabilities), got -0.5"),
    ("bce_target_range.toml", "data.targets[0][1]: bce takes targets between 0 and 1 (probabilities), got 1.5"),
    ("loss_case.toml", f"network.loss: unknown loss 'MSE' (did you mean 'mse'?); known: {LOSS_NAMES}"),
    ("loss_dash.toml", f"network.loss: unknown loss 'half-sse' (did you mean 'half_sse'?); known: {LOSS_NAMES}"),
    ("loss_unknown.toml", f"network.loss: unknown loss 'hinge'; known: {LOSS_NAMES}"),
    ("loss_missing.toml", f"network.loss: missing key (one of {LOSS_NAMES})"),
    ("loss_number.toml", f"network.loss: expected a loss name ({LOSS_NAMES}), got the number 2"),
    ("layout_unknown.toml", "network.weight_layout: unknown layout 'in-out' (did you mean 'in_out'?); known: out_in, in_out"),
    ("layout_bool.toml", "network.weight_layout: expected a layout name (out_in, in_out), got a boolean (true)"),
    ("notation_unknown.toml", "network.notation: unknown notation 'blog'; known: auto, units, layered, matrix"),
    # parameters
    ("W_rows.toml", "parameters.W1: expected 2 rows (out_in layout: one row per unit of layer 1, 2 units, each with 2 inputs), got 3"),
    ("W_columns.toml", "parameters.W2[1]: expected 2 numbers (one per input of layer 2), got 3"),
    ("W_flat.toml", "parameters.W1: expected 2 rows of 2 numbers (out_in layout: one row per unit of layer 1, 2 units, each with 2 inputs), each row in its own brackets, got a flat list of 4 numbers"),
    ("W_row_not_list.toml", "parameters.W1[1]: expected a row of 2 numbers (one per input of layer 1), got the number 0.25"),
    ("W_in_out_transposed.toml", "parameters.W1: expected 3 rows (in_out layout: one row per input of layer 1, 3 inputs, each with 2 outputs), got 2"),
    ("W_missing.toml", "parameters.W2: missing key (the weights of layer 2: 2 x 2, out_in layout: one row per unit of layer 2, 2 units, each with 2 inputs)"),
    ("b_missing.toml", "parameters.b1: missing key (the biases of layer 1: 2 numbers, one per unit)"),
    ("b_length.toml", "parameters.b2: expected 2 numbers (one per unit of layer 2), got 1"),
    ("b_scalar.toml", "parameters.b2: expected a list of 2 numbers (one per unit of layer 2), got the number 0.60"),
    ("W_extra_layer.toml", "parameters.W3: unknown key (did you mean 'W2'?); allowed here: W1, b1, W2, b2"),
    ("W_lowercase.toml", "parameters.w1: unknown key (did you mean 'W1'?); allowed here: W1, b1, W2, b2"),
    ("weight_text.toml", "parameters.W1[0][1]: column 2: write decimals with a point (0.20), not a comma"),
    ("weight_nan.toml", "parameters.W2[1][0]: expected a finite number, got NaN"),
    ("weight_inf.toml", "parameters.W2[1][1]: expected a finite number, got -infinity"),
    ("weight_bool.toml", "parameters.b1[1]: expected a number, got a boolean (true)"),
    ("weight_huge.toml", "parameters.b1[0]: the number 1E+400 is too large or too small (keep exponents within 1e±300)"),
    ("weight_date.toml", "parameters.b1[0]: expected a number, got a date"),
    ("weight_long.toml", "parameters.b1[0]: the number 0.33333333333333333333333333333333333... has more than 1000 digits"),
    # data
    ("inputs_width.toml", "data.inputs[0]: expected 2 numbers (one per input unit), got 3"),
    ("targets_width.toml", "data.targets[0]: expected 2 numbers (one per output unit), got 1"),
    ("targets_count.toml", "data.targets: expected 2 rows, one per input row, got 1"),
    ("inputs_empty.toml", "data.inputs: expected a list of rows, one per sample, each of 2 numbers (one per input unit), got an empty list"),
    ("inputs_missing.toml", "data.inputs: missing key (one row of 2 numbers per sample, one per input unit)"),
    ("inputs_text.toml", "data.inputs: expected a list of rows, one per sample, each of 2 numbers (one per input unit), got text '0.05 0.10'"),
    ("inputs_flat_width.toml", "data.inputs: expected 2 numbers (one per input unit), got 1"),
    ("targets_mixed_rows.toml", "data.targets[1]: expected a row of 2 numbers (one per output unit), got the number 0.5"),
    # training
    ("learning_rate_missing.toml", "training.learning_rate: missing key (the step size of gradient descent, for example learning_rate = 0.5)"),
    ("learning_rate_zero.toml", "training.learning_rate: must be positive, got 0"),
    ("learning_rate_negative.toml", "training.learning_rate: must be positive, got -0.5"),
    ("learning_rate_text.toml", "training.learning_rate: column 1: unknown name 'half'; a number is expected here, not a name"),
    ("steps_zero.toml", "training.steps: expected a whole number of at least 1, got the number 0"),
    ("steps_fraction.toml", "training.steps: expected a whole number of at least 1, got the number 1.5"),
    ("steps_huge.toml", "training.steps: 10000000 steps is more than derive runs (at most 1000000)"),
    ("update_biases_text.toml", "training.update_biases: expected true or false, got text 'yes'"),
    # title
    ("title_number.toml", "title: expected text, got the number 42"),
    ("title_newline.toml", "title: contains a control or invalid character ('\\n') at position 15; a title is one line of text"),
    ("title_too_long.toml", "title: is longer than 500 characters"),
    ("title_surrogate.json", "title: contains a control or invalid character ('\\ud800') at position 16; a title is one line of text"),
    ("key_with_line_break.json", "\"ti\\ntle\": unknown section (did you mean 'title'?); allowed: title, network, parameters, data, training, document"),
    # files that are not spec files
    ("does_not_exist.toml", "no such file"),
    ("missing_folder/net.toml", "no such file"),
    ("mazurr", "no such file or built-in example (did you mean 'mazur'?); `derive presets` lists the examples"),
    ("../broken", "is a directory, not a spec file"),
]


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """derive's command line in this process: (exit code, stdout, stderr)."""
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name, message", CATALOGUE, ids=[name for name, _ in CATALOGUE])
def test_broken_spec_gives_its_one_line(name, message, tmp_path, monkeypatch, capsys):
    """Each broken spec: exit code 2, exactly its message on stderr, nothing on stdout, no output folder."""
    monkeypatch.chdir(BROKEN)
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(["solve", name, "--out", str(out)], capsys)
    assert (code, stdout, stderr) == (2, "", f"derive: error: {name}: {message}\n")
    assert not out.exists()


def test_catalogue_covers_every_file_in_tests_broken():
    """No file in tests/broken/ is left without its expected message, and no name is listed twice."""
    listed = [name for name, _ in CATALOGUE]
    assert len(listed) == len(set(listed))
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(n for n in listed if (BROKEN / n).is_file())


def test_catalogue_size():
    """The issue asks for a catalogue of at least 40 broken inputs."""
    assert len(CATALOGUE) >= 40


@pytest.mark.parametrize("name", ["W_rows.toml", "binary.toml", "nested_too_deeply.json", "does_not_exist.toml"])
def test_real_process_exits_2_without_traceback(name, tmp_path):
    """`python -m derive solve` as a student runs it: exit 2, one line, no traceback, nothing written."""
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "derive", "solve", name, "--out", str(out)],
        cwd=BROKEN, env=env, capture_output=True, text=True, timeout=120,
    )
    expected = dict(CATALOGUE)[name]
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"derive: error: {name}: {expected}\n")
    assert not out.exists()


def test_file_name_with_a_line_break(tmp_path, monkeypatch, capsys):
    """A file name with a line break is shown escaped, so the message stays one line."""
    monkeypatch.chdir(tmp_path)
    odd = "net\nwork.toml"
    Path(odd).write_text("[network]\nsizes = [0]\n")
    code, _, stderr = run_cli(["solve", odd, "--out", "out"], capsys)
    assert code == 2
    assert stderr == "derive: error: net\\nwork.toml: network.sizes: expected at least two layer sizes (the input and the output layer), got 1\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    """A file without read permission is named with the system's reason."""
    path = tmp_path / "secret.toml"
    path.write_text("title = 'x'\n")
    path.chmod(0)
    with pytest.raises(DeriveError, match=r"secret.toml: cannot be read \(Permission denied\)$"):
        load(path)


def test_empty_name(capsys):
    """An empty SPEC argument (an unset shell variable) is named as '' rather than left blank."""
    code, _, stderr = run_cli(["solve", ""], capsys)
    assert (code, stderr) == (2, "derive: error: '': no spec file given; name a TOML or JSON file or a built-in example "
                                 "(`derive presets` lists them)\n")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_device_is_refused_not_read_forever():
    """A file that never ends is refused after the size limit instead of filling the memory."""
    with pytest.raises(DeriveError, match=r"^/dev/zero: is larger than 50 MB; a spec file is a few kilobytes$"):
        load("/dev/zero")


def test_file_name_too_long():
    """A name the system refuses is a clean error, not an OSError."""
    with pytest.raises(DeriveError, match=r": cannot be read \(File name too long\)$"):
        load("x" * 5000 + ".toml")


# --out and --format problems: a valid spec, a bad option; fast with --format json
OPTION_CASES = [
    # (extra arguments, start of the message after "derive: error: ")
    (["--format", "nope"], "--format: unknown format 'nope'"),
    (["--format", "jsno"], "--format: unknown format 'jsno' (did you mean 'json'?)"),
    (["--format", "json", "--out", "{file}"], "{file}: "),
    (["--format", "json", "--out", "{file}/inside"], "{file}/inside: "),
]


@pytest.mark.parametrize("extra, start", OPTION_CASES)
def test_bad_options_exit_2_with_one_line(extra, start, tmp_path, monkeypatch, capsys):
    """Bad --format or --out: exit 2, one line naming the option or folder, the existing file untouched."""
    monkeypatch.chdir(tmp_path)
    Path("a_file").write_text("keep me")
    extra = [arg.format(file="a_file") for arg in extra]
    code, stdout, stderr = run_cli(["solve", "mazur", *extra], capsys)
    assert code == 2
    assert stderr.startswith("derive: error: " + start.format(file="a_file"))
    assert stderr.count("\n") == 1 and stderr.endswith("\n")
    assert stdout == ""
    assert sorted(os.listdir()) == ["a_file"] and Path("a_file").read_text() == "keep me"


# Valid variants a student may well write: each must load as the mazur preset does
MAZUR = (ROOT / "derive" / "presets" / "mazur.toml").read_text(encoding="utf-8")
MAZUR_JSON = """{"title": "A step-by-step backpropagation example",
 "network": {"sizes": [2, 2, 2], "activations": "sigmoid", "loss": "half_sse"},
 "parameters": {"W1": [[0.15, 0.20], [0.25, 0.30]], "b1": [0.35, 0.35], "W2": [[0.40, 0.45], [0.50, 0.55]], "b2": [0.60, 0.60]},
 "data": {"inputs": [0.05, 0.10], "targets": [0.01, 0.99]},
 "training": {"learning_rate": 0.5, "update_biases": false}}
"""
ACCEPTED = [
    ("net.toml", MAZUR.encode()),
    ("bom.toml", b"\xef\xbb\xbf" + MAZUR.encode()),  # Notepad's byte order mark
    ("crlf.toml", MAZUR.replace("\n", "\r\n").encode()),
    ("net.json", MAZUR_JSON.encode()),
    ("bom.json", b"\xef\xbb\xbf" + MAZUR_JSON.encode()),
    ("no_suffix", MAZUR_JSON.encode()),  # JSON recognised by its opening brace
    ("net.txt", MAZUR.encode()),
    ("quoted.toml", MAZUR.replace("learning_rate = 0.5", 'learning_rate = "0.5"').replace("0.20]", '"0.20"]').encode()),
    ("constants.toml", MAZUR.replace("learning_rate = 0.5", 'learning_rate = "1/2"').replace("0.20]", '"1/5"]').encode()),
]


@pytest.mark.parametrize("name, content", ACCEPTED, ids=[name for name, _ in ACCEPTED])
def test_valid_variants_load_as_the_preset(name, content, tmp_path):
    """BOM, CRLF, JSON, a flat one-sample list, one activation for all layers: the same network as the preset."""
    path = tmp_path / name
    path.write_bytes(content)
    spec, preset = load(path), load("mazur")
    fields = ("title", "sizes", "activations", "loss", "weight_layout", "weights", "biases",
              "inputs", "targets", "learning_rate", "update_biases", "steps")
    assert {f: getattr(spec, f) for f in fields} == {f: getattr(preset, f) for f in fields}


@pytest.mark.parametrize("name", ["...toml", "..json"])
def test_dotted_file_name_stays_inside_outputs(name, tmp_path, monkeypatch, capsys):
    """A spec named '...toml' (stem '..') writes to outputs/network/, not to outputs/.. = the current folder."""
    monkeypatch.chdir(tmp_path)
    Path(name).write_bytes(MAZUR.encode() if name.endswith("toml") else MAZUR_JSON.encode())
    code, stdout, _ = run_cli(["solve", name, "--format", "json"], capsys)
    assert (code, stdout) == (0, "outputs/network/solution.json\n")
    assert sorted(os.listdir()) == sorted([name, "outputs"])


def test_presets_still_load():
    """Every built-in example is a valid spec."""
    assert [load(name).name for name in preset_names()] == preset_names()


SUGGESTIONS = [
    ("ReLU", ["sigmoid", "tanh", "relu", "identity"], " (did you mean 'relu'?)"),
    ("half-sse", ["half_sse", "sse", "mse"], " (did you mean 'half_sse'?)"),
    ("sigmoind", ["sigmoid", "tanh", "relu", "identity"], " (did you mean 'sigmoid'?)"),
    ("softmax", ["sigmoid", "tanh", "relu", "identity"], ""),
    ("", ["mse"], ""),
    ("m" * 1000, ["mse"], ""),
]


@pytest.mark.parametrize("word, choices, hint", SUGGESTIONS)
def test_suggestion(word, choices, hint):
    """The nearest valid name, ignoring case and dashes; nothing when nothing is near."""
    assert suggestion(word, choices) == hint


@pytest.mark.parametrize(
    "text, shown",
    [("plain", "plain"), ("a\nb", "a\\nb"), ("tab\there", "tab\\there"), ("\x1b[31m", "\\x1b[31m"),
     ("\ud800", "\\ud800"), ("é ü", "é ü")],
)
def test_printable(text, shown):
    """Control characters and lone surrogates are escaped; letters of any language are kept."""
    assert printable(text) == shown
    assert str(DeriveError(text, "problem")) == f"{shown}: problem"


def test_spec_text_is_never_evaluated(monkeypatch, tmp_path):
    """Solving a spec whose title is Python and SymPy code never hands it to eval, exec, sympify or parse_expr."""
    import sympy.parsing.sympy_parser as sympy_parser

    from derive.core.solve import solve
    from derive.io.export import to_json

    marker = "__import__('os').system('touch PWNED') or x + y"
    seen = []

    def recording(real):
        def wrapper(source, *args, **kwargs):
            seen.append(str(source))
            return real(source, *args, **kwargs)
        return wrapper

    monkeypatch.setattr(sympy_parser, "parse_expr", recording(sympy_parser.parse_expr))
    monkeypatch.setattr(builtins, "eval", recording(builtins.eval))
    monkeypatch.setattr(builtins, "exec", recording(builtins.exec))
    text = MAZUR.replace('title = "A step-by-step backpropagation example"', f'title = "{marker}"')
    monkeypatch.chdir(tmp_path)
    spec = parse(text, "evil.toml")
    assert spec.title == marker
    to_json(solve(spec))
    assert not [s for s in seen if "PWNED" in s]
    assert not (tmp_path / "PWNED").exists()
