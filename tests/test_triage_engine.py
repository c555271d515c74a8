"""The triage engine: levels, ranking, contributions, plan, service, errors, rendering."""

from __future__ import annotations

import html
import json

import pandas as pd
import pytest

from gluteutils.errors import InvalidAnswerError
from gluteutils.triage import assess, load_content, validate_answers

NO_FLAGS = {q: False for q in load_content().red_flag_questions}
DOMS = {**NO_FLAGS, "age": 24, "nprs": 5, "duration": "under_3_days",
        "onset": "day_after_exercise", "new_exercise_72h": True, "location": "whole_muscle",
        "both_sides": True, "tender_on_pressing": True, "leg_pain_below_knee": False}
GT = {**NO_FLAGS, "age": 56, "nprs": 6, "duration": "over_3_months", "onset": "gradual",
      "location": "side_of_hip", "pain_lying_on_side": True}


def test_typical_doms_is_self_care_with_rest_and_ice() -> None:
    r = assess(DOMS)
    assert r.level == "self_care" and r.top == "doms"
    ids = [p.id for p in r.plan]
    assert {"rest_24_48h", "ice", "hydration", "light_walking"} <= set(ids)
    assert "heat" not in ids  # heat is for chronic stiffness
    assert r.stage == "acute"


def test_contributions_explain_the_score() -> None:
    r = assess(GT)
    top = r.causes[0]
    assert top.condition == "gluteal_tendinopathy"
    assert top.score == pytest.approx(sum(k.log_lr for k in top.contributions))
    assert sum(c.probability for c in r.causes) == pytest.approx(1.0)
    table = r.contributions_table(top_n=1)
    assert set(table["question"]) >= {"prior", "location", "pain_lying_on_side"}
    assert (table.loc[table["question"] == "location", "log_lr"] > 0).all()


def test_gt_plan_avoids_compression_and_service_is_physiotherapy() -> None:
    r = assess(GT)
    assert r.level == "routine"
    assert "avoid_lying_on_side" in [p.id for p in r.plan]
    assert "heat" in [p.id for p in r.plan]  # chronic stage
    assert r.service.id == "physiotherapy"


def test_service_modifiers() -> None:
    assert assess({**GT, "regular_sport": True}).service.id == "sports_physiotherapy"
    piri = {**NO_FLAGS, "location": "deep_buttock", "sitting_intolerance": True,
            "duration": "weeks_6_to_12", "pelvic_symptoms": True}
    r = assess(piri)
    assert r.top == "piriformis_syndrome"
    assert r.service.id == "pelvic_floor_physiotherapy"
    assert any("30 seconds" in p.text for p in r.plan)
    hip = {**NO_FLAGS, "age": 68, "location": "groin_front_hip", "hip_stiffness": True,
           "duration": "over_3_months"}
    assert assess(hip).service.id == "exercise_physiology"


def test_red_flag_forces_emergency_and_names_the_answer() -> None:
    r = assess({**DOMS, "rf_saddle_numbness": True})
    assert r.level == "emergency" and r.red_flag
    assert r.service.id == "emergency_department"
    assert r.plan == ()
    assert any("saddle" in a for a in r.fired[0].answers)


def test_combination_rules() -> None:
    fall = {**NO_FLAGS, "onset": "fall_or_blow", "age": 45, "osteoporosis": False}
    assert assess(fall).level != "urgent"
    assert assess({**fall, "osteoporosis": True}).level == "urgent"
    assert assess({**fall, "age": 75}).level == "urgent"
    claud = {**NO_FLAGS, "walking_pain": "stand_still"}
    assert not assess(claud).red_flag
    assert assess({**claud, "vascular_risk": True}).level == "urgent"
    assert assess({**NO_FLAGS, "rf_fever": True, "rf_injecting_drugs": True}
                  ).level == "emergency"


