"""The papers' networks as ``nn.Module``s. ``forward`` returns tensors, never a loss.

Every autoencoder exposes ``encode(x) -> z``, ``decode(z) -> x_hat`` and
``forward(x) -> (z, x_hat)``, with ``x_hat`` shaped like ``x``.

- ``MLPAutoencoder``: d-500-500-2000-m, mirrored (DEC, IDEC, DynAE, R-DC; DCSS on
  feature vectors);
- ``ConvAutoencoder(kind="dcss")``: asymmetric, bottleneck blocks, BN (DCSS Fig. 12);
- ``ConvAutoencoder(kind="dssl")``: symmetric conv AE without BN (DSSL §IV);
- ``MNet``: m-128-128-128-K, BN + ReLU, softmax (DCSS §3.2);
- ``Critic``: encoder-shaped, outputs averaged (ACAI; DynAE eq. 6-7, R-DC eq. 1-2).

The autoencoders and the critic are ``Network``s: their layers compute in fp32 or,
opted in (``set_precision``), in bfloat16.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

PRECISIONS = ("fp32", "bf16")
"""how a ``Network``'s layers compute (``Network.precision``)"""


class Network(nn.Module):
    """A network whose layers compute in ``precision``."""

    precision: str = "fp32"
    """"fp32", or "bf16": the layers run under ``torch.autocast`` to bfloat16 (matrix
    products and convolutions in bf16, on CPU and CUDA) while the weights stay fp32,
    the master copy the optimiser updates; outputs come back in fp32, so every loss
    is computed in fp32"""

    def compute(self, layers: nn.Module, x: Tensor) -> Tensor:
        """``layers(x)`` in this network's precision, returned in fp32."""
        if self.precision == "fp32":
            return layers(x)
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            return layers(x).float()


def check_precision(precision: str) -> None:
    """A ValueError naming ``precision`` unless it is one of ``PRECISIONS``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")


def set_precision(module: nn.Module, precision: str) -> None:
    """Every ``Network`` inside ``module`` (itself included) computes in
    ``precision``."""
    check_precision(precision)
    for m in module.modules():
        if isinstance(m, Network):
            m.precision = precision


class Autoencoder(Network):
    """An encoder and a decoder; ``x_hat`` is reshaped to the input's shape."""

    encoder: nn.Module
    decoder: nn.Module

    def encode(self, x: Tensor) -> Tensor:
        return self.compute(self.encoder, x)

    def decode(self, z: Tensor) -> Tensor:
        return self.compute(self.decoder, z)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        z = self.encode(x)  # (B, m)
        return z, self.decode(z).reshape(x.shape)


