"""DynAE's equations (eq. 4-5, 8-13) against hand-computed values, and the gradient
cosines of ``dclib.diagnostics`` on a model whose gradients are known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dclib import diagnostics
from dclib.functional import (
    confidence_thresholds,
    conflicted,
    construction_loss,
    pull_loss,
    share,
    student_t_assignment,
    top_two,
    unconflicted,
)

Q = torch.tensor(
    [
        [0.75, 0.125, 0.125],  # h1 0.75, gap 0.625: sure
        [0.375, 0.3125, 0.3125],  # h1 0.375, gap 0.0625
        [0.25, 0.25, 0.5],  # h1 0.5 (last column), gap 0.25
        [0.5, 0.5, 0.0],  # a tie at the top: gap 0
    ]
)
"""binary fractions, so that the thresholds' edges are met exactly"""


def test_eq4_is_decs_kernel_on_a_hand_example():
    # codes at squared distances 1 and 4 from two centres: kernels 1/2 and 1/5
    q = student_t_assignment(
        torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 0], [0, 2]])
    )
    torch.testing.assert_close(q, torch.tensor([[0.5 / 0.7, 0.2 / 0.7]]))


def test_eq5_top_two_by_hand():
    h1, h2 = top_two(Q)
    torch.testing.assert_close(h1, torch.tensor([0.75, 0.375, 0.5, 0.5]))
    torch.testing.assert_close(h2, torch.tensor([0.125, 0.3125, 0.25, 0.5]))
    with pytest.raises(ValueError, match="K >= 2"):
        top_two(torch.ones(3, 1))


def test_eq8_and_eq13_by_hand_and_complementary():
    # beta1 = 0.5, beta2 = 0.25: row 0 sure; row 1 fails h1 >= 0.5; row 2 meets
    # both exactly (in S under eq. 13's >=, not under the code's >); row 3 has gap 0
    sure = unconflicted(Q, 0.5, 0.25)
    assert sure.tolist() == [True, False, True, False]
    assert unconflicted(Q, 0.5, 0.25, strict=True).tolist() == [
        True,
        False,
        False,
        False,
    ]
    assert torch.equal(conflicted(Q, 0.5, 0.25), ~sure)
    # lower thresholds admit row 1 (h1 0.375, gap 0.0625), never the tie
    assert unconflicted(Q, 0.375, 0.0625).tolist() == [True, True, True, False]


def test_eq10_thresholds_and_eq11_share():
    assert confidence_thresholds(3, 10) == pytest.approx((0.3, 0.15))
    assert confidence_thresholds(2.1, 7) == pytest.approx((0.3, 0.15))
    with pytest.raises(ValueError, match="K >= 2"):
        confidence_thresholds(3, 1)
    mask = torch.tensor([True, False, False, True, False])
    assert share(mask) == pytest.approx(0.4)


def test_eq9_construction_loss_by_hand():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    x_hat = torch.tensor([[1.0, 1.0], [2.0, 1.0]])
    target = torch.tensor([[0.0, 0.0], [0.0, 3.0]])
    # row 0 constructed: ||(0,0) - (1,1)||^2 = 2; row 1 reconstructed: ||(0,1) -
    # (2,1)||^2 = 4; averaged over the batch: 3; per element (the code): 6 / 4
    construct = torch.tensor([True, False])
    assert construction_loss(x_hat, x, target, construct).item() == pytest.approx(3)
    code = construction_loss(x_hat, x, target, construct, per_element=True)
    assert code.item() == pytest.approx(6 / 4)
    # nobody constructed, per element: plain reconstruction MSE
    none = construction_loss(x_hat, x, target, ~construct.logical_or(~construct), True)
    assert none.item() == pytest.approx(torch.nn.functional.mse_loss(x_hat, x).item())


