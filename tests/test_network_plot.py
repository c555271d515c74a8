"""The funnel plot: limits narrow with n, one marker per site, bad input named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gluteutils.plots.network import funnel_limits, funnel_plot
from gluteutils.references import resolve


def test_limits_narrow_as_sites_grow():
    lim = funnel_limits(2.0, 1000)
    upper = lim["95% limits upper"].to_numpy()
    assert np.all(np.diff(upper) < 0)
    # drawn to 4 decimals (plots.network.DECIMALS) so the figure is the same on every CPU
    assert upper[-1] == pytest.approx(1.959964 * 2.0 / np.sqrt(lim["n"].iloc[-1]), abs=5e-5)
    assert np.allclose(lim["99.8% limits lower"], -lim["99.8% limits upper"])


def test_funnel_plot_one_marker_per_site():
    sites = pd.DataFrame({"site": ["a", "b", "c"], "n": [100, 400, 900],
                          "adjusted_difference": [0.3, -0.1, 0.02], "residual_sd": 2.0})
    fig = funnel_plot(sites)
    markers = [t for t in fig.data if t.name == "sites"]
    assert list(markers[0].text) == ["a", "b", "c"]
    assert len(fig.data) == 5


def test_funnel_plot_names_missing_column():
    with pytest.raises(ValueError, match="residual_sd"):
        funnel_plot(pd.DataFrame({"site": ["a"], "n": [5], "adjusted_difference": [0.0]}))


def test_funnel_source_resolves():
    assert resolve("neuburger2011")["year"] == 2011
