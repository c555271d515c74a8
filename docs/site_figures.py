"""Precomputed interactive figures for the static site (no kernel needed to use them).

Each figure is produced by the SAME widget app the notebooks and dashboards use, driven
through its own controls, and its figure state captured at each setting:

* :func:`hip_pose_figures` - :class:`gluteutils.widgets.anatomy.HipMechanicsApp` moved through
  hip flexion 0-90 degrees; the 3D pose and the moment-arm bars become plotly slider frames.
* :func:`explorer_figures` - :class:`gluteutils.widgets.outcomes.OutcomesExplorerApp` set to
  each condition (all therapies, ages and sexes); its three charts, computed by
  ``Explorer.update`` with its small-cell suppression, become one figure each with a
  condition dropdown.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

FLEXION_STEPS: tuple[int, ...] = tuple(range(0, 91, 10))


def _fig_dict(fig: Any) -> dict[str, Any]:
    return dict(fig.to_plotly_json())


def _slider(names: Sequence[str], prefix: str) -> dict[str, Any]:
    steps = [{"label": n, "method": "animate",
              "args": [[n], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                             "transition": {"duration": 0}}]} for n in names]
    return {"active": 0, "currentvalue": {"prefix": prefix}, "pad": {"t": 30}, "steps": steps}


def hip_pose_figures(steps: Sequence[int] = FLEXION_STEPS) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (3D scene, moment-arm bars) as plotly dicts with one frame per flexion angle."""
    from gluteutils.widgets.anatomy import HipMechanicsApp

    app = HipMechanicsApp()
    scene0, bars0 = _fig_dict(app.scene), _fig_dict(app.bars)
    scene_frames, bar_frames = [], []
    for angle in steps:
        app.set_pose(flexion=angle, adduction=0, rotation=0)
        name = f"{angle} deg"
        scene = _fig_dict(app.scene)
        moving = [i for i, tr in enumerate(scene["data"]) if not str(
            tr.get("name", "")).startswith("pelvis")]
        scene_frames.append({"name": name, "traces": moving,
                             "data": [{k: scene["data"][i][k] for k in ("x", "y", "z")}
                                      for i in moving],
                             "layout": {"title": {"text": app.readout.value.replace(
                                 "<b>", "").replace("</b>", "")}}})
        bars = _fig_dict(app.bars)
        bar_frames.append({"name": name, "data": [{"x": tr["x"]} for tr in bars["data"]],
                           "traces": list(range(len(bars["data"])))})
    names = [f["name"] for f in scene_frames]
    for fig, frames in ((scene0, scene_frames), (bars0, bar_frames)):
        fig["frames"] = frames
        fig["layout"]["sliders"] = [_slider(names, "hip flexion: ")]
        fig["layout"]["height"] = int(fig["layout"].get("height") or 500) + 90
    scene0["layout"]["title"] = copy.deepcopy(scene_frames[0]["layout"]["title"])
    for key in ("x", "y", "z"):  # start at the first frame
        for i, tr in zip(scene_frames[0]["traces"], scene_frames[0]["data"], strict=True):
            scene0["data"][i][key] = tr[key]
    return scene0, bars0


def _dropdown(labels: Sequence[str], counts: Sequence[int],
              layouts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    total = sum(counts)
    buttons, start = [], 0
    for label, n, layout in zip(labels, counts, layouts, strict=True):
        visible = [start <= i < start + n for i in range(total)]
        buttons.append({"label": label, "method": "update",
                        "args": [{"visible": visible}, layout]})
        start += n
    return {"buttons": buttons, "direction": "down", "x": 0, "xanchor": "left", "y": 1.25,
            "yanchor": "top", "showactive": True}


def explorer_figures() -> dict[str, dict[str, Any]]:
    """The explorer's three charts, one plotly dict each, with a condition dropdown."""
    from gluteutils import outcomes
    from gluteutils.outcomes.schema import CONDITION_LABELS, CONDITIONS
    from gluteutils.widgets.outcomes import outcomes_explorer

    app = outcomes_explorer(outcomes.load(), condition=CONDITIONS[0])
    charts = {"trajectory": "fig_trajectory", "responders": "fig_responders", "km": "fig_km"}
    per: dict[str, list[dict[str, Any]]] = {k: [] for k in charts}
    notes: list[str] = []
    for condition in CONDITIONS:
        app.condition.value = condition  # the widget's own control: refresh() runs
        app.refresh()
        for key, attr in charts.items():
            per[key].append(_fig_dict(getattr(app, attr)))
        notes.append(app.notes.value)
    out: dict[str, dict[str, Any]] = {}
    labels = [CONDITION_LABELS[c] for c in CONDITIONS]
    for key, figs in per.items():
        data: list[dict[str, Any]] = []
        counts, layouts = [], []
        for i, fig in enumerate(figs):
            traces = fig["data"]
            for tr in traces:
                tr["visible"] = i == 0
            data += traces
            counts.append(len(traces))
            lay = fig["layout"]
            layouts.append({k: lay[k] for k in ("xaxis", "yaxis", "title", "annotations",
                                                "shapes") if k in lay})
        layout = copy.deepcopy(figs[0]["layout"])
        layout["updatemenus"] = [_dropdown(labels, counts, layouts)]
        layout["margin"] = {**layout.get("margin", {}), "t": 110}
        out[key] = {"data": data, "layout": layout}
    out["_notes"] = {"labels": labels, "notes": notes}
    return out
