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

# the function shadows the module of the same name as an attribute of the package;
# `from derive.solve import Solution` still finds the module
from .solve import solve  # noqa: E402


__all__ = ["DeriveError", "NetworkSpec", "load", "preset_names", "solve", "__version__"]
