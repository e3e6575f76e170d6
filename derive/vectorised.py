"""The vectorised worked solution of a large network: the matrix form, every entry in tables, a few derivations in full.

It follows the first source document's own form (``x @ w1 + b1``; the delta vector;
the outer product ``x^T delta``) and writes the ReLU mask on the pre-activation,
where it belongs. The scalar derivations of the parameters chosen with ``detail``
are written out exactly as for a small network.
"""

from __future__ import annotations

import math

from .document import M, P, Section, Table
from .errors import DeriveError, suggestion

COLUMNS_PER_TABLE = 6


class VectorWriter:
    """Sections of the vectorised form, drawing on a worked.Writer for numbers and scalar blocks."""

    def __init__(self, writer):
        self.w = writer
        self.spec = writer.spec
        self.n = writer.n
        self.run = writer.run
        self.detail = self.chosen(writer.detail)

    # -- which parameters are written out in full --------------------------------------
    def parameter_names(self) -> dict:
        names = {}
        for l in range(1, self.spec.layers + 1):
            for j in range(self.spec.sizes[l]):
                for i in range(self.spec.sizes[l - 1]):
                    names[self.n.weight(l, j, i).text] = ("W", l, j, i)
                names[self.n.bias(l, j).text] = ("b", l, j, None)
        return names

    def default_detail(self) -> list[tuple]:
        """The output layer's first weight and bias; a weight into an active and an inactive hidden unit."""
        spec, run = self.spec, self.run
        L = spec.layers
        active = [j for j in range(spec.sizes[L - 1]) if run.dout_dnet[L - 1][0][j] != 0] if L > 1 else []
        chosen = [("W", L, 0, active[0] if active else 0), ("b", L, 0, None)]
        for l in range(L - 1, 0, -1):
            live = [j for j in range(spec.sizes[l]) if run.dout_dnet[l][0][j] != 0]
            dead = [j for j in range(spec.sizes[l]) if run.dout_dnet[l][0][j] == 0]
            for group in (live, dead):
                if group:
                    chosen.append(("W", l, group[0], 0))
        return chosen

    def chosen(self, detail) -> list[tuple]:
        if detail is None:
            return self.default_detail()
        names = self.parameter_names()
        if detail.strip() == "all":
            return list(names.values())
        if detail.strip() == "none":
            return []
        out = []
        for word in (w.strip() for w in detail.split(",") if w.strip()):
            if word not in names:
                raise DeriveError("--detail", f"unknown parameter '{word}'{suggestion(word, names)}")
            out.append(names[word])
        return out

    # -- tables ------------------------------------------------------------------------
    def matrix_tables(self, caption: str, matrix, row_label, col_label) -> list[Table]:
        """A matrix as tables of at most COLUMNS_PER_TABLE columns, so that each fits the page."""
        rows, cols = len(matrix), len(matrix[0])
        chunks = math.ceil(cols / COLUMNS_PER_TABLE)
        width = math.ceil(cols / chunks)
        tables = []
        for start in range(0, cols, width):
            stop = min(cols, start + width)
            corner = M(r"j \backslash i") if self.spec.weight_layout == "out_in" else M(r"i \backslash j")
            header = (corner,) + tuple(M(col_label(c)) for c in range(start, stop))
            body = tuple((row_label(r),) + tuple(self.w.num(matrix[r][c]) for c in range(start, stop))
                         for r in range(rows))
            part = f", columns {start + 1} to {stop}" if chunks > 1 else ""
            tables.append(Table(header, body, ("math",) * (stop - start + 1), "l" + "r" * (stop - start),
                                caption + part))
        return tables

    def in_layout(self, matrix):
        """A (out x in) matrix in the spec's layout, with the spec's row/column labels."""
        if self.spec.weight_layout == "out_in":
            return matrix
        return tuple(zip(*matrix))

    def weight_tables(self, caption: str, l: int, matrix) -> list[Table]:
        """A weight-shaped matrix of layer l in the spec's layout, rows and columns labelled by unit number."""
        m = self.in_layout(matrix)
        below = "input" if l == 1 else f"unit of layer {l - 1}"
        if self.spec.weight_layout == "out_in":
            caption += f" (row j: unit j of layer {l}; column i: {below} i)"
        else:
            caption += f" (row i: {below} i; column j: unit j of layer {l})"
        index = lambda k: str(k + 1)
        return self.matrix_tables(caption, m, index, index)

    def unit_table(self, l: int, columns: list[tuple], caption: str) -> Table:
        """One row per unit of layer l; columns are (header, values[s][j]) pairs."""
        spec = self.spec
        header, kinds, body = ["unit"], ["text"], []
        for title, _ in columns:
            for s in range(spec.batch):
                suffix = rf"\;(n = {s + 1})" if spec.batch > 1 else ""
                header.append(M(title + suffix))
                kinds.append("math")
        for j in range(spec.sizes[l]):
            row = [str(j + 1)]
            for _, values in columns:
                row += [self.w.num(values[s][j]) for s in range(spec.batch)]
            body.append(tuple(row))
        return Table(tuple(header), tuple(body), tuple(kinds), "r" * len(header), caption)

    def bias_table(self, caption: str, l: int, values, header: str) -> Table:
        return Table(("unit", M(header)), tuple((str(j + 1), self.w.num(values[j])) for j in range(self.spec.sizes[l])),
                     ("text", "math"), "rr", caption)

    def starting_tables(self) -> list:
        """The starting weights and biases, every entry."""
        blocks = []
        for l in range(1, self.spec.layers + 1):
            blocks += self.weight_tables(f"Starting weights W{l}", l, self.run.weights[l])
            blocks.append(self.bias_table(f"Starting biases b{l}", l, self.run.biases[l], f"b^{{[{l}]}}_j"))
        return blocks

    # -- the sections --------------------------------------------------------------------
    def formulas(self, l: int) -> dict:
        """Matrix formulas of layer l in the spec's layout."""
        sup = f"^{{[{l}]}}"
        prev = "x" if l == 1 else f"a^{{[{l - 1}]}}"
        mean = r"\tfrac{1}{N}\," if self.spec.batch > 1 and self.w.g.batch_weight != 1 else ""
        if self.spec.weight_layout == "in_out":
            return {
                "net": rf"z{sup} = {prev}\, W{sup} + b{sup}",
                "grad": rf"\partial E/\partial W{sup} = {mean}{{{prev}}}^{{\top}} \delta{sup}",
                "back": rf"\partial E/\partial a{sup} = \delta^{{[{l + 1}]}} (W^{{[{l + 1}]}})^{{\top}}",
            }
        return {
            "net": rf"z{sup} = W{sup} {prev} + b{sup}",
            "grad": rf"\partial E/\partial W{sup} = {mean}\delta{sup} {{{prev}}}^{{\top}}",
            "back": rf"\partial E/\partial a{sup} = (W^{{[{l + 1}]}})^{{\top}} \delta^{{[{l + 1}]}}",
        }

    def sections(self) -> list[Section]:
        return [self.forward(), self.w.loss_section(), self.backward(), self.details(), self.update()]

    def forward(self) -> Section:
        spec, run = self.spec, self.run
        layout = ("rows are samples, as in the source document's x @ W" if spec.weight_layout == "in_out"
                  else "columns are samples, W is (out x in)")
        blocks = [P(f"The forward pass in matrix form ({layout}); every entry is in the table.")]
        for l in range(1, spec.layers + 1):
            act = self.w.g.activation(l)
            f = act.latex.format(rf"z^{{[{l}]}}")
            inner = [P(M(self.formulas(l)["net"]), ", ", M(rf"a^{{[{l}]}} = {f}"), " elementwise.")]
            inner.append(self.unit_table(l, [(f"z^{{[{l}]}}_j", run.net[l]), (f"a^{{[{l}]}}_j", run.out[l])],
                                         f"Net inputs and outputs of {self.n.layer_name(l)}"))
            if act.name == "relu":
                dead = [str(j + 1) for j in range(spec.sizes[l]) if all(run.net[l][s][j] <= 0 for s in range(spec.batch))]
                if dead:
                    inner.append(P(f"Units {', '.join(dead)} have a negative net input: ReLU sets their output to 0, "
                                   "and they pass no gradient back (see the backward pass)."))
            units = sorted({key[2] for key in self.detail if key[1] == l})
            if units:
                inner.append(P("Written out for the units whose derivations follow in full:"))
                for j in units:
                    inner += [self.w.net_chain(l, 0, j), self.w.out_chain(l, 0, j)]
            blocks.append(Section(self.w.layer_title(l), 2, tuple(inner)))
        return Section("Forward pass", 1, tuple(blocks), "forward")

    def backward(self) -> Section:
        spec, run, n = self.spec, self.run, self.n
        L = spec.layers
        blocks = [P(
            "The backward pass in matrix form. ", M(r"\delta^{[l]} = \partial E/\partial z^{[l]}"),
            " is the vector of the units' deltas; ", M(r"\odot"), " multiplies entry by entry.",
        )]
        for l in range(L, 0, -1):
            act = self.w.g.activation(l)
            fprime = act.derivative_latex.format(rf"z^{{[{l}]}}")
            inner = []
            if l == L and act.name == "identity":
                inner.append(P(M(rf"\delta^{{[{l}]}} = \partial E/\partial a^{{[{l}]}}"),
                               " (the identity's derivative is 1), with ", M(rf"\partial E/\partial a^{{[{l}]}}"),
                               " from the loss:"))
            elif l == L:
                inner.append(P(M(rf"\delta^{{[{l}]}} = \partial E/\partial a^{{[{l}]}} \odot {fprime}"),
                               ", with ", M(rf"\partial E/\partial a^{{[{l}]}}"), " from the loss:"))
            else:
                inner.append(P(M(self.formulas(l)["back"]), " (every path through the layer above), then ",
                               M(rf"\delta^{{[{l}]}} = \partial E/\partial a^{{[{l}]}} \odot {fprime}"), "."))
            if act.name == "relu":
                inner.append(P(
                    "The ReLU derivative is the mask ", M(rf"[z^{{[{l}]}} > 0]"),
                    " on the net input (0 at exactly 0, as in PyTorch). A mask that tests the output for being "
                    "negative, as the manual backward pass of the first source document does after the ReLU, "
                    "is never true, since ", M(r"a = \max(0, z) \ge 0"),
                    ": it masks nothing, and every inactive unit wrongly passes gradient back.",
                ))
            inner.append(self.unit_table(l, [
                (rf"\partial E/\partial a^{{[{l}]}}_j", run.dE_dout[l]),
                (act.derivative_latex.format(f"z^{{[{l}]}}_j") if act.name != "identity" else f"f'(z^{{[{l}]}}_j)",
                 run.dout_dnet[l]),
                (rf"\delta^{{[{l}]}}_j", run.delta[l]),
            ], f"The deltas of {n.layer_name(l)}"))
            inner.append(P(M(self.formulas(l)["grad"]), " and ",
                           M(rf"\partial E/\partial b^{{[{l}]}} = " + (r"\tfrac{1}{N}\sum_n " if spec.batch > 1 and self.w.g.batch_weight != 1 else "")
                             + rf"\delta^{{[{l}]}}"), ":"))
            prev = "x" if l == 1 else f"a^{{[{l - 1}]}}"
            inner.append(P(
                "This is an outer product: entry ", M("(i, j)") if spec.weight_layout == "in_out" else M("(j, i)"),
                " is ", M(rf"{prev}_i \, \delta^{{[{l}]}}_j"), (", summed over the samples" if spec.batch > 1 else ""),
                f", a {spec.sizes[l - 1]} x {spec.sizes[l]} matrix in the layout of W{l}" if spec.weight_layout == "in_out"
                else f", a {spec.sizes[l]} x {spec.sizes[l - 1]} matrix in the layout of W{l}",
                (". The columns of inactive units are zero." if act.name == "relu" and spec.weight_layout == "in_out"
                 else ". The rows of inactive units are zero." if act.name == "relu" else "."),
            ))
            inner += self.weight_tables(f"Gradient with respect to W{l}", l, run.grad_W[l])
            inner.append(self.bias_table(f"Gradient with respect to b{l}", l, run.grad_b[l],
                                         rf"\partial E/\partial b^{{[{l}]}}_j"))
            blocks.append(Section(self.w.layer_title(l), 2, tuple(inner)))
        return Section("Backward pass", 1, tuple(blocks), "backward")

    def details(self) -> Section:
        hidden = "the hidden layer" if self.spec.layers == 2 else "each hidden layer"
        blocks = [P(
            "The same numbers, derived factor by factor for ",
            "the parameters chosen with the detail option." if self.w.detail else
            f"a few parameters: in the output layer a weight and the bias, and in {hidden} a weight into "
            "an active and into an inactive unit (the detail option chooses others).",
        )]
        if not self.detail:
            blocks.append(P("No parameter was chosen."))
        done_units = set()
        for kind, l, j, i in self.detail:
            name = self.n.weight(l, j, i) if kind == "W" else self.n.bias(l, j)
            inner = []
            for s in range(self.spec.batch):
                if (l, s, j) not in done_units:
                    inner += self.w.unit_blocks(l, s, j)
                    done_units.add((l, s, j))
            inner += self.w.gradient_blocks(kind, l, j, i)
            if kind == "W" or self.spec.update_biases:
                inner.append(self.w.update_chain(kind, l, j, i))
            blocks.append(Section(f"The parameter {name.text.replace('_', ' ')}", 2, tuple(inner)))
        return Section("Selected derivations in full", 1, tuple(blocks), "details")

    def update(self) -> Section:
        spec, run = self.spec, self.run
        blocks = [P("Each parameter moves against its gradient: ",
                    M(r"W^{+} = W - \eta\, \partial E/\partial W"), ", with ",
                    M(r"\eta = " + self.w.num(spec.learning_rate)), ".")]
        for l in range(spec.layers, 0, -1):
            blocks += self.weight_tables(f"W{l} after the update", l, run.new_weights[l])
            if spec.update_biases:
                blocks.append(self.bias_table(f"b{l} after the update", l, run.new_biases[l], f"b^{{[{l}]+}}_j"))
        if not spec.update_biases:
            blocks.append(P("The biases keep their values: this convention does not update them."))
        blocks.append(self.w.after_step())
        return Section("Update", 1, tuple(blocks), "update")