def _mlp(dims: Sequence[int], *, batchnorm: bool = False) -> nn.Sequential:
    """Linear layers through ``dims``; ReLU (after BN if asked) on all but the last."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            layers += [nn.BatchNorm1d(b)] if batchnorm else []
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _zero_biases(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.Linear | nn.Conv2d) and m.bias is not None:
            nn.init.zeros_(m.bias)


class MLPAutoencoder(Autoencoder):
    """Fully connected AE d-500-500-2000-m (DEC §3.2; DynAE §4.1; R-DC §4).

    ReLU on hidden layers, linear latent and output. Weights are drawn uniformly in
    ±1/sqrt(fan_in) (PyTorch's default, equal to the Keras ``VarianceScaling(1/3)``
    of the DynAE code) and biases start at zero. Images are flattened on the way in.
    """

    def __init__(
        self,
        in_dim: int,
        latent_dim: int = 10,
        hidden: Sequence[int] = (500, 500, 2000),
    ) -> None:
        super().__init__()
        dims = [in_dim, *hidden, latent_dim]
        self.arch = {
            "kind": "mlp",
            "in_dim": in_dim,
            "latent_dim": latent_dim,
            "hidden": list(hidden),
        }
        self.encoder = nn.Sequential(nn.Flatten(), _mlp(dims))
        self.decoder = _mlp(dims[::-1])
        _zero_biases(self)


class Bottleneck(nn.Module):
    """Residual bottleneck block of the DCSS encoder (official-code notes §1.1).

    1x1 conv to an inner width of 64, 3x3 conv, 1x1 conv back to ``planes``, each
    followed by BN (ReLU after the first two), then the identity is added and a ReLU
    applied. No downsampling.
    """

    def __init__(self, planes: int, width: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(planes, width, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, planes, 1, bias=False),
            nn.BatchNorm2d(planes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x + self.body(x))


@dataclass(frozen=True)
class ConvGeometry:
    """DCSS Fig. 12's (n, p1, s1, p2, s2, p3, s3, f1, f2) for one input size.

    (p1, s1): padding and stride of the first 5x5 encoder conv; (f1, p2, s2) and
    (f2, p3, s3): kernel, padding and stride of the last two transposed convs.
    """

    n: int
    p1: int
    s1: int
    p2: int
    s2: int
    p3: int
    s3: int
    f1: int
    f2: int


GEOMETRIES = {
    28: ConvGeometry(28, 2, 2, 1, 2, 2, 2, 5, 4),  # MNIST, Fashion-MNIST, 2MNIST
    16: ConvGeometry(16, 1, 1, 2, 2, 0, 1, 4, 5),  # USPS
}


class ConvAutoencoder(Autoencoder):
    """Convolutional AE of DCSS (``kind="dcss"``) or DSSL (``kind="dssl"``).

    Encoder: conv 5x5 (C->32) -> conv 5x5 s2 (32->64) -> conv 3x3 s2 (64->128) ->
    linear to the latent ``u`` (no activation); the input side is 28x28 or 16x16
    (DCSS Fig. 12), and 3x3x128 before the linear layer in both. ``"dcss"`` adds BN
    after the first conv and a bottleneck block after each conv (asymmetric: the
    decoder has none); ``"dssl"`` is the plain symmetric network. Decoder: linear +
    ReLU to 3x3x128, transposed convs 128->64->32->C, linear output. Weights are
    Xavier-uniform, biases zero (official-code notes §1.1, §2.1).
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        latent_dim: int = 10,
        kind: str = "dcss",
    ) -> None:
        super().__init__()
        c, h, w = image_shape
        if h != w or h not in GEOMETRIES:
            raise ValueError(
                f"ConvAutoencoder takes square {sorted(GEOMETRIES)}-pixel images, "
                f"got {h}x{w}; use MLPAutoencoder for other inputs (for RGB"
                " images: feature vectors from dclib.data.features)"
            )
        if kind not in ("dcss", "dssl"):
            raise ValueError(f"kind must be 'dcss' or 'dssl', got {kind!r}")
        g, dcss = GEOMETRIES[h], kind == "dcss"
        self.arch = {
            "kind": kind,
            "image_shape": list(image_shape),
            "latent_dim": latent_dim,
        }

        def block(planes: int) -> list[nn.Module]:
            return [Bottleneck(planes)] if dcss else []

        first = [nn.Conv2d(c, 32, 5, stride=g.s1, padding=g.p1, bias=not dcss)]
        first += [nn.BatchNorm2d(32)] if dcss else []
        self.encoder = nn.Sequential(
            *first,
            nn.ReLU(),
            *block(32),
            nn.Conv2d(32, 64, 5, stride=2, padding=2),
            nn.ReLU(),
            *block(64),
            nn.Conv2d(64, 128, 3, stride=2),
            nn.ReLU(),
            *block(128),
            nn.Flatten(),
            nn.Linear(128 * 3 * 3, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 128 * 3 * 3),
            nn.ReLU(),
            nn.Unflatten(1, (128, 3, 3)),
            nn.ConvTranspose2d(128, 64, 3, stride=2),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 32, g.f1, stride=g.s2, padding=g.p2),
            nn.ReLU(),
            nn.ConvTranspose2d(32, c, g.f2, stride=g.s3, padding=g.p3),
        )
        for m in self.modules():
            if isinstance(m, nn.Linear | nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
        _zero_biases(self)
        if dcss:
            self.to(memory_format=torch.channels_last)

    def encode(self, x: Tensor) -> Tensor:
        """The DCSS network computes channels-last (NHWC), about 20 % faster on a
        CPU (the performance page); the DSSL network gains nothing and stays NCHW."""
        if self.arch["kind"] == "dcss":
            x = x.contiguous(memory_format=torch.channels_last)
        return super().encode(x)


class MNet(nn.Module):
    """DCSS phase-2 network: m-128-128-128-K, BN + ReLU per hidden layer, softmax.

    Maps latent codes ``u`` (B, m) to ``q`` (B, K), rows on the probability simplex
    (DCSS §3.2). ``hidden=(1000,) * 3`` is the CIFAR-100 variant.
    """

    def __init__(
        self, latent_dim: int, n_clusters: int, hidden: Sequence[int] = (128, 128, 128)
    ) -> None:
        super().__init__()
        self.net = _mlp([latent_dim, *hidden, n_clusters], batchnorm=True)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
        _zero_biases(self)

    def forward(self, u: Tensor) -> Tensor:
        return torch.softmax(self.net(u), dim=1)  # (B, K)


class MultiAutoencoder(nn.Module):
    """DML's L autoencoders: ``nets[l]`` is AE^(l+1); ``owner[k]`` = l_k, the network
    of cluster k (DML eq. 1): one per difficult cluster, the last one shared by the
    easy clusters."""

    def __init__(self, nets: Sequence[Autoencoder], owner: Tensor) -> None:
        super().__init__()
        if owner.ndim != 1 or int(owner.max()) >= len(nets) or int(owner.min()) < 0:
            raise ValueError(
                f"owner must map clusters to the {len(nets)} networks, got "
                f"{owner.tolist()}"
            )
        self.nets = nn.ModuleList(nets)
        self.register_buffer("owner", owner.long())
        self.arch = {
            "kind": "multi",
            "nets": [net.arch for net in nets],
            "owner": owner.tolist(),
        }

    def own_codes(self, codes: Tensor, labels: Tensor) -> Tensor:
        """Each sample's code in its cluster's network (DML eq. 1's AE^(l_k)): from
        ``codes`` (L, n, d), every network's codes of the same n samples, and their
        cluster ``labels`` (n,); returns (n, d)."""
        rows = torch.arange(codes.shape[1], device=codes.device)
        return codes[self.owner[labels], rows]


class Critic(Network):
    """ACAI critic: an encoder-shaped network whose outputs are averaged per image.

    Berthelot et al. (2019); DynAE eq. 6-7 and R-DC eq. 1-2 train it to predict the
    interpolation coefficient of a decoded latent mix. ``encoder`` is a fresh encoder
    of the autoencoder's architecture (its own weights).
    """

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, x: Tensor) -> Tensor:
        return self.compute(self.encoder, x).flatten(1).mean(dim=1)  # (B,)


