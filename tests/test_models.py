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
