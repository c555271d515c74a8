"""Hip moment arms of straight-line (two-point, no wrap) muscle paths from an OpenSim model.

MyoLeg (Rajagopal 2016) has no gemelli or quadratus femoris. Delp's lower-limb model gait2392
(``delp1990``; opensim-org/opensim-models ``Models/Gait2392_Simbody/
gait2392_millard2012muscle.osim``) does: ``gem_r`` (the two gemelli as one line) and
``quad_fem_r``, each one pelvis point and one femur point, no wrap objects. Their points are
in ``data/anatomy/gait2392_deep_rotator_paths.csv``; the right hip of that file sits at
``location_in_parent`` (-0.0707, -0.0661, 0.0835) m in the pelvis frame.

The femur point moves as in an OpenSim hip ``CustomJoint`` with rotation axes Z (flexion),
X (adduction), Y (rotation), applied in that order (the Rajagopal model's convention; the
test suite checks this function against MuJoCo's moment arms for Rajagopal's two-point
glmed/glmin paths). Moment arm ``r = -dL/dq`` (mm), the sign convention of
:mod:`gluteutils.mechanics`. These numbers belong to gait2392's geometry, not MyoLeg's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gluteutils._paths import data_path

#: Right hip joint centre of gait2392 in its pelvis frame (m), from the .osim ``hip_r``.
GAIT2392_HIP_R: tuple[float, float, float] = (-0.0707, -0.0661, 0.0835)
COORDINATES: tuple[str, ...] = ("flexion", "adduction", "rotation")
#: The muscle cards each gait2392 path belongs to (``gem_r`` is both gemelli as one line).
CARD_IDS: dict[str, tuple[str, ...]] = {
    "gem": ("superior_gemellus", "inferior_gemellus"),
    "quad_fem": ("quadratus_femoris",),
}
#: What a deep rotator with a gait2392 path says about its moment arm (scene and card).
GAIT2392_NOTE = "hip moment arms from Delp's gait2392 model [delp1990] in notebook 02"
#: What a deep rotator without a published path says.
NO_PATH_NOTE = "shape only, no moment arm"


def moment_arm_note(card_id: str) -> str:
    """Where a deep rotator's moment arm comes from, in words (for its card and hover label).

    The gemelli and quadratus femoris have straight-line paths in gait2392 (their moment
    arms are computed in notebook 02 from that model's geometry); the obturators have none
    there, so they are drawn as shapes only.
    """
    with_path = {c for cards in CARD_IDS.values() for c in cards}
    return GAIT2392_NOTE if card_id in with_path else NO_PATH_NOTE


def _axis_rot(axis: int, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    i, j = ((1, 2), (2, 0), (0, 1))[axis]
    out = np.eye(3)
    out[i, i], out[i, j], out[j, i], out[j, j] = c, -s, s, c
    return out


def hip_rotation(flexion: float, adduction: float, rotation: float) -> np.ndarray:
    """Femur-to-pelvis rotation for hip angles in radians: Z(flex) X(add) Y(rot)."""
    return _axis_rot(2, flexion) @ _axis_rot(0, adduction) @ _axis_rot(1, rotation)


def path_length(pelvis_pt: np.ndarray, femur_pt: np.ndarray, hip: np.ndarray,
                angles_rad: np.ndarray) -> float:
    """Straight-line length (m) between a pelvis point and a femur point at hip angles."""
    moved = hip + hip_rotation(*angles_rad) @ femur_pt
    return float(np.linalg.norm(moved - pelvis_pt))


def moment_arms_mm(pelvis_pt: np.ndarray, femur_pt: np.ndarray, hip: np.ndarray,
                   angles_deg: np.ndarray, step_deg: float = 1e-3) -> np.ndarray:
    """``-dL/dq`` in mm for each hip coordinate (central differences), shape ``(3,)``."""
    q = np.radians(np.asarray(angles_deg, dtype=float))
    h = np.radians(step_deg)
    out = np.empty(3)
    for k in range(3):
        dq = np.zeros(3)
        dq[k] = h
        out[k] = -(path_length(pelvis_pt, femur_pt, hip, q + dq)
                   - path_length(pelvis_pt, femur_pt, hip, q - dq)) / (2 * h) * 1000.0
    return out


def read_paths(name: str = "gait2392_deep_rotator_paths.csv") -> pd.DataFrame:
    """The two-point paths in ``data/anatomy/<name>``; raises naming the file and row."""
    path = data_path("anatomy", name)
    frame = pd.read_csv(path)
    for muscle, grp in frame.groupby("muscle", sort=False):
        bodies = list(grp["body"])
        if bodies != ["pelvis", "femur_r"]:
            raise ValueError(f"{path}: muscle {muscle!r} (rows {list(grp.index + 2)}), column "
                             f"'body': need one pelvis then one femur_r point, got {bodies}")
    return frame


def deep_rotator_moment_arms(flexion: np.ndarray, adduction: float = 0.0,
                             rotation: float = 0.0) -> pd.DataFrame:
    """Tidy moment arms (mm) of gait2392's gemelli and quadratus femoris over ``flexion``.

    Columns: ``muscle``, ``label``, ``coordinate``, ``flexion_deg``, ``adduction_deg``,
    ``rotation_deg``, ``moment_arm_mm``, ``source`` (``delp1990``).
    """
    paths = read_paths()
    hip = np.asarray(GAIT2392_HIP_R)
    rows: list[dict[str, object]] = []
    for muscle, grp in paths.groupby("muscle", sort=False):
        pts = grp[["x_m", "y_m", "z_m"]].to_numpy(dtype=float)
        for fl in np.atleast_1d(np.asarray(flexion, dtype=float)):
            arms = moment_arms_mm(pts[0], pts[1], hip, np.array([fl, adduction, rotation]))
            rows.extend({"muscle": muscle, "label": grp["label"].iloc[0], "coordinate": c,
                         "flexion_deg": fl, "adduction_deg": adduction,
                         "rotation_deg": rotation, "moment_arm_mm": a,
                         "source": grp["source"].iloc[0]}
                        for c, a in zip(COORDINATES, arms, strict=True))
    return pd.DataFrame(rows)
