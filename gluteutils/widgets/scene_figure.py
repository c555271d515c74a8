"""The anatomy scene figure's controls, shared by the explorer and the quiz (no widgets here).

Trace order of the scene (``plots.anatomy``): bones, muscle volumes, shape-only deep rotators,
then extras. :func:`trace_card` maps a click to a muscle card, :func:`apply_preset` sets a
preset view, :func:`scene_trace_update` computes one pose's new vertices.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gluteutils import anatomy, mechanics, scene
from gluteutils.plots import anatomy as pa

N_BONES = len(mechanics.BONES)
MUSCLE_KEYS: list[str] = list(mechanics.MUSCLES)
N_MUSCLES = len(MUSCLE_KEYS)
#: Bone traces that never move with the hip pose (the pelvis is the model's fixed root).
FIXED_BONES: frozenset[str] = frozenset({"pelvis (right)", "pelvis (left)"})


def scene_trace_update(flexion: float, adduction: float, rotation: float
                       ) -> list[dict[str, Any]]:
    """Return the new x/y/z per scene trace (bones, then muscle volumes) for a pose.

    This is the whole computation behind one slider move of the 3D view.
    """
    meshes = mechanics.bone_meshes(flexion, adduction, rotation)
    volumes = scene.muscle_volumes(flexion, adduction, rotation)
    return [{"x": v[:, 0], "y": v[:, 1], "z": v[:, 2]}
            for v in [m.vertices for m in meshes] + [v.vertices for v in volumes]]


def attachments_table(flexion: float = 0.0) -> pd.DataFrame:
    """Origin and insertion points of every modelled muscle (first and last path point)."""
    paths = mechanics.muscle_paths(flexion)
    rows = []
    for key, (label, _layer, _group) in mechanics.MUSCLES.items():
        pts = paths[paths["muscle"] == key]
        for end, row in (("origin", pts.iloc[0]), ("insertion", pts.iloc[-1])):
            rows.append({"x": row["x"], "y": row["y"], "z": row["z"],
                         "text": f"{end} of {label}"})
    return pd.DataFrame(rows)


def explorer_extras(beaton_type: str = "A") -> pa.SceneExtras:
    """Deep rotators, nerve, landmarks and attachments for the explorer at neutral."""
    return pa.SceneExtras(rotators=scene.deep_rotator_volumes(),
                          nerve=scene.sciatic_nerve(beaton_type),
                          landmarks=scene.landmarks(), attachments=attachments_table(),
                          rotator_notes=scene.rotator_notes())


def trace_card(fig: Any, trace: Any, point: Any = None, hidden: tuple[str, ...] = ()
               ) -> str | None:
    """The card id a click on ``trace`` selects: its muscle, or the muscle nearest the point."""
    index = fig.data.index(trace)
    to_card = anatomy.model_to_card()
    if N_BONES <= index < N_BONES + N_MUSCLES:
        return to_card[MUSCLE_KEYS[index - N_BONES]]
    offset = index - N_BONES - N_MUSCLES
    if 0 <= offset < len(scene.SHAPE_ONLY):
        return scene.SHAPE_ONLY[offset]
    if point is None:
        return None
    return to_card[scene.nearest_muscle(point, exclude_layers=hidden)]


def apply_preset(fig: Any, name: str, n_rotators: int = 0) -> None:
    """Camera, visible layers and bone opacity of a preset view (in one batch update)."""
    preset = scene.PRESETS[name]
    with fig.batch_update():
        fig.layout.scene.camera.eye = preset["eye"]
        fig.layout.scene.camera.center = scene.CAMERA_CENTER
        for trace in fig.data[:N_BONES]:
            trace.opacity = preset["bone_opacity"]
        for trace, key in zip(fig.data[N_BONES:N_BONES + N_MUSCLES], MUSCLE_KEYS, strict=True):
            trace.visible = mechanics.MUSCLES[key][1] not in preset["hide"] or "legendonly"
        for trace in fig.data[N_BONES + N_MUSCLES:N_BONES + N_MUSCLES + n_rotators]:
            trace.visible = "deep" not in preset["hide"] or "legendonly"
