"""Writing and identifying files: the one place for atomic writes and content hashes.

Every file dclib writes (results, checkpoints, caches, executed notebooks) goes
through ``atomic_write`` or ``write_dir``, so a reader never sees a half-written
file and a killed job leaves either the old file or the new one. Every content hash
(of arrays, of files, of JSON-able identities) is a SHA-256 computed here.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import pickle
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("dclib")

UNREADABLE = (
    OSError,
    EOFError,
    RuntimeError,
    KeyError,
    TypeError,
    ValueError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
)
"""what reading a damaged file raises (truncated JSON, zip, torch archives, a
checkpoint of another structure): the errors a cache read turns into a recomputation"""


def discard(path: Path, err: BaseException) -> None:
    """Remove a damaged cache file, saying which and why (the run is recomputed)."""
    log.warning(
        "dclib: %s is damaged (%s: %s); recomputing it", path, type(err).__name__, err
    )
    path.unlink(missing_ok=True)


def _disk_full(path: Path, err: BaseException) -> OSError | None:
    """An OSError saying the disk is full when ``err`` (raised writing ``path``) is
    that: ENOSPC, or torch's archive writer failing for want of space."""
    torch_writer = isinstance(err, RuntimeError) and "inline_container" in str(err)
    if not (getattr(err, "errno", None) == errno.ENOSPC or torch_writer):
        return None
    free = shutil.disk_usage(path.parent).free / 2**20
    return OSError(
        errno.ENOSPC,
        f"no space left to write {path} ({free:.0f} MiB free): free some space and "
        "run again (finished results are kept; a killed run resumes)",
    )


def atomic_write(path: str | os.PathLike, write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it onto
    ``path``; on any error the temporary file is removed and ``path`` is untouched
    (a full disk raises an OSError that says so and names ``path``). The temporary
    name keeps ``path``'s suffix (``np.save`` and friends add theirs otherwise)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix
    )
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except (OSError, RuntimeError) as err:
        full = _disk_full(path, err)
        if full is None:
            raise
        raise full from err
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    """``path.write_text(text)``, atomically."""
    atomic_write(path, lambda p: p.write_text(text))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """``obj`` as indented, key-sorted JSON (non-JSON values as strings), atomically."""
    write_text(path, json.dumps(as_json(obj), indent=2, sort_keys=True) + "\n")


def as_json(obj: Any) -> Any:
    """``obj`` as plain JSON types (tuples become lists, unknown types strings)."""
    return json.loads(json.dumps(obj, default=str, sort_keys=True))


def write_dir(target: str | os.PathLike, fill: Callable[[Path], Any]) -> None:
    """Call ``fill(tmp)`` on a fresh directory beside ``target``, then swap it into
    ``target``: readers see the old or the new directory, never a mixture; on any
    error the temporary directory is removed and ``target`` is untouched. Safe when
    several processes write one ``target`` at once (two identical runs finishing
    together): each moves the directory it finds aside under a name of its own, and
    the last one to finish wins."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        fill(tmp)
        for _ in range(100):
            old = Path(
                tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old.")
            )
            try:
                try:
                    target.replace(old)  # the directory found, aside (old is empty)
                except FileNotFoundError:
                    pass  # none there, or a concurrent writer moved it
                tmp.rename(target)
                return
            except OSError as err:  # another writer put one there in between
                if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
            finally:
                shutil.rmtree(old, ignore_errors=True)
        raise OSError(f"could not move a new {target} into place: too many writers")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def array_hash(*arrays: np.ndarray) -> str:
    """Short SHA-256 of arrays' bytes: identifies the exact data a model saw."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).view(np.uint8).data)
    return h.hexdigest()[:16]


def files_hash(paths: Iterable[Path], root: Path) -> str:
    """SHA-256 of the files' names (relative to ``root``) and contents, in order."""
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of one file's contents, read in blocks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def json_hash(obj: Any, length: int = 20) -> str:
    """Short SHA-256 of ``obj`` as key-sorted JSON: a stable key for an identity."""
    blob = json.dumps(as_json(obj), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:length]
