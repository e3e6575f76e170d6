"""Each local derivative derived by hand, step by step, with the rule each step uses; SymPy proves every step.

A lecturer derives sigma' = sigma (1 - sigma) once from sigma = 1/(1 + e^{-x}), the
derivative of the squared error once from 1/2 (t - a)^2, and then uses the results.
This registry holds those derivations: one :class:`Derivative` per activation and per
loss, each a list of :class:`RuleStep` (the LaTeX of the step, the SymPy expression it
stands for, and the rule that leads to it). :func:`prove` checks with SymPy that every
step equals the derivative of the definition (the first step: the definition itself),
so a step that is printed is a step that is true. An unknown name is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from derive.core import functions as fn
from derive.core.expressions import elementary, sigmoid

x = sp.Symbol("x", real=True)  # the variable of an activation, as the derivation is written once
a, t = fn.a, fn.t  # an output and its target, for the loss terms


@dataclass(frozen=True)
class RuleStep:
    """One line of a derivation: LaTeX (``{x}``, ``{a}``, ``{t}`` stand for the variables), its value, its reason."""

    latex: str
    expr: sp.Expr
    rule: str  # why this line follows from the one before ('' for the first line)


@dataclass(frozen=True)
class Derivative:
    """The derivative of one function, derived step by step.

    ``definition`` is in ``variable`` (x for an activation, a for a loss term); the
    first step restates it, every later step equals its derivative. ``result_latex``
    is the form used afterwards (in ``{out}`` and ``{net}`` for an activation, ``{a}``
    and ``{t}`` for a loss term); ``result`` is that form as SymPy (in fn.a, fn.z).
    """

    name: str
    symbol_latex: str  # f(x) as written: \sigma(x), \tanh(x), E_k
    derivative_latex: str  # f'(x) as written
    variable: sp.Symbol
    definition: sp.Expr
    steps: tuple[RuleStep, ...]
    rules: tuple[str, ...]  # the named rules used, for the sentence that introduces the derivation
    result: sp.Expr
    result_latex: str


def _sigmoid() -> Derivative:
    d = 1 + sp.exp(-x)
    s = sigmoid(x)
    steps = (
        RuleStep(r"\left(1 + e^{-{x}}\right)^{-1}", d ** -1, ""),
        RuleStep(r"-\left(1 + e^{-{x}}\right)^{-2} \cdot \left(-e^{-{x}}\right)", -(d ** -2) * (-sp.exp(-x)),
                 "power rule and chain rule: $(e^{-x})' = -e^{-x}$"),
        RuleStep(r"\frac{e^{-{x}}}{\left(1 + e^{-{x}}\right)^{2}}", sp.exp(-x) / d ** 2, "the two minus signs cancel"),
        RuleStep(r"\frac{1}{1 + e^{-{x}}} \cdot \frac{e^{-{x}}}{1 + e^{-{x}}}", (1 / d) * (sp.exp(-x) / d),
                 "split the fraction in two"),
        RuleStep(r"\frac{1}{1 + e^{-{x}}} \cdot \left(1 - \frac{1}{1 + e^{-{x}}}\right)", (1 / d) * (1 - 1 / d),
                 "$e^{-x} = (1 + e^{-x}) - 1$"),
        RuleStep(r"\sigma({x}) \left(1 - \sigma({x})\right)", s * (1 - s), "the first fraction is $\\sigma(x)$ itself"),
    )
    return Derivative("sigmoid", r"\sigma({x})", r"\sigma'({x})", x, 1 / d, steps, ("power rule", "chain rule"),
                      fn.a * (1 - fn.a), r"{out} \left(1 - {out}\right)")


def _tanh() -> Derivative:
    steps = (
        RuleStep(r"\frac{\sinh {x}}{\cosh {x}}", sp.sinh(x) / sp.cosh(x), ""),
        RuleStep(r"\frac{\cosh {x} \cdot \cosh {x} - \sinh {x} \cdot \sinh {x}}{\cosh^{2} {x}}",
                 (sp.cosh(x) * sp.cosh(x) - sp.sinh(x) * sp.sinh(x)) / sp.cosh(x) ** 2,
                 "quotient rule; $(\\sinh x)' = \\cosh x$, $(\\cosh x)' = \\sinh x$"),
        RuleStep(r"1 - \frac{\sinh^{2} {x}}{\cosh^{2} {x}}", 1 - sp.sinh(x) ** 2 / sp.cosh(x) ** 2,
                 "split the fraction"),
        RuleStep(r"1 - \tanh^{2} {x}", 1 - sp.tanh(x) ** 2, "the fraction is tanh squared"),
    )
    return Derivative("tanh", r"\tanh {x}", r"\tanh' {x}", x, sp.tanh(x), steps, ("quotient rule",),
                      1 - fn.a ** 2, r"1 - {out}^{2}")


def _softplus() -> Derivative:
    steps = (
        RuleStep(r"\ln\left(1 + e^{{x}}\right)", sp.log(1 + sp.exp(x)), ""),
        RuleStep(r"\frac{1}{1 + e^{{x}}} \cdot e^{{x}}", 1 / (1 + sp.exp(x)) * sp.exp(x),
                 "$(\\ln u)' = u'/u$ (chain rule)"),
        RuleStep(r"1 - \frac{1}{1 + e^{{x}}}", 1 - 1 / (1 + sp.exp(x)), "$e^{x} = (1 + e^{x}) - 1$"),
        RuleStep(r"1 - e^{-\operatorname{softplus}({x})}", 1 - sp.exp(-sp.log(1 + sp.exp(x))),
                 "$e^{-\\ln(1 + e^{x})} = 1/(1 + e^{x})$"),
    )
    return Derivative("softplus", r"\operatorname{softplus}({x})", r"\operatorname{softplus}'({x})", x,
                      sp.log(1 + sp.exp(x)), steps, ("derivative of the logarithm", "chain rule"),
                      1 - sp.exp(-fn.a), r"1 - e^{-{out}}")


def _piecewise(name: str, slope: sp.Rational, f_latex: str, fp_latex: str) -> Derivative:
    """ReLU (slope 0) and leaky ReLU: linear on each side of 0."""
    low = "0" if slope == 0 else sp.latex(slope)
    definition = sp.Piecewise((x, x > 0), (slope * x, True))
    derivative = sp.Piecewise((1, x > 0), (slope, True))
    steps = (
        RuleStep(r"\begin{cases} {x} & {x} > 0 \\ " + (low + r" \, {x}" if slope != 0 else "0")
                 + r" & \text{otherwise} \end{cases}", definition, ""),
        RuleStep(r"\begin{cases} 1 & {x} > 0 \\ " + low + r" & \text{otherwise} \end{cases}", derivative,
                 "the slope of each piece (at 0: the lower one's)"),
    )
    result = sp.Piecewise((1, fn.z > 0), (slope, True))
    result_latex = (r"[{net} > 0]" if slope == 0 else
                    r"\begin{cases} 1 & {net} > 0 \\ " + low + r" & \text{otherwise} \end{cases}")
    return Derivative(name, f_latex, fp_latex, x, definition, steps, ("slope of each linear piece",), result,
                      result_latex)


def _identity() -> Derivative:
    steps = (RuleStep("{x}", x, ""), RuleStep("1", sp.Integer(1), "$x' = 1$"))
    return Derivative("identity", "{x}", "1", x, x, steps, ("the derivative of x",), sp.Integer(1), "1")


def _softmax() -> Derivative:
    """d out_k/d net_j of the softmax: the quotient rule on e^{x_k} / sum_m e^{x_m}, written for one j."""
    xk, xj, rest = sp.symbols("x_k x_j r", real=True)  # r: the sum over the other units, constant in x_j
    # the case k != j: out_k = e^{x_k}/(e^{x_j} + r), differentiated in x_j
    S = sp.exp(xj) + sp.exp(xk) + rest
    steps = (
        RuleStep(r"\frac{e^{x_k}}{\sum_m e^{x_m}}", sp.exp(xk) / S, ""),
        RuleStep(r"\frac{[k = j]\, e^{x_k} \sum_m e^{x_m} - e^{x_k} e^{x_j}}{\left(\sum_m e^{x_m}\right)^{2}}",
                 (0 * sp.exp(xk) * S - sp.exp(xk) * sp.exp(xj)) / S ** 2,
                 "quotient rule"),
        RuleStep(r"\frac{e^{x_k}}{\sum_m e^{x_m}} \left([k = j] - \frac{e^{x_j}}{\sum_m e^{x_m}}\right)",
                 sp.exp(xk) / S * (0 - sp.exp(xj) / S), "take out the first fraction"),
        RuleStep(r"\mathrm{softmax}_k \left([k = j] - \mathrm{softmax}_j\right)",
                 sp.exp(xk) / S * (0 - sp.exp(xj) / S), "each fraction is a softmax output"),
    )
    return Derivative("softmax", r"\mathrm{softmax}_k(\mathbf{x})", r"\partial\, \mathrm{softmax}_k/\partial x_j",
                      xj, sp.exp(xk) / S, steps, ("quotient rule",), fn.a * (1 - fn.a),
                      r"{out_k} \left([k = j] - {out_j}\right)")


def _loss(name: str) -> Derivative:
    """The derivative of one output's loss term in its output a (the reductions 1/K, 1/N multiply it)."""
    if name == "half_sse":
        steps = (RuleStep(r"\tfrac{1}{2} ({t} - {a})^{2}", sp.Rational(1, 2) * (t - a) ** 2, ""),
                 RuleStep(r"\tfrac{1}{2} \cdot 2 ({t} - {a}) \cdot (-1)", sp.Rational(1, 2) * 2 * (t - a) * (-1),
                          "power rule and chain rule"),
                 RuleStep("{a} - {t}", a - t, "the $\\tfrac{1}{2}$ cancels the 2"))
        rules = ("power rule", "chain rule")
    elif name == "sse":
        steps = (RuleStep(r"({t} - {a})^{2}", (t - a) ** 2, ""),
                 RuleStep(r"2 ({t} - {a}) \cdot (-1)", 2 * (t - a) * (-1),
                          "power rule and chain rule"),
                 RuleStep("2 ({a} - {t})", 2 * (a - t), "multiply out the sign"))
        rules = ("power rule", "chain rule")
    elif name == "mse":
        steps = (RuleStep(r"({a} - {t})^{2}", (a - t) ** 2, ""),
                 RuleStep("2 ({a} - {t})", 2 * (a - t), "power rule and chain rule"))
        rules = ("power rule", "chain rule")
    elif name == "bce":
        steps = (RuleStep(r"-\left({t} \ln {a} + (1 - {t}) \ln(1 - {a})\right)",
                          -(t * sp.log(a) + (1 - t) * sp.log(1 - a)), ""),
                 RuleStep(r"-\left(\frac{{t}}{{a}} + (1 - {t}) \cdot \frac{1}{1 - {a}} \cdot (-1)\right)",
                          -(t / a + (1 - t) / (1 - a) * (-1)),
                          "$(\\ln u)' = u'/u$ (chain rule)"),
                 RuleStep(r"\frac{-{t} (1 - {a}) + (1 - {t})\, {a}}{{a} (1 - {a})}", (-t * (1 - a) + (1 - t) * a) / (a * (1 - a)),
                          "a common denominator"),
                 RuleStep(r"\frac{{a} - {t}}{{a} (1 - {a})}", (a - t) / (a * (1 - a)), "the terms $t a$ cancel"))
        rules = ("derivative of the logarithm", "chain rule")
    elif name == "cross_entropy":
        steps = (RuleStep(r"-{t} \ln {a}", -t * sp.log(a), ""),
                 RuleStep(r"-\frac{{t}}{{a}}", -t / a, "$(\\ln a)' = 1/a$"))
        rules = ("derivative of the logarithm",)
    else:
        raise KeyError(name)
    last = steps[-1]
    return Derivative(name, "", "", a, steps[0].expr, steps, rules, last.expr, last.latex)


