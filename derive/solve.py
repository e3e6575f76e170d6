"""Train a spec for its SGD steps and gather everything a worked solution shows."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from . import backprop, verify
from .backprop import Pass, Rules
from .derivation import Derivation
from .graph import Graph
from .notation import Notation
from .spec import NetworkSpec


@dataclass(frozen=True)
class Solution:
    """A solved network: the first step in full, every later step's loss, the final parameters.

    ``first`` holds every number of the first forward pass, backward pass and
    update; ``history`` the loss before the first step and after every step;
    ``final_weights``/``final_biases`` the parameters after the last step (indexed
    by layer from 1, as in :class:`derive.backprop.Pass`).
    """

    spec: NetworkSpec
    notation: Notation
    rules: Rules
    first: Pass
    history: tuple
    final_weights: tuple
    final_biases: tuple
    verification: verify.Verification

    @cached_property
    def graph(self) -> Graph:
        """The symbolic graph (symbols are made as the documents ask for them)."""
        return Graph(self.spec, self.notation)

    @cached_property
    def derivation(self) -> Derivation:
        """The chain-rule records of the first step."""
        return Derivation(self.graph, self.first, self.rules.lift(self.spec.targets))

    @property
    def exact(self) -> bool:
        """True when every value is an exact rational."""
        return self.rules.exact

    @property
    def quantities(self) -> dict:
        """Every scalar of the worked solution by name (exact values); see derive.export.quantities."""
        from .export import quantities

        return quantities(self)

    def markdown(self, digits: int = 9, detail: str | None = None) -> str:
        """The worked solution as Markdown text (with $...$ mathematics)."""
        from .files import solution_files

        return solution_files(self, ("md",), digits, detail)["solution.md"]

    def latex(self, digits: int = 9, detail: str | None = None) -> str:
        """The worked solution as a complete LaTeX document."""
        from .files import solution_files

        return solution_files(self, ("tex",), digits, detail)["solution.tex"]

    def json(self) -> str:
        """The numbers as JSON text (see the README)."""
        from .export import to_json

        return to_json(self)

    def write(self, folder, formats=("md", "tex", "pdf", "json"), digits: int = 9, detail: str | None = None):
        """Write the worked solution's files into ``folder`` (all or nothing); return their paths."""
        from pathlib import Path

        from .files import solution_files
        from .writer import write_files

        return write_files(folder, solution_files(self, tuple(formats), digits, detail, Path(folder)))

    def _repr_markdown_(self) -> str:
        """Jupyter shows a solution as its worked solution (the diagram is a separate file, so it is left out)."""
        text = self.markdown()
        return "\n".join(line for line in text.splitlines() if not line.startswith("![The network"))

    def __repr__(self) -> str:
        s = self.spec
        return (f"<Solution {s.name!r}: {'-'.join(map(str, s.sizes))} network, loss {float(self.first.loss):.9g}, "
                f"{s.steps} step{'s' if s.steps > 1 else ''}>")


def solve(spec, notation: str | None = None, progress=None, verify_symbolic: bool = True) -> Solution:
    """Solve a spec: forward, backward and update for every step, checked against the direct derivative.

    ``spec`` is a NetworkSpec, a spec file path or a preset name.
    ``notation`` overrides the spec's naming scheme ('units' or 'layered');
    ``progress`` is called as ``progress(done, total)`` after each step.
    Raises :class:`derive.derivation.ChainRuleMismatch` if any check fails.
    """
    if not isinstance(spec, NetworkSpec):
        from .spec import load

        spec = load(spec)
    names = Notation.for_spec(spec, notation)
    rules = Rules.for_spec(spec)
    first = backprop.run(spec, rules)
    history = [first.loss]
    weights, biases = first.new_weights, first.new_biases
    for step in range(2, spec.steps + 1):
        current = backprop.run(spec, rules, weights, biases)
        history.append(current.loss)
        weights, biases = current.new_weights, current.new_biases
        if progress:
            progress(step, spec.steps)
    *_, final_loss = backprop.forward(spec, rules, weights, biases)
    history.append(final_loss)
    derivation = Derivation(Graph(spec, names), first, rules.lift(spec.targets)) if verify_symbolic else None
    checked = verify.check(spec, rules, first, derivation)
    solution = Solution(spec, names, rules, first, tuple(history), weights, biases, checked)
    if derivation is not None:
        # keep the records already built by the symbolic check
        object.__setattr__(solution, "graph", derivation.graph)
        object.__setattr__(solution, "derivation", derivation)
    return solution
