"""One call at the top of each notebook: deterministic, offline, small outputs."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from gluteutils.plots import use_notebook_renderer

SEED = 20261126


def setup(seed: int = SEED) -> None:
    """Seed the random generators, pick the plotly renderer and tidy pandas display."""
    random.seed(seed)
    np.random.seed(seed)
    use_notebook_renderer()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 120)
    pd.set_option("display.precision", 2)