def test_eq12_pull_loss_by_hand_and_gradient_only_through_z():
    z = torch.tensor([[1.0, 2.0], [3.0, 3.0]], requires_grad=True)
    target = torch.tensor([[0.0, 0.0], [0.0, 0.0]], requires_grad=True)
    loss = pull_loss(z, target, torch.tensor([False, True]))
    assert loss.item() == pytest.approx(18 / 2)  # only row 1: 9 + 9, batch of 2
    loss.backward()
    assert target.grad is None
    # d/dz of ||z_1||^2 / 2 is z_1
    torch.testing.assert_close(z.grad, torch.tensor([[0.0, 0.0], [3.0, 3.0]]))
    code = pull_loss(z, target, torch.tensor([False, True]), per_element=True)
    assert code.item() == pytest.approx(18 / 4)


def test_losses_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="construct"):
        construction_loss(
            torch.ones(2, 3),
            torch.ones(2, 3),
            torch.ones(2, 3),
            torch.ones(3, dtype=torch.bool),
        )
    with pytest.raises(ValueError, match="pull"):
        pull_loss(torch.ones(2, 3), torch.ones(2, 2), torch.ones(2, dtype=torch.bool))


def test_cosines_of_known_gradients():
    # one weight w, data x = 1: d/dw of (w - 1)^2 is 2(w - 1), of (w + 1)^2 is
    # 2(w + 1); at w = 3 they point the same way, at w = 0 opposite ways
    w = nn.Parameter(torch.tensor([3.0]))
    n = 8

    def terms(idx):
        return {"total": (w - 1).pow(2).mean(), "same": (w - 2).pow(2).mean()}

    g = diagnostics.dataset_gradients(terms, n, [w], batch_size=3)
    assert diagnostics.cosine(g["total"], g["same"]) == pytest.approx(1.0)
    with torch.no_grad():
        w.fill_(0.0)
    g = diagnostics.dataset_gradients(
        lambda idx: {"a": (w - 1).pow(2).mean(), "b": (w + 1).pow(2).mean()}, n, [w]
    )
    assert diagnostics.cosine(g["a"], g["b"]) == pytest.approx(-1.0)
    assert w.grad is None  # nothing accumulated on the parameters


def test_feature_randomness_is_one_when_the_method_is_the_supervised_loss():
    torch.manual_seed(0)
    enc = nn.Linear(3, 2)
    X = torch.randn(10, 3)
    y = np.array([0, 1] * 5)
    mu = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    target = diagnostics.class_centres(y, y, mu)

    def sup(idx):
        return (enc(X[idx]) - target[idx]).pow(2).mean()

    same = diagnostics.feature_randomness_drift(
        lambda idx: {"pseudo": sup(idx)},
        lambda idx: enc(X[idx]),
        target,
        list(enc.parameters()),
    )
    assert same == {"fr": pytest.approx(1.0)}
    # pseudo = -sup, self = +sup: they drift apart (FD = -1); the method's loss
    # 2 pseudo + self = -sup points away from the supervised gradient, pseudo + 2
    # self = +sup along it
    opposed = lambda idx: {"pseudo": -sup(idx), "self": sup(idx)}  # noqa: E731
    params = list(enc.parameters())
    away = {"pseudo": 2.0, "self": 1.0}
    opposite = diagnostics.feature_randomness_drift(
        opposed, lambda idx: enc(X[idx]), target, params, away
    )
    assert opposite["fr"] == pytest.approx(-1.0)
    along = {"pseudo": 1.0, "self": 2.0}
    assert diagnostics.feature_randomness_drift(
        opposed, lambda idx: enc(X[idx]), target, params, along
    )["fr"] == pytest.approx(1.0)
    assert opposite["fd"] == pytest.approx(-1.0)


def test_class_centres_follow_the_hungarian_matching():
    mu = torch.tensor([[0.0], [10.0], [20.0]])
    y = np.array([0, 0, 1, 1, 2, 2])
    labels = np.array([2, 2, 0, 0, 1, 1])  # class 0 lives in cluster 2, ...
    got = diagnostics.class_centres(y, labels, mu)
    torch.testing.assert_close(got[:, 0], torch.tensor([20.0, 20, 0, 0, 10, 10]))
