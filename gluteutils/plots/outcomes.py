"""Outcome figures: tidy DataFrame + column names in, ``go.Figure`` out (seaborn style).

Each figure that the explorer updates has a matching ``update_*`` function that changes the
existing traces in place (trace ``meta`` holds the hue level), so the same code serves a static
``go.Figure`` in a notebook and a live ``go.FigureWidget`` in the explorer app. Figures have an
explicit width and height (FigureWidget does not autosize in JupyterLab 4.6).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from gluteutils.outcomes.schema import THERAPIES, THERAPY_LABELS

WIDTH = 720
HEIGHT = 400


def therapy_colors(levels: Sequence[str] = THERAPIES) -> dict[str, str]:
    """A fixed colour per level (the same therapy has the same colour in every figure)."""
    palette = qualitative.D3
    return {lv: palette[i % len(palette)] for i, lv in enumerate(levels)}


def _label(level: str, labels: Mapping[str, str] | None) -> str:
    return (labels or THERAPY_LABELS).get(level, level)


def _levels(df: pd.DataFrame, hue: str, levels: Sequence[str] | None) -> list[str]:
    if levels is not None:
        return list(levels)
    present = set(df[hue].astype(str))
    ordered = [t for t in THERAPIES if t in present]
    return ordered + sorted(present - set(ordered))


def _base_layout(fig: go.Figure, title: str, x_title: str, y_title: str,
                 width: int, height: int) -> None:
    fig.update_layout(title=title, width=width, height=height, autosize=False,
                      template="plotly_white", margin={"l": 60, "r": 20, "t": 50, "b": 50},
                      legend={"font": {"size": 10}})
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)


# --------------------------------------------------------------------------- trajectories


def trajectory_figure(df: pd.DataFrame, *, x: str = "time", y: str = "mean",
                      lower: str = "lower", upper: str = "upper", hue: str = "therapy",
                      levels: Sequence[str] | None = None,
                      labels: Mapping[str, str] | None = None, title: str = "",
                      x_title: str = "Week since first visit", y_title: str = "Mean",
                      width: int = WIDTH, height: int = HEIGHT) -> go.Figure:
    """Mean trajectories with 95% CI error bars, one line per ``hue`` level."""
    fig = go.Figure()
    colors = therapy_colors(_levels(df, hue, levels))
    for level in _levels(df, hue, levels):
        fig.add_trace(go.Scatter(mode="lines+markers", name=_label(level, labels), meta=level,
                                 line={"color": colors[level]}, x=[], y=[],
                                 error_y={"type": "data", "symmetric": False, "array": [],
                                          "arrayminus": [], "thickness": 1}))
    _base_layout(fig, title, x_title, y_title, width, height)
    update_trajectory(fig, df, x=x, y=y, lower=lower, upper=upper, hue=hue)
    return fig


def update_trajectory(fig: go.Figure, df: pd.DataFrame, *, x: str = "time", y: str = "mean",
                      lower: str = "lower", upper: str = "upper", hue: str = "therapy",
                      y_title: str | None = None) -> None:
    """Replace the data of every trajectory trace in place (hidden when its level is absent).

    Uses one ``plotly_restyle`` call for all traces (also what a FigureWidget sends to the
    browser), so an update costs a few milliseconds whatever the number of traces.
    """
    groups = {str(k): g for k, g in df.groupby(hue, observed=True, sort=False)}
    xs: list[list[Any]] = []
    ys: list[list[Any]] = []
    plus: list[list[Any]] = []
    minus: list[list[Any]] = []
    visible: list[bool] = []
    for trace in fig.data:
        g = groups.get(str(trace.meta))
        if g is None:
            for lst in (xs, ys, plus, minus):
                lst.append([])
            visible.append(False)
            continue
        g = g.sort_values(x)
        yy = g[y].to_numpy(dtype=float)
        xs.append(g[x].to_numpy().tolist())
        ys.append(yy.round(3).tolist())
        plus.append((g[upper].to_numpy() - yy).round(3).tolist())
        minus.append((yy - g[lower].to_numpy()).round(3).tolist())
        visible.append(True)
    with _batch(fig):
        fig.plotly_restyle({"x": xs, "y": ys, "error_y.array": plus,
                            "error_y.arrayminus": minus, "visible": visible},
                           trace_indexes=list(range(len(fig.data))))
        if y_title is not None and fig.layout.yaxis.title.text != y_title:
            fig.plotly_relayout({"yaxis.title.text": y_title})


# --------------------------------------------------------------------------- responders


def responder_figure(df: pd.DataFrame, *, x: str = "therapy", y: str = "rate",
                     lower: str = "lower", upper: str = "upper",
                     labels: Mapping[str, str] | None = None, title: str = "",
                     y_title: str = "Responders (%)", width: int = WIDTH,
                     height: int = HEIGHT) -> go.Figure:
    """Responder proportions as % bars with 95% CI error bars."""
    fig = go.Figure(go.Bar(x=[], y=[], marker={"color": []},
                           error_y={"type": "data", "symmetric": False, "array": [],
                                    "arrayminus": []}))
    _base_layout(fig, title, "", y_title, width, height)
    fig.update_yaxes(range=[0, 100])
    update_responders(fig, df, x=x, y=y, lower=lower, upper=upper, labels=labels)
    return fig


def update_responders(fig: go.Figure, df: pd.DataFrame, *, x: str = "therapy",
                      y: str = "rate", lower: str = "lower", upper: str = "upper",
                      labels: Mapping[str, str] | None = None) -> None:
    """Replace the bars in place (one ``plotly_restyle`` call)."""
    colors = therapy_colors()
    rate = 100 * df[y].to_numpy(dtype=float)
    with _batch(fig):
        fig.plotly_restyle({
            "x": [[_label(str(v), labels) for v in df[x]]], "y": [rate.round(2).tolist()],
            "marker.color": [[colors.get(str(v), "#888888") for v in df[x]]],
            "error_y.array": [(100 * df[upper].to_numpy() - rate).round(2).tolist()],
            "error_y.arrayminus": [(rate - 100 * df[lower].to_numpy()).round(2).tolist()]},
            trace_indexes=[0])


# --------------------------------------------------------------------------- Kaplan-Meier


def km_figure(curves: pd.DataFrame, at_risk: pd.DataFrame, *, time: str = "time",
              y: str = "recovered", hue: str = "therapy", count: str = "at_risk",
              levels: Sequence[str] | None = None, labels: Mapping[str, str] | None = None,
              threshold: int = 5, title: str = "", x_title: str = "Days since first visit",
              y_title: str = "Recovered (%)", width: int = WIDTH,
              height: int = 480) -> go.Figure:
    """Kaplan-Meier step curves (top) with a numbers-at-risk table (bottom).

    ``at_risk`` rows show their ``label`` column (the disclosure policy's text, e.g. ``"<5"``)
    when there is one, else the count (missing: ``<threshold``); curve points with a missing
    ``y`` (a curve that ended) are not drawn.
    """
    lv = _levels(curves, hue, levels)
    colors = therapy_colors(lv)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28],
                        vertical_spacing=0.06)
    for level in lv:
        fig.add_trace(go.Scatter(mode="lines", line_shape="hv", name=_label(level, labels),
                                 meta=level, line={"color": colors[level]}, x=[], y=[]),
                      row=1, col=1)
    for level in lv:
        fig.add_trace(go.Scatter(mode="text", name=_label(level, labels), meta=level,
                                 showlegend=False, textfont={"color": colors[level], "size": 10},
                                 x=[], y=[], text=[]), row=2, col=1)
    _base_layout(fig, title, "", "", width, height)
    fig.update_yaxes(title_text=y_title, range=[0, 100], row=1, col=1)
    # each row of numbers at risk is named (not told apart by colour alone)
    fig.update_yaxes(title_text="", showticklabels=True, automargin=True, showgrid=False,
                     zeroline=False, tickfont={"size": 10}, row=2, col=1)
    fig.add_annotation(text="Number at risk", xref="paper", yref="paper", x=0, y=0.27,
                       xanchor="left", yanchor="bottom", showarrow=False, font={"size": 11})
    fig.update_xaxes(title_text=x_title, row=2, col=1)
    update_km(fig, curves, at_risk, time=time, y=y, hue=hue, count=count, threshold=threshold)
    return fig


def update_km(fig: go.Figure, curves: pd.DataFrame, at_risk: pd.DataFrame, *,
              time: str = "time", y: str = "recovered", hue: str = "therapy",
              count: str = "at_risk", threshold: int = 5) -> None:
    """Replace the curves and the numbers at risk in place (one ``plotly_restyle`` call)."""
    cg = {str(k): g for k, g in curves.groupby(hue, observed=True, sort=False)}
    ag = {str(k): g for k, g in at_risk.groupby(hue, observed=True, sort=False)}
    n = len(fig.data) // 2
    shown = [str(t.meta) for t in fig.data[:n] if str(t.meta) in cg]
    xs: list[list[Any]] = []
    ys: list[list[Any]] = []
    texts: list[list[str]] = []
    visible: list[bool] = []
    for trace in fig.data[:n]:
        g = cg.get(str(trace.meta))
        if g is None:
            xs.append([])
            ys.append([])
            visible.append(False)
        else:
            yy = g[y].to_numpy(dtype=float)
            drawn = np.isfinite(yy)  # NaN = curve ended (too few at risk): draw nothing there
            xs.append(g[time].to_numpy()[drawn].tolist())
            ys.append((100 * yy[drawn]).round(2).tolist())
            visible.append(True)
        texts.append([])
    for trace in fig.data[n:]:
        g = ag.get(str(trace.meta))
        if g is None or str(trace.meta) not in shown:
            xs.append([])
            ys.append([])
            texts.append([])
            visible.append(False)
            continue
        pos = len(shown) - shown.index(str(trace.meta))
        xs.append(g[time].to_numpy().tolist())
        ys.append([pos] * len(g))
        texts.append(g["label"].astype(str).tolist() if "label" in g.columns else
                     [f"<{threshold}" if pd.isna(v) or v < 0 else str(int(v))
                      for v in g[count]])
        visible.append(True)
    names = {str(t.meta): str(t.name) for t in fig.data[n:]}
    rows = [(len(shown) - i, names[level]) for i, level in enumerate(shown)]
    with _batch(fig):
        fig.plotly_restyle({"x": xs, "y": ys, "text": texts, "visible": visible},
                           trace_indexes=list(range(len(fig.data))))
        fig.update_yaxes(tickvals=[r[0] for r in rows], ticktext=[r[1] for r in rows],
                         range=[0.4, max(len(rows), 1) + 0.6], row=2, col=1)


# --------------------------------------------------------------------------- forest plot


def forest_plot(df: pd.DataFrame, *, estimate: str = "estimate", lower: str = "ci_lower",
                upper: str = "ci_upper", label: str = "treatment", group: str | None = None,
                hue: str | None = None, labels: Mapping[str, str] | None = None,
                reference_line: float = 0.0, title: str = "",
                x_title: str = "Adjusted difference (95% CI)", width: int = WIDTH,
                height: int | None = None) -> go.Figure:
    """Point estimates with horizontal 95% CIs, one row per (group, label).

    ``hue`` splits rows into coloured traces (e.g. analysis method); rows are listed top to
    bottom in the order of ``df``.
    """
    data = df.copy()
    names = [_label(str(v), labels) for v in data[label]]
    if group is not None:
        names = [f"{g} | {n}" for g, n in zip(data[group].astype(str), names, strict=True)]
    data["_row"] = names
    order = list(dict.fromkeys(names))
    fig = go.Figure()
    hues: list[Any] = [None] if hue is None else list(dict.fromkeys(data[hue]))
    palette = qualitative.D3
    for i, h in enumerate(hues):
        part = data if h is None else data[data[hue] == h]
        est = part[estimate].to_numpy(dtype=float)
        fig.add_trace(go.Scatter(
            x=est.round(3).tolist(), y=part["_row"].to_list(), mode="markers",
            name=str(h) if h is not None else "estimate", showlegend=h is not None,
            marker={"color": palette[i % len(palette)], "size": 8},
            error_x={"type": "data", "symmetric": False,
                     "array": (part[upper].to_numpy() - est).round(3).tolist(),
                     "arrayminus": (est - part[lower].to_numpy()).round(3).tolist()}))
    fig.add_vline(x=reference_line, line_dash="dash", line_color="grey")
    _base_layout(fig, title, x_title, "", width, height or max(260, 60 + 26 * len(order)))
    fig.update_yaxes(categoryorder="array", categoryarray=order[::-1], automargin=True)
    if hue is not None:
        fig.update_layout(scattermode="group")
    return fig


class _batch:
    """``fig.batch_update()`` for FigureWidgets; a no-op context for plain figures."""

    def __init__(self, fig: go.Figure) -> None:
        self._cm = fig.batch_update() if isinstance(fig, go.FigureWidget) else None

    def __enter__(self) -> None:
        if self._cm is not None:
            self._cm.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc)

