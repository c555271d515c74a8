"""Muscle cards, sciatic variant tables, the quiz generator, figures and widget apps."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
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
    assert "shape only, no moment arm" in anatomy.card_html("obturator_internus")
    assert "gait2392" in anatomy.card_html("quadratus_femoris")


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


def test_scene_figure_has_bones_then_every_muscle_volume() -> None:
    from gluteutils import mechanics as mech
    from gluteutils import scene
    from gluteutils.plots import anatomy as pa

    fig = pa.scene_figure(mech.bone_meshes(), scene.muscle_volumes(),
                          visible_layers=["middle"])
    kinds = [t.type for t in fig.data]
    assert kinds == ["mesh3d"] * (3 + len(mech.MUSCLES))
    visible = {t.hovertemplate.split("</b>")[0][3:]: t.visible for t in fig.data[3:]}
    assert visible["gluteus medius (anterior)"] is True
    assert visible["piriformis"] == "legendonly"
    # compact hover: name and layer only
    assert fig.data[3 + 9].hovertemplate == "<b>piriformis</b> (deep layer)<extra></extra>"
    # one colour meaning: colour = layer
    colours = {t.legendgroup: t.color for t in fig.data[3:]}
    assert colours == pa.LAYER_COLOURS
    assert sum(bool(t.showlegend) for t in fig.data[3:]) == 3  # one legend entry per layer
    assert fig.layout.width and fig.layout.height
    assert "Rajagopal" in fig.layout.annotations[0].text


def test_muscle_thickness_comes_from_pcsa() -> None:
    from gluteutils import mechanics as mech
    from gluteutils import scene
    from gluteutils.references import check_keys

    assert check_keys([scene.SPECIFIC_TENSION_SOURCE]) == []
    f = mech.max_isometric_force("glmax1")
    assert scene.pcsa_cm2("glmax1") == pytest.approx(f / 60.0)
    assert scene.muscle_radius_m("glmax1") == pytest.approx(np.sqrt(f / 60.0 / np.pi) / 100)
    vol = scene.muscle_volumes()[0]
    centre = mech.muscle_paths().query("muscle == 'glmax1'")[["x", "y", "z"]].to_numpy()
    mid = scene.resample(centre, scene.TUBE_RINGS)[scene.TUBE_RINGS // 2]
    ring = vol.vertices[(scene.TUBE_RINGS // 2) * scene.TUBE_SIDES:
                        (scene.TUBE_RINGS // 2 + 1) * scene.TUBE_SIDES]
    assert np.linalg.norm(ring - mid, axis=1).max() == pytest.approx(
        scene.muscle_radius_m("glmax1"), rel=0.02)
    assert vol.faces.max() < len(vol.vertices)


def test_volumes_follow_the_pose() -> None:
    from gluteutils import scene

    a, b = scene.muscle_volumes(0)[9], scene.muscle_volumes(60)[9]
    assert a.faces.shape == b.faces.shape
    assert np.abs(a.vertices - b.vertices).max() > 0.01


def test_every_landmark_is_placed_and_sourced() -> None:
    from gluteutils import scene
    from gluteutils.references import check_keys

    lm = scene.landmarks()
    wanted = ["iliac crest", "ASIS", "PSIS", "sacrum", "coccyx", "greater sciatic notch",
              "ischial tuberosity", "greater trochanter", "gluteal tuberosity"]
    for name in wanted:
        assert lm.landmark.str.startswith(name).sum() == 1, name
    assert lm[["x", "y", "z"]].notna().all().all()
    keys = {k.strip() for s in lm.sources for k in s.split(",")} - {"expert_judgement"}
    assert check_keys(keys) == []
    by = lm.set_index("landmark")
    # the crest is above the notch, the tuberosity below it
    assert by.loc["iliac crest", "z"] > by.loc["greater sciatic notch", "z"] > \
        by.loc["ischial tuberosity", "z"]


def test_sciatic_nerve_passes_below_piriformis_in_type_a_and_variants_switch() -> None:
    from gluteutils import mechanics as mech
    from gluteutils import scene

    piri = mech.muscle_paths().query("muscle == 'piri'")[["x", "y", "z"]].to_numpy()
    notch = piri[1]  # piriformis leaves the pelvis here
    (name, a), = scene.sciatic_nerve("A")
    assert "below" in name and a[1, 2] < notch[2] - 0.01
    c = scene.sciatic_nerve("C")
    assert [n.split("(")[1] for n, _ in c] == ["above piriformis)", "below piriformis)"]
    assert c[0][1][1, 2] > notch[2] > c[1][1][1, 2]
    for t, passages in scene.BEATON_TYPES.items():
        assert len(scene.sciatic_nerve(t)) == len(passages)
    with pytest.raises(ValueError, match="Beaton"):
        scene.sciatic_nerve("G")


def test_deep_rotators_are_shapes_without_moment_arms() -> None:
    from gluteutils import mechanics as mech
    from gluteutils import scene

    vols = scene.deep_rotator_volumes()
    assert [v.key for v in vols] == list(scene.SHAPE_ONLY)
    for v in vols:
        assert anatomy.card(v.key)["model_muscles"] == []
        with pytest.raises(KeyError):
            mech.moment_arms([v.key])
    # the gemelli and quadratus femoris have gait2392 moment arms (notebook 02); the
    # obturators have no published path there and say so, on the card and in the hover label
    notes = scene.rotator_notes()
    assert set(notes) == set(scene.SHAPE_ONLY)
    with_arms = {k for k, n in notes.items() if "gait2392" in n}
    assert with_arms == {"superior_gemellus", "inferior_gemellus", "quadratus_femoris"}
    for key in set(notes) - with_arms:
        assert notes[key] == scene.SHAPE_ONLY_NOTE
        assert scene.SHAPE_ONLY_NOTE in anatomy.card_html(key)
    from gluteutils import straight_line_arms as sla

    assert set(sla.read_paths()["muscle"]) == set(sla.CARD_IDS)


def test_nearest_muscle_picks_the_closest_path() -> None:
    from gluteutils import mechanics as mech
    from gluteutils import scene

    paths = mech.muscle_paths()
    for key in ("piri", "glmed2", "glmax3"):
        pts = paths[paths.muscle == key][["x", "y", "z"]].to_numpy()
        mid = scene.resample(pts, 9)[4] + 0.003
        assert scene.nearest_muscle(mid) == key
    pts = paths[paths.muscle == "glmax2"][["x", "y", "z"]].to_numpy()
    assert scene.nearest_muscle(scene.resample(pts, 9)[4],
                                exclude_layers=("superficial",)) != "glmax2"


def test_explorer_presets_layers_card_and_click() -> None:
    from gluteutils.widgets.anatomy import N_BONES, AnatomyExplorer

    app = AnatomyExplorer()
    assert app.fig._config["scrollZoom"] is False
    app.set_layers(deep=False)
    vis = {t.hovertemplate.split("</b>")[0][3:]: t.visible for t in app.fig.data[3:14]}
    assert vis["piriformis"] == "legendonly" and vis["gluteus medius (middle)"] is True
    assert "layers: superficial, middle;" in app.summary()
    app.set_preset("deep")
    vis = {t.hovertemplate.split("</b>")[0][3:]: t.visible for t in app.fig.data[3:14]}
    assert vis["piriformis"] is True and vis["gluteus maximus (upper)"] == "legendonly"
    assert app.visible_layers() == ["deep"]
    app.picker.value = "piriformis"
    assert "Piriformis" in app.card.value

    class Points:
        point_inds = [0]
        xs, ys, zs = [0.0], [0.0], [0.0]

    # a click on the bone picks the muscle nearest the clicked point
    paths = app.fig.data[N_BONES + 6]  # gluteus minimus (anterior) tube
    target = (float(paths.x[70]), float(paths.y[70]), float(paths.z[70]))
    Points.xs, Points.ys, Points.zs = [target[0]], [target[1]], [target[2]]
    app._on_click(app.fig.data[0], Points())
    assert app.picker.value == "gluteus_minimus"
    app._on_click(app.fig.data[N_BONES + 9], Points())
    assert app.picker.value == "piriformis"
    app.nerve.value = "B"
    first = N_BONES + 11 + 5
    assert len(app.fig.data[first + 1].x) == 5  # two divisions drawn
    assert app.fig.data[-1].name == "Landmarks" and "greater trochanter" in app.fig.data[-1].text


def test_quiz_app_feedback_highlight_summary_and_next_round() -> None:
    from gluteutils.plots import anatomy as pa
    from gluteutils.widgets.anatomy import QuizApp

    app = QuizApp(n=3, seed=0)
    q = app.question
    assert app.answer(q.answer) is True
    assert "Correct" in app.feedback.value
    lit = [t for t in app.fig.data if getattr(t, "color", None) == pa.HIGHLIGHT_COLOUR]
    assert lit and all(t.visible is True for t in lit)
    app.next_question()
    q2 = app.question
    wrong = next(c for c in q2.choices if c != q2.answer)
    assert app.answer(wrong) is False
    assert "Not quite" in app.feedback.value and q2.label(q2.answer) in app.feedback.value
    assert [t for t in app.fig.data if getattr(t, "color", None) == pa.HIGHLIGHT_COLOUR]
    app.next_question()
    app.answer(app.question.answer)
    app.next_question()  # after the last question: the summary, not a silent restart
    assert "Round 1 summary: 2 of 3 right" in app.summary_box.value
    app.start_round()
    assert app.quiz.round_no == 2 and q2.item in [x.item for x in app.quiz.questions]


def test_hip_app_slider_moves_figures() -> None:
    from gluteutils.widgets.anatomy import HipMechanicsApp

    app = HipMechanicsApp()
    femur_before = list(app.scene.data[2].z)
    piri_before = list(app.scene.data[3 + 9].z)
    bars_before = list(app.bars.data[2].x)
    assert "piriformis: external rotator" in app.summary()
    app.set_pose(flexion=90)
    assert list(app.scene.data[2].z) != femur_before
    assert list(app.scene.data[3 + 9].z) != piri_before
    assert list(app.bars.data[2].x) != bars_before
    assert "piriformis: internal rotator" in app.summary()
    assert app.scene.layout.showlegend is True
