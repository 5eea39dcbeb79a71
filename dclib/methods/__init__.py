"""One module per method: a config dataclass with the paper's defaults and a fit()."""
