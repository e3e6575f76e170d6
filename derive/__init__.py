"""derive: exact, step-by-step worked solutions of a small neural network's training step.

>>> import derive
>>> solution = derive.solve("mazur")          # a preset name or a spec file
>>> round(float(solution.first.loss), 9)
0.298371109
>>> text = solution.markdown()                # or .latex(), .json(), .write("folder")

In Jupyter, a Solution displays itself as its worked solution.

The package is layered; each layer imports only from the layers below it:
``derive`` (this public API, the command line) → ``exercises`` → ``grading`` →
``formats`` → ``documents`` → ``io`` → ``core``, with ``derive.errors`` beneath them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from derive import lazy
from derive.errors import DeriveError

if TYPE_CHECKING:
    from derive.core.spec import NetworkSpec

__version__ = "0.1.0"

#: the public API's modules, imported on first use: ``python -m derive`` imports this package
#: before the command line, which loads only what its subcommand needs
LAZY_MODULES = {
    "spec": "derive.core.spec",
    "versions": "derive.core.versions",
    "solution": "derive.formats.solution",
    "check": "derive.grading.check",
    "torchio": "derive.io.torchio",
}
_modules = lazy.Modules(LAZY_MODULES)
#: public names and the module (in LAZY_MODULES) each comes from
_NAMES = {"NetworkSpec": "spec", "preset_names": "spec", "load": "versions", "Solution": "solution",
          "solve": "solution", "check_data": "check", "check_file": "check"}
__getattr__ = lazy.attributes(_modules, _NAMES, __name__)


def __dir__():
    return sorted(set(globals()) | set(_NAMES))


def from_torch(model, inputs, targets, loss="mse", lr=None, update_biases: bool = True, steps: int = 1,
               title: str = "A PyTorch model", optimizer=None, training: dict | None = None) -> NetworkSpec:
    """A spec from a PyTorch nn.Sequential of Linear layers and activations, and optionally its
    torch.optim optimizer (``optimizer=torch.optim.Adam(model.parameters(), lr=0.1)``); see derive.io.torchio."""
    return _modules.torchio.from_torch(model, inputs, targets, loss, lr, update_biases, steps, title, optimizer, training)


def to_torch(spec, dtype=None, optimizer: bool = False):
    """The spec (a NetworkSpec, file or preset) as (nn.Sequential, inputs, targets, loss), float64 by default;
    with ``optimizer=True`` also the spec's torch.optim optimizer over the model's parameters."""
    spec = spec if isinstance(spec, _modules.spec.NetworkSpec) else _modules.versions.load(spec)
    return _modules.torchio.to_torch(spec, dtype, optimizer)


def check(spec, answers):
    """Check answers against a spec or preset; return the report (see derive.grading.check).

    ``answers`` is an answers file (TOML or JSON) or a mapping from names to numbers
    (int, float, Decimal, Fraction), nested lists, NumPy arrays or PyTorch tensors, flat or
    nested: ``{"out_o1": 0.7514, "gradients.W1": w1_grad}`` or
    ``{"gradients": {"W1": w1_grad, "b1": b1_grad}}``; a bias may be a row or a column.
    """
    if isinstance(answers, Mapping):
        return _modules.check.check_data(spec, answers)
    return _modules.check.check_file(spec, answers)


__all__ = ["DeriveError", "NetworkSpec", "Solution", "check", "from_torch", "load", "preset_names", "solve",
           "to_torch", "__version__"]