def test_escalation_is_not_a_red_flag() -> None:
    r = assess({**NO_FLAGS, "leg_pain_below_knee": True, "leg_weakness": True})
    assert r.level == "urgent" and not r.red_flag
    assert r.service.id == "doctor"


def test_unknown_answers_lower_confidence() -> None:
    full = assess(DOMS)
    sparse = assess({"onset": "day_after_exercise"})
    assert full.answered > sparse.answered
    assert sparse.confidence == "low"
    assert sparse.unanswered_red_flags  # warning questions left blank are reported
    assert assess({}).causes  # nothing answered still gives a (prior-only) ranking


def test_skip_logic_drops_answers_to_questions_not_asked() -> None:
    clean = validate_answers({"onset": "gradual", "bruising": True})
    assert "bruising" not in clean
    assert validate_answers({"onset": "fall_or_blow", "bruising": True})["bruising"] is True


@pytest.mark.parametrize(("qid", "value"), [("nprs", 11), ("nprs", "5"), ("nprs", True),
                                            ("leg_weakness", "yes"), ("onset", "yesterday"),
                                            ("age", 120)])
def test_invalid_answer_names_the_question(qid: str, value: object) -> None:
    with pytest.raises(InvalidAnswerError) as info:
        assess({qid: value})
    assert info.value.question_id == qid
    assert qid in str(info.value)


def test_unknown_question_id_is_rejected() -> None:
    with pytest.raises(InvalidAnswerError, match="shoe_size"):
        assess({"shoe_size": 9})


def test_renderings() -> None:
    r = assess(GT)
    assert isinstance(r.ranking_table(), pd.DataFrame)
    assert list(r.ranking_table().index) == list(range(1, len(r.causes) + 1))
    md = r.to_markdown()
    assert "Gluteal tendinopathy" in md and "not a diagnosis" in md
    page = r.to_html()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert json.loads(json.dumps(r.to_dict()))["level"] == "routine"
    assert r.summary().startswith("routine; top cause gluteal_tendinopathy")
    assert r.plan_table()["kind"].isin(["do", "avoid"]).all()


def test_html_escapes_content() -> None:
    r = assess(GT)
    assert "<b>" not in r.to_html(title="<b>x</b>").split("<body>")[1].split("</h1>")[0]


def test_unclear_answers_give_general_advice_and_a_clinician() -> None:
    r = assess(NO_FLAGS)
    assert r.causes[0].probability < 0.35
    assert r.level == "routine" and r.cannot_tell and r.top is None
    assert [p.id for p in r.plan] == ["light_walking"]  # no cause-specific exercise
    assert r.service.id == "doctor"
    assert r.confidence_words == "cannot tell"


# ---- safety review fixes -------------------------------------------------------------------
SKIPPED_WARNINGS = {"onset": "day_after_exercise", "new_exercise_72h": True,
                    "duration": "under_3_days", "location": "whole_muscle",
                    "tender_on_pressing": True, "nprs": 4, "age": 30, "osteoporosis": False}
FALL = {**NO_FLAGS, "onset": "fall_or_blow", "bruising": True, "duration": "under_3_days",
        "nprs": 4, "location": "whole_muscle", "age": 45, "osteoporosis": False,
        "tender_on_pressing": True, "walking_pain": "no_walking_pain"}


def test_skipped_warning_questions_never_give_self_care() -> None:
    assert assess({**NO_FLAGS, **SKIPPED_WARNINGS}).level == "self_care"  # all answered: fine
    r = assess(SKIPPED_WARNINGS)
    assert r.level == "routine"
    assert set(r.unanswered_red_flags) == set(load_content().red_flag_questions)
    assert r.level_reasons[0].startswith("Warning questions not answered")
    assert "rf_bladder_bowel" not in " ".join(r.level_reasons)  # words, not ids
    assert not any("No warning signs" in reason for reason in r.level_reasons)
    one_missing = {k: v for k, v in {**NO_FLAGS, **SKIPPED_WARNINGS}.items()
                   if k != "rf_night_pain"}
    r = assess(one_missing)
    assert r.level == "routine" and r.unanswered_red_flags == ("rf_night_pain",)


