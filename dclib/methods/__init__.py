"""One module per method: a config dataclass with the paper's defaults and a fit()."""

from __future__ import annotations

from collections.abc import Callable

from dclib.methods import baselines, dcss, dml, dssl

METHODS: dict[str, tuple[Callable, type]] = baselines.METHODS | {
    "dssl": (dssl.fit_dssl, dssl.DSSLConfig),
    "dcss_u": (dcss.fit_dcss_u, dcss.DCSSConfig),
    "dcss": (dcss.fit_dcss, dcss.DCSSConfig),
    "dml": (dml.fit_dml, dml.DMLConfig),
}
"""name -> (fit function, config class) of every method that starts from data"""


def get_method(name: str) -> tuple[Callable, type]:
    """The fit function and config class of ``name``; a ValueError naming the known
    methods otherwise."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {sorted(METHODS)}")
    return METHODS[name]


__all__ = ["METHODS", "get_method"]