def autoencoder_for(
    image_shape: tuple[int, int, int] | None,
    in_dim: int,
    latent_dim: int = 10,
    kind: str = "mlp",
    hidden: Sequence[int] = (500, 500, 2000),
) -> Autoencoder:
    """The AE a method uses for data of this shape: ``kind`` is mlp (with ``hidden``
    widths), dcss or dssl (conv, for 28x28 or 16x16 images)."""
    if kind == "mlp":
        return MLPAutoencoder(in_dim, latent_dim, hidden)
    if image_shape is None:
        raise ValueError(f"a {kind!r} conv autoencoder needs images, got vectors")
    return ConvAutoencoder(image_shape, latent_dim, kind=kind)


def build(arch: dict) -> nn.Module:
    """A fresh network of the architecture ``arch`` (a model's ``.arch``: what the run
    cache stores beside the weights, so a cached model reloads from its file alone)."""
    kind = arch.get("kind")
    if kind == "mlp":
        return MLPAutoencoder(arch["in_dim"], arch["latent_dim"], arch["hidden"])
    if kind in ("dcss", "dssl"):
        return ConvAutoencoder(tuple(arch["image_shape"]), arch["latent_dim"], kind)
    if kind == "multi":
        nets = [build(a) for a in arch["nets"]]
        return MultiAutoencoder(nets, torch.tensor(arch["owner"]))
    raise ValueError(f"unknown architecture kind {kind!r} in {arch}")


__all__ = [
    "Autoencoder",
    "Bottleneck",
    "ConvAutoencoder",
    "Critic",
    "MLPAutoencoder",
    "MNet",
    "MultiAutoencoder",
    "Network",
    "PRECISIONS",
    "autoencoder_for",
    "build",
    "check_precision",
    "set_precision",
]
