"""Issue 15: the whole differential, "cannot tell", every age, non-spinal red flags, audit."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from gluteutils.triage import (
    EXPERT,
    YOUNGEST_SUPPORTED_AGE,
    accuracy_summary,
    assess,
    evaluate_vignettes,
    load_content,
    load_vignettes,
    published_anchors,
    sourced_share,
    weights_table,
    wilson_interval,
)

NO_FLAGS = {q: False for q in load_content().red_flag_questions}
PACKAGE = Path(__file__).resolve().parents[1] / "gluteutils" / "triage"


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return evaluate_vignettes()


@pytest.mark.parametrize("age", [0, 5, YOUNGEST_SUPPORTED_AGE - 1])
def test_below_the_youngest_age_is_see_a_doctor_never_an_error(age: int) -> None:
    r = assess({**NO_FLAGS, "age": age, "location": "deep_buttock"})
    assert r.below_supported_age and r.level == "urgent" and r.service.id == "doctor"
    assert r.top is None and r.plan == ()
    assert "see a doctor" in r.to_text()


def test_below_age_red_flag_is_still_an_emergency() -> None:
    r = assess({**NO_FLAGS, "age": 8, "rf_fever": True, "rf_cannot_bear_weight_no_injury": True})
    assert r.level == "emergency"


@pytest.mark.parametrize("age", [13, 15])
def test_adolescents_are_assessed(age: int) -> None:
    r = assess({**NO_FLAGS, "age": age, "onset": "sudden_during_activity",
                "location": "sitting_bone", "regular_sport": True})
    assert not r.below_supported_age and r.level == "urgent"
    assert r.top == "apophyseal_avulsion"


def test_one_leg_weaker_is_urgent_both_legs_is_emergency() -> None:
    one = assess({**NO_FLAGS, "rf_one_leg_weaker": True, "leg_pain_below_knee": True})
    both = assess({**NO_FLAGS, "rf_both_legs_weak": True})
    assert one.level == "urgent" and both.level == "emergency"
    assert both.top == "cauda_equina_syndrome" and one.top != "cauda_equina_syndrome"


@pytest.mark.parametrize("flag, level", [
    ("rf_faint_collapse", "emergency"), ("rf_cold_pale_leg", "emergency"),
    ("rf_tense_swollen_buttock", "emergency"), ("rf_rash", "urgent"),
    ("rf_cannot_bear_weight_no_injury", "urgent")])
def test_non_spinal_flags_reach_their_level(flag: str, level: str) -> None:
    assert assess({**NO_FLAGS, flag: True}).level == level


def test_septic_joint_is_an_emergency_without_a_fall() -> None:
    r = assess({**NO_FLAGS, "rf_fever": True, "rf_cannot_bear_weight_no_injury": True})
    assert r.level == "emergency" and r.top == "spinal_or_joint_infection"


def test_stress_fracture_is_urgent_with_no_loading_exercise() -> None:
    r = assess({**NO_FLAGS, "age": 22, "regular_sport": True, "training_increase": True,
                "impact_pain": True, "location": "groin_front_hip"})
    assert r.level == "urgent" and r.top == "bone_stress_injury" and r.plan == ()
    assert "bridge" not in r.to_text().lower() and "clamshell" not in r.to_text().lower()


def test_no_under_triage_and_full_red_flag_sensitivity(table: pd.DataFrame) -> None:
    s = accuracy_summary(table)
    assert s.loc["under-triage", "successes"] == 0, table[table["triage"] != table[
        "expected_triage"]]
    assert s.loc["red-flag sensitivity (emergency or urgent)", "value"] == 1.0


#: Gaps found by the blind set (vignettes/blind_2026_12_07.yaml) and not fixed yet; each is
#: a strict xfail below, so a fix shows up (then remove it here). See data/questionnaire/README.md.
#: Closed 2026-12-07 (b02 prostatitis, b03 pelvic congestion, b06 athletic pubalgia: routine
#: "outside the list" rules; b29 iliac endofibrosis: the maximal-effort question).
BLIND_GAPS: dict[str, str] = {}


def test_conditions_outside_the_list_reach_cannot_tell(table: pd.DataFrame) -> None:
    table = table[~table["id"].isin(BLIND_GAPS)]
    outside = table[table["expected_cannot_tell"]]
    assert len(outside) >= 4
    assert outside["cannot_tell"].all(), outside
    assert (outside["confidence"] != "high").all()
    inside = table[table["expected_top"].notna()]
    assert not inside["cannot_tell"].any(), inside[inside["cannot_tell"]]


@pytest.mark.xfail(strict=True, reason="blind-set gap, not fixed yet (BLIND_GAPS)")
@pytest.mark.parametrize("vid", sorted(BLIND_GAPS) or [pytest.param(
    "none", marks=pytest.mark.skip(reason="no open blind-set gap"))])
def test_blind_set_gaps(table: pd.DataFrame, vid: str) -> None:
    row = table.set_index("id").loc[vid]
    assert row["cannot_tell"] == row["expected_cannot_tell"]


@pytest.mark.parametrize("answers, rule", [
    ({"location": "perineum", "sitting_intolerance": True, "worse_sitting_better_standing": True,
      "pelvic_symptoms": True, "urinary_symptoms": True}, "bladder_prostate_pattern"),
    ({"cyclical_pain": True, "pelvic_symptoms": True, "pelvic_varices": True},
     "pelvic_vein_pattern"),
    ({"location": "groin_front_hip", "hip_click_catch": True, "regular_sport": True,
      "groin_core_pain": True}, "abdominal_wall_groin_pattern")])
def test_patterns_outside_the_list_say_cannot_tell_at_routine(answers: dict, rule: str) -> None:
    base = {**NO_FLAGS, "age": 35, "nprs": 4, "duration": "over_3_months", **answers}
    r = assess(base)
    assert r.cannot_tell and r.top is None and r.level == "routine" and not r.red_flag
    assert [f.id for f in r.fired] == [rule] and r.service.id == "doctor"
    answered_no = assess({**base, next(q for q in answers if q in (
        "urinary_symptoms", "pelvic_varices", "groin_core_pain")): False})
    assert not answered_no.cannot_tell and answered_no.fired == ()


def test_a_routine_outside_list_rule_never_lowers_an_urgent_cause() -> None:
    # a bone stress injury pattern that is urgent through the ranked cause, not a rule
    stress = {**NO_FLAGS, "age": 30, "regular_sport": True, "training_increase": False,
              "impact_pain": True, "location": "elsewhere", "onset": "gradual"}
    before = assess(stress)
    assert before.fired == () and before.top == "bone_stress_injury"
    assert before.level == "urgent"
    r = assess({**stress, "groin_core_pain": True})
    assert [f.id for f in r.fired] == ["abdominal_wall_groin_pattern"]
    assert r.cannot_tell and r.level == "urgent"


def test_max_effort_pain_in_an_athlete_fits_vascular_claudication() -> None:
    cyclist = {**NO_FLAGS, "age": 39, "regular_sport": True, "vascular_risk": False,
               "walking_pain": "no_walking_pain", "duration": "over_3_months",
               "location": "elsewhere"}
    assert assess(cyclist).cannot_tell
    r = assess({**cyclist, "max_effort_pain": True})
    assert r.top == "vascular_claudication" and not r.cannot_tell
    # the question is only asked of people who train: otherwise it is ignored
    assert assess({**cyclist, "regular_sport": False, "max_effort_pain": True}).cannot_tell


@pytest.mark.parametrize("flag, level", [
    ("rf_leg_swollen", "urgent"), ("rf_blood_thinner_bruise", "emergency")])
def test_outside_list_flags_reach_their_level_and_cannot_tell(flag: str, level: str) -> None:
    r = assess({**NO_FLAGS, flag: True, "age": 40, "location": "deep_buttock"})
    assert r.level == level and r.cannot_tell and r.top is None and r.plan == ()


def test_fever_with_bladder_trouble_is_an_emergency_that_cannot_tell() -> None:
    r = assess({**NO_FLAGS, "rf_fever": True, "rf_bladder_bowel": True})
    assert r.level == "emergency" and r.cannot_tell


def test_giant_cell_arteritis_symptoms_are_urgent_and_pmr_stays_ranked() -> None:
    r = assess({**NO_FLAGS, "rf_headache_jaw_vision": True, "age": 74, "both_sides": True,
                "shoulder_girdle": True, "morning_stiffness": True})
    assert r.level == "urgent" and r.top == "polymyalgia_rheumatica"


def test_postpartum_pain_on_loading_is_urgent() -> None:
    r = assess({**NO_FLAGS, "age": 32, "pregnancy_postpartum": True, "impact_pain": True,
                "location": "dimple_low_back"})
    assert r.level == "urgent" and r.top == "bone_stress_injury"


def test_severe_new_unexplained_pain_at_75_is_urgent() -> None:
    base = {**NO_FLAGS, "age": 80, "nprs": 8, "duration": "under_3_days", "onset": "unsure"}
    assert assess(base).level == "urgent"
    assert assess({**base, "age": 60}).level != "urgent"


def test_cannot_tell_shows_no_cause_and_routes_to_a_clinician() -> None:
    v = next(v for v in load_vignettes() if v["id"] == "d38_contradictory_not_in_list")
    r = assess(v["answers"])
    assert r.cannot_tell and r.top is None and r.confidence_words == "cannot tell"
    assert r.service.id == "doctor" and all("all" in p.conditions for p in r.plan)
    assert "cannot tell" in r.to_text()


def test_every_new_condition_has_a_vignette_with_a_source() -> None:
    new = [v for v in load_vignettes() if v["file"] == "vignettes_differential.yaml"]
    assert all(v.get("source") for v in new)
    assert {v["expected_top"] for v in new if v["expected_top"]} >= {
        "nonspecific_low_back_pain", "bone_stress_injury", "herpes_zoster",
        "axial_spondyloarthritis", "coccydynia", "pudendal_neuralgia",
        "ischiofemoral_impingement", "vascular_claudication", "hip_osteoarthritis",
        "femoroacetabular_impingement", "hamstring_tear"}


def test_every_sourced_weight_quotes_its_figure() -> None:
    w = weights_table()
    sourced = w[w["weight"] != EXPERT]
    assert len(sourced) > 0 and (sourced["figure"].str.len() > 5).all()
    share = sourced_share()
    assert share["sourced"] == len(sourced) and share["weights"] == len(w)


def test_wilson_interval_matches_a_hand_calculation() -> None:
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0


def test_anchors_cite_known_references() -> None:
    from gluteutils.references import reference_table
    assert set(published_anchors()["source"]) <= set(reference_table().index)


def test_package_modules_and_functions_are_small() -> None:
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 500, path.name
        assert '"tests"' not in text and "tests/" not in text, f"{path.name} reads tests/"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno is not None
                assert node.end_lineno - node.lineno < 60, (path.name, node.name)
