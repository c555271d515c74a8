"""The clinician's explorer: no silent "all", an empty selection says so, and the export
holds exactly the published (suppressed) table on screen."""

from __future__ import annotations

import io
import urllib.parse

import pandas as pd
import pytest

from gluteutils import cohort
from gluteutils.widgets.outcomes import outcomes_explorer


@pytest.fixture(scope="module")
def app():
    return outcomes_explorer(cohort.generate(3000, 7), condition="sciatica_disc")


def _csv(app) -> tuple[list[str], pd.DataFrame]:
    href = app.export.value.split("href='", 1)[1].split("'", 1)[0]
    text = urllib.parse.unquote(href.split(",", 1)[1])
    meta = [line for line in text.splitlines() if line.startswith("#")]
    return meta, pd.read_csv(io.StringIO(text), comment="#")


def test_export_equals_the_published_table(app) -> None:
    meta, table = _csv(app)
    shown = app.view.table.reset_index(drop=True)
    assert list(table.columns) == list(shown.columns) and len(table) == len(shown)
    for col in shown.columns:
        ours, theirs = pd.to_numeric(table[col], errors="coerce"), pd.to_numeric(
            shown[col], errors="coerce")
        if theirs.notna().any():  # numbers: equal to the last printed digit
            pd.testing.assert_series_equal(ours, theirs, check_names=False, rtol=1e-12,
                                           check_dtype=False)
        assert (table[col].isna() == shown[col].isna()).all(), col
        text_cells = theirs.isna() & shown[col].notna()  # e.g. '<5' labels stay as labels
        assert (table[col][text_cells].astype(str) == shown[col][text_cells].astype(str)).all()
    text = "\n".join(meta)
    assert "condition: sciatica_disc" in text and "disclosure rule: Counts are rounded" in text
    assert "generated: " in text


def test_the_last_therapy_cannot_be_unticked(app) -> None:
    boxes = list(app.therapy_boxes.values())
    for box in boxes[1:]:
        box.value = False
    boxes[0].value = False  # the last one
    assert boxes[0].value is True
    assert app.view.filters.therapies == (list(app.therapy_boxes)[0],)
    assert "At least one therapy stays ticked" in app.notes.value
    for box in boxes:
        box.value = True
    assert "At least one therapy" not in app.notes.value


def test_an_empty_selection_says_how_to_widen(app) -> None:
    boxes = list(app.therapy_boxes.items())
    app.age.value = app.age.options[1][1]  # the youngest band: few sciatica episodes
    for _, box in boxes[1:]:
        box.value = False
    if app.view.n_episodes == 0:
        assert "No episodes match these filters" in app.notes.value
    else:
        assert "No episodes match" not in app.notes.value
    for _, box in boxes:
        box.value = True
    app.age.value = "all" if "all" in [v for _, v in app.age.options] else app.age.options[0][1]


def _link(app, cls: str) -> str:
    href = app.export.value.split(f"class='{cls}'", 1)[1].split("href='", 1)[1].split("'", 1)[0]
    return urllib.parse.unquote(href.split(",", 1)[1])


def _cells(report: str, caption: str) -> list[list[str]]:
    """The body cells of the report table under ``caption`` (stdlib HTML parser)."""
    from html.parser import HTMLParser

    section = report.split(f"<h2>{caption}</h2>", 1)[1].split("<h2>", 1)[0]

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[list[str]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag == "td":
                self.cell = []

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

        def handle_endtag(self, tag):
            if tag == "td" and self.cell is not None:
                self.rows[-1].append("".join(self.cell).strip())
                self.cell = None

    parser = Cells()
    parser.feed(section)
    return [r for r in parser.rows if r]


def test_report_holds_the_published_numbers_and_says_what_it_is(app) -> None:
    report = _link(app, "glute-report")
    v = app.view
    assert "SYNTHETIC data" in report and "generated: " in report
    assert "condition: sciatica_disc" in report and "disclosure rule: Counts are rounded" in report
    rows = _cells(report, "Responders at review (95% CI)")
    assert len(rows) == len(v.responders)
    for row, (_, r) in zip(rows, v.responders.iterrows(), strict=True):
        assert row[1:4] == [str(r["n"]), str(r["responders"]), f"{r['rate']:.2f}"]
    at_risk = _cells(report, "Numbers at risk by day since first visit (Kaplan-Meier)")
    assert [row[-1] for row in at_risk] == v.at_risk["label"].astype(str).tolist()
    assert not any(cell.isdigit() and 0 < int(cell) < 5 for row in at_risk for cell in row[2:])


def test_summary_table_tells_hidden_from_not_reached() -> None:
    from gluteutils.widgets.outcomes import TABLE_LEGEND, summary_table_html

    table = pd.DataFrame({"therapy": ["physiotherapy"], "episodes": [10],
                          "with_review": [float("nan")], "baseline_pain": [5.0],
                          "review_pain": [float("nan")], "responder_pct": [40.0],
                          "median_days_to_recovery": [float("nan")]})
    text = summary_table_html(table)
    assert text.count("<td>n.p.</td>") == 2 and text.count("<td>not reached</td>") == 1
    assert TABLE_LEGEND.split(":")[0] in text


def test_numbers_at_risk_rows_are_named(app) -> None:
    axis = app.fig_km.layout.yaxis2
    shown = app.view.at_risk["therapy"].astype(str).unique()
    from gluteutils.outcomes.schema import THERAPY_LABELS

    assert set(axis.ticktext) == {THERAPY_LABELS[t] for t in shown}
    assert len(axis.tickvals) == len(shown)


def test_a_clinic_package_is_not_called_synthetic() -> None:
    clinic = outcomes_explorer(cohort.generate(600, 3), synthetic=False)
    assert "SYNTHETIC" not in clinic.notes.value
    assert "anonymised clinic data" in _link(clinic, "glute-report")
    assert "SYNTHETIC" not in _link(clinic, "glute-export")


def test_figure_config_names_the_format_and_file() -> None:
    from gluteutils.widgets.outcomes import figure_config

    svg = figure_config("svg", "kaplan-meier")["toImageButtonOptions"]
    assert svg == {"format": "svg", "filename": "glute-explorer-kaplan-meier"}
    assert figure_config("png", "trajectory")["toImageButtonOptions"]["scale"] == 2
    with pytest.raises(ValueError, match="png"):
        figure_config("jpeg", "trajectory")


def test_switching_to_svg_redraws_each_chart_with_the_same_figure() -> None:
    app = outcomes_explorer(cohort.generate(1500, 3), condition="doms")
    before = {attr: (getattr(app, attr), getattr(app, attr).to_dict()) for attr, _ in app.CHARTS}
    app.figure_format.value = "svg"
    for attr, name in app.CHARTS:
        chart = getattr(app, attr)
        old, old_dict = before[attr]
        assert chart is not old and chart in app.root.children and old not in app.root.children
        assert chart._config["toImageButtonOptions"]["format"] == "svg"
        assert chart._config["toImageButtonOptions"]["filename"] == f"glute-explorer-{name}"
        def traces(d):  # a redrawn trace gets a new uid; everything else is the same
            return [{k: v for k, v in t.items() if k != "uid"} for t in d["data"]]
        assert traces(chart.to_dict()) == traces(old_dict)
    assert "saves it as SVG" in app.export.value
    # the controls still drive the redrawn charts
    shown = app.fig_responders.to_dict()["data"]
    app.therapy_boxes["home_self_care"].value = False
    assert app.fig_responders.to_dict()["data"] != shown
