"""The optimizer's step in a worked solution: state before, every line of the update with the numbers put in,
state after, tables of state for every parameter, and the loss over the steps.

Called from the writers at one place each (:func:`sections` replaces the plain update, and the
rate sentence and update chains come from here when the spec trains with another optimizer, an
L2 penalty or mini-batches). The formulas are the registry's (:data:`derive.core.optimizers.FORMULAS`).
"""

from __future__ import annotations

from derive.core.optimizers import FORMULAS, OPTIMIZERS, STATE_NAMES
from derive.documents.model import Chain, M, P, Plot, Section, Table, downsample
from derive.documents.printing import column

#: steps written out line by line (the rest are in the tables and the loss history)
STEPS_IN_FULL = 2
#: parameters written out line by line per step; the state tables list every one
PARAMETERS_IN_FULL = 12
#: significant digits in the state tables (six columns of numbers fit a page)
TABLE_DIGITS = 7

_WORDS = {
    "sgd": "Plain gradient descent moves each parameter against its gradient.",
    "momentum": "Momentum keeps a velocity, a running sum of past gradients, and moves each parameter along it: "
                "steps in a direction the gradients agree on grow, and steps that change sign damp out.",
    "nesterov": "Nesterov momentum keeps the same velocity as momentum, but moves along the gradient plus the "
                "momentum times the new velocity: a look at where the velocity is about to carry the parameter.",
    "rmsprop": "RMSprop divides each gradient by the root of a running mean of its squares, so that every "
               "parameter moves by a similar amount whatever the size of its gradient.",
    "adam": "Adam keeps two running means per parameter, of the gradients (the first moment m) and of their "
            "squares (the second moment v). Both start at 0, which pulls the early means towards 0; dividing "
            "them by one minus beta to the power t undoes that (the bias correction). The step is the corrected "
            "first moment over the root of the corrected second moment, with epsilon added outside the root.",
    "adamw": "AdamW is Adam with decoupled weight decay: the parameter itself shrinks by a factor "
             "1 - eta lambda before the step, and the gradient the moments see is the loss's own.",
    "adagrad": "Adagrad divides each gradient by the root of the sum of all its squares so far: a parameter "
               "that has had large gradients takes ever smaller steps.",
}
_FORMS = {
    "mitchell": "The velocity is written as Mitchell writes it, the change of the weight itself: "
                "Delta w(t) = -eta dE/dw + alpha Delta w(t - 1), w+ = w + Delta w(t). This gives the same "
                "weights as PyTorch's form, b_t = mu b_(t-1) + g_t with w+ = w - eta b_t, whose velocity is "
                "-Delta w / eta.",
    "sutskever": "Nesterov momentum is written in its classical form, as Sutskever et al. (2013) and most "
                 "textbooks write it: the gradient is taken at the look-ahead point w~ = w + mu v_(t-1), then "
                 "v_t = mu v_(t-1) - eta g_t and w+ = w + v_t. PyTorch writes it differently, b_t = mu b_(t-1) + g_t "
                 "and w+ = w - eta (g_t + mu b_t) with the gradient taken at w itself. The two are the same method "
                 "only under a change of variables: PyTorch's parameter is the classical look-ahead point, "
                 "w + mu v, and its b is -v / eta. Their weights differ from the first step on (here the first "
                 "step is w - eta g, PyTorch's is w - eta (1 + mu) g); the gradients are taken at the same points.",
}


def active(solution) -> bool:
    """True when the solution trains with something other than plain gradient descent on the whole batch."""
    return getattr(solution, "trajectory", None) is not None


def _name(w, key):
    kind, l, j, i = key
    return w.n.weight(l, j, i) if kind == "W" else w.n.bias(l, j)


def _paren(text: str) -> str:
    return rf"\left({text}\right)" if text.startswith("-") else text


def _fill(template: str, values: dict) -> str:
    """Put the printed values into a template's {p}, {0}, {1}, ... (LaTeX's own braces are left alone)."""
    out = template
    for key, text in values.items():
        out = out.replace("{" + key + "}", text)
    return out


def _number(w, value) -> str:
    return str(value) if isinstance(value, int) else w.num(value)


