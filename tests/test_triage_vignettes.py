"""Accuracy on the project's own clinical vignettes (data/questionnaire/vignettes/)."""

from __future__ import annotations

import pandas as pd
import pytest

from gluteutils.triage import (
    accuracy_summary,
    assess,
    evaluate_vignettes,
    load_content,
    load_vignettes,
)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return evaluate_vignettes()


def test_vignette_set_is_large_and_well_formed() -> None:
    vignettes = load_vignettes()
    assert len(vignettes) >= 30
    assert len({v["id"] for v in vignettes}) == len(vignettes)
    levels = {"emergency", "urgent", "routine", "self_care"}
    for v in vignettes:
        assert v["expected_triage"] in levels, v["id"]
        assert v["story"].strip(), v["id"]
    assert any(v.get("ambiguous") for v in vignettes)


def test_every_condition_is_the_expected_top_cause_of_a_vignette() -> None:
    expected = {v.get("expected_top") for v in load_vignettes()}
    assert {c.id for c in load_content().conditions} <= expected


def test_every_red_flag_rule_fires_in_some_vignette() -> None:
    fired = {r.id for v in load_vignettes() for r in assess(v["answers"]).fired}
    flags = {r.id for r in load_content().rules if r.kind == "red_flag"}
    assert flags <= fired, sorted(flags - fired)


def test_red_flag_sensitivity_is_100_percent(table: pd.DataFrame) -> None:
    flagged = table[table["red_flag_expected"]]
    assert len(flagged) >= 10
    assert flagged["triage"].isin(["emergency", "urgent"]).all(), flagged


def test_accuracy_thresholds(table: pd.DataFrame) -> None:
    summary = accuracy_summary(table)
    print("\n" + summary.to_string())  # shown with pytest -s
    assert summary.loc["top-1 accuracy", "value"] >= 0.80
    assert summary.loc["top-3 accuracy", "value"] >= 0.95
    assert summary.loc["triage agreement", "value"] >= 0.90
    assert summary.loc["red-flag sensitivity (emergency or urgent)", "value"] == 1.0


def test_accuracy_summary_detects_misses() -> None:
    fake = pd.DataFrame({
        "red_flag_expected": [True, False], "triage": ["routine", "routine"],
        "expected_triage": ["urgent", "routine"], "expected_top": ["doms", "doms"],
        "rank_of_expected": [1, 4]})
    s = accuracy_summary(fake)
    assert s.loc["red-flag sensitivity (emergency or urgent)", "value"] == 0.0
    assert s.loc["top-3 accuracy", "value"] == 0.5
    assert s.loc["triage agreement", "value"] == 0.5
