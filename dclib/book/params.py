"""Values given as text on the command line, read and checked against a type.

``dclib execute -p NAME VALUE`` and ``dclib run --set FIELD=VALUE`` read each value
as a Python literal where it is one (``3``, ``0.5``, ``None``, ``True``, ``[0, 1]``,
``(500, 500)``, ``'3'``), else as the text itself (``quick``, ``mnist5k``,
``cuda:0``): papermill's ``-p`` reads ints, floats, booleans and None the same way;
lists are read too. :func:`conform` then checks the value against a type (``int``,
``float``, ``bool``, ``str``, ``None``, ``list[X]``, ``tuple[X, ...]`` and unions of
them), converting only where nothing is lost: an int where a float is expected, a
list where a tuple is.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit 2), as
    every other error of the command line is; ``--help`` still shows the usage."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def parse(text: str) -> Any:
    """``text`` read as a Python literal, or ``text`` itself when it is none."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def type_name(tp: Any) -> str:
    """How a message writes a type: ``int``, ``list[int] | int | None``."""
    if tp is type(None):
        return "None"
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    return str(tp).replace("NoneType", "None")


def conform(value: Any, tp: Any) -> Any:
    """``value`` as a ``tp``; a TypeError naming both when it is not one. A bool is
    not taken for an int or a float."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(tp):
            with contextlib.suppress(TypeError):
                return conform(value, arm)
    elif origin in (list, tuple):  # homogeneous: list[X], tuple[X, ...]
        if isinstance(value, list | tuple):
            item = typing.get_args(tp)[0]
            return origin(conform(v, item) for v in value)
    elif tp is type(None):
        if value is None:
            return None
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif type(value) is tp:
        return value
    raise TypeError(f"expected {type_name(tp)}, got {value!r}")


def split_assignment(item: str) -> tuple[str, str]:
    """``("FIELD", "VALUE")`` of ``"FIELD=VALUE"``; a ValueError otherwise."""
    name, sep, text = item.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--set takes FIELD=VALUE, got {item!r}")
    return name.strip(), text


def set_fields(cfg: Any, texts: Mapping[str, str]) -> tuple[Any, dict[str, Any]]:
    """``cfg`` (a config dataclass) with each field of ``texts`` set to its text read
    by :func:`parse` and checked against the field's type; ``pretrain.n_epochs``
    names a field of the nested config ``pretrain``. Returns the new config and the
    values set, by name. A ValueError names a field that is not one (with the
    fields there are) or a value of the wrong type."""
    values = {}
    for name, text in texts.items():
        cfg, values[name] = _set_field(cfg, name.split("."), text, name)
    return cfg, values


def _set_field(cfg: Any, path: list[str], text: str, name: str) -> tuple[Any, Any]:
    fields = [f.name for f in dataclasses.fields(cfg)]
    head, *rest = path
    if head not in fields:
        raise ValueError(
            f"--set {name}: {type(cfg).__name__} has no field {head!r}; "
            f"its fields: {', '.join(fields)}"
        )
    tp = typing.get_type_hints(type(cfg))[head]
    if rest:
        if not dataclasses.is_dataclass(tp):
            raise ValueError(f"--set {name}: {head} ({type_name(tp)}) has no fields")
        inner, value = _set_field(getattr(cfg, head), rest, text, name)
        return dataclasses.replace(cfg, **{head: inner}), value
    if dataclasses.is_dataclass(tp):
        raise ValueError(f"--set {name}: set the fields of {head}: {head}.FIELD=VALUE")
    try:
        value = conform(parse(text), tp)
    except TypeError as err:
        raise ValueError(f"--set {name}: {err}") from None
    return dataclasses.replace(cfg, **{head: value}), value
