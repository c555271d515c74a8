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
