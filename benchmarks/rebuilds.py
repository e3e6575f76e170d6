"""How often the chain-rule records are built for one network's documents (issue 13: "cache what is rebuilt").

    python3 benchmarks/rebuilds.py [PRESET ...]     # default: mazur mlp-relu softmax-ce

For each preset, ``derive solve`` (Markdown, LaTeX, JSON) and ``derive slides`` (HTML)
are run, and for each command the work of the derivation is counted: how many times a
parameter's gradient record was built (``Derivation.gradient`` did its work, not a
cache lookup), how many factors were evaluated and checked against the sweep
(``Derivation._term``), and how many parameters the network has. Wall time of each
command (in this process, after the first import) is printed beside it.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive.cli import main  # noqa: E402
from derive.core import derivation  # noqa: E402
from derive.core.versions import load  # noqa: E402

COUNTS = Counter()


def counted(name: str, method):
    """The method, counting the calls that do its work (a cached record is returned before _term runs)."""

    def wrapper(self, *args, **kwargs):
        COUNTS[name] += 1
        return method(self, *args, **kwargs)

    return wrapper


def _built_gradient(method):
    """Count a gradient as built when its record was not already cached."""

    def wrapper(self, kind, l, j, i=None):
        cache = getattr(self, "_gradients", None)
        if cache is None or (kind, l, j, i if kind == "W" else None) not in cache:
            COUNTS["gradient records built"] += 1
        COUNTS["gradient records asked for"] += 1
        return method(self, kind, l, j, i)

    return wrapper


derivation.Derivation.gradient = _built_gradient(derivation.Derivation.gradient)
derivation.Derivation._term = counted("factors evaluated", derivation.Derivation._term)


COMMANDS = (("solve", "--format", "md,tex,json"), ("slides", "--format", "revealjs"))


def measure(preset: str) -> None:
    print(f"{preset} ({load(preset).parameter_count} parameters)")
    for command, *options in COMMANDS:
        COUNTS.clear()
        with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()):
            start = time.perf_counter()
            assert main([command, preset, *options, "--out", out]) == 0
            seconds = time.perf_counter() - start
        print(f"  derive {command}: " + ", ".join(f"{name} {count}" for name, count in sorted(COUNTS.items()))
              + f"; {seconds:.2f} s")


if __name__ == "__main__":
    for name in sys.argv[1:] or ["mazur", "mlp-relu", "softmax-ce"]:
        measure(name)
