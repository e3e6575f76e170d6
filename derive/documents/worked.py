"""The worked solution as a document: what a lecturer writes, step by step, with every number.

Small networks get every scalar written out, the way the blog does it: the general
formula, the numbers put in, the value (derive.documents.scalar). Large ones (more
than 6 units in a layer or more than 60 parameters) get the vectorised form the
first source document uses, every entry in tables, and full scalar derivations for
a chosen subset (the option ``detail``). The matrix notation writes any network in
that form, with the matrices and their numbers typeset where they fit
(derive.documents.matrix). Both forms read one :class:`Context`; this module only
puts their sections in order.
"""

from __future__ import annotations

from derive.core import functions as fn
from derive.core.solve import Solution
from derive.documents import network, optimizer, summary
from derive.documents.context import Context, in_matrix_form
from derive.documents.handout import tables_appendix
from derive.documents.matrix import backward as matrix_backward
from derive.documents.matrix import book as matrix_book
from derive.documents.matrix import forward as matrix_forward
from derive.documents.matrix import loss as matrix_loss
from derive.documents.matrix import network as matrix_network
from derive.documents.matrix import tables as matrix_tables
from derive.documents.matrix import update as matrix_update
from derive.documents.matrix.context import MatrixContext
from derive.documents.metadata import document_metadata
from derive.documents.model import Document, P, Section
from derive.documents.options import Options
from derive.documents.scalar import backward, forward, update


def context(solution: Solution, options: Options = Options()) -> Context:
    """The context a solution's documents are written from: a matrix context when it is written in matrix form."""
    return (MatrixContext if in_matrix_form(solution) else Context)(solution, options)


def sections(ctx: Context) -> list[Section]:
    """The derivation's sections: forward pass, loss, backward pass (selected derivations) and update."""
    if isinstance(ctx, MatrixContext):
        return matrix_book.sections(ctx, [matrix_forward.section(ctx), matrix_loss.section(ctx),
                                          matrix_backward.section(ctx), matrix_update.details(ctx),
                                          matrix_update.section(ctx)])
    return [forward.section(ctx), forward.loss_section(ctx), backward.section(ctx), update.section(ctx)]


def network_section(ctx: Context) -> Section:
    """The network, its task and its starting numbers, as the form writes them (matrices or tables)."""
    if isinstance(ctx, MatrixContext):
        return matrix_book.network(ctx, network.section(ctx, matrix_network.layout_blocks(ctx),
                                                         matrix_network.parameters(ctx)))
    return network.section(ctx, network.weight_indices(ctx), [network.parameter_table(ctx), network.data_table(ctx)])


def subtitle(ctx: Context) -> str:
    """The network in one line: sizes, activations, loss and learning rate."""
    spec = ctx.spec
    return (f"{'-'.join(map(str, spec.sizes))} network, {' / '.join(fn.ACTIVATIONS[a].title for a in spec.activations)} activations, "
            f"{fn.LOSSES[spec.loss].title}, learning rate {ctx.num(spec.learning_rate)}")


def build(solution: Solution, options: Options = Options()) -> Document:
    """The worked solution of a solved network as a document model."""
    ctx = context(solution, options)
    parts = [network_section(ctx), *sections(ctx)]
    table = summary.summary(ctx)
    if table is not None:
        parts.append(table)
    if ctx.spec.steps > 1:
        parts.append(summary.history(ctx))
    parts = optimizer.sections(ctx, parts)  # another optimizer's update and loss history
    if ctx.spec.notes:  # the spec's remarks: why a source's printed figures differ from these
        parts.append(Section("Notes", 1, tuple(P(note) for note in ctx.spec.notes), "notes"))
    if isinstance(ctx, MatrixContext):  # a large network as a handout: its big tables in an appendix
        parts = tables_appendix(parts, matrix_tables.appendix_lead(ctx))
    if options.verification:
        parts.append(summary.checked(ctx))
    return Document(ctx.spec.title, subtitle(ctx), tuple(parts), document_metadata(ctx.spec, options.metadata))
