"""Hip mechanics from the field's own engine and model: MuJoCo + MyoSuite's MyoLeg.

The model is MyoSuite's MyoLeg (package ``myo-sim``, Apache-2.0), a MuJoCo conversion of
Rajagopal et al. 2016's lower-limb model (key ``rajagopal2016``; MyoSuite: ``caggiano2022``).
:mod:`gluteutils.mjcf` writes the project's MJCF from the packaged leg files (with the
gluteus maximus cylinder wraps that MyoLeg leaves commented out restored); this module
compiles it once per process and wraps the per-pose quantities in plain functions over tidy
DataFrames.

Sign convention (the OpenSim/Rajagopal convention, right leg)
-------------------------------------------------------------
Angles are the model's hip coordinates in degrees: ``flexion`` (+ flexion, - extension),
``adduction`` (+ adduction, - abduction), ``rotation`` (+ internal, - external rotation).
A moment arm (mm) is ``r = -dL/dq`` (``L`` the muscle-tendon length, ``q`` the coordinate in
radians): a **positive** moment arm means that the muscle, by shortening, moves the hip
toward the positive direction of that coordinate. So:

* ``flexion`` > 0: flexor, < 0: extensor;
* ``adduction`` > 0: adductor, < 0: abductor;
* ``rotation`` > 0: internal (medial) rotator, < 0: external (lateral) rotator.

The ``action`` column of :func:`moment_arms` spells this out in words.

Values come from MuJoCo's actuator moment matrix after ``mj_forward`` (tendon wrapping
included). :func:`moment_arms_fd` recomputes them as minus the central finite difference of
tendon length, an independent check used by the tests.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import pandas as pd

from gluteutils import mjcf
from gluteutils.mjcf import ModelError

#: Modelled glute muscles (MyoLeg actuator base names) -> display name, layer, group.
MUSCLES: dict[str, tuple[str, str, str]] = {
    "glmax1": ("gluteus maximus (upper)", "superficial", "gluteus_maximus"),
    "glmax2": ("gluteus maximus (middle)", "superficial", "gluteus_maximus"),
    "glmax3": ("gluteus maximus (lower)", "superficial", "gluteus_maximus"),
    "glmed1": ("gluteus medius (anterior)", "middle", "gluteus_medius"),
    "glmed2": ("gluteus medius (middle)", "middle", "gluteus_medius"),
    "glmed3": ("gluteus medius (posterior)", "middle", "gluteus_medius"),
    "glmin1": ("gluteus minimus (anterior)", "deep", "gluteus_minimus"),
    "glmin2": ("gluteus minimus (middle)", "deep", "gluteus_minimus"),
    "glmin3": ("gluteus minimus (posterior)", "deep", "gluteus_minimus"),
    "piri": ("piriformis", "deep", "piriformis"),
    "tfl": ("tensor fasciae latae", "superficial", "tensor_fasciae_latae"),
}

#: Hip coordinates in display order, with the model's joint name stem.
COORDINATES: tuple[str, ...] = ("flexion", "adduction", "rotation")

#: Words for the sign of a moment arm, per coordinate: (positive, negative).
ACTIONS: dict[str, tuple[str, str]] = {
    "flexion": ("flexor", "extensor"),
    "adduction": ("adductor", "abductor"),
    "rotation": ("internal rotator", "external rotator"),
}

#: Joint ranges of the model's right hip, degrees (from the MyoLeg chain file).
RANGES: dict[str, tuple[float, float]] = {
    "flexion": (-30.0, 120.0),
    "adduction": (-50.0, 30.0),
    "rotation": (-40.0, 40.0),
}

#: Bones drawn in the 3D views: MyoLeg geom name -> display name.
BONES: dict[str, str] = {"pelvis_r": "pelvis (right)", "pelvis_l": "pelvis (left)",
                         "femur_r": "femur (right)"}

SIDE = "r"


def model_xml() -> str:
    """Return the top-level MJCF text of the project's generated model (see :mod:`mjcf`)."""
    return mjcf.model_files(_kept())["gluteutils_hip.xml"]


def _kept() -> list[str]:
    """Actuators compiled into the model: the modelled glute muscles of the right leg."""
    return [f"{m}_{SIDE}" for m in MUSCLES]


@dataclass(frozen=True)
class HipModel:
    """The compiled model with the indices the functions here need."""

    model: Any  # mujoco.MjModel
    data: Any  # mujoco.MjData
    hip_qpos: tuple[int, int, int]
    hip_dof: tuple[int, int, int]
    actuators: dict[str, int]
    tendons: dict[str, int]


