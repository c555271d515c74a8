"""Figures for the symptom questionnaire: what moved each likely cause up or down."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

RAISE_COLOUR = "#2a7ab0"
LOWER_COLOUR = "#c8553d"


def contribution_bars(table: pd.DataFrame) -> pd.DataFrame:
    """Turn a contributions table into bar rows (label, ln LR, colour), top cause at the top.

    ``table`` is :meth:`gluteutils.triage.TriageResult.contributions_table`.
    """
    if table.empty:
        return pd.DataFrame(columns=["label", "log_lr", "colour"])
    rows = table.sort_values(["rank", "log_lr"], ascending=[False, True], kind="stable")
    short = rows["answer"].str.slice(0, 60)
    labels = [f"{n[:28]} | {a}" for n, a in zip(rows["name"], short, strict=True)]
    return pd.DataFrame({
        "label": labels, "log_lr": rows["log_lr"].astype(float).to_list(),
        "colour": [RAISE_COLOUR if v >= 0 else LOWER_COLOUR for v in rows["log_lr"]],
    })


def contributions_figure(table: pd.DataFrame, *, width: int = 900, height: int | None = None
                         ) -> go.Figure:
    """Horizontal bars: each answer's ln(likelihood ratio) for each of the top causes.

    Bars to the right raised that cause's score, bars to the left lowered it; the first bar
    of each cause is its starting point (prior).
    """
    bars = contribution_bars(table)
    fig = go.Figure(go.Bar(x=bars["log_lr"], y=list(range(len(bars))), orientation="h",
                           marker_color=bars["colour"].to_list(),
                           hovertext=bars["label"].to_list(), hoverinfo="text",
                           name="effect"))
    style_contributions(fig, bars, width=width, height=height)
    return fig


def style_contributions(fig: go.Figure, bars: pd.DataFrame, *, width: int = 900,
                        height: int | None = None) -> None:
    """Apply axis labels and size (shared by static figures and widgets)."""
    fig.update_layout(
        width=width, height=height or max(260, 22 * len(bars) + 90),
        margin={"l": 10, "r": 10, "t": 40, "b": 40}, showlegend=False,
        title="What raised (right) or lowered (left) the chance of each likely cause",
        xaxis={"title": "lowers the chance  <-  effect of the answer  ->  raises the chance",
               "showticklabels": False, "zeroline": True},
        yaxis={"tickmode": "array", "tickvals": list(range(len(bars))),
               "ticktext": bars["label"].to_list(), "automargin": True},
    )


def accuracy_figure(summary: pd.DataFrame, *, width: int = 600, height: int = 300) -> go.Figure:
    """Bars of the vignette audit figures (``triage.accuracy_summary``) with CIs vs targets."""
    targets = {"top-1 accuracy": 0.8, "top-3 accuracy": 0.95, "triage agreement": 0.9,
               "under-triage": 0.0, "red-flag sensitivity (emergency or urgent)": 1.0}
    names = list(summary.index)
    error = None
    if {"ci_low", "ci_high"} <= set(summary.columns):
        error = {"type": "data", "symmetric": False,
                 "array": (summary["ci_high"] - summary["value"]).to_list(),
                 "arrayminus": (summary["value"] - summary["ci_low"]).to_list()}
    fig = go.Figure([
        go.Bar(x=names, y=summary["value"].to_list(), name="on our vignettes (Wilson 95% CI)",
               error_y=error),
        go.Scatter(x=names, y=[targets.get(n) for n in names], mode="markers",
                   marker={"symbol": "line-ew-open", "size": 40, "line": {"width": 3}},
                   name="required"),
    ])
    fig.update_layout(width=width, height=height, yaxis={"range": [0, 1.05],
                                                         "title": "proportion"},
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig
