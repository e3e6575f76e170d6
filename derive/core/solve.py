"""Train a spec for its SGD steps and gather everything a worked solution shows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from derive.core import backprop, training, verify
from derive.core.backprop import Pass, Rules
from derive.core.conventions import get as get_convention
from derive.core.derivation import Derivation
from derive.core.graph import Graph
from derive.core.notation import Notation, document_notation
from derive.core.quantities import quantities
from derive.core.spec import NetworkSpec
from derive.core.versions import load


@dataclass(frozen=True)
class Solution:
    """A solved network: the first step in full, every later step's loss, the final parameters.

    ``first`` holds every number of the first forward pass, backward pass and
    update; ``history`` the loss before the first step and after every step;
    ``final_weights``/``final_biases`` the parameters after the last step (indexed
    by layer from 1, as in :class:`derive.core.backprop.Pass`).

    Two notations: ``notation`` names the data (``quantities``, the JSON, the
    answers a check reads), always the spec's own scheme; ``document_notation``
    ('units', 'layered' or 'matrix') is how the documents write the solution, and
    ``document_names``/``document_graph``/``document_derivation`` are the names,
    symbols and chain-rule records they print (the data's own when the schemes agree).
    """

    spec: NetworkSpec
    notation: Notation
    rules: Rules
    first: Pass
    history: tuple
    final_weights: tuple
    final_biases: tuple
    verification: verify.Verification
    document_notation: str = ""  # '' for the naming scheme of the data
    #: the textbook convention the documents speak (derive.core.conventions); '' for derive's own names
    convention: str = ""
    #: what the optimizer did (derive.core.training.Trajectory), or None for plain gradient descent on the batch
    trajectory: object = None

    @cached_property
    def graph(self) -> Graph:
        """The symbolic graph in the data's names (symbols are made as they are asked for)."""
        return Graph(self.spec, self.notation)

    @cached_property
    def derivation(self) -> Derivation:
        """The chain-rule records of the first step, in the data's names."""
        return Derivation(self.graph, self.first, self.rules.lift(self.spec.targets))

    @property
    def matrix_form(self) -> bool:
        """True when the documents are asked to write the solution with vectors and matrices."""
        return self.document_notation == "matrix"

    @cached_property
    def document_names(self) -> Notation:
        """The scalar names the documents print."""
        if self.document_notation in ("", self.notation.scheme) and not self.convention:
            return self.notation
        return Notation.for_document(self.spec, self.document_notation or self.notation.scheme,
                                     self.convention or None)

    @cached_property
    def document_graph(self) -> Graph:
        """The symbolic graph the documents print (the data's own when the names agree)."""
        return self.graph if self.document_names == self.notation else Graph(self.spec, self.document_names)

    @cached_property
    def document_derivation(self) -> Derivation:
        """The chain-rule records the documents print, checked against the sweep as they are built."""
        if self.document_graph is self.graph:
            return self.derivation
        return Derivation(self.document_graph, self.first, self.rules.lift(self.spec.targets))

    def in_notation(self, notation: str | None, convention: str | None = None) -> "Solution":
        """The same solution with its documents written in another notation (units, layered, matrix) or a
        textbook's convention (derive.core.conventions)."""
        other = replace(self, document_notation=document_notation(self.spec, notation),
                        convention=self.convention if convention is None else convention)
        for cached in ("graph", "derivation"):  # the data's records are the same; keep what was built
            if cached in self.__dict__:
                object.__setattr__(other, cached, self.__dict__[cached])
        return other

    @property
    def exact(self) -> bool:
        """True when every value is an exact rational."""
        return self.rules.exact

    @property
    def quantities(self) -> dict:
        """Every scalar of the worked solution by name (exact values); see derive.core.quantities."""
        return quantities(self)

    def __repr__(self) -> str:
        s = self.spec
        return (f"<Solution {s.name!r}: {'-'.join(map(str, s.sizes))} network, loss {float(self.first.loss):.9g}, "
                f"{s.steps} step{'s' if s.steps > 1 else ''}>")


def solve(spec, notation: str | None = None, progress=None, verify_symbolic: bool = True,
          convention: str | None = None) -> Solution:
    """Solve a spec: forward, backward and update for every step, checked against the direct derivative.

    ``spec`` is a NetworkSpec, a spec file path or a preset name.
    ``notation`` is how the documents write it: 'units' (the blog's names, one hidden
    layer), 'layered' (z, a with layer superscripts) or 'matrix' (vectors and matrices
    with the numbers put in); by default the spec's naming scheme. The names of the
    data (``quantities``, the JSON) are always the spec's own, whatever ``notation``;
    ``convention`` names the quantities in the documents as a textbook does (``han``,
    ``mitchell``, ``hagan``, ``nielsen``, ``deeplearning-ai``, ``pytorch``, ``blog``; see
    derive.core.conventions); by default the spec's ``[document] convention``.
    ``progress`` is called as ``progress(done, total)`` after each step.
    Raises :class:`derive.core.derivation.ChainRuleMismatch` if any check fails.
    """
    if not isinstance(spec, NetworkSpec):
        spec = load(spec)
    names = Notation.for_spec(spec)
    documents = document_notation(spec, notation)
    if convention is not None:
        get_convention(convention, "--convention")
    convention = spec.convention if convention is None else convention
    trajectory = None
    if spec.training.plain:
        rules = Rules.for_spec(spec)
        first = backprop.run(spec, rules)
        history = [first.loss]
        weights, biases = first.new_weights, first.new_biases
        for step in range(2, spec.steps + 1):
            current = backprop.run(spec, rules, weights, biases, certify=False)
            history.append(current.loss)
            weights, biases = current.new_weights, current.new_biases
            if progress:
                progress(step, spec.steps)
        *_, final_loss = backprop.forward(spec, rules, weights, biases)
        history.append(final_loss)
    else:
        # another optimizer, a penalty or mini-batches: the first step's worked solution is its mini-batch's
        trained = training.train(spec, progress)
        spec, rules, first, history = trained.spec, trained.rules, trained.first, trained.history
        weights, biases, trajectory = trained.final_weights, trained.final_biases, trained.trajectory
    derivation = Derivation(Graph(spec, names), first, rules.lift(spec.targets)) if verify_symbolic else None
    checked = verify.check(spec, rules, first, derivation)
    solution = Solution(spec, names, rules, first, tuple(history), weights, biases, checked, documents,
                        "" if convention == "blog" and names.units else convention, trajectory)
    if derivation is not None:
        # keep the records already built by the symbolic check
        object.__setattr__(solution, "graph", derivation.graph)
        object.__setattr__(solution, "derivation", derivation)
    return solution
