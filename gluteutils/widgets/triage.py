"""The symptom questionnaire wizard: a thin ipywidgets layer over :mod:`gluteutils.triage`.

One question group per step with Back / Next and a progress bar; the red-flag groups come
first and a positive answer opens a stop screen at once. The last page shows the ranked
causes, a plotly chart of what moved each cause, the self-care plan and the service, and a
"Save summary" button that writes a standalone HTML file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from gluteutils.plots.triage import contribution_bars, contributions_figure, style_contributions
from gluteutils.triage import (
    LEVELS,
    Content,
    Question,
    TriageResult,
    asked,
    assess,
    fired_rules,
    load_content,
    validate_answers,
)
from gluteutils.widgets._base import WidgetApp

UNKNOWN = "unknown"
LEVEL_COLOURS = {"emergency": "#b00020", "urgent": "#c66a00", "routine": "#2a7ab0",
                 "self_care": "#2e7d32"}
FIGURE_WIDTH = 860
CHART_INTRO = ("<p><b>For your clinician:</b> which of your answers raised or lowered the "
               "chance of each of the top causes (longer bar = stronger effect).</p>")
CONFIRM_HTML = ("<div style='border:1px dashed #888;padding:8px;margin-top:6px'>"
                "<b>Are you sure?</b> Only continue if a doctor has already checked this "
                "warning sign. The advice will stay at the level shown above.</div>")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def unique_path(folder: Path, stem: str, suffix: str = ".html") -> Path:
    """``folder/stem.html``, or ``stem_2.html``, ``stem_3.html``... if taken: never overwrite."""
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}_{n}{suffix}"
    return path


def _control(question: Question) -> widgets.ValueWidget:
    """The input widget for one question; ``"unknown"`` (or 0 for age) means not answered."""
    if question.type == "boolean":
        return widgets.ToggleButtons(options=[("Yes", "yes"), ("No", "no"),
                                              ("Not sure", UNKNOWN)], value=UNKNOWN)
    if question.type == "choice":
        return widgets.Dropdown(options=[("Not sure / skip", UNKNOWN), *[
            (label, value) for value, label in question.choices]], value=UNKNOWN,
            layout=widgets.Layout(width="32em"))
    lo, hi = int(question.minimum or 0), int(question.maximum or 0)
    if hi - lo <= 20:
        return widgets.Dropdown(options=[("Not answered", UNKNOWN), *[
            (str(i), i) for i in range(lo, hi + 1)]], value=UNKNOWN)
    return widgets.Text(value="", placeholder="a number (leave blank to skip)",
                        layout=widgets.Layout(width="16em"))


def _read(question: Question, control: widgets.ValueWidget) -> Any:
    value = control.value
    if value == UNKNOWN or value is None:
        return None
    if question.type == "boolean":
        return value == "yes"
    if question.type == "integer":
        text = str(value).strip()
        if not text.isdigit():
            return None  # blank or not a whole number: unknown
        number = int(text)
        lo, hi = int(question.minimum or 0), int(question.maximum or 0)
        return number if lo <= number <= hi else None
    return value


def _write(question: Question, control: widgets.ValueWidget, value: Any) -> None:
    if value is None:
        control.value = "" if isinstance(control, widgets.Text) else UNKNOWN
    elif question.type == "boolean":
        control.value = "yes" if value else "no"
    elif isinstance(control, widgets.Text):
        control.value = str(value)
    else:
        control.value = value


class TriageWizard(WidgetApp):
    """Step-by-step questionnaire; pre-fill with ``answers`` and open at ``page="summary"``.

    ``save_dir`` is where "Save summary" writes (default: the current working directory at
    the time of the click).
    """

    def __init__(self, answers: Mapping[str, Any] | None = None, *, title: str = "Your answers",
                 save_dir: str | Path | None = None, page: str | None = None,
                 content: Content | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.content = content or load_content()
        #: Time source for the saved summary's date and file name (tests pass a fixed one).
        self.clock = clock
        self.title = title
        self.save_dir = Path(save_dir) if save_dir is not None else None
        self.groups = self.content.groups
        self.questions = self.content.questions
        self.controls: dict[str, widgets.ValueWidget] = {
            qid: _control(q) for qid, q in self.questions.items()}
        self.rows: dict[str, widgets.VBox] = {
            qid: widgets.VBox([widgets.HTML(f"<b>{q.text}</b>"), self.controls[qid]],
                              layout=widgets.Layout(margin="0 0 8px 0"))
            for qid, q in self.questions.items()}
        for qid in self.questions:
            self.controls[qid].observe(self._on_answer, names="value")
        self.step = 0
        self.page = "step"  # "step", "stop" or "summary"
        #: Red-flag rule ids the person chose to continue past, and the most severe level
        #: among them; a new rule or a more severe level stops the wizard again.
        self.continued: set[str] = set()
        self.continued_level: str | None = None
        self.result: TriageResult | None = None
        self.figure: go.FigureWidget | None = None
        self.saved_path: Path | None = None

        self._build_controls(title)
        if answers:
            self.set_answers(answers)
        if page == "summary":
            self.go_to_summary()
        else:
            self._render()

    def _build_controls(self, title: str) -> None:
        """The wizard's header, progress bar, buttons (wired to their actions) and root box."""
        self.header = widgets.HTML(f"<h3>Buttock pain questionnaire: {title}</h3>")
        self.progress = widgets.IntProgress(value=1, min=0, max=len(self.groups) + 1,
                                            layout=widgets.Layout(width="20em"))
        self.progress_label = widgets.HTML()
        self.body = widgets.VBox()
        self.back_button = widgets.Button(description="Back", icon="arrow-left")
        self.next_button = widgets.Button(description="Next", button_style="primary")
        self.change_button = widgets.Button(description="Go back and change my answers",
                                            button_style="primary",
                                            layout=widgets.Layout(width="auto"))
        # Secondary on purpose: small, plain, and it asks again before carrying on.
        self.continue_button = widgets.Button(description="Continue anyway",
                                              tooltip="Only if you have already been checked",
                                              layout=widgets.Layout(width="auto"))
        self.confirm_button = widgets.Button(description="Yes, I understand: continue anyway",
                                             layout=widgets.Layout(width="auto"))
        self.confirming = False
        self.save_button = widgets.Button(description="Save summary", button_style="success")
        self.restart_button = widgets.Button(description="Start again")
        self.back_button.on_click(lambda _: self.back())
        self.next_button.on_click(lambda _: self.next())
        self.change_button.on_click(lambda _: self.back())
        self.continue_button.on_click(lambda _: self.ask_continue())
        self.confirm_button.on_click(lambda _: self.continue_anyway())
        self.save_button.on_click(lambda _: self.save_summary())
        self.restart_button.on_click(lambda _: self.restart())
        self.nav = widgets.HBox()
        self.status = widgets.HTML()
        self.root = widgets.VBox([self.header, widgets.HBox([self.progress,
                                                             self.progress_label]),
                                  self.body, self.nav, self.status])

    # ---- answers
    def answers(self) -> dict[str, Any]:
        """The current answers (asked questions only; unknown answers left out)."""
        raw = {qid: _read(q, self.controls[qid]) for qid, q in self.questions.items()}
        return validate_answers(raw, self.content)

    def set_answers(self, answers: Mapping[str, Any]) -> None:
        """Pre-fill the controls (answers are validated first)."""
        clean = validate_answers(answers, self.content)
        for qid, q in self.questions.items():
            _write(q, self.controls[qid], clean.get(qid))

    def red_flags(self) -> list[str]:
        """Ids of the red-flag rules the current answers fire."""
        return [r.id for r in fired_rules(self.answers(), self.content) if r.kind == "red_flag"]

    def _must_stop(self) -> bool:
        """Whether a red flag fires that the person has not already continued past.

        Continuing past one flag never silences another: a rule not continued past, or a
        level more severe than the one continued past, stops the wizard again.
        """
        fired = [r for r in fired_rules(self.answers(), self.content) if r.kind == "red_flag"]
        if not fired:
            return False
        if any(r.id not in self.continued for r in fired):
            return True
        worst = min(LEVELS.index(r.level) for r in fired)
        return self.continued_level is None or worst < LEVELS.index(self.continued_level)

    # ---- navigation
    def next(self) -> None:
        """Go to the next step (or the stop screen when a red flag is positive)."""
        if self.page != "step":
            return
        if self._must_stop():
            self.page = "stop"
        elif self.step + 1 >= len(self.groups):
            self.go_to_summary()
            return
        else:
            self.step += 1
        self._render()

    def back(self) -> None:
        """Go back one step (from the stop screen or summary: to the last step shown)."""
        self.confirming = False
        if self.page in ("stop", "summary"):
            self.page = "step"
        elif self.step > 0:
            self.step -= 1
        self._render()

    def ask_continue(self) -> None:
        """First press of "Continue anyway": ask again before leaving the stop screen."""
        if self.page == "stop":
            self.confirming = True
            self._render()

    def continue_anyway(self) -> None:
        """Leave the stop screen and carry on (the triage level stays urgent/emergency).

        Only the red flags firing now are continued past: a new one, or a more severe level,
        opens the stop screen again.
        """
        fired = [r for r in fired_rules(self.answers(), self.content) if r.kind == "red_flag"]
        self.continued |= {r.id for r in fired}
        levels = [r.level for r in fired]
        if self.continued_level is not None:
            levels.append(self.continued_level)
        if levels:
            self.continued_level = min(levels, key=LEVELS.index)
        self.page, self.confirming = "step", False
        self.next()

    def go_to_summary(self) -> None:
        """Show the summary page (or the stop screen if a red flag is positive)."""
        if self._must_stop():
            self.page = "stop"
            self.step = max(i for i, g in enumerate(self.groups) if g.red_flag)
        else:
            self.page = "summary"
            self.step = len(self.groups) - 1
            self.result = assess(self.answers(), self.content)
        self._render()

    def restart(self) -> None:
        """Clear every answer and go back to step 1."""
        for qid, q in self.questions.items():
            _write(q, self.controls[qid], None)
        self.step, self.page, self.result = 0, "step", None
        self.continued, self.continued_level = set(), None
        self._render()

    def save_summary(self, folder: str | Path | None = None) -> Path:
        """Write the summary as a standalone HTML file and return its path."""
        result = self.result or assess(self.answers(), self.content)
        target = Path(folder) if folder is not None else (self.save_dir or Path.cwd())
        target.mkdir(parents=True, exist_ok=True)
        slug = "".join(ch if ch.isalnum() else "_" for ch in self.title.lower()).strip("_")
        now = (self.clock or _utc_now)()
        path = unique_path(target, f"triage_summary_{slug or 'answers'}_"
                                   f"{now.strftime('%Y%m%d-%H%M%S')}")
        path.write_text(result.to_html(title=f"Buttock pain questionnaire: {self.title}",
                                       dated=f"Saved {now.strftime('%Y-%m-%d %H:%M')} UTC"),
                        encoding="utf-8")
        self.saved_path = path
        self.status.value = f"Saved summary to <code>{path.name}</code>."
        return path

    # ---- rendering
    def _on_answer(self, change: Any = None) -> None:
        if self.page == "step":
            self._update_visibility()

    def _update_visibility(self) -> None:
        current = self.answers()
        for qid, q in self.questions.items():
            self.rows[qid].layout.display = None if asked(q, current) else "none"

    def _render(self) -> None:
        total = len(self.groups)
        if self.page == "step":
            group = self.groups[self.step]
            self.progress.value = self.step + 1
            self.progress_label.value = (f"&nbsp;Step {self.step + 1} of {total}: "
                                         f"{group.title}")
            self.body.children = [widgets.HTML(f"<p><i>{group.intro}</i></p>"),
                                  *[self.rows[q] for q in group.question_ids]]
            self._update_visibility()
            self.back_button.disabled = self.step == 0
            self.nav.children = [self.back_button, self.next_button]
        elif self.page == "stop":
            self.progress_label.value = "&nbsp;Stopped: a warning sign was answered yes"
            self.body.children = [widgets.HTML(self._stop_html())]
            if self.confirming:
                self.body.children = [*self.body.children, widgets.HTML(CONFIRM_HTML)]
                self.nav.children = [self.change_button, self.confirm_button]
            else:
                self.nav.children = [self.change_button, self.continue_button]
        else:
            self.progress.value = total + 1
            self.progress_label.value = f"&nbsp;Summary: {self.title}"
            self.body.children = self._summary_children()
            self.back_button.disabled = False
            self.nav.children = [self.back_button, self.restart_button, self.save_button]

    def _stop_html(self) -> str:
        fired = [r for r in fired_rules(self.answers(), self.content) if r.kind == "red_flag"]
        level = fired[0].level if fired else "urgent"
        colour = LEVEL_COLOURS[level]
        if level == "emergency":
            heading = "Call 000 now, or your local emergency number"
            action = ("If you can get there safely and quickly, go to an emergency department "
                      "today instead. Do not drive yourself.")
        else:
            heading = "Please see a doctor today or tomorrow"
            action = ("Book an urgent appointment with a doctor (GP) within the next day or "
                      "two; if it gets worse, go to an emergency department.")
        why = []
        for r in fired:
            explained = ""
            if r.id in self._rule_conditions:
                explained = f"<br><small>{self._rule_conditions[r.id]}</small>"
            why.append(f"<li><b>{r.serious_condition}</b>{explained}</li>")
        return (f"<div style='border:3px solid {colour};padding:10px'>"
                f"<h3 style='color:{colour}'>{heading}</h3><p>{action}</p>"
                f"<p><b>Why:</b> your answers can be a sign of:</p><ul>{''.join(why)}</ul>"
                "<p>This does not mean you have it, but a doctor needs to check you first. "
                "If you answered by mistake, go back and change your answers.</p></div>")

    @property
    def _rule_conditions(self) -> dict[str, str]:
        """Rule id -> plain explanation of the serious condition it points to."""
        names = {c.id: c.summary for c in self.content.conditions}
        return {r.id: names[r.condition] for r in self.content.rules
                if r.condition is not None and r.condition in names}

    def _summary_children(self) -> list[widgets.Widget]:
        result = self.result or assess(self.answers(), self.content)
        colour = LEVEL_COLOURS[result.level]
        parts = result.sections_html(details=False)
        keys = [sec.key for sec in result.sections()]
        parts[0] = f"<div style='border:3px solid {colour};padding:8px'>{parts[0]}</div>"
        if "unanswered" in keys:
            i = keys.index("unanswered")
            parts[i] = f"<div style='border:2px solid #c66a00;padding:6px'>{parts[i]}</div>"
        if result.level == "emergency" or result.top is None:
            # An emergency leads with what to do now; "cannot tell" ranks nothing: no chart.
            return [widgets.HTML("".join(parts))]
        split = keys.index("causes") + 1
        return [widgets.HTML("".join(parts[:split])), widgets.HTML(CHART_INTRO),
                self._figure(result), widgets.HTML("".join(parts[split:]))]

    def _figure(self, result: TriageResult) -> go.FigureWidget:
        table = result.contributions_table(top_n=3)
        if self.figure is None:
            self.figure = go.FigureWidget(contributions_figure(table, width=FIGURE_WIDTH))
            return self.figure
        bars = contribution_bars(table)
        with self.figure.batch_update():
            trace = self.figure.data[0]
            trace.x = bars["log_lr"].to_list()
            trace.y = list(range(len(bars)))
            trace.marker.color = bars["colour"].to_list()
            trace.hovertext = bars["label"].to_list()
            style_contributions(self.figure, bars, width=FIGURE_WIDTH)
        return self.figure

    def summary(self) -> str:
        if self.page == "summary" and self.result is not None:
            return f"TriageWizard({self.title}: summary; {self.result.summary()})"
        if self.page == "stop":
            return f"TriageWizard({self.title}: stop screen; red flags {self.red_flags()})"
        return f"TriageWizard({self.title}: step {self.step + 1} of {len(self.groups)})"
