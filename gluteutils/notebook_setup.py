"""One call at the top of each notebook: deterministic, offline, small outputs, quick.

:func:`setup` seeds the random generators, makes plotly render figures as JSON (its
``plotly_mimetype`` renderer, so a stored figure carries no copy of plotly.js) and tidies
pandas' display. It is kept cheap (issue 14: the first figure should come fast):

* plotly's renderer registry imports ``nbformat`` at import time only to read its version
  in ``fig.show()``; importing ``nbformat`` pulls in ``jsonschema`` and its optional format
  checkers (one builds a Lark grammar at import time): about 1 s of the old ``setup()``, the
  cost measured in issue 14. :func:`setup` imports the registry with ``nbformat`` hidden and
  then gives plotly the one thing it reads, ``nbformat.__version__`` (from the installed
  package's metadata). ``nbformat`` itself stays importable as usual.
"""

from __future__ import annotations

import random
import sys

import numpy as np
import pandas as pd

SEED = 20261126


class _Version:
    """What plotly reads from ``nbformat``: its version, from the package metadata."""

    def __init__(self, distribution: str) -> None:
        from importlib.metadata import version

        self.__version__ = version(distribution)


def _import_plotly_renderers() -> None:
    """Import ``plotly.io._renderers`` without importing ``nbformat`` (and jsonschema)."""
    if "plotly.io._renderers" in sys.modules or "nbformat" in sys.modules:
        return
    sys.modules["nbformat"] = None  # type: ignore[assignment]  # `import nbformat` fails fast
    try:
        import plotly.io._renderers as renderers
    finally:
        if sys.modules.get("nbformat", 0) is None:
            del sys.modules["nbformat"]
    renderers.nbformat = _Version("nbformat")  # type: ignore[attr-defined]


def setup(seed: int = SEED) -> None:
    """Seed the random generators, pick the plotly renderer and tidy pandas display."""
    random.seed(seed)
    np.random.seed(seed)
    _import_plotly_renderers()
    from gluteutils.plots import use_notebook_renderer

    use_notebook_renderer()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 120)
    pd.set_option("display.precision", 2)
