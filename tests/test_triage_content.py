"""The questionnaire content: schema, cross-references, sources, shared vocabulary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from gluteutils._paths import data_path
from gluteutils.errors import ContentError
from gluteutils.references import check_keys
from gluteutils.triage import EXPERT, load_content, question_table, weights_table

SHARED_BOOLEAN_IDS = ["leg_pain_below_knee", "numbness_tingling", "leg_weakness",
                      "sitting_intolerance", "new_exercise_72h", "pain_lying_on_side"]
REQUIRED_CONDITIONS = ["doms", "piriformis_syndrome", "sciatica_disc", "sciatica_stenosis",
                       "gluteal_tendinopathy", "proximal_hamstring_tendinopathy",
                       "sacroiliac_joint_pain", "muscle_strain_contusion", "hip_osteoarthritis",
                       # issue 15: the whole differential, serious and adolescent causes too
                       "femoroacetabular_impingement", "nonspecific_low_back_pain",
                       "bone_stress_injury", "herpes_zoster", "axial_spondyloarthritis",
                       "coccydynia", "pudendal_neuralgia", "ischiofemoral_impingement",
                       "vascular_claudication", "hamstring_tear", "polymyalgia_rheumatica",
                       "fibromyalgia", "endometriosis", "slipped_capital_femoral_epiphysis",
                       "apophyseal_avulsion", "cauda_equina_syndrome", "fracture",
                       "spinal_or_joint_infection", "malignancy", "vascular_emergency",
                       "gluteal_compartment_syndrome"]
SERVICES = ["physiotherapy", "sports_physiotherapy", "pelvic_floor_physiotherapy",
            "exercise_physiology", "myotherapy_massage", "doctor", "emergency_department"]


def test_content_loads_with_every_required_condition_and_service() -> None:
    content = load_content()
    assert [c.id for c in content.conditions] == REQUIRED_CONDITIONS
    assert sorted(content.services) == sorted(SERVICES)


@pytest.mark.parametrize("qid", SHARED_BOOLEAN_IDS)
def test_shared_vocabulary_questions_are_boolean(qid: str) -> None:
    assert load_content().questions[qid].type == "boolean"


def test_required_symptom_topics_are_asked() -> None:
    qs = load_content().questions
    assert qs["nprs"].type == "integer" and (qs["nprs"].minimum, qs["nprs"].maximum) == (0, 10)
    for qid in ["duration", "onset", "difficulty_stand_walk_stairs", "walking_pain"]:
        assert qid in qs


def test_red_flag_groups_come_first_and_cover_serious_causes() -> None:
    content = load_content()
    flags = [g.red_flag for g in content.groups]
    assert flags[:2] == [True, True] and not any(flags[2:])
    serious = " ".join(r.serious_condition.lower() for r in content.rules)
    for word in ["cauda equina", "fracture", "infection", "cancer", "vascular"]:
        assert word in serious


def test_every_source_resolves_or_is_labelled_expert_judgement() -> None:
    content = load_content()
    keys = [s for c in content.conditions for s in c.sources]
    keys += [f.basis for c in content.conditions for f in c.features]
    keys += [f.weight for c in content.conditions for f in c.features]
    keys += [r.source for r in content.rules] + [i.source for i in content.self_care]
    keys += [q.source for q in content.questions.values() if q.source]
    assert check_keys(k for k in keys if k != EXPERT) == []
    assert EXPERT in keys  # honest labelling is present, not hidden


def test_tables_are_tidy() -> None:
    q = question_table()
    assert q["question"].is_unique and len(q) == len(load_content().questions)
    w = weights_table()
    assert set(w["condition"]) == set(REQUIRED_CONDITIONS)
    assert (w["lr"] > 0).all()


def test_no_licensed_instrument_text() -> None:
    text = (data_path("questionnaire", "questions.yaml")).read_text(encoding="utf-8").lower()
    for banned in ["oswestry", "roland", "visa-g", "lefs"]:
        assert banned not in text


def _broken_copy(tmp_path: Path, filename: str, edit) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path / "questionnaire"
    shutil.copytree(data_path("questionnaire"), folder)
    doc = yaml.safe_load((folder / filename).read_text(encoding="utf-8"))
    edit(doc)
    (folder / filename).write_text(yaml.safe_dump(doc), encoding="utf-8")
    return folder


def test_schema_violation_names_file_and_place(tmp_path: Path) -> None:
    folder = _broken_copy(tmp_path, "conditions.yaml", lambda d: d[0].pop("features"))
    with pytest.raises(ContentError, match=r"conditions\.yaml.*features"):
        load_content(folder)


def test_unknown_question_in_feature_is_caught(tmp_path: Path) -> None:
    def edit(doc: list) -> None:  # type: ignore[type-arg]
        doc[0]["features"][0]["when"]["question"] = "no_such_question"

    with pytest.raises(ContentError, match="no_such_question"):
        load_content(_broken_copy(tmp_path, "conditions.yaml", edit))


def test_disallowed_value_in_rule_is_caught(tmp_path: Path) -> None:
    def edit(doc: list) -> None:  # type: ignore[type-arg]
        doc[0]["when_all"][0]["eq"] = "maybe"

    with pytest.raises(ContentError, match="'maybe' is not an allowed answer"):
        load_content(_broken_copy(tmp_path, "red_flags.yaml", edit))


def test_unknown_reference_key_is_caught(tmp_path: Path) -> None:
    def edit(doc: list) -> None:  # type: ignore[type-arg]
        doc[0]["source"] = "nobody2099"

    with pytest.raises(ContentError, match="nobody2099"):
        load_content(_broken_copy(tmp_path, "self_care.yaml", edit))


def test_red_flag_question_without_its_own_rule_is_caught(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="rf_bladder_bowel"):
        load_content(_broken_copy(tmp_path, "red_flags.yaml", lambda d: d.pop(0)))
