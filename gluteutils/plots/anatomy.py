"""Figures for the anatomy and hip-mechanics notebooks (tidy data in, ``go.Figure`` out).

3D scenes use the model's world frame (metres, z up, x to the body's left, y backward). Trace
order in a scene figure is fixed so widgets can update traces by index: one ``Mesh3d`` per
bone, one ``Mesh3d`` volume per modelled muscle in :data:`gluteutils.mechanics.MUSCLES`
order, then (when ``extras`` are given) the shape-only deep rotators, two sciatic nerve
traces, the attachment areas and the landmark labels. In every 3D figure colour means
**layer** (superficial / middle / deep, light to dark red); the nerve is yellow, bone beige.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from gluteutils.mechanics import COORDINATES, MUSCLES, Mesh

#: Colour per layer (3D scenes): light to dark red, superficial to deep.
LAYER_COLOURS: dict[str, str] = {"superficial": "#F4A582", "middle": "#D6604D",
                                 "deep": "#8E1B2B"}
LAYER_NAMES: dict[str, str] = {"superficial": "Superficial layer", "middle": "Middle layer",
                               "deep": "Deep layer"}
HIGHLIGHT_COLOUR = "#00A6FF"
NERVE_COLOUR = "#E6B800"
#: Colour per muscle group (2D line charts only; colour-blind-safe Okabe-Ito palette).
GROUP_COLOURS: dict[str, str] = {
    "gluteus_maximus": "#D55E00",
    "gluteus_medius": "#0072B2",
    "gluteus_minimus": "#009E73",
    "piriformis": "#CC79A7",
    "tensor_fasciae_latae": "#E69F00",
}
#: Colour per hip coordinate (bar charts; Tol "muted", none shared with the 3D reds).
COORD_COLOURS: dict[str, str] = {"flexion": "#332288", "adduction": "#44AA99",
                                 "rotation": "#999933"}
BONE_COLOUR = "#d9d2c5"
ATTRIBUTION = ("Model: MyoSuite MyoLeg (myo-sim, Apache-2.0) from Rajagopal et al. 2016 "
               "[caggiano2022, rajagopal2016]")
#: Plotly config for every 3D figure: the page scrolls, the wheel does not zoom.
SCENE_CONFIG: dict[str, object] = {"scrollZoom": False, "displaylogo": False}

_CAMERA = {"eye": {"x": -0.5, "y": 0.9, "z": 0.35}, "up": {"x": 0, "y": 0, "z": 1},
           "center": {"x": 0.0, "y": 0.0, "z": 0.22}}
_RANGES = {"x": [-0.2, 0.2], "y": [-0.35, 0.25], "z": [-0.5, 0.2]}


@dataclass
class SceneExtras:
    """Optional scene content beyond bones and muscles (notebook 01's explorer)."""

    rotators: Sequence[object] = ()  # scene.Volume
    nerve: Sequence[tuple[str, np.ndarray]] = ()
    landmarks: pd.DataFrame | None = None
    attachments: pd.DataFrame | None = None
    #: Per deep rotator (card id): where its moment arm comes from, shown in its hover label.
    rotator_notes: dict[str, str] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)


def _scene_layout(width: int, height: int, title: str, legend: bool = True) -> go.Layout:
    axis = {"showbackground": False, "showticklabels": False, "title": "", "showgrid": False,
            "zeroline": False, "showspikes": False}
    return go.Layout(
        width=width, height=height, title={"text": title, "font": {"size": 14}},
        margin={"l": 0, "r": 0, "t": 40, "b": 30}, showlegend=legend,
        legend={"x": 0.0, "y": 0.98, "font": {"size": 11}, "bgcolor": "rgba(255,255,255,0.7)"},
        hoverlabel={"font": {"size": 12}},
        scene={"xaxis": {**axis, "range": _RANGES["x"]}, "yaxis": {**axis, "range": _RANGES["y"]},
               "zaxis": {**axis, "range": _RANGES["z"]}, "aspectmode": "manual",
               "aspectratio": {"x": 0.4 / 0.7, "y": 0.6 / 0.7, "z": 1.0}, "camera": _CAMERA},
        annotations=[{"text": ATTRIBUTION, "showarrow": False, "xref": "paper",
                      "yref": "paper", "x": 0, "y": 0, "font": {"size": 9}}],
        uirevision="keep",
    )


def bone_traces(meshes: Sequence[Mesh], opacity: float = 1.0) -> list[go.Mesh3d]:
    """One beige ``Mesh3d`` per bone (hover: the bone's name)."""
    return [go.Mesh3d(x=m.vertices[:, 0], y=m.vertices[:, 1], z=m.vertices[:, 2],
                      i=m.faces[:, 0], j=m.faces[:, 1], k=m.faces[:, 2], name=m.name,
                      color=BONE_COLOUR, opacity=opacity, flatshading=True,
                      hovertemplate=f"{m.name}<extra></extra>", showlegend=False,
                      lighting={"ambient": 0.6, "diffuse": 0.6})
            for m in meshes]


