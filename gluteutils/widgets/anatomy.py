"""Widget apps for the anatomy and hip-mechanics notebooks (thin layers over the package).

* :class:`AnatomyExplorer` - muscles as volumes on the MyoLeg bones, preset views
  (posterior, lateral, superficial -> deep peel), bony landmarks, attachment areas, the
  sciatic nerve with its Beaton variants, and the muscle card in a side panel (click a
  muscle, or anywhere near one, or pick it from the list).
* :class:`QuizApp` - see :mod:`gluteutils.widgets.quiz` (re-exported here).
* :class:`HipMechanicsApp` - hip flexion/adduction/rotation sliders move the bones and muscle
  volumes and update a bar chart of every muscle's moment arms.

Every constructor works without arguments.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from gluteutils import anatomy, mechanics, scene
from gluteutils.plots import anatomy as pa
from gluteutils.widgets._base import WidgetApp
from gluteutils.widgets.scene_figure import (  # noqa: F401 (also re-exported)
    FIXED_BONES,
    MUSCLE_KEYS,
    N_BONES,
    N_MUSCLES,
    apply_preset,
    attachments_table,
    explorer_extras,
    scene_trace_update,
    trace_card,
)

LAYER_LABELS: dict[str, str] = {
    "superficial": "Superficial layer (gluteus maximus, TFL)",
    "middle": "Middle layer (gluteus medius)",
    "deep": "Deep layer (gluteus minimus, piriformis, deep rotators)",
}
PRESET_LABELS: dict[str, str] = {"posterior": "Posterior", "lateral": "Lateral",
                                 "superficial": "Superficial", "middle": "Middle",
                                 "deep": "Deep"}


class AnatomyExplorer(WidgetApp):
    """3D glute muscles as volumes on the MyoLeg bones, with presets, landmarks and nerve."""

    def __init__(self, width: int = 560, height: int = 600, preset: str = "posterior") -> None:
        self.fig = pa.scene_figure(mechanics.bone_meshes(), scene.muscle_volumes(),
                                   extras=explorer_extras(), width=width, height=height,
                                   widget=True, title="Right hip")
        self.n_rotators = len(scene.SHAPE_ONLY)
        self.preset = widgets.ToggleButtons(
            options=[(v, k) for k, v in PRESET_LABELS.items()], value=preset,
            description="View", style={"button_width": "84px"})
        self.preset.observe(self._on_preset, names="value")
        self.layer_boxes = {layer: widgets.Checkbox(value=True, description=label,
                                                    indent=False,
                                                    layout=widgets.Layout(width="auto"))
                            for layer, label in LAYER_LABELS.items()}
        for box in self.layer_boxes.values():
            box.observe(self._on_layers, names="value")
        self.nerve = widgets.Dropdown(
            options=[(f"Beaton type {t}: {c}", t) for t, c in
                     anatomy.sciatic_variants()[["type", "course"]].itertuples(index=False)],
            value="A", description="Sciatic nerve", style={"description_width": "90px"},
            layout=widgets.Layout(width="340px"))
        self.nerve.observe(self._on_nerve, names="value")
        self.show_landmarks = widgets.Checkbox(value=True, description="Label bony landmarks",
                                               indent=False)
        self.show_landmarks.observe(self._on_landmarks, names="value")
        cards = anatomy.muscle_cards()
        self.picker = widgets.Dropdown(options=[(c["name"], c["id"]) for c in cards],
                                       value=cards[0]["id"], description="Muscle card")
        self.picker.observe(self._on_pick, names="value")
        self.card = widgets.HTML(layout=widgets.Layout(width="360px"))
        for trace in self.fig.data:
            trace.on_click(self._on_click)
        self._on_pick()
        self._on_preset()
        controls = widgets.VBox([widgets.HTML("<b>Layers</b>"), *self.layer_boxes.values(),
                                 self.show_landmarks, self.nerve, self.picker, self.card],
                                layout=widgets.Layout(width="380px"))
        self.root = widgets.VBox([self.preset, widgets.HBox([self.fig, controls])])

    def visible_layers(self) -> list[str]:
        """The layers currently switched on."""
        return [layer for layer, box in self.layer_boxes.items() if box.value]

    def set_layers(self, **shown: bool) -> None:
        """Switch layers on/off, e.g. ``set_layers(superficial=False)``."""
        for layer, value in shown.items():
            self.layer_boxes[layer].value = bool(value)

    def set_preset(self, name: str) -> None:
        """Switch to a preset view: posterior, lateral, superficial, middle or deep."""
        self.preset.value = name

    def _on_preset(self, change: Any = None) -> None:
        hide = scene.PRESETS[str(self.preset.value)]["hide"]
        for layer, box in self.layer_boxes.items():
            box.unobserve(self._on_layers, names="value")
            box.value = layer not in hide
            box.observe(self._on_layers, names="value")
        apply_preset(self.fig, str(self.preset.value), self.n_rotators)

    def _on_layers(self, change: Any = None) -> None:
        shown = set(self.visible_layers())
        with self.fig.batch_update():
            for trace, muscle in zip(self.fig.data[N_BONES:N_BONES + N_MUSCLES], MUSCLE_KEYS,
                                     strict=True):
                trace.visible = mechanics.MUSCLES[muscle][1] in shown or "legendonly"
            rot = self.fig.data[N_BONES + N_MUSCLES:N_BONES + N_MUSCLES + self.n_rotators]
            for trace in rot:
                trace.visible = "deep" in shown or "legendonly"

    def _on_nerve(self, change: Any = None) -> None:
        courses = scene.sciatic_nerve(str(self.nerve.value))
        courses += [("", np.empty((0, 3)))] * (2 - len(courses))
        first = N_BONES + N_MUSCLES + self.n_rotators
        with self.fig.batch_update():
            for trace, (name, pts) in zip(self.fig.data[first:first + 2], courses, strict=True):
                trace.x, trace.y, trace.z = pts[:, 0], pts[:, 1], pts[:, 2]
                trace.hovertemplate = f"<b>{name or 'sciatic nerve'}</b><extra></extra>"

    def _on_landmarks(self, change: Any = None) -> None:
        self.fig.data[-1].visible = bool(self.show_landmarks.value)

    def _on_pick(self, change: Any = None) -> None:
        self.card.value = anatomy.card_html(str(self.picker.value))

    def _on_click(self, trace: Any, points: Any, state: Any = None) -> None:
        if not points.point_inds:
            return
        point = None
        if getattr(points, "xs", None):
            point = (points.xs[0], points.ys[0], points.zs[0])
        hidden = tuple(layer for layer in LAYER_LABELS if layer not in self.visible_layers())
        card_id = trace_card(self.fig, trace, point, hidden)
        if card_id is not None:
            self.picker.value = card_id

    def summary(self) -> str:
        return (f"AnatomyExplorer(view: {self.preset.value}; layers: "
                f"{', '.join(self.visible_layers()) or 'none'}; card: {self.picker.value}; "
                f"sciatic nerve: Beaton type {self.nerve.value}; {N_MUSCLES} muscle volumes, "
                f"{len(scene.SHAPE_ONLY)} deep rotators as shapes only)")


class HipMechanicsApp(WidgetApp):
    """Sliders for the hip pose drive the 3D view and the moment-arm bars."""

    def __init__(self, flexion: int = 0, adduction: int = 0, rotation: int = 0,
                 width: int = 460, height: int = 520) -> None:
        ranges = mechanics.RANGES
        self.sliders = {
            name: widgets.IntSlider(value=value, min=int(ranges[name][0]),
                                    max=int(ranges[name][1]), step=1,
                                    description=f"hip {name}", continuous_update=True,
                                    layout=widgets.Layout(width="420px"),
                                    style={"description_width": "90px"})
            for name, value in (("flexion", flexion), ("adduction", adduction),
                                ("rotation", rotation))}
        self.scene = pa.scene_figure(mechanics.bone_meshes(*self.pose),
                                     scene.muscle_volumes(*self.pose), width=width,
                                     height=height, widget=True, legend=True,
                                     title="Right hip (colour = layer; hover for the name)")
        self.bars = pa.moment_arm_bars(mechanics.moment_arms(
            flexion=self.pose[0], adduction=self.pose[1], rotation=self.pose[2]),
            width=width, height=height, widget=True)  # 2 x 460 px fit a 968 px output area
        self.readout = widgets.HTML()
        for slider in self.sliders.values():
            slider.observe(self._update, names="value")
        self._readout()
        help_text = widgets.HTML(
            "<small>Flexion + = thigh forward; adduction + = toward the midline; rotation + = "
            "internal (medial). Bars: + flexor / adductor / internal rotator, - extensor / "
            "abductor / external rotator.</small>")
        self.root = widgets.VBox([*self.sliders.values(), help_text, self.readout,
                                  widgets.HBox([self.scene, self.bars])])

    @property
    def pose(self) -> tuple[float, float, float]:
        """Current (flexion, adduction, rotation) in degrees."""
        return tuple(float(self.sliders[c].value) for c in mechanics.COORDINATES)  # type: ignore[return-value]

    def set_pose(self, flexion: float | None = None, adduction: float | None = None,
                 rotation: float | None = None) -> None:
        """Move the sliders (the figures follow)."""
        for name, value in (("flexion", flexion), ("adduction", adduction),
                            ("rotation", rotation)):
            if value is not None:
                self.sliders[name].value = int(value)

    def _update(self, change: Any = None) -> None:
        fl, ad, ro = self.pose
        new = scene_trace_update(fl, ad, ro)
        arms = mechanics.moment_arms(flexion=fl, adduction=ad, rotation=ro)
        with self.scene.batch_update():
            for trace, xyz in zip(self.scene.data, new, strict=True):
                if trace.name in FIXED_BONES:
                    continue  # the pelvis does not move: do not resend it
                trace.x, trace.y, trace.z = xyz["x"], xyz["y"], xyz["z"]
        with self.bars.batch_update():
            for trace, coord in zip(self.bars.data, mechanics.COORDINATES, strict=True):
                sub = arms[arms["coordinate"] == coord]
                trace.x = np.round(sub["moment_arm_mm"].to_numpy(), 1)
        self._readout(arms)

    def piriformis_rotation(self, arms: Any = None) -> float:
        """Piriformis rotation moment arm (mm) at the current pose."""
        if arms is None:
            fl, ad, ro = self.pose
            arms = mechanics.moment_arms(["piri"], flexion=fl, adduction=ad, rotation=ro)
        row = arms[(arms["muscle"] == "piri") & (arms["coordinate"] == "rotation")]
        return float(row["moment_arm_mm"].iloc[0])

    def _readout(self, arms: Any = None) -> None:
        value = self.piriformis_rotation(arms)
        action = mechanics.ACTIONS["rotation"][0 if value >= 0 else 1]
        fl, ad, ro = self.pose
        self.readout.value = (f"At {fl:.0f} deg flexion, {ad:.0f} deg adduction and {ro:.0f} "
                              f"deg rotation, <b>piriformis is an {action}</b> "
                              f"(rotation moment arm {value:+.1f} mm).")

    def summary(self) -> str:
        fl, ad, ro = self.pose
        value = self.piriformis_rotation()
        action = mechanics.ACTIONS["rotation"][0 if value >= 0 else 1]
        return (f"HipMechanicsApp(flexion {fl:.0f}, adduction {ad:.0f}, rotation {ro:.0f} deg; "
                f"piriformis: {action})")


from gluteutils.widgets.quiz import QuizApp  # noqa: E402  (re-export)

__all__ = ["AnatomyExplorer", "HipMechanicsApp", "QuizApp", "scene_trace_update"]
