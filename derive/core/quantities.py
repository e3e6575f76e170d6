"""Every scalar of a solution by its printed name, with its exact value: the data the JSON, keys and checks read."""

from __future__ import annotations


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
        loss = n.loss()
        sample_losses = [n.sample_loss(smp) for smp in range(N)]
        for j in range(s.sizes[l]):
            nets = [n.net(l, smp, j) for smp in range(N)]
            for i in list(range(s.sizes[l - 1])) + [None]:
                p = names[l, j, i]
                for smp in range(N):
                    q[n.derivative(nets[smp], p).text] = r.out[l - 1][smp][i] if i is not None else 1
                    if N > 1:
                        q[n.derivative(sample_losses[smp], p).text] = (
                            r.delta[l][smp][j] * (r.out[l - 1][smp][i] if i is not None else 1)
                        )
                q[n.derivative(loss, p).text] = r.grad_W[l][j][i] if i is not None else r.grad_b[l][j]
                if i is not None:
                    q[n.updated(p).text] = r.new_weights[l][j][i]
                elif s.update_biases:
                    q[n.updated(p).text] = r.new_biases[l][j]
    if solution.trajectory is not None:
        q.update(optimizer_quantities(solution))
    return q


#: a line of an update whose value is a named quantity: its prefix in ``m_hat_w5[1]``
LINE_NAMES = {"l2": "g", "decay": "g", "nesterov": "g_nesterov", "m_hat": "m_hat", "v_hat": "v_hat"}


def optimizer_quantities(solution) -> dict:
    """Each recorded step's optimizer values by name: ``g_w5[2]`` (the gradient the step uses, with the
    L2 term or the weight decay added), the state after the step (``m_w5[2]``, ``v_w5[2]``), the bias-corrected
    moments (``m_hat_w5[2]``) and the parameter after the step (``w5[2]``); ``w5[0]`` is the starting value.
    """
    n, trajectory = solution.notation, solution.trajectory
    q = {}
    names = {}
    for key in next(iter(trajectory.steps)).updates if trajectory.steps else ():
        kind, l, j, i = key
        names[key] = (n.weight(l, j, i) if kind == "W" else n.bias(l, j)).text
        q[f"{names[key]}[0]"] = next(iter(trajectory.steps)).updates[key].old
    for step in trajectory.steps:
        t = step.t
        for key, update in step.updates.items():
            p = names[key]
            q[f"dE_d{p}[{t}]"] = update.gradient
            for line in update.lines:
                name = LINE_NAMES.get(line.key)
                if name:
                    q[f"{name}_{p}[{t}]"] = line.value
            for state, value in update.after.items():
                q[f"{state}_{p}[{t}]"] = value
            q[f"{p}[{t}]"] = update.new
    return q