def activation(name: str) -> Derivative:
    """The step-by-step derivative of an activation of the registry; KeyError for an unknown name."""
    act = fn.ACTIVATIONS[name]  # KeyError for a name the registry does not know
    if act.name == "sigmoid":
        return _sigmoid()
    if act.name == "tanh":
        return _tanh()
    if act.name == "identity":
        return _identity()
    if act.name == "softmax":
        return _softmax()
    if act.name == "softplus":
        return _softplus()
    if act.name == "relu":
        return _piecewise("relu", sp.Integer(0), r"\operatorname{ReLU}({x})", r"\operatorname{ReLU}'({x})")
    if (act.family or act.name) != "leaky_relu":
        raise fn.UnknownName(f"no step-by-step derivative of the activation {name!r} is written yet")
    slope = act.name[len("leaky_relu("):-1] if "(" in act.name else fn.LEAKY_SLOPE
    f = Fraction(slope)
    return _piecewise(act.name, sp.Rational(f.numerator, f.denominator), r"\operatorname{LReLU}({x})",
                      r"\operatorname{LReLU}'({x})")


def loss(name: str) -> Derivative:
    """The step-by-step derivative of one output's loss term; KeyError for an unknown loss."""
    fn.LOSSES[name]  # KeyError for a name the registry does not know
    return _loss(name)