def _volume_trace(v: object, colour: str, name: str, legend: bool, group: str,
                  hover: str, opacity: float = 1.0) -> go.Mesh3d:
    verts, faces = v.vertices, v.faces  # type: ignore[attr-defined]
    return go.Mesh3d(x=verts[:, 0], y=verts[:, 1], z=verts[:, 2], i=faces[:, 0],
                     j=faces[:, 1], k=faces[:, 2], color=colour, opacity=opacity,
                     name=name, legendgroup=group, showlegend=legend, flatshading=False,
                     hovertemplate=hover + "<extra></extra>",
                     lighting={"ambient": 0.45, "diffuse": 0.8, "specular": 0.2},
                     customdata=[v.key] * len(verts))  # type: ignore[attr-defined]


def muscle_traces(volumes: Sequence[object],
                  visible_layers: Iterable[str] | None = None) -> list[go.Mesh3d]:
    """One ``Mesh3d`` tube per modelled muscle, coloured by layer; hover: name (layer)."""
    layers = None if visible_layers is None else set(visible_layers)
    seen: set[str] = set()
    traces = []
    for v in volumes:
        layer = v.layer  # type: ignore[attr-defined]
        label = v.label  # type: ignore[attr-defined]
        trace = _volume_trace(v, LAYER_COLOURS[layer], LAYER_NAMES[layer], layer not in seen,
                              layer, f"<b>{label}</b> ({layer} layer)")
        seen.add(layer)
        trace.visible = True if layers is None or layer in layers else "legendonly"
        traces.append(trace)
    return traces


def extra_traces(extras: SceneExtras) -> list[go.BaseTraceType]:
    """Deep rotators, sciatic nerve (2 traces), attachment areas and landmark labels."""
    out: list[go.BaseTraceType] = []
    for i, v in enumerate(extras.rotators):
        note = extras.rotator_notes.get(v.key, "")  # type: ignore[attr-defined]
        out.append(_volume_trace(v, LAYER_COLOURS["deep"], "Deep rotators (not in MyoLeg)",
                                 i == 0, "rotators",
                                 f"<b>{v.label}</b> (deep layer{'; ' + note if note else ''})",  # type: ignore[attr-defined]
                                 opacity=0.75))
    nerve = list(extras.nerve) + [("", np.empty((0, 3)))] * (2 - len(extras.nerve))
    for i, (name, pts) in enumerate(nerve[:2]):
        out.append(go.Scatter3d(x=pts[:, 0], y=pts[:, 1], z=pts[:, 2], mode="lines",
                                name="Sciatic nerve", legendgroup="nerve", showlegend=i == 0,
                                line={"color": NERVE_COLOUR, "width": 9},
                                hovertemplate=f"<b>{name or 'sciatic nerve'}</b><extra></extra>"))
    if extras.attachments is not None:
        a = extras.attachments
        out.append(go.Scatter3d(x=a["x"], y=a["y"], z=a["z"], mode="markers",
                                name="Attachments", marker={"size": 3, "color": "#333333",
                                                            "symbol": "diamond"},
                                text=a["text"], hovertemplate="%{text}<extra></extra>"))
    if extras.landmarks is not None:
        lm = extras.landmarks
        out.append(go.Scatter3d(x=lm["x"], y=lm["y"], z=lm["z"], mode="markers+text",
                                name="Landmarks", text=lm["landmark"], textposition="middle right",
                                textfont={"size": 11, "color": "#111111"},
                                marker={"size": 4, "color": "#111111"},
                                hovertemplate="%{text}<extra></extra>"))
    return out


def scene_figure(meshes: Sequence[Mesh], volumes: Sequence[object], *,
                 extras: SceneExtras | None = None,
                 visible_layers: Iterable[str] | None = None, width: int = 620,
                 height: int = 620, title: str = "Right hip from behind",
                 legend: bool = True, widget: bool = False) -> go.Figure:
    """3D view of bones and muscle volumes; ``widget=True`` returns a ``go.FigureWidget``."""
    data = [*bone_traces(meshes), *muscle_traces(volumes, visible_layers)]
    if extras is not None:
        data += extra_traces(extras)
    layout = _scene_layout(width, height, title, legend)
    if widget:
        fig = go.FigureWidget(data=data, layout=layout)
        fig._config = dict(SCENE_CONFIG)  # FigureWidget passes this to Plotly.newPlot
        return fig
    return go.Figure(data, layout)


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
        xaxis={"title": {"text": "moment arm (mm); signs: see the note above", "standoff": 8},
               "range": [-100, 100], "zeroline": True, "zerolinewidth": 2, "automargin": True},
        yaxis={"autorange": "reversed", "automargin": True},
        margin={"l": 170, "r": 16, "t": 60, "b": 70},
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
