"""A dataset's files on disk: one :class:`DatasetNotAvailable` that says how to get
them when they are missing or their download fails, and the SHA-256 checks of their
integrity (pinned hashes and the ``SHA256SUMS`` manifest written after a download)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dclib.data.dataset import DatasetNotAvailable
from dclib.storage import file_sha256, write_text

_TIMEOUT_S = 30.0
"""Socket timeout while downloading, so a dead network fails instead of hanging."""
_MANIFEST = "SHA256SUMS"


_TORCHVISION_FILES = "the torchvision files for it"


def _missing_message(
    name: str, directory: Path, files: str = _TORCHVISION_FILES
) -> str:
    return (
        f"dataset {name!r} is not available: its files are not in {directory}. Get"
        f" them with dclib.data.load({name!r}, download=True) on a machine with"
        f" network access, or copy {files} into {directory}"
        " (root= or $DCLIB_DATA choose another data directory)."
    )


@contextmanager
def _fetching(
    name: str, directory: Path, download: bool, files: str = _TORCHVISION_FILES
) -> Iterator[None]:
    """Turn a missing file or a failed download into one DatasetNotAvailable.

    While downloading, stalled sockets time out after _TIMEOUT_S seconds.
    """
    previous = socket.getdefaulttimeout()
    if download:
        socket.setdefaulttimeout(_TIMEOUT_S)
    try:
        yield
    except DatasetNotAvailable:
        raise
    except (OSError, RuntimeError) as err:  # torchvision: "Dataset not found", URLError
        if not download:
            message = _missing_message(name, directory, files)
            raise DatasetNotAvailable(message) from err
        raise DatasetNotAvailable(
            f"downloading dataset {name!r} into {directory} failed: {err}. Check the"
            f" network and retry, or copy the files into {directory} by hand."
        ) from err
    finally:
        socket.setdefaulttimeout(previous)


def _check_sha256(path: Path, expected: str, source: str) -> None:
    if file_sha256(path) != expected:
        raise DatasetNotAvailable(
            f"{path} is corrupt: its SHA-256 differs from {source}. Delete the file"
            " and load the dataset again (download=True fetches it afresh)."
        )


def _write_manifest(directory: Path) -> Path:
    """Record the SHA-256 of every file under ``directory`` in ``SHA256SUMS``.

    The format is ``sha256sum``'s, so ``sha256sum -c SHA256SUMS`` checks it too.
    """
    manifest = directory / _MANIFEST
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p != manifest)
    lines = [
        f"{file_sha256(p)}  {p.relative_to(directory).as_posix()}\n" for p in files
    ]
    write_text(manifest, "".join(lines))
    return manifest


def _verify_manifest(directory: Path) -> None:
    """Check the files listed in ``directory/SHA256SUMS``, if there is one."""
    manifest = directory / _MANIFEST
    if not manifest.is_file():
        return
    for line in manifest.read_text().splitlines():
        expected, _, relative = line.partition("  ")
        path = directory / relative
        if not path.is_file():
            raise DatasetNotAvailable(
                f"{path} is listed in {manifest} but missing; delete {directory} and"
                " load the dataset again with download=True."
            )
        _check_sha256(path, expected, f"the one recorded in {manifest} at download")
