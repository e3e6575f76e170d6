"""Every scalar of a solution by its printed name, with its exact value: the data the JSON, keys and checks read."""

from __future__ import annotations

from derive.core.optimizers import LINE_QUANTITY, PARAMETER_LINES


def quantities(solution) -> dict:
    """Every scalar of the worked solution by its printed name, exact values, in reading order.

    Names follow :mod:`derive.core.notation` in the spec's own scheme (``solution.notation``), never
    the notation the documents are written in: the data is the same whatever ``--notation``.
    Forward pass, loss, backward pass (per unit: dE/dout, the paths through the layer above
    for hidden units, dout/dnet, delta), then per parameter: its value, d net/d parameter,
    per-sample contributions when there are several samples, the gradient and the updated value.
    """
    s, n, r = solution.spec, solution.notation, solution.first
    L, N = s.layers, s.batch
    q = {}
    for smp in range(N):
        for i in range(s.sizes[0]):
            q[n.input(smp, i).text] = r.out[0][smp][i]
        for k in range(s.sizes[-1]):
            q[n.target(smp, k).text] = s.targets[smp][k]
    names = {}  # (l, j, i) -> the parameter's Name (i None for the bias), made once
    for l in range(1, L + 1):
        for j in range(s.sizes[l]):
            for i in range(s.sizes[l - 1]):
                name = names[l, j, i] = n.weight(l, j, i)
                q[name.text] = r.weights[l][j][i]
            name = names[l, j, None] = n.bias(l, j)
            q[name.text] = r.biases[l][j]
    for smp in range(N):
        for l in range(1, L + 1):
            for j in range(s.sizes[l]):
                q[n.net(l, smp, j).text] = r.net[l][smp][j]
                q[n.out(l, smp, j).text] = r.out[l][smp][j]
    for smp in range(N):
        for k in range(s.sizes[-1]):
            q[n.error(smp, k).text] = r.errors[smp][k]
        if N > 1:
            q[n.sample_loss(smp).text] = r.sample_losses[smp]
    q[n.loss().text] = r.loss
    for l in range(L, 0, -1):
        for smp in range(N):
            top = n.sample_loss(smp)
            if r.jacobian[l] is not None:
                _softmax_quantities(q, n, r, l, smp, s.sizes[l])
                continue
            for j in range(s.sizes[l]):
                out = n.out(l, smp, j)
                if l < L:
                    for k in range(s.sizes[l + 1]):
                        q[n.path(l, smp, j, k).text] = r.delta[l + 1][smp][k] * r.weights[l + 1][k][j]
                q[n.derivative(top, out).text] = r.dE_dout[l][smp][j]
                q[n.derivative(out, n.net(l, smp, j)).text] = r.dout_dnet[l][smp][j]
                q[n.delta(l, smp, j).text] = r.delta[l][smp][j]
        # the names of a parameter's derivatives are made as text alone: a large network has many
        d_loss = n.derivative_prefix(n.loss())
        d_samples = [n.derivative_prefix(n.sample_loss(smp)) for smp in range(N)]
        for j in range(s.sizes[l]):
            d_nets = [n.derivative_prefix(n.net(l, smp, j)) for smp in range(N)]
            for i in list(range(s.sizes[l - 1])) + [None]:
                p = names[l, j, i].text
                for smp in range(N):
                    q[d_nets[smp] + p] = r.out[l - 1][smp][i] if i is not None else 1
                    if N > 1:
                        q[d_samples[smp] + p] = r.delta[l][smp][j] * (r.out[l - 1][smp][i] if i is not None else 1)
                q[d_loss + p] = r.grad_W[l][j][i] if i is not None else r.grad_b[l][j]
                if i is not None:
                    q[n.updated_text(p)] = r.new_weights[l][j][i]
                elif s.update_biases:
                    q[n.updated_text(p)] = r.new_biases[l][j]
    if solution.trajectory is not None:
        q.update(optimizer_quantities(solution))
    return q


def optimizer_quantities(solution) -> dict:
    """Each recorded step's optimizer values by name: ``dE_dw5[2]`` (the mini-batch's gradient), ``gtotal_w5[2]``
    (with the L2 penalty's term), ``g_w5[2]`` (with the weight decay added), the state after the step
    (``m_w5[2]``, ``v_w5[2]``, ``b_w5[2]``, ...), the bias-corrected moments (``m_hat_w5[2]``) and the
    parameter after the step (``w5[2]``); ``w5[0]`` is the starting value. The names of
    :data:`derive.core.optimizers.LINE_QUANTITY`.
    """
    n, trajectory = solution.notation, solution.trajectory
    q = {}
    names = {}
    for key, update in (trajectory.steps[0].updates.items() if trajectory.steps else ()):
        kind, l, j, i = key
        names[key] = (n.weight(l, j, i) if kind == "W" else n.bias(l, j)).text
        q[f"{names[key]}[0]"] = update.old
    for step in trajectory.steps:
        t = step.t
        for key, update in step.updates.items():
            p = names[key]
            q[f"dE_d{p}[{t}]"] = update.gradient
            for line in update.lines:
                if line.key in LINE_QUANTITY:
                    q[f"{LINE_QUANTITY[line.key]}_{p}[{t}]"] = line.value
                elif line.key in PARAMETER_LINES:
                    q[f"{p}[{t}]"] = line.value
    return q


def _softmax_quantities(q: dict, n, r, l: int, smp: int, K: int):
    """A softmax layer's backward step: each dE/dout, the Jacobian d out_k/d net_j, each delta."""
    top = n.sample_loss(smp)
    for k in range(K):
        q[n.derivative(top, n.out(l, smp, k)).text] = r.dE_dout[l][smp][k]
    for j in range(K):
        for k in range(K):
            q[n.derivative(n.out(l, smp, k), n.net(l, smp, j)).text] = r.jacobian[l][smp][k][j]
    for j in range(K):
        q[n.delta(l, smp, j).text] = r.delta[l][smp][j]
