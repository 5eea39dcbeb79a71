"""pyproject.toml, environment.yml and constraints.txt describe the same install."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]


def _canon(req: str) -> str:
    name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", req.strip()).groups()
    return re.sub(r"[-_.]+", "-", name).lower() + spec.replace(" ", "")


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    return {_canon(r) for r in reqs}


def _environment_requirements() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return {_canon(r) for r in pip if not r.startswith("-e")}


def test_environment_yml_matches_pyproject():
    ours, theirs = _pyproject_requirements(), _environment_requirements()
    assert ours == theirs, (
        f"only in pyproject: {sorted(ours - theirs)}; "
        f"only in environment.yml: {sorted(theirs - ours)}"
    )


def test_sync_check_detects_a_difference():
    assert _canon("Scikit_Learn >= 1.4") == "scikit-learn>=1.4"
    assert _canon("torch>=2.4") != _canon("torch>=2.5")


def test_constraints_pin_torch_and_every_direct_dependency():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    assert pins["torch"] == "2.14.1"
    assert pins["torchvision"] == "0.29.1"
    direct = {re.match(r"[a-z0-9\-]+", r).group() for r in _pyproject_requirements()}
    missing = direct - set(pins) - {"medmnist"}  # the `datasets` extra is optional
    assert not missing, f"constraints.txt does not pin {sorted(missing)}"