@pytest.mark.parametrize("unknown", ["age", "osteoporosis"])
def test_a_red_flag_rule_that_could_still_fire_blocks_self_care(unknown: str) -> None:
    assert assess(FALL).level == "self_care"  # fall, age 45, bones fine: no rule can fire
    r = assess({k: v for k, v in FALL.items() if k != unknown})
    assert r.level == "routine" and not r.fired
    assert r.unanswered_red_flags == (unknown,)
    assert r.level_reasons[0].startswith("Warning questions not answered")
    assert not any("No warning signs" in reason for reason in r.level_reasons)


def test_unanswered_warnings_are_shown_by_every_output() -> None:
    r = assess(SKIPPED_WARNINGS)
    question = load_content().questions["rf_bladder_bowel"].text
    for text in (r.to_markdown(), r.to_html(), r.to_text()):
        assert "Warning questions not answered" in text
        assert "constant at night" in text and "rf_night_pain" not in text
    assert html.escape(question) in r.to_html()
    assert [s.key for s in r.sections()] == ["level", "unanswered", "causes", "service", "plan",
                                             "note"]
    assert "unanswered" not in [s.key for s in assess(DOMS).sections()]


@pytest.mark.parametrize("flag", ["rf_fever", "rf_cancer_history", "rf_night_pain"])
def test_urgent_red_flag_shows_no_cause_specific_plan(flag: str) -> None:
    r = assess({**DOMS, flag: True})
    assert r.level == "urgent" and r.red_flag
    assert r.plan == ()
    assert "Self-care plan" not in r.to_markdown() + r.to_html() + r.to_text()
    fall = assess({**FALL, "osteoporosis": True})
    assert fall.level == "urgent" and fall.plan == ()


def test_wording_does_not_read_as_a_diagnosis() -> None:
    r = assess(DOMS)
    assert r.level == "self_care"
    everything = r.to_markdown() + r.to_html() + r.to_text()
    assert "likely to settle" not in everything and "usually settles" not in everything
    n = len(load_content().conditions)
    assert "your answers fit Delayed-onset muscle soreness (DOMS) best" in r.level_reasons[0]
    assert f"These words compare only the {n} causes this tool covers" in everything
    assert "%" not in r.to_text()  # a person sees words, not percentages


def test_cold_leg_is_an_emergency_and_a_non_healing_sore_is_urgent() -> None:
    cold = assess({**NO_FLAGS, "rf_cold_pale_leg": True})
    assert cold.level == "emergency" and cold.service.id == "emergency_department"
    sore = assess({**NO_FLAGS, "rf_foot_sore_not_healing": True})
    assert sore.level == "urgent" and sore.service.id == "doctor"
    assert [r.id for r in sore.fired] == ["vascular_nonhealing_sore"]
    assert "sore" not in load_content().questions["rf_cold_pale_leg"].text


def test_a_skin_abscess_is_urgent_and_outside_the_list() -> None:
    """A painful lump or red, hot skin (e.g. a pilonidal abscess, johnson2019ascrs) is none of
    the listed causes: urgent, the cause cannot be told, and no exercise plan is given."""
    from gluteutils.triage import assess

    answers = {"age": 24, "nprs": 8, "duration": "under_3_days", "location": "tailbone",
               "sitting_intolerance": True, "tender_on_pressing": True}
    without = assess(answers)
    with_lump = assess({**answers, "rf_skin_lump": True})
    assert [r.id for r in with_lump.fired] == ["abscess_skin_lump"]
    assert with_lump.level == "urgent" and with_lump.cannot_tell
    assert with_lump.plan == () and with_lump.confidence == "low"
    assert with_lump.service.id == "doctor"
    assert "abscess_skin_lump" not in [r.id for r in without.fired]
