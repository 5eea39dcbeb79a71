"""Autoencoder pretraining, shared by every method: MSE reconstruction with Adam,
optionally greedy layer-wise (DEC §3.2), on augmented images, with the ACAI critic
game (DynAE eq. 6-7, R-DC eq. 1-2) or an instance-level contrastive loss (R-DC
Fig. 1). The epochs run through ``train.fit_epochs``."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dclib.augment import random_affine
from dclib.functional import nt_xent
from dclib.models import Autoencoder, Critic, MLPAutoencoder
from dclib.train import (
    History,
    Stateful,
    TensorState,
    check_config,
    fit_epochs,
    make_optimizer,
)


@dataclass(frozen=True)
class PretrainConfig:
    """Autoencoder pretraining: MSE reconstruction with Adam."""

    n_epochs: int = 50
    """passes over the data (the papers count iterations; see each method's page)"""
    batch_size: int = 256
    lr: float = 1e-3
    """Adam's learning rate (1e-3: Adam's default, the DCSS/DSSL code's choice)"""
    augment: bool = False
    """random ±10 % shifts and ±10° rotations per image (DynAE §4.2, R-DC §4); feature
    vectors are never augmented"""
    acai_lambda: float | None = None
    """weight λ of the ACAI term (DynAE eq. 6; 0.5 in its code); None: no critic"""
    recon_sum: bool = False
    """True: the squared error summed over each image's features, averaged over the
    batch, as DynAE eq. 6 and R-DC eq. 1 write it (it sets how much the ACAI term
    weighs against reconstruction); False: the mean over all elements (the DynAE
    code; with a trained critic it lets the critic term collapse the codes)"""
    acai_alpha_max: float = 1.0
    """interpolation coefficients alpha ~ U(0, acai_alpha_max): 1 as DynAE §4.1 and its
    code draw them (the original ACAI paper: 0.5)"""
    acai_alternate: bool = False
    """True: the autoencoder and the critic are updated on alternate iterations (R-DC
    Algorithm 1: even iterations the autoencoder, odd ones the critic); False: both
    on every iteration (DynAE §4.1, both official codes)"""
    critic_trainable: bool = True
    """False reproduces the DynAE code, whose critic is compiled frozen (notes §4.2)"""
    contrastive_temperature: float | None = None
    """instead of reconstruction, the instance-level contrastive loss (NT-Xent,
    ``functional.nt_xent``) between the codes of two augmented views of each image,
    at this temperature (R-DC Fig. 1's second pretraining; SimCLR's 0.5); images
    only, no critic; the decoder stays untrained"""
    greedy_dropout: float | None = None
    """input dropout of greedy layer-wise denoising pretraining before the end-to-end
    epochs (DEC §3.2: 0.2); None: end to end only. MLP autoencoders only"""
    seed: int | None = None
    """None: the run's seed initialises and pretrains the autoencoder; an int: this
    seed does, so runs with different seeds share one pretrained autoencoder (the
    quick profile's saving; the official DCSS and DML code ship one)"""

    def __post_init__(self) -> None:
        check_config(self)


def _fresh_copy(module: nn.Module) -> nn.Module:
    clone = copy.deepcopy(module)
    for m in clone.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    return clone


def acai_losses(
    model: Autoencoder,
    critic: Critic,
    x: Tensor,
    z: Tensor,
    x_hat: Tensor,
    alpha_max: float = 1.0,
) -> tuple[Tensor, Tensor]:
    """The ACAI game of DynAE eq. 6-7 (R-DC eq. 1-2) for one batch.

    Each code is mixed with the code of the batch read backwards,
    ``z_a = a z + (1 - a) z[::-1]`` with ``a ~ U(0, alpha_max)`` per image, and
    decoded to ``x_a``. Returns ``(regulariser, critic_loss)``: the autoencoder
    minimises ``||c(x_a)||^2`` (the regulariser λ multiplies); the critic minimises
    ``||c(x_a) - a||^2 + ||c(g x + (1 - g) x_hat)||^2`` with one ``g ~ U(0, 1)``.
    Both share the graph of ``c(x_a)``: back-propagate each into its own player's
    parameters only (``backward(inputs=...)``), the critic's before any step.
    """
    b = x.shape[0]
    a = alpha_max * torch.rand(b, 1, device=x.device)  # (B, 1)
    x_a = model.decode(a * z + (1 - a) * z.flip(0)).reshape(x.shape)
    c_a = critic(x_a)  # (B,): one pass serves both players
    regulariser = c_a.pow(2).mean()
    g = torch.rand((), device=x.device)
    c_mix = critic(g * x.detach() + (1 - g) * x_hat.detach())
    critic_loss = (c_a - a.squeeze(1)).pow(2).mean() + c_mix.pow(2).mean()
    return regulariser, critic_loss


def _linear_pairs(model: Autoencoder) -> list[tuple[nn.Linear, nn.Linear]]:
    """(encoder layer i, its mirror decoder layer) of an MLP AE, outermost first."""
    enc = [m for m in model.encoder.modules() if isinstance(m, nn.Linear)]
    dec = [m for m in model.decoder.modules() if isinstance(m, nn.Linear)]
    if not isinstance(model, MLPAutoencoder) or len(enc) != len(dec):
        raise ValueError("greedy layer-wise pretraining needs an MLPAutoencoder")
    return list(zip(enc, reversed(dec), strict=True))


def _reconstruction_step(
    net: nn.Module, opt: torch.optim.Optimizer
) -> Callable[[Tensor, Tensor], dict[str, float]]:
    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        loss = F.mse_loss(net(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    return step


def pretrain_greedy(
    model: Autoencoder,
    X: Tensor,
    cfg: PretrainConfig,
    *,
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
) -> History:
    """Greedy layer-wise denoising pretraining of a stacked autoencoder (DEC §3.2).

    Layer by layer, outermost first, a one-hidden-layer autoencoder (encoder layer i
    and its mirror decoder layer) learns to reconstruct the previous layer's codes;
    as DEC §3.2 writes it, both its input and its hidden code are corrupted by
    dropout (rate ``cfg.greedy_dropout``): x~ = Dropout(x), h = g1(W1 x~ + b1),
    h~ = Dropout(h), y = g2(W2 h~ + b2). Hidden layers use
    ReLU; the innermost code and the outermost reconstruction are linear, as in the
    full network. Logs ``loss`` and ``layer`` per epoch.
    """
    pairs, history = _linear_pairs(model), History()
    h = X.flatten(1)
    for i, (enc, dec) in enumerate(pairs):
        act_enc = nn.Identity() if i == len(pairs) - 1 else nn.ReLU()
        act_dec = nn.Identity() if i == 0 else nn.ReLU()
        drop = cfg.greedy_dropout
        net = nn.Sequential(
            nn.Dropout(drop), enc, act_enc, nn.Dropout(drop), dec, act_dec
        )
        opt = make_optimizer(net.parameters(), "adam", cfg.lr)
        torch.manual_seed(seed + i)  # the dropout masks
        part = fit_epochs(
            _reconstruction_step(net, opt),
            h,
            n_epochs=cfg.n_epochs,
            batch_size=cfg.batch_size,
            seed=seed + i,
            state={"net": net, "opt": opt},
            checkpoint=None if checkpoint is None else f"{checkpoint}.layer{i}",
            config=asdict(cfg),
            desc=f"layer {i + 1}/{len(pairs)}",
        )
        for r in part.records:
            history.append(**r, layer=i)
        with torch.no_grad():
            h = act_enc(enc(h))
    return history


def pretrain_autoencoder(
    model: Autoencoder,
    X: Tensor,
    cfg: PretrainConfig = PretrainConfig(),
    *,
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
) -> History:
    """Train ``model`` to reconstruct ``X`` (already on the model's device).

    Loss: mean squared error between the (augmented) batch and its reconstruction,
    plus ``acai_lambda`` times the ACAI regulariser when a critic is used; the critic
    is trained by its own Adam on every batch. With ``cfg.greedy_dropout`` the
    end-to-end epochs follow ``pretrain_greedy``. Logs ``loss`` (and ``critic``) per
    epoch, greedy epochs first with their ``layer``; resumes from ``checkpoint``.
    """
    greedy = History()
    if cfg.greedy_dropout is not None:
        greedy = pretrain_greedy(model, X, cfg, seed=seed, checkpoint=checkpoint)
    torch.manual_seed(seed)  # dropout-free nets: this seeds augmentation and ACAI draws
    opt = make_optimizer(model.parameters(), "adam", cfg.lr)
    turn = TensorState(i=0)
    state: dict[str, Stateful] = {"model": model, "opt": opt, "turn": turn}
    critic = critic_opt = None
    if cfg.acai_lambda is not None:
        critic = Critic(_fresh_copy(model.encoder)).to(X.device)
        critic.precision = model.precision
        critic.requires_grad_(cfg.critic_trainable)
        critic_opt = make_optimizer(critic.parameters(), "adam", cfg.lr)
        state |= {"critic": critic, "critic_opt": critic_opt}

    def contrastive_step(x: Tensor, idx: Tensor) -> dict[str, float]:
        model.train()
        loss = nt_xent(
            model.encode(random_affine(x)),
            model.encode(random_affine(x)),
            cfg.contrastive_temperature,
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        model.train()
        if cfg.augment and x.ndim == 4:
            x = random_affine(x)
        z, x_hat = model(x)
        if cfg.recon_sum:
            loss = (x_hat - x).pow(2).flatten(1).sum(1).mean()
        else:
            loss = F.mse_loss(x_hat, x)
        logs = {"loss": loss.item()}
        if critic is not None:
            regulariser, critic_loss = acai_losses(
                model, critic, x, z, x_hat, cfg.acai_alpha_max
            )
            loss = loss + cfg.acai_lambda * regulariser
            logs["critic"] = critic_loss.item()
        turn.i += 1  # Algorithm 1 counts from 1: odd iterations the critic's
        both = not cfg.acai_alternate
        train_ae = both or turn.i % 2 == 0
        train_critic = critic is not None and cfg.critic_trainable
        train_critic = train_critic and (both or turn.i % 2 == 1)
        if train_ae:
            opt.zero_grad()
            loss.backward(inputs=list(model.parameters()), retain_graph=train_critic)
        if train_critic:
            critic_opt.zero_grad()
            critic_loss.backward(inputs=list(critic.parameters()))
            critic_opt.step()
        if train_ae:
            opt.step()
        return logs

    contrastive = cfg.contrastive_temperature is not None
    if contrastive and (X.ndim != 4 or critic is not None):
        raise ValueError("contrastive pretraining needs images and no ACAI critic")
    history = fit_epochs(
        contrastive_step if contrastive else step,
        X,
        n_epochs=cfg.n_epochs,
        batch_size=cfg.batch_size,
        seed=seed,
        state=state,
        checkpoint=checkpoint,
        config=asdict(cfg),
        desc="pretrain",
    )
    return History(greedy.records + history.records)
