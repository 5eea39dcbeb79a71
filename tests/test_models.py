from __future__ import annotations

import pytest
import torch

from dclib.models import ConvAutoencoder, Critic, MLPAutoencoder, MNet, autoencoder_for


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 16, 16), (3, 28, 28)])
@pytest.mark.parametrize("kind", ["dcss", "dssl"])
def test_conv_autoencoders_keep_the_input_shape(shape, kind):
    ae = ConvAutoencoder(shape, latent_dim=10, kind=kind)
    x = torch.rand(4, *shape)
    z, x_hat = ae(x)
    assert z.shape == (4, 10) and x_hat.shape == x.shape
    assert ae.decode(z).shape == x.shape


def test_dcss_encoder_has_bottlenecks_and_batchnorm_dssl_has_none():
    names = lambda ae: {type(m).__name__ for m in ae.encoder.modules()}  # noqa: E731
    assert {"Bottleneck", "BatchNorm2d"} <= names(ConvAutoencoder((1, 28, 28)))
    assert not {"Bottleneck", "BatchNorm2d"} & names(
        ConvAutoencoder((1, 28, 28), kind="dssl")
    )


def test_mlp_autoencoder_layers_and_image_input():
    ae = MLPAutoencoder(784, latent_dim=10)
    widths = [
        m.out_features for m in ae.encoder.modules() if isinstance(m, torch.nn.Linear)
    ]
    assert widths == [500, 500, 2000, 10]
    x = torch.rand(3, 1, 28, 28)
    z, x_hat = ae(x)
    assert z.shape == (3, 10) and x_hat.shape == x.shape
    last = list(ae.encoder.modules())[-1]
    assert isinstance(last, torch.nn.Linear)  # linear latent (no ReLU after it)


@pytest.mark.parametrize("hidden", [(128, 128, 128), (1000, 1000, 1000)])
def test_mnet_outputs_rows_on_the_simplex(hidden):
    q = MNet(10, 7, hidden=hidden).eval()(torch.randn(5, 10))
    assert q.shape == (5, 7) and (q >= 0).all()
    torch.testing.assert_close(q.sum(1), torch.ones(5))


def test_critic_gives_one_scalar_per_image():
    critic = Critic(MLPAutoencoder(784).encoder)
    assert critic(torch.rand(6, 1, 28, 28)).shape == (6,)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="28"):
        ConvAutoencoder((1, 32, 32))
    with pytest.raises(ValueError, match="kind"):
        ConvAutoencoder((1, 28, 28), kind="resnet")
    with pytest.raises(ValueError, match="images"):
        autoencoder_for(None, 20, kind="dcss")


def _same_network(a, b):
    """Same parameter and buffer names and shapes."""
    return {k: v.shape for k, v in a.state_dict().items()} == {
        k: v.shape for k, v in b.state_dict().items()
    }


@pytest.mark.parametrize(
    ("make", "x"),
    [
        (lambda: MLPAutoencoder(20, 3, (16, 8)), torch.rand(5, 20)),
        (lambda: MLPAutoencoder(64, 2), torch.rand(5, 1, 8, 8)),
        (lambda: ConvAutoencoder((1, 28, 28), 10, "dcss"), torch.rand(5, 1, 28, 28)),
        (lambda: ConvAutoencoder((1, 16, 16), 4, "dssl"), torch.rand(5, 1, 16, 16)),
        (lambda: ConvAutoencoder((3, 28, 28), 6, "dcss"), torch.rand(5, 3, 28, 28)),
    ],
)
def test_build_round_trips_an_autoencoder(make, x):
    import json

    from dclib.models import build

    torch.manual_seed(0)
    model = make().eval()
    arch = json.loads(json.dumps(model.arch))  # JSON-able, as the cache stores it
    torch.manual_seed(1)  # other initial weights
    copy = build(arch).eval()
    assert type(copy) is type(model) and copy.arch == model.arch
    assert _same_network(copy, model)
    copy.load_state_dict(model.state_dict())
    for a, b in zip(copy(x), model(x), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_build_round_trips_a_multi_autoencoder():
    from dclib.models import MultiAutoencoder, build

    torch.manual_seed(0)
    nets = [MLPAutoencoder(6, 2, (5,)) for _ in range(3)]
    model = MultiAutoencoder(nets, torch.tensor([0, 1, 2, 2]))
    copy = build(model.arch)
    assert _same_network(copy, model) and copy.arch == model.arch
    copy.load_state_dict(model.state_dict())
    assert copy.owner.tolist() == [0, 1, 2, 2]
    x = torch.rand(4, 6)
    for ours, theirs in zip(copy.nets, model.nets, strict=True):
        for a, b in zip(ours(x), theirs(x), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_own_codes_takes_each_sample_in_its_clusters_network():
    from dclib.models import MultiAutoencoder

    nets = [MLPAutoencoder(2, 1, (3,)) for _ in range(2)]
    model = MultiAutoencoder(nets, torch.tensor([1, 0]))  # cluster 0 -> net 1
    codes = torch.tensor([[[0.0], [1.0], [2.0]], [[10.0], [11.0], [12.0]]])
    z = model.own_codes(codes, torch.tensor([0, 1, 0]))
    assert z.squeeze(1).tolist() == [10.0, 1.0, 12.0]


def test_build_refuses_an_unknown_kind():
    from dclib.models import build

    with pytest.raises(ValueError, match="unknown architecture kind"):
        build({"kind": "resnet"})
