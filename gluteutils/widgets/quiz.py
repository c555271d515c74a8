"""The quiz widget: questions from :mod:`gluteutils.quiz`, the right muscle lit up in 3D.

After every answer the muscle the question is about is highlighted in the 3D view (layers
above it are peeled away so it can be seen), with the fact and its sources. After the last
question of a round an end-of-round summary appears with a button for the next round, whose
questions follow the spaced-retrieval schedule (missed items first).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from gluteutils import anatomy, mechanics, quiz, scene
from gluteutils.plots import anatomy as pa
from gluteutils.widgets import scene_figure as wa
from gluteutils.widgets._base import WidgetApp

_PEEL = {"superficial": "posterior", "middle": "middle", "deep": "deep"}

#: Answer texts are long (nerve courses, actions): ipywidgets draws radio labels one fixed
#: line high, so a wrapped label overlapped the next option and took its clicks. Let each
#: label grow to its text.
_OPTION_STYLE = ("<style>.glute-quiz-options label{height:auto !important;"
                 "white-space:normal !important;line-height:1.35 !important;"
                 "margin-bottom:6px !important;align-items:flex-start !important}</style>")


def _trace_cards() -> list[str]:
    """Card id of each muscle / rotator trace after the bones, in figure order."""
    to_card = anatomy.model_to_card()
    return [to_card[m] for m in wa.MUSCLE_KEYS] + list(scene.SHAPE_ONLY)


def highlight(fig: Any, card_id: str | None) -> None:
    """Colour the traces of ``card_id`` (None: none) and peel away the layers above it."""
    cards = _trace_cards()
    layer = anatomy.card(card_id)["layer"] if card_id else "superficial"
    wa.apply_preset(fig, _PEEL[layer], len(scene.SHAPE_ONLY))
    layers = [mechanics.MUSCLES[m][1] for m in wa.MUSCLE_KEYS] + ["deep"] * len(scene.SHAPE_ONLY)
    with fig.batch_update():
        for trace, cid, lay in zip(fig.data[wa.N_BONES:wa.N_BONES + len(cards)], cards, layers,
                                   strict=True):
            on = cid == card_id
            trace.color = pa.HIGHLIGHT_COLOUR if on else pa.LAYER_COLOURS[lay]
            if on:
                trace.visible = True


class QuizApp(WidgetApp):
    """Rounds of questions with feedback, a 3D highlight, a round summary, spaced repeats."""

    def __init__(self, n: int = 6, seed: int = 0, width: int = 470, height: int = 480) -> None:
        self.quiz = quiz.Quiz(n=n, seed=seed)
        self.index = 0
        self.prompt = widgets.HTML()
        self.options = widgets.RadioButtons(options=[], value=None,
                                            layout=widgets.Layout(width="auto"))
        self.options.add_class("glute-quiz-options")
        self.check = widgets.Button(description="Check answer", button_style="primary")
        self.check.on_click(lambda _b: self._check_choice())
        extras = pa.SceneExtras(rotators=scene.deep_rotator_volumes())
        self.fig = pa.scene_figure(mechanics.bone_meshes(), scene.muscle_volumes(),
                                   extras=extras, width=width, height=height, widget=True,
                                   legend=False, title="The muscle lights up after you answer")
        with self.fig.batch_update():
            for trace in self.fig.data:
                trace.hoverinfo = "skip"  # no names on hover: that would give answers away
                trace.hovertemplate = None
        for trace in self.fig.data:
            trace.on_click(self._on_click)
        self.feedback = widgets.HTML()
        self.score_label = widgets.HTML()
        self.next = widgets.Button(description="Next question")
        self.next.on_click(lambda _b: self.next_question())
        self.summary_box = widgets.HTML()
        self.new_round_button = widgets.Button(description="Start the next round",
                                               button_style="success")
        self.new_round_button.on_click(lambda _b: self.start_round())
        self.panel = widgets.VBox([widgets.HTML(_OPTION_STYLE), self.score_label, self.prompt,
                                   self.options, self.check, self.feedback, self.next],
                                  layout=widgets.Layout(width="460px"))
        self.root = widgets.VBox([widgets.HBox([self.panel, self.fig])])
        self._show()

    @property
    def question(self) -> quiz.Question:
        """The current question."""
        return self.quiz.questions[self.index]

    def _show(self) -> None:
        q = self.question
        kind = "Pick the muscle (or click it in the 3D view)." if q.kind == "muscle" else ""
        self.prompt.value = (f"<b>Round {self.quiz.round_no}, question {self.index + 1} of "
                             f"{len(self.quiz.questions)}.</b> {html.escape(q.prompt)} "
                             f"<small>{kind}</small>")
        self.options.options = [(q.label(c), c) for c in q.choices]
        self.options.value = None
        self.feedback.value = ""
        self.next.description = ("See the round summary" if self.index == len(
            self.quiz.questions) - 1 else "Next question")
        highlight(self.fig, None)
        self._update_score()

    def _update_score(self) -> None:
        right = sum(c for _q, _v, c in self.quiz.answers)
        self.score_label.value = f"<b>Score: {right} / {len(self.quiz.answers)}</b>"

    def _check_choice(self) -> None:
        if self.options.value is None:
            self.feedback.value = "Pick an answer first."
            return
        self.answer(str(self.options.value))

    def _on_click(self, trace: Any, points: Any, state: Any = None) -> None:
        if not points.point_inds or self.question.kind != "muscle":
            return
        point = (points.xs[0], points.ys[0], points.zs[0]) if getattr(points, "xs", None) else None
        card_id = wa.trace_card(self.fig, trace, point)
        if card_id is not None and card_id in self.question.choices:
            self.answer(card_id)

    def answer(self, value: str) -> bool:
        """Answer the current question (choice text or card id); returns correctness."""
        q = self.question
        correct = self.quiz.answer(q, value)
        mark = ("<span style='color:#007a3d'>Correct!</span>" if correct else
                f"<span style='color:#b00020'>Not quite.</span> The answer is "
                f"<b>{html.escape(q.label(q.answer))}</b>.")
        name = anatomy.card(q.muscle)["name"]
        self.feedback.value = (f"<b>{mark}</b> {html.escape(q.explanation)} "
                               f"<small>[{', '.join(q.sources)}]</small><br>"
                               f"<i>{name} is highlighted in blue in the 3D view.</i>")
        highlight(self.fig, q.muscle)
        self._update_score()
        return correct

    def next_question(self) -> None:
        """Next question; after the last one, the round summary (never a silent restart)."""
        if self.index < len(self.quiz.questions) - 1:
            self.index += 1
            self._show()
            return
        self.show_summary()

    def show_summary(self) -> None:
        """The end-of-round summary with the spaced-retrieval plan."""
        rows = self.quiz.summary()
        right = sum(r["result"] == "right" for r in rows)
        body = "".join(f"<tr><td>{html.escape(r['question'])}</td><td>"
                       f"{html.escape(r['your answer'])}</td><td>"
                       f"{html.escape(r['right answer'])}</td><td>{r['result']}</td>"
                       f"<td>{r['comes back in round']}</td></tr>" for r in rows)
        self.summary_box.value = (
            f"<h4>Round {self.quiz.round_no} summary: {right} of {len(rows)} right "
            f"({len(self.quiz.questions) - len(rows)} not answered)</h4>"
            "<table style='border-collapse:collapse'><tr><th>Question</th><th>Your answer"
            "</th><th>Right answer</th><th>Result</th><th>Comes back in round</th></tr>"
            f"{body}</table><p><small>Missed questions come back in the next round, right "
            "ones after 2, then 4, then 8 rounds: spaced retrieval practice improved recall "
            "of anatomy a week later in Dobson et al. 2017 [dobson2017].</small></p>")
        self.root.children = (self.summary_box, self.new_round_button)

    def start_round(self) -> None:
        """Begin the next round (spaced-retrieval order)."""
        self.quiz.new_round()
        self.index = 0
        self.root.children = (widgets.HBox([self.panel, self.fig]),)
        self._show()

    def summary(self) -> str:
        q = self.question
        right = sum(c for _q, _v, c in self.quiz.answers)
        return (f"QuizApp(round {self.quiz.round_no}, question {self.index + 1} of "
                f"{len(self.quiz.questions)}, {q.kind}; score {right}/{len(self.quiz.answers)})")
