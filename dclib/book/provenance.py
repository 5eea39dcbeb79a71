"""Where a committed number or network came from: the commit, the device, torch and
the date, stamped on every reference result (``reference.runner``) and committed
network (``cache.cached_pretraining``)."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import torch


def git_commit() -> str:
    """The checkout's commit, with "+dirty" when tracked files outside ``results/``
    differ from it."""
    top = Path(__file__).parents[2]
    try:
        head = subprocess.run(
            ["git", "-C", str(top), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            # the results a rerun replaces are not the code that made them
            ["git", "-C", str(top), "status", "--porcelain", "--untracked-files=no"]
            + ["--", ".", ":!results"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def device_name(device) -> str:
    """A human name of the device a job ran on."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = _cpu_model() or platform.processor() or platform.machine()
    return f"CPU {cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"


def _cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux; empty elsewhere)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return ""
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.strip() == "model name":
            return value.strip()
    return ""


def stamp(device: Any) -> dict[str, str]:
    """The commit, device, torch version and date of work done now on ``device``."""
    return {
        "git_commit": git_commit(),
        "device": device_name(torch.device(device)),
        "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
