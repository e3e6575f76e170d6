"""The source documents' printed figures, by name (shared/seeds/)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from derive import solve
from derive.core.numeric import round_decimal
from derive.core.quantities import quantities

MAZUR = solve("mazur")
TORCH = solve("mazur-torch")
MLP = solve("mlp-relu")


def rounded(x, places):
    return float(round_decimal(x, places))


# The blog (mattmazur.com, 2015), as the second source document follows it: name, value as printed.
BLOG = [
    ("net_h1", "0.3775"),
    ("out_h1", "0.593269992"),
    ("out_h2", "0.596884378"),
    ("net_o1", "1.105905967"),
    ("out_o1", "0.75136507"),
    ("out_o2", "0.772928465"),
    ("E_o1", "0.274811083"),
    ("E_o2", "0.023560026"),
    ("E_total", "0.298371109"),
    ("dE_total/dout_o1", "0.74136507"),
    ("dout_o1/dnet_o1", "0.186815602"),
    ("dnet_o1/dw5", "0.593269992"),
    ("dE_total/dw5", "0.082167041"),
    ("w5_new", "0.35891648"),
    ("w6_new", "0.408666186"),
    ("w7_new", "0.511301270"),
    ("w8_new", "0.561370121"),
    ("dE_o1/dout_h1", "0.055399425"),
    # the blog multiplies its rounded delta_o2 (-0.038098236) by w7; exactly it is -0.0190491183
    ("dE_o2/dout_h1", "-0.019049118"),
    ("dE_total/dout_h1", "0.036350306"),
    ("dout_h1/dnet_h1", "0.241300709"),
    ("dE_total/dw1", "0.000438568"),
    ("w1_new", "0.149780716"),
    ("w2_new", "0.19956143"),
    ("w3_new", "0.24975114"),
    ("w4_new", "0.29950229"),
]


@pytest.mark.parametrize("name, printed", BLOG)
def test_blog_figures(name, printed):
    places = len(printed.split(".")[1])
    assert round_decimal(quantities(MAZUR)[name], places) == Fraction(printed)


def test_blog_loss_after_one_step():
    """The blog prints 0.291027924 after one round; its script used the updated w5..w8 for the hidden
    deltas. Done right, the loss after one step is 0.291027774 (issue 4)."""
    assert rounded(MAZUR.history[1], 9) == 0.291027774


def test_blog_biases_not_updated():
    assert MAZUR.first.new_biases == MAZUR.first.biases


# The PyTorch printout of the second source document (float32, printed to 4 decimals).
def test_torch_outputs_before_the_step():
    assert [rounded(o, 4) for o in TORCH.first.out[2][0]] == [0.7514, 0.7729]


def test_torch_loss():
    # printed as 0.2983711063861847 by float32 arithmetic; the exact value agrees to 8 digits
    assert rounded(TORCH.first.loss, 8) == 0.29837111
    assert abs(float(TORCH.first.loss) - 0.2983711063861847) < 1e-8


@pytest.mark.parametrize("what, layer, printed", [
    ("weight", 1, [[0.1498, 0.1996], [0.2498, 0.2995]]),
    ("weight", 2, [[0.3589, 0.4087], [0.5113, 0.5614]]),
    ("bias", 1, [0.3456, 0.3450]),
    ("bias", 2, [0.5308, 0.6190]),
])
def test_torch_updated_parameters(what, layer, printed):
    if what == "weight":
        got = [[rounded(w, 4) for w in row] for row in TORCH.first.new_weights[layer]]
    else:
        got = [rounded(b, 4) for b in TORCH.first.new_biases[layer]]
    assert got == printed


def test_torch_outputs_after_the_step():
    from derive.core import backprop

    run = backprop.run(TORCH.spec, TORCH.rules, TORCH.first.new_weights, TORCH.first.new_biases)
    assert [rounded(o, 4) for o in run.out[2][0]] == [0.7284, 0.7784]


# The first source document: its printed input tensor and loss, and its manual gradient of w1.
PRINTED_INPUT = [-0.8218, -0.5395, -0.3298, 0.6342, 0.2875, 1.3541, -1.7218, -0.9154, 0.4241, 0.3175]
PRINTED_GRAD_W1_ROW0 = [4.1775, 1.5801, 9.7490, -0.4912, -4.4792, -4.2421, -1.9519, -4.9478, -0.9522, -4.6351,
                        3.7296, 3.1289, 0.6668, -2.6608, -1.2238, 3.9295, 2.8678, 7.4332, -3.9013, 0.9898]


def test_mlp_input_is_the_printed_tensor():
    assert [float(x) for x in MLP.spec.inputs[0]] == PRINTED_INPUT


def test_mlp_loss_is_the_printed_loss():
    assert rounded(MLP.first.loss, 4) == 5.7385


def test_mlp_has_inactive_hidden_units():
    inactive = [j for j, z in enumerate(MLP.first.net[1][0]) if z < 0]
    assert 5 <= len(inactive) <= 15


def test_mlp_document_code_reproduces_its_printed_gradient():
    """Computed the way the document's code does (its ReLU mask tests the activated values, so it never
    masks), the preset's gradient of w1 reproduces the printed first row: w2 was recovered from it."""
    run = MLP.first
    x = run.out[0][0]
    output_grad = 2 * (run.out[2][0][0] - MLP.spec.targets[0][0])
    hidden_grad = [output_grad * run.weights[2][0][j] for j in range(20)]  # no mask: the document's bug
    row0 = [float(x[0] * g) for g in hidden_grad]
    assert all(abs(a - b) < 2e-3 for a, b in zip(row0, PRINTED_GRAD_W1_ROW0))
    # derive's correct gradient differs exactly in the columns of the inactive units
    correct = [float(run.grad_W[1][j][0]) for j in range(20)]
    differs = [j for j in range(20) if abs(correct[j] - row0[j]) > 1e-9]
    assert differs == [j for j in range(20) if run.net[1][0][j] < 0]