@lru_cache(maxsize=1)
def load_model() -> HipModel:
    """Compile the model once per process and return it (cached)."""
    files = mjcf.model_files(_kept())
    with tempfile.TemporaryDirectory(prefix="gluteutils_mjcf_") as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        path = Path(tmp) / "gluteutils_hip.xml"
        try:
            model = mujoco.MjModel.from_xml_path(str(path))
        except ValueError as exc:
            raise ModelError(f"MuJoCo could not compile the MyoLeg model: {exc}") from exc
    data = mujoco.MjData(model)
    joints = [model.joint(f"hip_{c}_{SIDE}") for c in COORDINATES]
    hip_qpos = tuple(int(j.qposadr[0]) for j in joints)
    hip_dof = tuple(int(j.dofadr[0]) for j in joints)
    actuators = {m: int(model.actuator(f"{m}_{SIDE}").id) for m in MUSCLES}
    tendons = {m: int(model.tendon(f"{m}_{SIDE}_tendon").id) for m in MUSCLES}
    return HipModel(model, data, hip_qpos, hip_dof, actuators,  # type: ignore[arg-type]
                    tendons)


def _check_muscles(muscles: Iterable[str] | None) -> list[str]:
    chosen = list(MUSCLES) if muscles is None else list(dict.fromkeys(muscles))
    unknown = [m for m in chosen if m not in MUSCLES]
    if unknown:
        raise KeyError(f"unknown muscle(s) {unknown}; modelled: {list(MUSCLES)}")
    return chosen


def _set_pose(hm: HipModel, flexion: float, adduction: float, rotation: float) -> None:
    """Write the hip pose (degrees) into ``data.qpos``; everything else at the model's rest."""
    m, d = hm.model, hm.data
    d.qpos[:] = m.qpos0
    for adr, deg in zip(hm.hip_qpos, (flexion, adduction, rotation), strict=True):
        d.qpos[adr] = np.radians(deg)


def _kinematics(hm: HipModel) -> None:
    """Run the position-dependent stages needed for tendons and moments (no collisions)."""
    m, d = hm.model, hm.data
    mujoco.mj_kinematics(m, d)
    mujoco.mj_comPos(m, d)
    mujoco.mj_tendon(m, d)
    mujoco.mj_transmission(m, d)


def _poses(flexion: Any, adduction: Any, rotation: Any) -> np.ndarray:
    arrays = np.broadcast_arrays(np.atleast_1d(np.asarray(flexion, dtype=float)),
                                 np.atleast_1d(np.asarray(adduction, dtype=float)),
                                 np.atleast_1d(np.asarray(rotation, dtype=float)))
    poses = np.stack([a.ravel() for a in arrays], axis=1)
    for i, c in enumerate(COORDINATES):
        lo, hi = RANGES[c]
        bad = (poses[:, i] < lo - 1e-9) | (poses[:, i] > hi + 1e-9)
        if bad.any():
            raise ValueError(f"{c} angle {poses[bad, i][0]} is outside the model's range "
                             f"{lo}..{hi} degrees")
    return poses


def moment_arm_array(muscles: Sequence[str], poses: np.ndarray) -> np.ndarray:
    """Return moment arms in mm, shape ``(n_poses, n_muscles, 3)``, from the moment matrix."""
    hm = load_model()
    m, d = hm.model, hm.data
    rows = np.array([hm.actuators[x] for x in muscles])
    dofs = np.array(hm.hip_dof)
    out = np.empty((len(poses), len(rows), m.nv))
    dense = np.zeros((m.nu, m.nv))
    qpos0 = m.qpos0.copy()
    qadr = list(hm.hip_qpos)
    radians = np.radians(poses)
    for k in range(len(poses)):
        d.qpos[:] = qpos0
        d.qpos[qadr] = radians[k]
        _kinematics(hm)
        mujoco.mju_sparse2dense(dense, d.actuator_moment, d.moment_rownnz, d.moment_rowadr,
                                d.moment_colind)
        out[k] = dense[rows]
    return out[:, :, dofs] * -1000.0


@lru_cache(maxsize=64)
def _dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(pd.Index(categories))


def _categorical(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, dtype=_dtype(tuple(categories)))  # type: ignore[arg-type]


