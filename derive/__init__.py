"""derive: exact, step-by-step worked solutions of a small neural network's training step.

>>> import derive
>>> solution = derive.solve("mazur")          # a preset name or a spec file
>>> round(float(solution.first.loss), 9)
0.298371109
>>> text = solution.markdown()                # or .latex(), .json(), .write("folder")

In Jupyter, a Solution displays itself as its worked solution.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

from .errors import DeriveError  # noqa: E402
from .spec import NetworkSpec, load, preset_names  # noqa: E402

# the function shadows the module of the same name as an attribute of the package;
# `from derive.solve import Solution` still finds the module
from .solve import solve  # noqa: E402

# loaded now, so that the module does not replace the function check() below when it is first imported
import_module(".check", __name__)


def from_torch(model, inputs, targets, loss="mse", lr=0.1, update_biases: bool = True, steps: int = 1,
               title: str = "A PyTorch model") -> NetworkSpec:
    """A spec from a PyTorch nn.Sequential of Linear layers and activations (see derive.torchio)."""
    from .torchio import from_torch as _from_torch

    return _from_torch(model, inputs, targets, loss, lr, update_biases, steps, title)


def to_torch(spec, dtype=None):
    """The spec (a NetworkSpec, file or preset) as (nn.Sequential, inputs, targets, loss), float64 by default."""
    from .torchio import to_torch as _to_torch

    return _to_torch(spec if isinstance(spec, NetworkSpec) else load(spec), dtype)


def check(spec, answers):
    """Check answers against a spec or preset; return the report (see derive.check).

    ``answers`` is an answers file (TOML or JSON) or a mapping from names to numbers,
    nested lists or tensors: ``{"out_o1": 0.7514, "gradients.W1": w1_grad}``.
    """
    from collections.abc import Mapping

    from .check import check_file, check_text

    if isinstance(answers, Mapping):
        import json

        plain = lambda v: v.detach().cpu().tolist() if hasattr(v, "detach") else v.tolist() if hasattr(v, "tolist") else v
        return check_text(spec, json.dumps({name: plain(v) for name, v in answers.items()}), "json")
    return check_file(spec, answers)


__all__ = ["DeriveError", "NetworkSpec", "check", "from_torch", "load", "preset_names", "solve", "to_torch",
           "__version__"]
