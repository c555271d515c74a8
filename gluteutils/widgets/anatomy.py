"""Widget apps for the anatomy and hip-mechanics notebooks (thin layers over the package).

* :class:`AnatomyExplorer` - 3D bones + muscle paths, layer toggles, muscle cards (hover or
  click a muscle, or pick it from the list).
* :class:`QuizApp` - questions from :func:`gluteutils.anatomy.make_quiz`: multiple choice and
  "click the muscle" (a click on a muscle path in the 3D view, or its name button).
* :class:`HipMechanicsApp` - hip flexion/adduction/rotation sliders move the bones and muscle
  paths and update a bar chart of every muscle's moment arms.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from gluteutils import anatomy, mechanics
from gluteutils.plots import anatomy as pa
from gluteutils.widgets._base import WidgetApp

LAYER_LABELS: dict[str, str] = {
    "superficial": "Superficial layer (gluteus maximus, TFL)",
    "middle": "Middle layer (gluteus medius)",
    "deep": "Deep layer (gluteus minimus, piriformis)",
}
N_BONES = len(mechanics.BONES)
MUSCLE_KEYS: list[str] = list(mechanics.MUSCLES)
#: Bone traces that never move with the hip pose (the pelvis is the model's fixed root).
FIXED_BONES: frozenset[str] = frozenset({"pelvis (right)", "pelvis (left)"})


def _hover() -> dict[str, str]:
    return {m: anatomy.card_hover(c) for m, c in anatomy.model_to_card().items()}


def scene_trace_update(flexion: float, adduction: float, rotation: float
                       ) -> list[dict[str, Any]]:
    """Return the new x/y/z per scene trace (bones, then muscles) for a pose.

    This is the whole computation behind one slider move of the 3D view.
    """
    meshes = mechanics.bone_meshes(flexion, adduction, rotation)
    paths = mechanics.muscle_paths(flexion, adduction, rotation)
    out: list[dict[str, Any]] = [{"x": m.vertices[:, 0], "y": m.vertices[:, 1],
                                  "z": m.vertices[:, 2]} for m in meshes]
    for muscle in MUSCLE_KEYS:
        pts = paths[paths["muscle"] == muscle]
        out.append({"x": pts["x"].to_numpy(), "y": pts["y"].to_numpy(),
                    "z": pts["z"].to_numpy()})
    return out


class AnatomyExplorer(WidgetApp):
    """3D glute muscles on the MyoLeg bones with layer toggles and muscle cards."""

    def __init__(self, width: int = 620, height: int = 560) -> None:
        self.fig = pa.scene_figure(mechanics.bone_meshes(), mechanics.muscle_paths(),
                                   hover=_hover(), width=width, height=height, widget=True)
        self.layer_boxes = {layer: widgets.Checkbox(value=True, description=label,
                                                    indent=False,
                                                    layout=widgets.Layout(width="auto"))
                            for layer, label in LAYER_LABELS.items()}
        for box in self.layer_boxes.values():
            box.observe(self._on_layers, names="value")
        cards = anatomy.muscle_cards()
        self.picker = widgets.Dropdown(options=[(c["name"], c["id"]) for c in cards],
                                       value=cards[0]["id"], description="Muscle card")
        self.picker.observe(self._on_pick, names="value")
        self.card = widgets.HTML(layout=widgets.Layout(width="340px"))
        self.note = widgets.HTML(
            "<small>Not in the 3D model (cards only): "
            + ", ".join(anatomy.not_modelled()) + ".</small>")
        for trace in self.fig.data[N_BONES:]:
            trace.on_click(self._on_click)
        self._on_pick()
        controls = widgets.VBox([widgets.HTML("<b>Layers</b>"), *self.layer_boxes.values(),
                                 self.picker, self.card, self.note])
        self.root = widgets.HBox([self.fig, controls])

    def visible_layers(self) -> list[str]:
        """The layers currently switched on."""
        return [layer for layer, box in self.layer_boxes.items() if box.value]

    def set_layers(self, **shown: bool) -> None:
        """Switch layers on/off, e.g. ``set_layers(superficial=False)``."""
        for layer, value in shown.items():
            self.layer_boxes[layer].value = bool(value)

    def _on_layers(self, change: Any = None) -> None:
        shown = set(self.visible_layers())
        with self.fig.batch_update():
            for trace, muscle in zip(self.fig.data[N_BONES:], MUSCLE_KEYS, strict=True):
                layer = mechanics.MUSCLES[muscle][1]
                trace.visible = True if layer in shown else "legendonly"

    def _on_pick(self, change: Any = None) -> None:
        self.card.value = anatomy.card_html(str(self.picker.value))

    def _on_click(self, trace: Any, points: Any, state: Any = None) -> None:
        if points.point_inds:
            muscle = MUSCLE_KEYS[self.fig.data.index(trace) - N_BONES]
            self.picker.value = anatomy.model_to_card()[muscle]

    def summary(self) -> str:
        return (f"AnatomyExplorer(layers: {', '.join(self.visible_layers()) or 'none'}; "
                f"card: {self.picker.value}; {len(MUSCLE_KEYS)} modelled muscle paths, "
                f"{len(anatomy.not_modelled())} muscles as cards only)")


class QuizApp(WidgetApp):
    """A seeded quiz from the muscle cards with immediate feedback and a running score."""

    def __init__(self, n: int = 6, seed: int = 0, width: int = 520, height: int = 460) -> None:
        self.questions = anatomy.make_quiz(n, seed)
        self.index = 0
        self.score = 0
        self.answered = 0
        self._done = False
        self.prompt = widgets.HTML()
        self.options = widgets.RadioButtons(options=[], value=None,
                                            layout=widgets.Layout(width="auto"))
        self.check = widgets.Button(description="Check answer", button_style="primary")
        self.check.on_click(lambda _b: self._check_choice())
        card_names = {c["id"]: c["name"] for c in anatomy.muscle_cards()}
        self.name_buttons = []
        for cid in dict.fromkeys(anatomy.model_to_card().values()):
            button = widgets.Button(description=card_names[cid],
                                    layout=widgets.Layout(width="auto"))
            button.on_click(lambda _b, cid=cid: self.answer(cid))
            self.name_buttons.append(button)
        self.fig = pa.scene_figure(mechanics.bone_meshes(), mechanics.muscle_paths(),
                                   width=width, height=height, widget=True,
                                   title="Click the muscle")
        with self.fig.batch_update():
            for trace in self.fig.data[N_BONES:]:
                trace.hoverinfo = "none"  # no names on hover: that would give it away
                trace.showlegend = False
        for trace in self.fig.data[N_BONES:]:
            trace.on_click(self._on_click)
        self.feedback = widgets.HTML()
        self.score_label = widgets.HTML()
        self.next = widgets.Button(description="Next question")
        self.next.on_click(lambda _b: self.next_question())
        self.choice_box = widgets.VBox([self.options, self.check])
        self.click_box = widgets.VBox([
            self.fig, widgets.HTML("<small>...or pick it by name:</small>"),
            widgets.HBox(self.name_buttons, layout=widgets.Layout(flex_flow="row wrap"))])
        self.body = widgets.VBox()
        self.root = widgets.VBox([self.score_label, self.prompt, self.body, self.feedback,
                                  self.next])
        self._show()

    @property
    def question(self) -> anatomy.Question:
        """The current question."""
        return self.questions[self.index]

    def _show(self) -> None:
        q = self.question
        self._done = False
        self.prompt.value = f"<b>Question {self.index + 1} of {len(self.questions)}.</b> " \
                            f"{q.prompt}"
        if q.kind == "choice":
            self.options.options = list(q.choices)
            self.options.value = None
            self.body.children = (self.choice_box,)
        else:
            self.body.children = (self.click_box,)
        self.feedback.value = ""
        self._update_score()

    def _update_score(self) -> None:
        self.score_label.value = f"<b>Score: {self.score} / {self.answered}</b>"

    def _check_choice(self) -> None:
        if self.options.value is None:
            self.feedback.value = "Pick an answer first."
            return
        self.answer(str(self.options.value))

    def _on_click(self, trace: Any, points: Any, state: Any = None) -> None:
        if points.point_inds and self.question.kind == "click":
            muscle = MUSCLE_KEYS[self.fig.data.index(trace) - N_BONES]
            self.answer(anatomy.model_to_card()[muscle])

    def answer(self, value: str) -> bool:
        """Answer the current question (choice text or muscle id); returns correctness."""
        q = self.question
        correct = anatomy.check_answer(q, value)
        if not self._done:
            self.answered += 1
            self.score += int(correct)
            self._done = True
        mark = "<span style='color:#007a3d'>Correct!</span>" if correct else \
            "<span style='color:#b00020'>Not quite.</span>"
        self.feedback.value = f"<b>{mark}</b> {q.explanation} <small>[{', '.join(q.sources)}]</small>"
        self._update_score()
        return correct

    def next_question(self) -> None:
        """Move to the next question (wraps around after the last)."""
        self.index = (self.index + 1) % len(self.questions)
        self._show()

    def summary(self) -> str:
        return (f"QuizApp(question {self.index + 1} of {len(self.questions)}, "
                f"{self.question.kind}; score {self.score}/{self.answered})")


class HipMechanicsApp(WidgetApp):
    """Sliders for the hip pose drive the 3D view and the moment-arm bars."""

    def __init__(self, flexion: int = 0, adduction: int = 0, rotation: int = 0,
                 width: int = 480, height: int = 500) -> None:
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
                                     mechanics.muscle_paths(*self.pose), hover=_hover(),
                                     width=width, height=height, widget=True, legend=False,
                                     title="Right hip (hover a muscle for its name)")
        self.bars = pa.moment_arm_bars(mechanics.moment_arms(
            flexion=self.pose[0], adduction=self.pose[1], rotation=self.pose[2]),
            width=width, height=height, widget=True)
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