def _tidy(muscles: Sequence[str], poses: np.ndarray, arms: np.ndarray) -> pd.DataFrame:
    n_p, n_m = len(poses), len(muscles)
    idx_p = np.repeat(np.arange(n_p), n_m * 3)
    idx_m = np.tile(np.repeat(np.arange(n_m), 3), n_p)
    idx_c = np.tile(np.arange(3), n_p * n_m)
    values = arms.reshape(-1)
    labels = [MUSCLES[x][0] for x in muscles]
    groups = list(dict.fromkeys(MUSCLES[x][2] for x in muscles))
    group_codes = np.array([groups.index(MUSCLES[x][2]) for x in muscles])
    words = [w for c in COORDINATES for w in ACTIONS[c]]  # pos, neg per coordinate
    action_codes = idx_c * 2 + (values < 0)
    return pd.DataFrame({
        "muscle": _categorical(idx_m, list(muscles)),
        "label": _categorical(idx_m, labels),
        "group": _categorical(group_codes[idx_m], groups),
        "coordinate": _categorical(idx_c, list(COORDINATES)),
        "flexion_deg": poses[idx_p, 0],
        "adduction_deg": poses[idx_p, 1],
        "rotation_deg": poses[idx_p, 2],
        "moment_arm_mm": values,
        "action": _categorical(action_codes, words),
    })


def moment_arms(muscles: Iterable[str] | None = None, *, flexion: Any = 0.0,
                adduction: Any = 0.0, rotation: Any = 0.0) -> pd.DataFrame:
    """Return the hip moment arms of ``muscles`` over the given angles as a tidy DataFrame.

    ``flexion``, ``adduction`` and ``rotation`` are scalars or arrays in degrees, broadcast
    together into a list of poses. Columns: ``muscle`` (MyoLeg name, e.g. ``"piri"``),
    ``label``, ``group``, ``coordinate`` (flexion/adduction/rotation), ``flexion_deg``,
    ``adduction_deg``, ``rotation_deg``, ``moment_arm_mm`` and ``action`` (the sign in
    words; see the module docstring for the convention).
    """
    chosen = _check_muscles(muscles)
    poses = _poses(flexion, adduction, rotation)
    return _tidy(chosen, poses, moment_arm_array(chosen, poses))


def tendon_lengths(muscles: Sequence[str], poses: np.ndarray) -> np.ndarray:
    """Return muscle-tendon lengths in metres, shape ``(n_poses, n_muscles)``."""
    hm = load_model()
    ids = [hm.tendons[x] for x in muscles]
    out = np.empty((len(poses), len(ids)))
    for k, (fl, ad, ro) in enumerate(poses):
        _set_pose(hm, fl, ad, ro)
        _kinematics(hm)
        out[k] = hm.data.ten_length[ids]
    return out


def moment_arms_fd(muscles: Iterable[str] | None = None, *, flexion: Any = 0.0,
                   adduction: Any = 0.0, rotation: Any = 0.0,
                   step_deg: float = 1e-3) -> pd.DataFrame:
    """Moment arms as ``-dL/dq`` by central finite differences of tendon length (mm).

    Independent of the moment matrix (only tendon lengths are used); same columns as
    :func:`moment_arms`. Poses at the edge of the range are differenced one-sidedly inward.
    """
    chosen = _check_muscles(muscles)
    poses = _poses(flexion, adduction, rotation)
    arms = np.empty((len(poses), len(chosen), 3))
    h_rad = np.radians(step_deg)
    for c, name in enumerate(COORDINATES):
        lo, hi = RANGES[name]
        plus, minus = poses.copy(), poses.copy()
        plus[:, c] = np.minimum(poses[:, c] + step_deg, hi)
        minus[:, c] = np.maximum(poses[:, c] - step_deg, lo)
        span = np.radians(plus[:, c] - minus[:, c])
        span = np.where(span > 0, span, h_rad)
        diff = tendon_lengths(chosen, plus) - tendon_lengths(chosen, minus)
        arms[:, :, c] = -diff / span[:, None] * 1000.0
    return _tidy(chosen, poses, arms)


def sign_change_angles(arms: pd.DataFrame, coordinate: str = "rotation") -> pd.DataFrame:
    """Return, per muscle, the flexion angle(s) where the ``coordinate`` moment arm crosses 0.

    ``arms`` is a :func:`moment_arms` frame swept over flexion (other angles fixed). The
    crossing is found by linear interpolation between neighbouring samples. Columns:
    ``muscle``, ``label``, ``flexion_deg`` (NaN when the sign never changes), ``from_action``,
    ``to_action``.
    """
    sub = arms[arms["coordinate"] == coordinate]
    rows: list[dict[str, Any]] = []
    for muscle, grp in sub.groupby("muscle", observed=True, sort=False):
        grp = grp.sort_values("flexion_deg")
        x = grp["flexion_deg"].to_numpy()
        y = grp["moment_arm_mm"].to_numpy()
        crossings = np.nonzero(np.signbit(y[:-1]) != np.signbit(y[1:]))[0]
        pos, neg = ACTIONS[coordinate]
        if len(crossings) == 0:
            rows.append({"muscle": muscle, "label": MUSCLES[str(muscle)][0],
                         "flexion_deg": np.nan, "from_action": pos if y[0] >= 0 else neg,
                         "to_action": pos if y[-1] >= 0 else neg})
        for i in crossings:
            x0 = x[i] - y[i] * (x[i + 1] - x[i]) / (y[i + 1] - y[i])
            rows.append({"muscle": muscle, "label": MUSCLES[str(muscle)][0],
                         "flexion_deg": float(x0), "from_action": pos if y[i] >= 0 else neg,
                         "to_action": pos if y[i + 1] >= 0 else neg})
    return pd.DataFrame(rows, columns=["muscle", "label", "flexion_deg", "from_action",
                                       "to_action"])