def at_step(latex: str, t: int) -> str:
    """A general formula at step ``t``: m_{t-1} becomes m_{1}, beta^{t} beta^{2}, Delta w(t - 1) Delta w(1)."""
    for general, number in (("_{t-1}", f"_{{{t - 1}}}"), ("_{t}", f"_{{{t}}}"), ("^{t}", f"^{{{t}}}"),
                            ("(t-1)", f"({t - 1})"), ("(t)", f"({t})"), ("(t - 1)", f"({t} - 1)")):
        latex = latex.replace(general, number)
    return latex


def line_rows(w, key, line, t: int) -> tuple:
    """One line of an update: symbol = general formula at step t = the numbers put in (=/~) the value."""
    symbol, general, numbers = FORMULAS[line.key]
    p = _name(w, key).latex
    lhs = at_step(_fill(symbol, {"p": p}), t)
    args = {str(k): (_number(w, a) if k == 0 and numbers.startswith("{0}") else _paren(_number(w, a)))
            for k, a in enumerate(line.args)}
    general = at_step(_fill(general, {"p": p}), t)
    return w.chain(lhs, line.value, general if general != lhs else "", _fill(numbers, args)).rows


def line_chain(w, key, line, t: int) -> Chain:
    return Chain(line_rows(w, key, line, t))


def rate_sentence(w):
    """The optimizer, its hyper-parameters, the penalty and the mini-batches, in one paragraph."""
    trajectory = w.s.trajectory
    plan = trajectory.training
    settings = plan.settings  # exact values for printing
    entry = OPTIMIZERS[settings.optimizer]
    parts = [f"Training uses {entry.title} with learning rate ", M(r"\eta = " + w.num(w.spec.learning_rate))]
    shown = [h for h in entry.hyper if h.kind != "bool" and (settings[h.key] or h.key != "weight_decay")]
    for h in shown:
        parts += [", ", M(f"{h.symbol} = {w.num(settings[h.key])}")]
    flags = [h.key for h in entry.hyper if h.kind == "bool" and settings[h.key]]
    if flags:
        parts.append(f" ({', '.join(flags)})")
    parts.append("; biases are updated too." if w.spec.update_biases else "; biases are not updated.")
    return P(*parts)


def _regularisation(w) -> list:
    plan = w.s.trajectory.training
    settings = plan.settings
    blocks = []
    which = "every weight and bias" if plan.decay_biases else "every weight (the biases are left out)"
    if plan.l2:
        blocks.append(P(
            "The loss has an L2 penalty on ", which, ": ",
            M(r"E_{\mathrm{total}} = E + \frac{\lambda_{2}}{2} \sum p^{2}"), " with ",
            M(r"\lambda_{2} = " + w.num(plan.l2)), ". Its derivative is its own term in every gradient: ",
            M(r"g = \partial E/\partial p + \lambda_{2} \, p"), ".",
        ))
    decay = settings.get("weight_decay")
    if decay and settings.optimizer == "adamw":
        blocks.append(P(
            "Weight decay is decoupled from the gradient: each parameter first shrinks, ",
            M(r"p \leftarrow p - \eta \lambda \, p"), ", with ", M(r"\lambda = " + w.num(decay)),
            " on ", which, "; the moments see the loss's own gradient. Unlike an L2 penalty in the loss, this "
            "shrinking is not divided by the root of the second moment.",
        ))
    elif decay:
        blocks.append(P(
            "Weight decay ", M(r"\lambda = " + w.num(decay)), " is added to the gradient of ", which, " before "
            "the optimizer sees it, ", M(r"g_{t} = \partial E/\partial p + \lambda \, p"),
            ": the same as an L2 penalty with that lambda in the loss.",
        ))
    return blocks


