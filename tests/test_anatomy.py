"""Muscle cards, sciatic variant tables, the quiz generator, figures and widget apps."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gluteutils import anatomy
from gluteutils._paths import data_path
from gluteutils.errors import ContentError, InvalidAnswerError
from gluteutils.references import check_keys

REQUIRED = ["gluteus_maximus", "gluteus_medius", "gluteus_minimus", "piriformis",
            "superior_gemellus", "inferior_gemellus", "obturator_internus",
            "obturator_externus", "quadratus_femoris", "tensor_fasciae_latae"]


def _raw() -> dict:
    return yaml.safe_load(data_path("anatomy", "muscles.yaml").read_text("utf-8"))


def test_every_required_muscle_has_a_card() -> None:
    assert [c["id"] for c in anatomy.muscle_cards()] == REQUIRED


def test_cards_validate_against_their_schema_and_every_fact_has_a_resolving_source() -> None:
    cards = anatomy.validate_cards(_raw())
    facts = anatomy.facts_table()
    assert len(cards) == 10
    assert (facts.sources.str.len() > 0).all()
    keys = [k.strip() for s in facts.sources for k in s.split(",")]
    assert check_keys(keys) == []


def test_nerves_carry_root_levels() -> None:
    table = anatomy.muscles_table().set_index("muscle_id")
    assert table.loc["gluteus_maximus", "roots"] == "L5-S1-S2"
    assert table.loc["gluteus_medius", "nerve"] == "Superior gluteal nerve"
    assert table.loc["obturator_externus", "nerve"] == "Obturator nerve"


def test_deep_rotators_are_cards_only_and_modelled_muscles_map_to_the_model() -> None:
    from gluteutils.mechanics import MUSCLES

    assert set(anatomy.not_modelled()) == {"Superior gemellus", "Inferior gemellus",
                                           "Obturator internus", "Obturator externus",
                                           "Quadratus femoris"}
    assert set(anatomy.model_to_card()) == set(MUSCLES)


def test_conditions_are_linked_as_the_collection_expects() -> None:
    links = anatomy.condition_links()
    by = links.groupby("muscle_id").condition_id.apply(set)
    assert "piriformis_syndrome" in by["piriformis"]
    assert "gluteal_tendinopathy" in by["gluteus_medius"]
    assert "gluteal_tendinopathy" in by["gluteus_minimus"]
    assert all("doms" in by[m] for m in REQUIRED)
    assert set(links.condition_id) <= set(anatomy.CONDITIONS)


@pytest.mark.parametrize("breakage, message", [
    (lambda d: d["muscles"][0].pop("nerve"), "nerve"),
    (lambda d: d["muscles"][1]["origin"].update(sources=[]), "origin"),
    (lambda d: d["muscles"][2]["nerve"].update(roots=["X9"]), "roots"),
    (lambda d: d["muscles"][3]["conditions"][0].update(id="flu"), "conditions"),
    (lambda d: d["muscles"][3]["insertion"].update(sources=["nobody2099"]), "nobody2099"),
    (lambda d: d["muscles"].append(copy.deepcopy(d["muscles"][0])), "duplicate"),
])
def test_broken_cards_are_rejected_with_a_useful_message(breakage, message) -> None:
    data = _raw()
    breakage(data)
    with pytest.raises(ContentError, match=message):
        anatomy.validate_cards(data)


def test_broken_card_file_is_rejected_when_loaded(tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(data_path(), tmp_path / "data")
    bad = _raw()
    del bad["muscles"][0]["blood_supply"]
    (tmp_path / "data" / "anatomy" / "muscles.yaml").write_text(yaml.safe_dump(bad))
    monkeypatch.setenv("GLUTE_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(ContentError, match="blood_supply"):
        anatomy.muscle_cards()


def test_sciatic_tables_are_sourced() -> None:
    variants = anatomy.sciatic_variants()
    assert list(variants.type) == list("ABCDEF")
    prev = anatomy.sciatic_prevalence()
    assert check_keys(list(variants.sources) + list(prev.source)) == []
    smoll = prev[prev.source == "smoll2010"].iloc[0]
    assert smoll.percent == pytest.approx(16.9)
    assert smoll.ci_low <= smoll.percent <= smoll.ci_high
    assert ((prev.percent > 0) & (prev.percent <= 100)).all()


def test_card_html_shows_each_fact_with_its_sources() -> None:
    html = anatomy.card_html("piriformis")
    for label in ("Origin", "Insertion", "Actions", "Nerve", "Blood supply"):
        assert f"<b>{label}:</b>" in html
    assert "S1, S2" in html and "[standring2020, moore2018]" in html
    assert "piriformis syndrome" in html
    assert "not in the 3D model" in anatomy.card_html("quadratus_femoris")


def test_quiz_is_seeded_and_pure() -> None:
    assert anatomy.make_quiz(8, seed=3) == anatomy.make_quiz(8, seed=3)
    assert anatomy.make_quiz(8, seed=3) != anatomy.make_quiz(8, seed=4)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 10_000))
def test_quiz_questions_are_well_formed(n: int, seed: int) -> None:
    quiz = anatomy.make_quiz(n, seed)
    assert len(quiz) == n
    modelled = set(anatomy.model_to_card().values())
    for q in quiz:
        assert q.answer in q.choices
        assert len(set(q.choices)) == len(q.choices)
        assert check_keys(q.sources) == []
        if q.kind == "click":
            assert set(q.choices) == modelled
        else:
            assert q.kind == "choice" and len(q.choices) == 4
        assert anatomy.check_answer(q, q.answer) is True
        wrong = next(c for c in q.choices if c != q.answer)
        assert anatomy.check_answer(q, wrong) is False


def test_quiz_mixes_both_kinds_and_rejects_foreign_answers() -> None:
    quiz = anatomy.make_quiz(6, seed=0)
    assert {q.kind for q in quiz} == {"choice", "click"}
    with pytest.raises(InvalidAnswerError):
        anatomy.check_answer(quiz[0], "not an option")


def test_click_questions_single_out_one_modelled_muscle() -> None:
    facts = anatomy.facts_table()
    clicks = [q for q in anatomy.make_quiz(12, seed=1) if q.kind == "click"]
    assert clicks
    for q in clicks:
        prompt = q.prompt.lower()
        hits = sorted({row.muscle_id for row in facts.itertuples()
                       if row.muscle_id in q.choices and row.text.lower() in prompt})
        assert hits == [q.answer], (q.prompt, hits)


def test_scene_figure_has_bones_then_every_modelled_muscle() -> None:
    from gluteutils import mechanics as mech
    from gluteutils.plots import anatomy as pa

    fig = pa.scene_figure(mech.bone_meshes(), mech.muscle_paths(),
                          visible_layers=["middle"])
    kinds = [t.type for t in fig.data]
    assert kinds == ["mesh3d"] * 3 + ["scatter3d"] * len(mech.MUSCLES)
    visible = {t.name: t.visible for t in fig.data[3:]}
    assert visible["gluteus medius (anterior)"] is True
    assert visible["piriformis"] == "legendonly"
    assert fig.layout.width and fig.layout.height
    assert "Rajagopal" in fig.layout.annotations[0].text


def test_explorer_layer_toggle_changes_trace_visibility() -> None:
    from gluteutils.widgets.anatomy import AnatomyExplorer

    app = AnatomyExplorer()
    app.set_layers(deep=False)
    vis = {t.name: t.visible for t in app.fig.data[3:]}
    assert vis["piriformis"] == "legendonly" and vis["gluteus medius (middle)"] is True
    assert "layers: superficial, middle;" in app.summary()
    app.picker.value = "piriformis"
    assert "Piriformis" in app.card.value


def test_quiz_app_scores_and_gives_feedback() -> None:
    from gluteutils.widgets.anatomy import QuizApp

    app = QuizApp(n=4, seed=0)
    assert app.answer(app.question.answer) is True
    assert "Correct" in app.feedback.value
    app.answer(app.question.answer)  # a second answer to the same question is not scored
    assert (app.score, app.answered) == (1, 1)
    app.next_question()
    wrong = next(c for c in app.question.choices if c != app.question.answer)
    assert app.answer(wrong) is False
    assert "Not quite" in app.feedback.value
    assert app.summary().endswith("score 1/2)")


def test_hip_app_slider_moves_figures() -> None:
    from gluteutils.widgets.anatomy import HipMechanicsApp

    app = HipMechanicsApp()
    femur_before = list(app.scene.data[2].z)
    bars_before = list(app.bars.data[2].x)
    assert "piriformis: external rotator" in app.summary()
    app.set_pose(flexion=90)
    assert list(app.scene.data[2].z) != femur_before
    assert list(app.bars.data[2].x) != bars_before
    assert "piriformis: internal rotator" in app.summary()