def muscle_paths(flexion: float = 0.0, adduction: float = 0.0, rotation: float = 0.0,
                 muscles: Iterable[str] | None = None) -> pd.DataFrame:
    """Return each muscle's path points (origin, via and wrap points, insertion) at a pose.

    Tidy columns: ``muscle``, ``label``, ``layer``, ``group``, ``point`` (0.. along the
    path), ``x``, ``y``, ``z`` in metres in the model's world frame (z up).
    """
    chosen = _check_muscles(muscles)
    _poses(flexion, adduction, rotation)
    hm = load_model()
    d = hm.data
    _set_pose(hm, flexion, adduction, rotation)
    _kinematics(hm)
    rows: list[tuple[Any, ...]] = []
    for name in chosen:
        t = hm.tendons[name]
        adr, num = int(d.ten_wrapadr[t]), int(d.ten_wrapnum[t])
        pts = d.wrap_xpos.reshape(-1, 3)[adr:adr + num]
        obj = np.asarray(d.wrap_obj).reshape(-1)[adr:adr + num]
        pts = pts[obj != -2]  # -2 marks a pulley (no point)
        label, layer, group = MUSCLES[name]
        rows.extend((name, label, layer, group, i, *p) for i, p in enumerate(pts))
    return pd.DataFrame(rows, columns=["muscle", "label", "layer", "group", "point", "x", "y",
                                       "z"])


@dataclass(frozen=True)
class Mesh:
    """A triangle mesh in world coordinates (metres)."""

    name: str
    vertices: np.ndarray  # (n, 3)
    faces: np.ndarray  # (m, 3) int


def decimate(vertices: np.ndarray, faces: np.ndarray, cell: float) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """Simplify a mesh by vertex clustering on a grid of ``cell`` metres.

    Vertices in the same cell merge to their mean; faces that collapse are dropped.
    """
    keys = np.floor(vertices / cell).astype(np.int64)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    merged = np.zeros((len(counts), 3))
    np.add.at(merged, inverse, vertices)
    merged /= counts[:, None]
    new_faces = inverse[faces]
    ok = ((new_faces[:, 0] != new_faces[:, 1]) & (new_faces[:, 1] != new_faces[:, 2])
          & (new_faces[:, 0] != new_faces[:, 2]))
    new_faces = np.unique(np.sort(new_faces[ok], axis=1), axis=0)
    return merged, new_faces


@lru_cache(maxsize=8)
def _local_mesh(geom: str, cell: float) -> tuple[np.ndarray, np.ndarray]:
    m = load_model().model
    g = m.geom(geom)
    mesh_id = int(g.dataid[0])
    va, vn = int(m.mesh_vertadr[mesh_id]), int(m.mesh_vertnum[mesh_id])
    fa, fn = int(m.mesh_faceadr[mesh_id]), int(m.mesh_facenum[mesh_id])
    verts = np.array(m.mesh_vert[va:va + vn], dtype=float)
    faces = np.array(m.mesh_face[fa:fa + fn], dtype=np.int64)
    if cell > 0:
        verts, faces = decimate(verts, faces, cell)
    return verts, faces


def bone_meshes(flexion: float = 0.0, adduction: float = 0.0, rotation: float = 0.0,
                cell: float = 0.0) -> list[Mesh]:
    """Return the pelvis and right femur meshes placed at a hip pose (world frame, metres).

    ``cell`` is the vertex-clustering grid size used to decimate the meshes for display
    (0 keeps the full meshes).
    """
    _poses(flexion, adduction, rotation)
    hm = load_model()
    _set_pose(hm, flexion, adduction, rotation)
    mujoco.mj_kinematics(hm.model, hm.data)
    out = []
    for geom in BONES:
        verts, faces = _local_mesh(geom, cell)
        g = hm.model.geom(geom).id
        rot = hm.data.geom_xmat[g].reshape(3, 3)
        world = verts @ rot.T + hm.data.geom_xpos[g]
        out.append(Mesh(BONES[geom], world, faces))
    return out


