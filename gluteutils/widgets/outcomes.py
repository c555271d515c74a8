"""The clinician's outcomes explorer: controls -> ``Explorer.update`` -> figures updated in place.

No statistics here: :class:`gluteutils.outcomes.explorer.Explorer` computes (and suppresses)
every number; the plot builders in :mod:`gluteutils.plots.outcomes` draw them. This module only
wires ipywidgets controls to those functions and updates three ``go.FigureWidget`` objects in
place (``batch_update``), plus an HTML summary table and plain-language notes.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from gluteutils.outcomes.explorer import OUTCOMES, Explorer, ExplorerView, Filters
from gluteutils.outcomes.explorer_publish import view_csv, view_report_html
from gluteutils.outcomes.schema import (
    AGE_BANDS,
    CONDITION_LABELS,
    CONDITIONS,
    THERAPIES,
    THERAPY_LABELS,
)
from gluteutils.plots import outcomes as plots
from gluteutils.widgets._base import WidgetApp

ALL = "all"

#: What each figure shows and what it does not (shown under the figure).
CAPTIONS: dict[str, str] = {
    "trajectory": (
        "Average score at each visit week (day for DOMS) for the people selected, with 95% "
        "confidence intervals; a person with several visits in a week counts once (the "
        "average of those visits). Different people attend different visits, and people who "
        "stop coming are often those who got better or worse, so a line is not one person's "
        "course."),
    "responders": (
        "Share of people whose pain at the review visit was at least 2 points AND at least 30% "
        "lower than at their first visit (a change most patients notice), with 95% confidence "
        "intervals. People without a review visit are not counted."),
    "km": (
        "Share of people who reached almost no pain (0-1 out of 10) by each day; the numbers "
        "under the chart are the people still being followed, and a curve stops once fewer than "
        "5 are. Recovery is only seen at a visit, so true recovery is a little earlier than "
        "drawn."),
    "caveat": (
        "These are observational clinic data (here: SYNTHETIC data), not a trial: people were "
        "not randomly given a therapy, so differences between therapies can reflect who chose "
        "them. For adjusted comparisons see the outcomes analysis notebook."),
}


#: What the summary table's markers mean (shown under it, and in the report).
TABLE_LEGEND = ("n.p. = not published: fewer than 5 people, or a count that would reveal a "
                "small one; not reached = fewer than half of the group recovered while "
                "followed.")


def _fmt(v: Any, digits: int = 1, missing: str = "n.p.") -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return missing
    return f"{v:.{digits}f}" if isinstance(v, (float, np.floating)) else str(v)


def summary_table_html(table: pd.DataFrame) -> str:
    """The explorer's summary table as a small HTML table (no index, labels for therapies).

    A hidden number shows as ``n.p.``; a median that was never reached as ``not reached``
    (two different things, two different words: see :data:`TABLE_LEGEND`)."""
    head = ("<tr><th>Therapy</th><th>Episodes</th><th>With review</th>"
            "<th>Mean pain, first visit</th><th>Mean pain, review</th><th>Responders %</th>"
            "<th>Median days to recovery</th></tr>")
    rows = []
    for r in table.itertuples(index=False):
        cells = [THERAPY_LABELS.get(str(r.therapy), str(r.therapy)), r.episodes,
                 _fmt(r.with_review, 0),
                 _fmt(r.baseline_pain), _fmt(r.review_pain), _fmt(r.responder_pct, 0),
                 _fmt(r.median_days_to_recovery, 0, missing="not reached")]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return ("<table style='border-collapse:collapse;font-size:12px' border='1' cellpadding='3'>"
            + head + "".join(rows) + "</table>"
            + f"<p style='font-size:11px;max-width:700px'>{html.escape(TABLE_LEGEND)}</p>")


class OutcomesExplorerApp(WidgetApp):
    """Choose condition, therapies, age band, sex and outcome; figures follow in place."""

    #: The three charts (attribute, file-name stem of a saved image).
    CHARTS = (("fig_trajectory", "trajectory"), ("fig_responders", "responders"),
              ("fig_km", "kaplan-meier"))

    def __init__(self, explorer: Explorer, condition: str = "sciatica_disc", *,
                 synthetic: bool = True) -> None:
        self.explorer = explorer
        #: How the data are named on screen and in exports.
        self.data_label = "SYNTHETIC data" if synthetic else "anonymised clinic data"
        self._build_controls(condition)
        self.notes = widgets.HTML()
        self.table = widgets.HTML()
        self.export = widgets.HTML()
        self._keep_one = False  # set when the last therapy was re-ticked; shown once
        self.view: ExplorerView = explorer.update(self._filters())
        v = self.view
        self.fig_trajectory = self._chart(plots.trajectory_figure(
            v.trajectory, levels=THERAPIES, title="Mean score by visit (95% CI)",
            x_title=self._x_title(), y_title=OUTCOMES["pain_nprs"]), "trajectory")
        self.fig_responders = self._chart(plots.responder_figure(
            v.responders, title="Responders at review (NPRS: >= 2 points and >= 30%)"),
            "responders")
        self.fig_km = self._chart(plots.km_figure(
            v.km, v.at_risk, levels=THERAPIES, threshold=explorer.threshold,
            title="Time to recovery (Kaplan-Meier)"), "kaplan-meier")
        self._render_text()
        for w in (self.condition, self.outcome, self.age, self.sex):
            w.observe(self._on_change, names="value")
        self.figure_format.observe(self._on_format, names="value")
        for box in self.therapy_boxes.values():
            box.observe(self._on_therapy, names="value")
        self.root = self._layout()

    def _build_controls(self, condition: str) -> None:
        """The filter controls and the chart-format switch (not yet wired)."""
        self.condition = widgets.Dropdown(
            options=[(CONDITION_LABELS[c], c) for c in CONDITIONS], value=condition,
            description="Condition", style={"description_width": "80px"},
            layout=widgets.Layout(width="420px"))
        self.outcome = widgets.Dropdown(
            options=[(label, key) for key, label in OUTCOMES.items()], value="pain_nprs",
            description="Outcome", style={"description_width": "80px"},
            layout=widgets.Layout(width="320px"))
        self.age = widgets.Dropdown(options=[("All ages", ALL)] + [(a, a) for a in AGE_BANDS],
                                    value=ALL, description="Age band",
                                    style={"description_width": "80px"},
                                    layout=widgets.Layout(width="220px"))
        self.sex = widgets.ToggleButtons(options=[("All", ALL), ("Female", "female"),
                                                  ("Male", "male")], value=ALL,
                                         description="Sex",
                                         style={"description_width": "80px",
                                                "button_width": "70px"})
        self.therapy_boxes = {
            t: widgets.Checkbox(value=True, description=THERAPY_LABELS[t], indent=False,
                                layout=widgets.Layout(width="240px"))
            for t in THERAPIES}
        self.figure_format = widgets.ToggleButtons(
            options=[(label, key) for key, label in FIGURE_FORMATS.items()], value="png",
            description="Save charts as", style={"description_width": "100px",
                                                 "button_width": "170px"})

    def _layout(self) -> widgets.VBox:
        """Controls, captions (with this app's data label), charts, table and exports."""
        texts = dict(CAPTIONS, caveat=CAPTIONS["caveat"].replace(
            "SYNTHETIC data", self.data_label))
        caption = {k: widgets.HTML(f"<p style='max-width:700px;font-size:12px'>{html.escape(t)}"
                                   "</p>") for k, t in texts.items()}
        boxes = widgets.GridBox(list(self.therapy_boxes.values()),
                                layout=widgets.Layout(grid_template_columns="repeat(3, 250px)"))
        return widgets.VBox([
            widgets.HBox([self.condition, self.outcome]),
            widgets.HBox([self.age, self.sex]),
            widgets.HTML("<b>Therapies</b>"), boxes,
            caption["caveat"], self.notes,
            self.fig_trajectory, caption["trajectory"],
            self.fig_responders, caption["responders"],
            self.fig_km, caption["km"],
            widgets.HTML("<b>Summary</b>"), self.table, self.export, self.figure_format,
        ])

    # ------------------------------------------------------------------ wiring

    def _filters(self) -> Filters:
        chosen = tuple(t for t, box in self.therapy_boxes.items() if box.value)
        return Filters(condition=str(self.condition.value),
                       therapies=chosen,  # never empty: _on_therapy keeps one ticked
                       age_bands=() if self.age.value == ALL else (str(self.age.value),),
                       sexes=() if self.sex.value == ALL else (str(self.sex.value),),
                       outcome=str(self.outcome.value))

    def _x_title(self) -> str:
        return "Day since first visit" if self.condition.value == "doms" else (
            "Week since first visit")

    def _on_change(self, change: Any = None) -> None:
        self.refresh()

    def _chart(self, figure: go.Figure, name: str) -> go.FigureWidget:
        chart = go.FigureWidget(figure)
        chart._config = figure_config(str(self.figure_format.value), name)
        return chart

    def _on_format(self, change: Any = None) -> None:
        """A chart's camera format is fixed when it is drawn, so each chart is redrawn (same
        figure) with the chosen format in its place on the page."""
        children = list(self.root.children)
        for attr, name in self.CHARTS:
            old = getattr(self, attr)
            new = self._chart(go.Figure(old), name)
            children[children.index(old)] = new
            setattr(self, attr, new)
        self.root.children = tuple(children)
        self._render_text()

    def _on_therapy(self, change: Any) -> None:
        """Unticking the last therapy would show nothing (or, silently, everything): it stays
        ticked and the notes say why."""
        if not any(box.value for box in self.therapy_boxes.values()):
            self._keep_one = True
            change["owner"].value = True  # re-enters here with one ticked
            return
        self.refresh()

    def refresh(self) -> ExplorerView:
        """Recompute the view for the current controls and update every figure in place."""
        self.view = v = self.explorer.update(self._filters())
        plots.update_trajectory(self.fig_trajectory, v.trajectory,
                                y_title=OUTCOMES[v.filters.outcome])
        self.fig_trajectory.update_xaxes(title_text=self._x_title())
        plots.update_responders(self.fig_responders, v.responders)
        plots.update_km(self.fig_km, v.km, v.at_risk, threshold=self.explorer.threshold)
        self._render_text()
        return v

    def _render_text(self) -> None:
        v = self.view
        lines = [f"<b>{v.n_episodes} episodes in the groups shown</b> ({self.data_label})."]
        if self._keep_one:
            self._keep_one = False
            lines.append("<br>&#9888; At least one therapy stays ticked: tick another "
                         "before unticking this one.")
        if v.n_episodes == 0:
            lines.append("<br>&#9888; No episodes match these filters: choose all ages or "
                         "both sexes, or tick more therapies.")
        if v.notes:
            lines += [f"<br>&#9888; {html.escape(n)}" for n in v.notes]
        else:
            lines.append("<br>No cells needed small-cell suppression.")
        self.notes.value = "<p style='font-size:12px'>" + "".join(lines) + "</p>"
        self.table.value = summary_table_html(v.table)
        self.export.value = export_links(v, self.explorer.policy.rounding_note,
                                         self.data_label, str(self.figure_format.value))

    def summary(self) -> str:
        v = self.view
        return (f"OutcomesExplorerApp(condition={v.filters.condition}, "
                f"episodes={v.n_episodes}, therapies shown={len(v.table)}, "
                f"suppressed notes={len(v.notes)})")


FIGURE_FORMATS = {"png": "PNG (picture)", "svg": "SVG (vector, for print)"}


def figure_config(image_format: str, name: str) -> dict[str, Any]:
    """The plotly config of one explorer chart: its camera button saves ``image_format``
    (``png`` or ``svg``) under ``glute-explorer-<name>``."""
    if image_format not in FIGURE_FORMATS:
        raise ValueError(f"image_format must be one of {sorted(FIGURE_FORMATS)}, "
                         f"not {image_format!r}")
    options: dict[str, Any] = {"format": image_format, "filename": f"glute-explorer-{name}"}
    if image_format == "png":
        options["scale"] = 2  # sharp on a slide or a printed page
    return {"toImageButtonOptions": options, "displaylogo": False}


def export_links(view: ExplorerView, rule: str, data_label: str = "SYNTHETIC data",
                 image_format: str = "png") -> str:
    """Download links (data URIs: they work in JupyterLab, Voila and a saved page) for what is
    on screen: the table as CSV, and a one-page HTML report (filters, date, data label,
    disclosure rule, every published table). Figures: the camera button on each chart saves
    it as ``image_format`` (PNG or SVG, chosen in the app)."""
    import datetime
    import urllib.parse

    today = datetime.date.today().isoformat()
    name = f"glute-explorer-{view.filters.condition}"
    csv = view_csv(view, rule=rule, generated=today, data_label=data_label)
    report = view_report_html(view, rule=rule, generated=today, data_label=data_label,
                              labels=THERAPY_LABELS, table_html=summary_table_html(view.table))
    links = [("text/csv", csv, f"{name}.csv", "glute-export", "this table (CSV, as published)"),
             ("text/html", report, f"{name}-report.html", "glute-report",
              "a one-page report (HTML: filters, date, rule, all tables)")]
    parts = [f"<a class='{cls}' download='{fname}' href='data:{mime};charset=utf-8,"
             f"{urllib.parse.quote(text)}'>&#8681; Download {what}</a>"
             for mime, text, fname, cls, what in links]
    what = image_format.upper()
    return ("<p style='font-size:12px'>" + " &nbsp; ".join(parts)
            + f"<br>Figures: the camera button above each chart saves it as {what} "
            "(choose PNG or SVG under 'Save charts as').</p>")


def outcomes_explorer(data: Any, condition: str = "sciatica_disc",
                      threshold: int = 5, *, synthetic: bool = True) -> OutcomesExplorerApp:
    """Build the explorer app for an ``OutcomeData`` (precomputes once, then updates fast).

    ``synthetic=False`` for a clinic's anonymised package: the page and its exports then say
    "anonymised clinic data" instead of "SYNTHETIC data"."""
    return OutcomesExplorerApp(Explorer.from_data(data, threshold=threshold), condition,
                               synthetic=synthetic)
