"""derive: exact, step-by-step worked solutions of a small neural network's training step.

>>> import derive
>>> solution = derive.solve("mazur")          # a preset name or a spec file
>>> round(float(solution.first.loss), 9)
0.298371109
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import DeriveError  # noqa: E402
from .spec import NetworkSpec, load, preset_names  # noqa: E402


def solve(spec, notation: str | None = None):
    """Solve a spec (a NetworkSpec, a spec file path or a preset name); return a Solution."""
    from .solve import solve as _solve

    if not isinstance(spec, NetworkSpec):
        spec = load(spec)
    return _solve(spec, notation=notation)


__all__ = ["DeriveError", "NetworkSpec", "load", "preset_names", "solve", "__version__"]
