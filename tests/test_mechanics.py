"""Hip mechanics from MuJoCo + MyoLeg checked against published facts and a second method.

Literature: Delp SL et al. 1999, J Biomech 32:493 (``delp1999``) - piriformis is an external
rotator in extension and an internal rotator in deep flexion, the sign change lying between
40 and 65 degrees of flexion; rotation moment arms of most compartments move toward internal
rotation as the hip flexes. Gluteus medius/minimus abduct and gluteus maximus extends at
neutral (standard anatomy: ``standring2020``, ``moore2018``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gluteutils import mechanics as mech
from gluteutils.references import check_keys

FLEX = np.arange(0, 91)


@pytest.fixture(scope="module")
def sweep() -> pd.DataFrame:
    return mech.moment_arms(flexion=FLEX)


def _ma(frame: pd.DataFrame, muscle: str, coord: str, flexion: float) -> float:
    row = frame[(frame.muscle == muscle) & (frame.coordinate == coord)
                & (frame.flexion_deg == flexion)]
    assert len(row) == 1
    return float(row.moment_arm_mm.iloc[0])


def test_sources_of_the_tested_facts_resolve() -> None:
    assert check_keys(["delp1999", "rajagopal2016", "caggiano2022", "standring2020"]) == []


def test_model_is_built_once_per_process() -> None:
    assert mech.load_model() is mech.load_model()
    assert mech.load_model().model.nu == 80


def test_tidy_frame_shape_and_columns(sweep: pd.DataFrame) -> None:
    assert len(sweep) == len(mech.MUSCLES) * 3 * len(FLEX)
    assert {"muscle", "coordinate", "flexion_deg", "adduction_deg", "rotation_deg",
            "moment_arm_mm", "action"} <= set(sweep.columns)
    assert set(sweep.coordinate) == set(mech.COORDINATES)
    assert sweep.moment_arm_mm.abs().max() < 150  # mm; a hip moment arm is never > 15 cm


def test_piriformis_external_rotator_in_extension_internal_in_flexion(sweep) -> None:
    assert _ma(sweep, "piri", "rotation", 0) < 0
    assert _ma(sweep, "piri", "rotation", 90) > 0


def test_piriformis_sign_change_between_40_and_65_degrees(sweep) -> None:
    change = mech.sign_change_angles(sweep)
    piri = change[change.muscle == "piri"]
    assert len(piri) == 1
    assert 40 <= piri.flexion_deg.iloc[0] <= 65
    assert piri.from_action.iloc[0] == "external rotator"
    assert piri.to_action.iloc[0] == "internal rotator"


def test_upper_gluteus_maximus_also_turns_internal_rotator(sweep) -> None:
    change = mech.sign_change_angles(sweep).set_index("muscle")
    assert change.loc["glmax1", "from_action"] == "external rotator"
    assert change.loc["glmax1", "to_action"] == "internal rotator"
    assert 0 < change.loc["glmax1", "flexion_deg"] < 90


@pytest.mark.parametrize("muscle", ["glmed1", "glmed2", "glmed3", "glmin1", "glmin2", "glmin3"])
def test_gluteus_medius_and_minimus_abduct_at_neutral(muscle: str) -> None:
    arms = mech.moment_arms([muscle])
    value = float(arms[arms.coordinate == "adduction"].moment_arm_mm.iloc[0])
    assert value < -10  # abductor: negative adduction moment arm, at least 1 cm
    assert arms[arms.coordinate == "adduction"].action.iloc[0] == "abductor"


@pytest.mark.parametrize("muscle", ["glmax1", "glmax2", "glmax3"])
def test_gluteus_maximus_extends(muscle: str, sweep) -> None:
    flex = sweep[(sweep.muscle == muscle) & (sweep.coordinate == "flexion")]
    assert (flex.moment_arm_mm < 0).all()
    assert (flex.action == "extensor").all()


def test_tensor_fasciae_latae_flexes(sweep) -> None:
    assert _ma(sweep, "tfl", "flexion", 0) > 0


def test_rotation_moment_arms_move_toward_internal_rotation_with_flexion(sweep) -> None:
    rot = sweep[sweep.coordinate == "rotation"].pivot(index="flexion_deg", columns="muscle",
                                                       values="moment_arm_mm")
    moved = (rot.loc[90] - rot.loc[0]) > 0
    assert moved.mean() >= 0.8, moved.to_dict()  # "most compartments"


@pytest.mark.parametrize("pose", [(0, 0, 0), (45, 0, 0), (90, 0, 0), (30, -20, 15),
                                  (100, 10, -30), (-20, -40, 35)])
def test_engine_moment_arm_equals_minus_length_derivative(pose) -> None:
    fl, ad, ro = pose
    engine = mech.moment_arms(flexion=fl, adduction=ad, rotation=ro)
    fd = mech.moment_arms_fd(flexion=fl, adduction=ad, rotation=ro)
    diff = np.abs(engine.moment_arm_mm.to_numpy() - fd.moment_arm_mm.to_numpy())
    assert diff.max() < 0.1


@settings(max_examples=15, deadline=None)
@given(fl=st.floats(-29, 119), ad=st.floats(-49, 29), ro=st.floats(-39, 39))
def test_engine_and_finite_differences_agree_anywhere_in_range(fl, ad, ro) -> None:
    engine = mech.moment_arms(flexion=fl, adduction=ad, rotation=ro)
    fd = mech.moment_arms_fd(flexion=fl, adduction=ad, rotation=ro, step_deg=0.01)
    assert np.abs(engine.moment_arm_mm.to_numpy() - fd.moment_arm_mm.to_numpy()).max() < 0.1


def test_angles_broadcast_over_arrays() -> None:
    arms = mech.moment_arms(["piri"], flexion=[0, 45, 90], rotation=10)
    assert sorted(set(arms.flexion_deg)) == [0, 45, 90]
    assert set(arms.rotation_deg) == {10}


def test_out_of_range_and_unknown_muscle_are_rejected() -> None:
    with pytest.raises(ValueError, match="flexion"):
        mech.moment_arms(flexion=130)
    with pytest.raises(KeyError, match="unknown muscle"):
        mech.moment_arms(["biceps"])


def test_sign_change_angles_interpolates_linearly() -> None:
    frame = pd.DataFrame({"muscle": ["piri"] * 3, "coordinate": ["rotation"] * 3,
                          "flexion_deg": [0.0, 10.0, 20.0],
                          "moment_arm_mm": [-4.0, -1.0, 3.0]})
    out = mech.sign_change_angles(frame)
    assert out.flexion_deg.iloc[0] == pytest.approx(12.5)


def test_sign_change_angles_reports_nan_when_sign_is_constant(sweep) -> None:
    out = mech.sign_change_angles(sweep).set_index("muscle")
    assert np.isnan(out.loc["glmax3", "flexion_deg"])  # lower gluteus maximus stays ER


def test_muscle_paths_origin_fixed_insertion_moves_with_pose() -> None:
    a = mech.muscle_paths(0)
    b = mech.muscle_paths(60, -10, 20)
    assert set(a.muscle) == set(mech.MUSCLES)
    assert (a.groupby("muscle").size() >= 2).all()
    for muscle in ("glmed1", "piri"):
        pa_, pb = a[a.muscle == muscle], b[b.muscle == muscle]
        first = np.linalg.norm(pa_[["x", "y", "z"]].iloc[0] - pb[["x", "y", "z"]].iloc[0])
        last = np.linalg.norm(pa_[["x", "y", "z"]].iloc[-1] - pb[["x", "y", "z"]].iloc[-1])
        assert first < 1e-9  # origin on the pelvis, which does not move
        assert last > 0.005  # insertion on the femur moves


def test_bone_meshes_pelvis_fixed_femur_moves() -> None:
    a = {m.name: m for m in mech.bone_meshes(0)}
    b = {m.name: m for m in mech.bone_meshes(90)}
    assert set(a) == set(mech.BONES.values())
    assert np.allclose(a["pelvis (right)"].vertices, b["pelvis (right)"].vertices)
    femur_a, femur_b = a["femur (right)"].vertices, b["femur (right)"].vertices
    assert np.abs(femur_a - femur_b).max() > 0.1
    # a rigid motion keeps distances between vertices
    assert np.linalg.norm(femur_a[0] - femur_a[-1]) == pytest.approx(
        np.linalg.norm(femur_b[0] - femur_b[-1]))
    assert a["femur (right)"].faces.max() < len(femur_a)


@settings(max_examples=20, deadline=None)
@given(cell=st.floats(0.002, 0.03))
def test_decimate_keeps_a_valid_smaller_mesh(cell: float) -> None:
    femur = mech.bone_meshes(0)[-1]
    verts, faces = mech.decimate(femur.vertices, femur.faces, cell)
    assert len(verts) <= len(femur.vertices)
    assert len(faces) <= len(femur.faces)
    if len(faces):
        assert faces.min() >= 0 and faces.max() < len(verts)
        assert (faces[:, 0] != faces[:, 1]).all() and (faces[:, 1] != faces[:, 2]).all()
    lo, hi = femur.vertices.min(0), femur.vertices.max(0)
    assert (verts >= lo - 1e-12).all() and (verts <= hi + 1e-12).all()


def test_model_xml_includes_myoleg_assets() -> None:
    xml = mech.model_xml()
    for part in ("assets", "chain", "tendon", "muscle"):
        assert f"myolegs_{part}.xml" in xml
    assert "Rajagopal" in xml
