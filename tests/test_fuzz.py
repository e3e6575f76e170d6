"""Fuzzing the spec loader for a fixed time: whatever the bytes, only a spec or a DeriveError comes out."""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

from randomnet import spec_text

from derive.core.spec import PRESET_DIR, parse
from derive.errors import DeriveError

SECONDS = float(os.environ.get("DERIVE_FUZZ_SECONDS", "10"))
SEED = os.environ.get("DERIVE_FUZZ_SEED", "derive-fuzz-1")  # case i is random.Random(f"{SEED}/{i}"): reproducible

TOKENS = [
    b"[", b"]", b"[[", b"]]", b"{", b"}", b"=", b":", b'"', b"'", b'"""', b",", b".", b"-", b"\n", b"#", b" ",
    b"nan", b"inf", b"-inf", b"+inf", b"NaN", b"Infinity", b"-Infinity", b"null", b"true", b"false",
    b"0", b"-0", b"-1", b"2.5", b"1e400", b"1e-400", b"0e-999", b"1e999999999999999999999", b"0x1F", b"1_000",
    b"9" * 5000, b"0." + b"3" * 2000, b"2024-01-31", b"07:30:00", b"1979-05-27T07:32:00Z",
    b"\\u0000", b"\\ud800", b"\\n", b'\\"', b"\x00", b"\x7f", b"\xff", b"\xc3\x28", b"\xef\xbb\xbf", b"\t", b"\r\n",
    b"[network]", b"[parameters]", b"[data]", b"[training]", b"[[data]]", b"[network.sizes]",
    b"sizes = ", b"activations = ", b'"relu"', b'"ReLU"', b"loss = ", b'"mse"', b"weight_layout = ", b'"in_out"',
    b"W1 = ", b"b1 = ", b"W9 = ", b"inputs = ", b"targets = ", b"learning_rate = ", b"steps = ", b"title = ",
    b"[" * 3000, b"{\"a\": " * 3000, b"a.b.c.d = 1", b'"" = 1',
]


def corpus() -> tuple[list[bytes], list[bytes]]:
    """Real spec text to mutate: valid (the presets, random networks as TOML and JSON) and the broken catalogue."""
    texts = [p.read_bytes() for p in sorted(PRESET_DIR.glob("*.toml"))]
    for seed in range(6):
        text = spec_text(seed)
        texts.append(text.encode())
        spec = parse(text, "x.toml")  # and the same network as JSON
        texts.append(json.dumps({
            "title": spec.title,
            "network": {"sizes": list(spec.sizes), "activations": list(spec.activations), "loss": spec.loss},
            "parameters": {key: [[float(v) for v in row] for row in w] if key[0] == "W" else [float(v) for v in w]
                           for l, (w, b) in enumerate(zip(spec.weights, spec.biases), 1) for key, w in ((f"W{l}", w), (f"b{l}", b))},
            "data": {"inputs": [[float(v) for v in row] for row in spec.inputs],
                     "targets": [[float(v) for v in row] for row in spec.targets]},
            "training": {"learning_rate": float(spec.learning_rate), "steps": spec.steps},
        }, indent=1).encode())
    folder = Path(__file__).parent / "broken"
    broken = [p.read_bytes() for p in sorted(folder.iterdir()) if p.stat().st_size < 20_000]
    return texts, broken


def mutate(rng: random.Random, data: bytes, texts: list[bytes]) -> bytes:
    """A few edits of the kinds a hand-edited file suffers, and some it never would; mostly one, to get past the syntax."""
    for _ in range(rng.choice([1, 1, 1, 1, 2, 2, 3, 6])):
        at = rng.randint(0, len(data))
        end = min(len(data), at + rng.randint(1, 40))
        edit = rng.randrange(7)
        if edit == 0 and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
        elif edit == 1:
            data = data[:at] + rng.choice(TOKENS) + data[at:]
        elif edit == 2:
            data = data[:at] + data[end:]
        elif edit == 3:  # a span copied elsewhere: duplicate keys, sections, brackets
            span = data[at:end]
            to = rng.randint(0, len(data))
            data = data[:to] + span + data[to:]
        elif edit == 4:
            data = data[:at] + rng.randbytes(rng.randint(1, 8)) + data[at:]
        elif edit == 5:  # the head of one spec, the tail of another
            other = rng.choice(texts)
            data = data[:at] + other[rng.randint(0, len(other)) :]
        else:
            data = data[:at]
    return data


def case(i: int, valid: list[bytes], broken: list[bytes]) -> tuple[bytes, str | None]:
    """Input number i: random bytes now and then, mostly a mutated real spec; read as TOML, JSON or by sniffing."""
    rng = random.Random(f"{SEED}/{i}")
    texts = valid + broken
    if rng.random() < 0.1:
        data = rng.randbytes(rng.randint(0, 300))
    else:
        data = mutate(rng, rng.choice(valid if rng.random() < 0.6 else broken), texts)
    return data, rng.choice([None, None, None, "toml", "json"])  # None: sniffed, as for a file without a suffix


def test_fuzz_the_spec_loader_for_a_fixed_time():
    """For SECONDS, every input gives a spec or one printable line of DeriveError; nothing else escapes."""
    valid, broken = corpus()
    deadline = time.monotonic() + SECONDS
    count, accepted, keys = 0, 0, set()
    limit = sys.getrecursionlimit()
    while time.monotonic() < deadline:
        data, kind = case(count, valid, broken)
        try:
            parse(data, "fuzz.spec", kind)
            accepted += 1
        except DeriveError as error:
            message = str(error)
            assert message.isprintable(), f"case {count} (seed {SEED!r}): unprintable message {message!r}"
            message.encode("utf-8")
            keys.add(message.split(": ")[1].split("[")[0])  # the key, or the start of a syntax error
        except Exception as error:  # noqa: BLE001 - the point of the test
            raise AssertionError(
                f"case {count} (seed {SEED!r}, kind {kind}): {type(error).__name__}: {error}; input {data[:300]!r}"
            ) from error
        assert sys.getrecursionlimit() == limit
        count += 1
    print(f"fuzzed {count} inputs in {SECONDS:g} s: {accepted} accepted, {len(keys)} different keys named")
    # the fuzzer must get past the syntax checks into every section, or it tests little
    assert count >= 200 and accepted > 0
    assert {"network.sizes", "network.activations", "parameters.W1", "data.inputs", "training.learning_rate"} <= keys
