"""pyproject.toml, environment.yml and constraints.txt describe the same install, and
the ``dclib`` command they install runs."""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pyproject_requirements() -> list[Requirement]:
    reqs = list(PYPROJECT["dependencies"])
    for extra in PYPROJECT["optional-dependencies"].values():
        reqs += extra
    return [Requirement(r) for r in reqs]


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _environment_requirements() -> list[Requirement]:
    deps = _environment()["dependencies"]
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    return [Requirement(r) for r in pip if not r.startswith("-e")]


def _key(req: Requirement) -> tuple[str, str]:
    return canonicalize_name(req.name), str(req.specifier)


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_environment_yml_matches_pyproject():
    ours = {_key(r) for r in _pyproject_requirements()}
    theirs = {_key(r) for r in _environment_requirements()}
    assert ours == theirs, (
        f"only in pyproject: {sorted(ours - theirs)}; "
        f"only in environment.yml: {sorted(theirs - ours)}"
    )
    assert len(theirs) == len(_environment_requirements())  # no package twice


def test_environment_yml_installs_the_project_and_its_python():
    env = _environment()
    deps = env["dependencies"]
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-e ." in pip
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python"))
    assert python.removeprefix("python") == PYPROJECT["requires-python"]


def test_constraints_pin_torch_and_torchvision():
    pins = _pins()
    assert pins["torch"] == "2.14.1"
    assert pins["torchvision"] == "0.29.1"


def test_constraints_pin_every_direct_dependency_within_its_range():
    pins = _pins()
    for req in _pyproject_requirements():
        name = canonicalize_name(req.name)
        if name == "medmnist":  # the optional `datasets` extra
            continue
        assert name in pins, f"constraints.txt does not pin {name}"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside {req.specifier}"
        )


def test_console_script_resolves_to_the_cli(capsys):
    target = PYPROJECT["scripts"]["dclib"]
    module, _, attr = target.partition(":")
    main = getattr(importlib.import_module(module), attr)
    assert callable(main)
    (installed,) = importlib.metadata.entry_points(
        group="console_scripts", name="dclib"
    )
    assert installed.value == target and installed.load() is main
    with pytest.raises(SystemExit) as exit:
        main(["--help"])
    assert exit.value.code == 0 and "execute" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit:
        main(["execute", "--help"])
    assert exit.value.code == 0 and re.search(r"--profile", capsys.readouterr().out)