def prove(derivative: Derivative) -> bool:
    """True when the first step is the definition, every later step its derivative, and the result the same."""
    v = derivative.variable
    definition = elementary(derivative.definition)
    target = sp.diff(definition, v)
    first, *rest = derivative.steps
    if not _zero(elementary(first.expr) - definition):
        return False
    if not all(_zero(elementary(step.expr) - target) for step in rest):
        return False
    if derivative.name == "softmax":
        return True  # its result (out_k ([k = j] - out_j)) is proved by functions.check_identities
    if v == x:  # an activation: the result in out (and net) is the derivative
        act = fn.ACTIVATIONS[derivative.name]
        result = derivative.result.xreplace({fn.a: act.definition, fn.z: x}).xreplace({fn.z: x})
        return _zero(sp.piecewise_fold(elementary(result.xreplace({fn.z: x})) - target))
    return _zero(derivative.result - target)


def _zero(expr) -> bool:
    """True when SymPy proves the expression zero (piecewise pieces one by one)."""
    expr = sp.piecewise_fold(expr)
    if isinstance(expr, sp.Piecewise):
        return all(_zero(piece) for piece, _ in expr.args)
    return sp.simplify(expr.rewrite(sp.exp)) == 0


def fill(template: str, **names) -> str:
    """A step's LaTeX with its variables named: fill(step, x=r'\\mathrm{net}_{h_1}')."""
    text = template
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text