def action_table(arms: pd.DataFrame) -> pd.DataFrame:
    """Wide table at one pose: one row per muscle, the moment arm (mm, 1 decimal) and action
    for each coordinate, e.g. columns ``flexion_mm``, ``flexion_action``, ...
    """
    if arms[["flexion_deg", "adduction_deg", "rotation_deg"]].drop_duplicates().shape[0] != 1:
        raise ValueError("action_table needs moment arms at a single pose")
    out = pd.DataFrame(index=pd.Index(arms["label"].unique(), name="muscle"))
    for coord in COORDINATES:
        sub = arms[arms["coordinate"] == coord].set_index("label")
        out[f"{coord}_mm"] = sub["moment_arm_mm"].round(1)
        out[f"{coord}_action"] = sub["action"]
    return out


def stretch_lengths(muscle: str, poses: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    """Muscle-tendon length (mm) of ``muscle`` in named poses, and its change from the first.

    ``poses`` maps a name to ``(flexion, adduction, rotation)`` in degrees. A positive
    ``change_mm`` means the pose lengthens (stretches) the muscle relative to the first pose.
    """
    _check_muscles([muscle])
    names = list(poses)
    arr = _poses(*np.array([poses[n] for n in names], dtype=float).T)
    lengths = tendon_lengths([muscle], arr)[:, 0] * 1000.0
    return pd.DataFrame({"pose": names, "flexion_deg": arr[:, 0], "adduction_deg": arr[:, 1],
                         "rotation_deg": arr[:, 2], "length_mm": lengths.round(1),
                         "change_mm": (lengths - lengths[0]).round(1)})


def method_agreement(flexion: Any = 0.0, adduction: Any = 0.0,
                     rotation: Any = 0.0) -> float:
    """Largest difference (mm) between the engine's moment arms and ``-dL/dq`` by finite
    differences over the given poses (all modelled muscles, all three coordinates)."""
    engine = moment_arms(flexion=flexion, adduction=adduction, rotation=rotation)
    fd = moment_arms_fd(flexion=flexion, adduction=adduction, rotation=rotation)
    return float(np.abs(engine["moment_arm_mm"].to_numpy() - fd["moment_arm_mm"].to_numpy()).max())


def body_points(points: dict[str, tuple[str, np.ndarray]], flexion: float = 0.0,
                adduction: float = 0.0, rotation: float = 0.0) -> dict[str, np.ndarray]:
    """World positions (metres) of points given in a body's frame, at a hip pose.

    ``points`` maps a name to ``(body, local_xyz)`` with ``body`` ``"pelvis"`` or
    ``"femur_r"`` and ``local_xyz`` of shape ``(3,)`` or ``(n, 3)``.
    """
    _poses(flexion, adduction, rotation)
    hm = load_model()
    _set_pose(hm, flexion, adduction, rotation)
    mujoco.mj_kinematics(hm.model, hm.data)
    out = {}
    for name, (body, local) in points.items():
        b = hm.model.body(body).id
        rot = hm.data.xmat[b].reshape(3, 3)
        out[name] = np.asarray(local, dtype=float) @ rot.T + hm.data.xpos[b]
    return out


def site_local(site: str) -> tuple[str, np.ndarray]:
    """``(body name, position in the body's frame)`` of a MyoLeg site, e.g. ``"ASI_r"``."""
    m = load_model().model
    s = m.site(site)
    return m.body(int(s.bodyid[0])).name, np.array(s.pos, dtype=float)


def max_isometric_force(muscle: str) -> float:
    """The model's maximum isometric force of ``muscle`` in newtons (MyoLeg ``gainprm[2]``)."""
    _check_muscles([muscle])
    hm = load_model()
    return float(hm.model.actuator_gainprm[hm.actuators[muscle], 2])


def sign_change_table(crossings: pd.DataFrame) -> pd.DataFrame:
    """Readable :func:`sign_change_angles` output: muscle names, no ids, no NaN."""
    angle = crossings["flexion_deg"].map(
        lambda v: "no change between 0 and 90" if pd.isna(v) else f"{v:.1f}")
    same = crossings["from_action"] == crossings["to_action"]
    return pd.DataFrame({"muscle": crossings["label"].astype(str).to_numpy(),
                         "changes sign at hip flexion (deg)": angle.to_numpy(),
                         "action in standing": crossings["from_action"].to_numpy(),
                         "action at 90 deg flexion": crossings["to_action"].where(
                             ~same, crossings["from_action"]).to_numpy()})