def _batches(w) -> list:
    trajectory = w.s.trajectory
    batches = trajectory.batches
    if len(batches) == 1 and len(batches[0]) == trajectory.spec.batch:
        return []
    listed = "; ".join(f"{k + 1}: sample{'s' if len(b) > 1 else ''} {', '.join(str(s + 1) for s in b)}"
                       for k, b in enumerate(batches))
    online = trajectory.training.mode == "online"
    return [P(
        "The parameters are updated after every sample (online training), " if online else
        f"Each step takes one mini-batch of {max(len(b) for b in batches)} sample(s), ",
        "in this order (then from the start again): ", listed, ". The forward and backward passes above are "
        "those of the first step's ", "sample" if online else "mini-batch",
        "; the loss of a mini-batch is the loss over its own samples.",
    )]


def _state_line(w, key, state: dict, t: int) -> list:
    """The state as a list of 'm_{t} = value' (the parameter is named in the sentence around it)."""
    if not state:
        return []
    parts = []
    for name, value in state.items():
        symbol = STATE_NAMES[name][1]
        parts.append(rf"{symbol}_{{{t}}} {w.rel(value)} {w.num(value)}")
    return parts


def _parameter_blocks(w, step, key) -> list:
    update = step.updates[key]
    name = _name(w, key)
    blocks = []
    before = _state_line(w, key, update.before, step.t - 1)
    gradient = rf"\partial E/\partial {name.latex} {w.rel(update.gradient)} {w.num(update.gradient)}"
    if not update.lines or update.lines[0].key not in ("l2", "decay"):
        gradient = rf"g_{{{step.t}}} = " + gradient  # the gradient the optimizer uses is the loss's own
    where = " the gradient is "
    if update.lines and update.lines[0].key == "lookahead":
        where = f" the gradient at the look-ahead point {'(here the parameter itself) ' if step.t == 1 else ''}is "
        gradient = gradient.replace(rf"\partial {name.latex}", rf"\partial \tilde{{{name.latex}}}_{{{step.t}}}")
    lead = ["For ", M(rf"{name.latex} {w.rel(update.old)} {w.num(update.old)}"), where, M(gradient)]
    if before:
        lead += ["; the state before the step is ", M(r",\quad ".join(before))]
    blocks.append(P(*lead, ":"))
    rows = ()
    for line in update.lines:
        rows += line_rows(w, key, line, step.t)
    blocks.append(Chain(rows))
    return blocks


def update_chains(w) -> list:
    """The first step's lines for a weight of the output layer and one of the first layer (the slides' update
    frames; the worked solution has every parameter)."""
    trajectory = w.s.trajectory
    if not trajectory.steps:
        return []
    step = trajectory.steps[0]
    chains = []
    keys = list(step.updates)
    shown = dict.fromkeys([keys[0]] + [k for k in keys if k[0] == "W" and k[1] == 1][:1])
    for key in shown:
        chains += [line_chain(w, key, line, step.t) for line in step.updates[key].lines]
    return chains


def _rule(w) -> list:
    """The update rule in general: each line's symbol and formula, as the first step writes them."""
    trajectory = w.s.trajectory
    if not trajectory.steps:
        return []
    seen, rows = set(), []
    for step in trajectory.steps[:2]:
        update = next(iter(step.updates.values()), None)
        if update is None:
            continue
        for line in update.lines:
            if line.key in seen:
                continue
            seen.add(line.key)
            symbol, general, _ = FORMULAS[line.key]
            if symbol != general:
                rows.append((_fill(symbol, {"p": "p"}), "=", _fill(general, {"p": "p"})))
    return [Chain(tuple(rows))] if rows else []


def _state_table(w, step) -> Table:
    names = list(next(iter(step.updates.values())).after) if step.updates else []
    header = ("parameter", "before", M(r"\partial E/\partial p"), *(M(STATE_NAMES[n][1] + f"_{{{step.t}}}")
                                                                   for n in names), "after")
    updates = list(step.updates.items())
    columns = [[u.old for _, u in updates], [u.gradient for _, u in updates],
               *([u.after[n] for _, u in updates] for n in names), [u.new for _, u in updates]]
    # one number format per column, so that the decimal points line up
    printed = [[s.latex for s in column(values, min(w.digits, TABLE_DIGITS))] for values in columns]
    rows = [(_name(w, key).latex, *cells) for (key, _), *cells in zip(updates, *printed)]
    return Table(header, tuple(rows), ("math",) * len(header), "l" + "r" * (len(header) - 1),
                 f"Every parameter in step {step.t}" + (f" (samples {', '.join(str(s + 1) for s in step.samples)})"
                                                        if len(w.s.trajectory.batches) > 1 else ""))


