"""Site comparison across a clinic network: a funnel plot of case-mix-adjusted scores.

Tidy data in (one row per site: ``site``, ``n``, ``adjusted_difference``, ``residual_sd``, as
:func:`gluteutils.outcomes.engines.federated.funnel_data` returns), ``go.Figure`` out.
The adjusted difference is a site's mean observed minus expected review pain under the pooled
case-mix model (ANCOVA without site effects). Limits follow Neuburger 2011 (BMJ Qual Saf) for
patient-reported scores: they use the spread of the case-mix-adjusted scores themselves
(the pooled residual SD of the model), not a binomial or Poisson variance, so a skewed,
bounded 0-10 score gets limits of the right width: target 0 +/- z * SD / sqrt(n), with
z = 1.96 (95%) and 3.09 (99.8%).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

LIMITS = ((1.959964, "95% limits", "dash"), (3.090232, "99.8% limits", "dot"))
#: Decimals drawn (NPRS points). The site scores come from sums over thousands of rows, whose
#: last bits differ between CPUs; 4 decimals is far below what the plot can show and keeps the
#: stored figure the same on every machine (issue 9).
DECIMALS = 4


def funnel_limits(sd: float, n_max: int, points: int = 200) -> pd.DataFrame:
    """Upper and lower limits over sample sizes 5..n_max for a residual SD ``sd``."""
    n = np.unique(np.geomspace(5, max(n_max, 6) * 1.2, points).round().astype(int))
    out = {"n": n}
    for z, label, _ in LIMITS:
        out[f"{label} upper"] = np.round(z * sd / np.sqrt(n), DECIMALS)
        out[f"{label} lower"] = np.round(-z * sd / np.sqrt(n), DECIMALS)
    return pd.DataFrame(out)


def funnel_plot(sites: pd.DataFrame, *, title: str = "Sites vs the network (case-mix adjusted)",
                width: int = 720, height: int = 420) -> go.Figure:
    """Funnel plot: adjusted difference in review pain against episodes, with limits."""
    for c in ("site", "n", "adjusted_difference", "residual_sd"):
        if c not in sites.columns:
            raise ValueError(f"funnel_plot needs column {c!r}; have {list(sites.columns)}")
    sd = float(sites["residual_sd"].iloc[0])
    lim = funnel_limits(sd, int(sites["n"].max()))
    fig = go.Figure()
    for _, label, dash in LIMITS:
        for side in ("upper", "lower"):
            fig.add_trace(go.Scatter(x=lim["n"], y=lim[f"{label} {side}"], mode="lines",
                                     line={"color": "grey", "dash": dash, "width": 1},
                                     name=label, showlegend=side == "upper",
                                     hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=sites["n"], y=sites["adjusted_difference"].round(DECIMALS),
                             mode="markers+text",
                             text=sites["site"], textposition="top center", name="sites",
                             marker={"size": 10, "color": "#1f77b4"},
                             hovertemplate="%{text}: %{y:.2f} points, n = %{x}<extra></extra>"))
    fig.add_hline(y=0, line={"color": "black", "width": 1})
    fig.update_layout(title=title, width=width, height=height, template="simple_white",
                      xaxis_title="episodes in the model",
                      yaxis_title="observed - expected review pain (NPRS points)")
    return fig
