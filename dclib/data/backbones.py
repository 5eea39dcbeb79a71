"""Feature vectors of a :class:`Dataset`'s images from the ImageNet-pretrained
networks of :data:`BACKBONES` (:func:`features`), cached in the data directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from dclib.data.dataset import Dataset, DatasetNotAvailable, data_dir
from dclib.storage import array_hash, atomic_write

BACKBONES = ("resnet34", "resnet50", "resnet101", "resnet152", "vgg16")
"""ImageNet-pretrained torchvision networks ``features`` can use (DCSS Table 2 and
§5: ResNet-34/50/101/152; DSSL §IV: VGG-16)."""

_IMAGENET_MEAN, _IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def features(
    ds: Dataset,
    backbone: str = "resnet152",
    *,
    pretrained: bool = True,
    root: str | os.PathLike[str] | None = None,
    batch_size: int = 128,
    device: Any = "auto",
    seed: int = 0,
) -> Dataset:
    """Feature vectors of ``ds``'s images from an ImageNet network (cached on disk).

    Images are resized to 224x224 (grey ones repeated to three channels) and
    normalised with ImageNet's statistics; ResNets give their pooled features (512-d
    for ResNet-34, 2048-d otherwise), VGG-16 its 4096-d second fully connected layer.
    The weights come from torchvision's cache (``torch.hub.get_dir()``); when they
    are not there, one ``DatasetNotAvailable`` says how to get them (no download is
    tried). ``pretrained=False`` uses random weights drawn under ``seed`` (tests).
    Features are stored in ``<data_dir>/features/`` keyed by the backbone, the
    weights and the images' hash, and reused.
    """
    import torch
    import torchvision

    from dclib.repro import pick_device

    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; choose one of {BACKBONES}")
    if ds.image_shape is None:
        raise ValueError(f"features needs images; {ds.name!r} holds vectors")
    weights = torchvision.models.get_model_weights(backbone).DEFAULT
    tag = weights.url.rsplit("/", 1)[-1] if pretrained else f"random{seed}"
    digest = array_hash(ds.X)
    cache = data_dir(root) / "features" / f"{ds.name}-{backbone}-{tag}-{digest}.npy"
    if not cache.exists():
        if pretrained:
            file = Path(torch.hub.get_dir()) / "checkpoints" / tag
            if not file.exists():
                raise DatasetNotAvailable(
                    f"the ImageNet weights of {backbone} are not in {file}. On a"
                    f" machine with network access run torchvision.models.{backbone}"
                    f"(weights='DEFAULT') once (it downloads {weights.url}), or copy"
                    " that file there."
                )
        torch.manual_seed(seed)
        net = torchvision.models.get_model(
            backbone, weights=weights if pretrained else None
        )
        if backbone == "vgg16":
            net.classifier = net.classifier[:-3]  # up to the second 4096-d layer
        else:
            net.fc = torch.nn.Identity()
        dev = pick_device(device)
        net = net.to(dev).eval()
        mean = torch.tensor(_IMAGENET_MEAN, device=dev)[:, None, None]
        std = torch.tensor(_IMAGENET_STD, device=dev)[:, None, None]
        out = []
        with torch.no_grad():
            for lo in range(0, len(ds), batch_size):
                x = torch.as_tensor(ds.X[lo : lo + batch_size], device=dev)
                x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
                x = torch.nn.functional.interpolate(
                    x, size=(224, 224), mode="bilinear", align_corners=False
                )
                out.append(net((x - mean) / std).cpu().numpy())
        feats = np.concatenate(out).astype(np.float32)
        atomic_write(cache, lambda tmp: np.save(tmp, feats))
    X = np.load(cache)
    return Dataset(X, ds.y, ds.n_clusters, None, f"{ds.name}-{backbone}")