def update_section(w) -> Section:
    """The optimizer's update: the rule, then each of the first steps parameter by parameter, then the tables."""
    trajectory = w.s.trajectory
    settings = trajectory.training.settings
    entry = OPTIMIZERS[settings.optimizer]
    blocks = [P(_WORDS[settings.optimizer]), rate_sentence(w)]
    if settings.form in _FORMS:
        blocks.append(P(_FORMS[settings.form]))
    blocks += _regularisation(w)
    blocks += _batches(w)
    blocks.append(P("For each parameter p, step t (from 1) computes, in this order:"))
    blocks += _rule(w)
    if entry.state(settings):
        blocks.append(P("Every state variable starts at ",
                        M(w.num(trajectory.training.settings.get("initial_accumulator_value", 0))), "."))
    inner = []
    for step in trajectory.steps[:STEPS_IN_FULL]:
        parameters = []
        keys = list(step.updates)
        for key in keys[:PARAMETERS_IN_FULL]:
            parameters += _parameter_blocks(w, step, key)
        if len(keys) > PARAMETERS_IN_FULL:
            parameters.append(P(f"The other {len(keys) - PARAMETERS_IN_FULL} parameters follow the same lines; "
                                "the table lists them all."))
        parameters.append(_state_table(w, step))
        loss = w.n.loss().latex
        parameters.append(P(f"The loss of step {step.t}'s samples before the step: ",
                            M(rf"{loss} {w.rel(step.loss)} {w.num(step.loss)}"), "."))
        inner.append(Section(f"Step {step.t}", 2, tuple(parameters)))
    if not w.spec.update_biases:
        blocks.append(P("The biases keep their values: they are not updated."))
    h = w.s.history
    E = w.n.loss().latex
    inner.append(Section("After the steps", 2, (P(
        "With the updated parameters the loss over every sample is ", M(rf"{E} {w.rel(h[-1])} {w.num(h[-1])}"),
        ", from ", M(w.num(h[0])), " before the first step.",
    ),)))
    return Section(f"Update: {entry.title}", 1, tuple(blocks) + tuple(inner), "update")


def history_section(w) -> Section:
    """The loss over every sample before each step and after the last, with each step's own mini-batch loss."""
    trajectory, h = w.s.trajectory, w.s.history
    batched = len(trajectory.batches) > 1
    steps = range(len(h))
    if len(h) > 26:
        steps = sorted({0, 1, 2, len(h) - 2, len(h) - 1} | {round(len(h) * f / 10) for f in range(1, 10)})
    steps = [k for k in steps if k < len(h)]
    losses = w.column(h[k] for k in steps)
    rows = [(str(k), loss) for k, loss in zip(steps, losses)]
    if batched:
        mini = [k for k in steps if k < len(trajectory.batch_losses)]
        printed = dict(zip(mini, w.column(trajectory.batch_losses[k] for k in mini)))
        rows = [row + (printed.get(k, ""),) for row, k in zip(rows, steps)]
    header = ("step", "loss") + (("mini-batch loss of the next step",) if batched else ())
    table = Table(header, tuple(rows), ("text", "math") + (("math",) if batched else ()), "rr" + ("r" if batched else ""),
                  "The loss before the first step (step 0) and after each step" +
                  (", and the loss of the mini-batch each step takes" if batched else ""))
    xs, ys = downsample(range(len(h)), [float(v) for v in h])
    plot = Plot(tuple(xs), tuple(ys), "step", "loss",
                "The loss over the training steps", "loss.svg")
    return Section("Loss over the steps", 1, (table, plot), "history")


def sections(w, made: list) -> list:
    """The writer's sections with the plain update replaced by the optimizer's, and its loss history."""
    if not active(w.s):
        return made
    out = []
    for section in made:
        if section.label == "update":
            out.append(update_section(w))
        elif section.label == "history":
            out.append(history_section(w))
        else:
            out.append(section)
    return out
