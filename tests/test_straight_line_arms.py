"""Straight-line hip moment arms: the kinematics checked against MuJoCo on MyoLeg's own
two-point paths, then applied to gait2392's gemelli and quadratus femoris (``delp1990``).

Deep rotators are external rotators of the extended hip (``standring2020``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gluteutils import mechanics as mech
from gluteutils import straight_line_arms as sla
from gluteutils._paths import data_path
from gluteutils.references import check_keys

RAJAGOPAL_HIP_R = np.array([-0.056276, -0.07849, 0.07726])  # Rajagopal2015.osim hip_r


@pytest.mark.parametrize("muscle", ["glmed1", "glmed2", "glmed3", "glmin1", "glmin2"])
@pytest.mark.parametrize("pose", [(0, 0, 0), (60, -20, 15), (100, 10, -30), (-20, -40, 35)])
def test_kinematics_reproduce_mujoco_on_rajagopal_two_point_paths(muscle, pose) -> None:
    paths = pd.read_csv(data_path("anatomy", "rajagopal2016_glute_paths.csv"))
    pts = paths[paths.muscle == muscle][["x_m", "y_m", "z_m"]].to_numpy(dtype=float)
    ours = sla.moment_arms_mm(pts[0], pts[1], RAJAGOPAL_HIP_R, np.array(pose, dtype=float))
    engine = mech.moment_arm_array([muscle], np.array([pose], dtype=float))[0, 0]
    assert np.abs(ours - engine).max() < 0.01


def test_deep_rotator_sources_resolve() -> None:
    assert check_keys(["delp1990", "standring2020"]) == []
    assert set(sla.read_paths().source) == {"delp1990"}


def test_gemelli_and_quadratus_femoris_rotate_the_extended_hip_externally() -> None:
    arms = sla.deep_rotator_moment_arms(np.arange(0, 91, 5))
    assert set(arms.muscle) == {"gem", "quad_fem"}
    rot0 = arms[(arms.coordinate == "rotation") & (arms.flexion_deg == 0)]
    assert (rot0.moment_arm_mm < -10).all()  # external rotators, at least 1 cm
    assert arms.moment_arm_mm.abs().max() < 100


def test_a_path_with_the_wrong_bodies_is_refused(tmp_path, monkeypatch) -> None:
    bad = tmp_path / "anatomy"
    bad.mkdir()
    (bad / "x.csv").write_text("muscle,label,point,body,x_m,y_m,z_m,source\n"
                               "gem,g,P1,femur_r,0,0,0,delp1990\ngem,g,P2,pelvis,0,0,0,delp1990\n")
    monkeypatch.setattr(sla, "data_path", lambda *parts: tmp_path.joinpath(*parts))
    with pytest.raises(ValueError, match=r"x.csv.*'gem'.*rows \[2, 3\].*'body'"):
        sla.read_paths("x.csv")
