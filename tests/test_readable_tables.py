"""Tables as a reader sees them (issue 13): words for ids, one number format."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gluteutils.plots.tables import column_label, readable_table, readable_table_one


def test_ids_and_columns_in_words_numbers_in_one_format() -> None:
    raw = pd.DataFrame({"condition": ["sciatica_disc"], "treatment": ["home_self_care"],
                        "estimate": [-0.716666], "ci_lower": [-1.0236], "p_value": [6.3e-06],
                        "n": [233.0], "covered": [True], "leg_pain_below_knee": [np.nan]},
                       index=[41])
    shown = readable_table(raw)
    assert list(shown.columns) == ["Condition", "Therapy", "Difference", "95% CI, lower", "p",
                                   "People", "CI covers the true effect", "Leg pain below knee"]
    row = shown.iloc[0].tolist()
    assert row == ["Sciatica from disc herniation", "Home self-care only", "-0.72", "-1.02",
                   "<0.001", "233", "yes", ""]
    assert shown.index.tolist() == [1]  # row numbers, not leftover positions
    assert "e-0" not in shown.to_html() and "e+0" not in shown.to_html()
    assert raw.loc[41, "estimate"] == -0.716666  # the source frame is untouched


def test_p_values_and_decimals() -> None:
    shown = readable_table(pd.DataFrame({"p_value": [0.0123, 0.5], "estimate": [1.0, 2.5]}),
                           decimals=3)
    assert shown["p"].tolist() == ["0.012", "0.500"]
    assert shown["Difference"].tolist() == ["1.000", "2.500"]
    assert column_label("max_smd_after") == "Largest |SMD| after weighting"
    assert column_label("symptom_duration_weeks") == "Symptom duration weeks"


def test_table_one_keeps_its_suppression_labels() -> None:
    index = pd.MultiIndex.from_tuples([("n", ""), ("sex, n (%)", "female")])
    columns = pd.MultiIndex.from_tuples([("Grouped by therapy", "Overall"),
                                         ("Grouped by therapy", "physiotherapy")])
    table = pd.DataFrame([["20", "10"], ["15 (75.0)", "<5"]], index=index, columns=columns)
    table.attrs["suppressed"] = ((False, False), (False, True))
    shown = readable_table_one(table)
    assert shown.index.tolist() == [("n", ""), ("Sex, n (%)", "female")]
    assert shown.columns.get_level_values(-1).tolist() == ["Overall", "Physiotherapy"]
    assert shown.iloc[1, 1] == "<5" and shown.attrs["suppressed"] == table.attrs["suppressed"]


def test_units_whole_numbers_and_stand_in_ids() -> None:
    raw = pd.DataFrame({"condition": ["doms"], "length_mm": [138.123], "flexion_deg": [90.0],
                        "episodes": np.array([72], dtype=np.int64)})
    shown = readable_table(raw, decimals=1, ids_in_words=False)
    assert list(shown.columns) == ["Condition", "Length (mm)", "Flexion (°)", "Episodes"]
    assert shown.iloc[0].tolist() == ["doms", "138.1", "90.0", "72"]
