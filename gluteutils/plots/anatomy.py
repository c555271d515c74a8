"""Figures for the anatomy and hip-mechanics notebooks (tidy data in, ``go.Figure`` out).

3D scenes use the model's world frame (metres, z up, x to the body's left, y backward); the
camera looks at the right hip from behind and to the side. Trace order in a scene figure is
fixed: one ``Mesh3d`` per bone, then one ``Scatter3d`` per modelled muscle in
:data:`gluteutils.mechanics.MUSCLES` order, so widgets can update traces by index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
import plotly.graph_objects as go

from gluteutils.mechanics import COORDINATES, MUSCLES, Mesh

#: Colour per muscle group (colour-blind-safe Okabe-Ito palette).
GROUP_COLOURS: dict[str, str] = {
    "gluteus_maximus": "#D55E00",
    "gluteus_medius": "#0072B2",
    "gluteus_minimus": "#009E73",
    "piriformis": "#CC79A7",
    "tensor_fasciae_latae": "#E69F00",
}
COORD_COLOURS: dict[str, str] = {"flexion": "#0072B2", "adduction": "#009E73",
                                 "rotation": "#D55E00"}
BONE_COLOUR = "#d9d2c5"
ATTRIBUTION = ("Model: MyoSuite MyoLeg (myo-sim, Apache-2.0) from Rajagopal et al. 2016 "
               "[caggiano2022, rajagopal2016]")

_CAMERA = {"eye": {"x": -0.8, "y": 1.1, "z": 0.3}, "up": {"x": 0, "y": 0, "z": 1}}
_RANGES = {"x": [-0.2, 0.2], "y": [-0.35, 0.25], "z": [-0.5, 0.2]}


def _scene_layout(width: int, height: int, title: str, legend: bool = True) -> go.Layout:
    axis = {"showbackground": False, "showticklabels": False, "title": "", "showgrid": False,
            "zeroline": False}
    return go.Layout(
        width=width, height=height, title={"text": title, "font": {"size": 14}},
        margin={"l": 0, "r": 0, "t": 40, "b": 30}, showlegend=legend,
        legend={"x": 0.0, "y": 1.0, "font": {"size": 10}},
        scene={"xaxis": {**axis, "range": _RANGES["x"]}, "yaxis": {**axis, "range": _RANGES["y"]},
               "zaxis": {**axis, "range": _RANGES["z"]}, "aspectmode": "manual",
               "aspectratio": {"x": 0.4 / 0.7, "y": 0.6 / 0.7, "z": 1.0}, "camera": _CAMERA},
        annotations=[{"text": ATTRIBUTION, "showarrow": False, "xref": "paper",
                      "yref": "paper", "x": 0, "y": 0, "font": {"size": 9}}],
        uirevision="keep",
    )


def bone_traces(meshes: Sequence[Mesh]) -> list[go.Mesh3d]:
    """One grey ``Mesh3d`` per bone."""
    return [go.Mesh3d(x=m.vertices[:, 0], y=m.vertices[:, 1], z=m.vertices[:, 2],
                      i=m.faces[:, 0], j=m.faces[:, 1], k=m.faces[:, 2], name=m.name,
                      color=BONE_COLOUR, opacity=1.0, flatshading=True, hoverinfo="name",
                      showlegend=False, lighting={"ambient": 0.6, "diffuse": 0.6})
            for m in meshes]


def muscle_traces(paths: pd.DataFrame, hover: dict[str, str] | None = None,
                  visible_layers: Iterable[str] | None = None) -> list[go.Scatter3d]:
    """One ``Scatter3d`` line per modelled muscle (``muscle_paths`` frame), coloured by group."""
    layers = None if visible_layers is None else set(visible_layers)
    traces = []
    for muscle, (label, layer, group) in MUSCLES.items():
        pts = paths[paths["muscle"] == muscle].sort_values("point")
        text = (hover or {}).get(muscle, label)
        traces.append(go.Scatter3d(
            x=pts["x"].to_numpy(), y=pts["y"].to_numpy(), z=pts["z"].to_numpy(),
            mode="lines+markers", name=label, legendgroup=group,
            line={"color": GROUP_COLOURS[group], "width": 7},
            marker={"size": 3, "color": GROUP_COLOURS[group]},
            hovertext=text, hoverinfo="text", customdata=[muscle] * len(pts),
            visible=True if layers is None or layer in layers else "legendonly",
        ))
    return traces


def scene_figure(meshes: Sequence[Mesh], paths: pd.DataFrame, *,
                 hover: dict[str, str] | None = None,
                 visible_layers: Iterable[str] | None = None, width: int = 620,
                 height: int = 620, title: str = "Right hip from behind",
                 legend: bool = True, widget: bool = False) -> go.Figure:
    """3D view of bones and muscle paths; ``widget=True`` returns a ``go.FigureWidget``."""
    data = [*bone_traces(meshes), *muscle_traces(paths, hover, visible_layers)]
    layout = _scene_layout(width, height, title, legend)
    return go.FigureWidget(data=data, layout=layout) if widget else go.Figure(data, layout)


def moment_arm_bars(arms: pd.DataFrame, *, width: int = 620, height: int = 420,
                    widget: bool = False) -> go.Figure:
    """Grouped horizontal bars: each muscle's moment arm for the three hip coordinates.

    ``arms`` is a :func:`gluteutils.mechanics.moment_arms` frame at one pose.
    """
    data = []
    for coord in COORDINATES:
        sub = arms[arms["coordinate"] == coord]
        data.append(go.Bar(y=sub["label"].to_numpy(), x=sub["moment_arm_mm"].round(1).to_numpy(),
                           orientation="h", name=coord, marker_color=COORD_COLOURS[coord],
                           hovertemplate="%{y}: %{x:.1f} mm<extra>" + coord + "</extra>"))
    layout = go.Layout(
        width=width, height=height, barmode="group",
        title={"text": "Moment arms at this pose (mm)", "font": {"size": 14}, "x": 0.02},
        xaxis={"title": "moment arm (mm): + flexor / adductor / internal rotator",
               "range": [-100, 100], "zeroline": True, "zerolinewidth": 2},
        yaxis={"autorange": "reversed"}, margin={"l": 180, "r": 10, "t": 40, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right",
                "x": 1.0},
    )
    return go.FigureWidget(data=data, layout=layout) if widget else go.Figure(data, layout)


def moment_arm_sweep(arms: pd.DataFrame, coordinate: str = "rotation",
                     crossings: pd.DataFrame | None = None, *, width: int = 720,
                     height: int = 440) -> go.Figure:
    """Lines of one coordinate's moment arm against hip flexion, one per muscle.

    ``crossings`` (from ``sign_change_angles``) adds a marker where each line crosses zero.
    """
    sub = arms[arms["coordinate"] == coordinate]
    fig = go.Figure()
    for muscle, (label, _layer, group) in MUSCLES.items():
        m = sub[sub["muscle"] == muscle].sort_values("flexion_deg")
        if m.empty:
            continue
        dash = {"1": "solid", "2": "dash", "3": "dot"}.get(muscle[-1], "solid")
        fig.add_trace(go.Scatter(x=m["flexion_deg"].to_numpy(),
                                 y=m["moment_arm_mm"].round(2).to_numpy(), mode="lines",
                                 name=label, line={"color": GROUP_COLOURS[group], "dash": dash}))
    if crossings is not None and not crossings.empty:
        ok = crossings.dropna(subset=["flexion_deg"])
        fig.add_trace(go.Scatter(x=ok["flexion_deg"].round(1).to_numpy(), y=[0.0] * len(ok),
                                 mode="markers", name="sign change",
                                 marker={"symbol": "x", "size": 9, "color": "black"},
                                 text=ok["label"].to_numpy(),
                                 hovertemplate="%{text}: %{x:.1f} deg<extra></extra>"))
    fig.add_hline(y=0, line_color="grey")
    fig.update_layout(
        width=width, height=height,
        title={"text": f"Hip {coordinate} moment arm vs hip flexion (MyoLeg model)",
               "font": {"size": 14}},
        xaxis_title="hip flexion (degrees)",
        yaxis_title="moment arm (mm)" + (": + internal / - external rotator"
                                         if coordinate == "rotation" else ""),
        margin={"l": 60, "r": 10, "t": 40, "b": 50}, legend={"font": {"size": 10}},
    )
    return fig


def prevalence_bars(prevalence: pd.DataFrame, *, width: int = 640,
                    height: int = 300) -> go.Figure:
    """Horizontal bars of published sciatic-variant prevalence with CIs where given."""
    err = (prevalence["ci_high"] - prevalence["percent"]).fillna(0)
    err_minus = (prevalence["percent"] - prevalence["ci_low"]).fillna(0)
    labels = [f"{f} [{s}]" for f, s in zip(prevalence["finding"], prevalence["source"],
                                           strict=True)]
    fig = go.Figure(go.Bar(
        y=labels, x=prevalence["percent"].to_numpy(), orientation="h", marker_color="#0072B2",
        error_x={"type": "data", "array": err.to_numpy(), "arrayminus": err_minus.to_numpy()},
        hovertemplate="%{y}: %{x}%<extra></extra>"))
    fig.update_layout(width=width, height=height, xaxis={"title": "percent", "range": [0, 100]},
                      yaxis={"autorange": "reversed", "tickfont": {"size": 10}},
                      margin={"l": 380, "r": 10, "t": 30, "b": 40},
                      title={"text": "Sciatic nerve and piriformis: published prevalence",
                             "font": {"size": 13}})
    return fig
