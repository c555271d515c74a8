"""3D scene data for the anatomy views: muscle volumes, landmarks, sciatic nerve, deep rotators.

Everything here is computed from the MyoLeg model (:mod:`gluteutils.mechanics`) plus small
sourced tables in ``data/anatomy``:

* **Muscle volumes.** Each modelled muscle is drawn as a tube along its computed path. The
  tube's peak cross-section is the muscle's physiological cross-sectional area,
  ``PCSA = F_max / sigma``, with ``F_max`` the model's maximum isometric force and
  ``sigma = 60 N/cm^2``, the specific tension Rajagopal et al. 2016 used to derive their
  forces from measured PCSA (``rajagopal2016``). The tube tapers toward the attachments.
* **Landmarks** (``landmarks.csv``): positions from the model's own markers and muscle
  attachment sites (e.g. the ischial tuberosity is the mean of the hamstring origins); each
  row states its basis and sources (``expert_judgement`` where a position is placed by hand).
* **Sciatic nerve** (``sciatic_course.csv``): a schematic course through the greater sciatic
  foramen below piriformis; the Beaton and Anson variants (``beaton1937``) change where each
  division passes piriformis (above, through or below it).
* **Deep rotators** (``deep_rotators.csv``): the gemelli, obturator internus and externus and
  quadratus femoris are not in MyoLeg. They are drawn as shapes between approximate
  attachment points (``expert_judgement``). The gemelli and quadratus femoris have moment arms
  from Delp's gait2392 paths (:mod:`gluteutils.straight_line_arms`, notebook 02); the
  obturators are shapes only, with no moment arm.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from gluteutils import mechanics, straight_line_arms
from gluteutils._paths import data_path
from gluteutils.errors import ContentError

#: Specific tension used to turn max isometric force into PCSA (N/cm^2), ``rajagopal2016``.
SPECIFIC_TENSION_N_PER_CM2 = 60.0
SPECIFIC_TENSION_SOURCE = "rajagopal2016"
#: Rings and sides of each muscle tube (fixed, so faces never change with the pose).
TUBE_RINGS = 14
TUBE_SIDES = 10
#: Deep rotators drawn as shapes only (card ids), in drawing order.
SHAPE_ONLY: tuple[str, ...] = ("superior_gemellus", "obturator_internus", "inferior_gemellus",
                               "quadratus_femoris", "obturator_externus")
SHAPE_ONLY_NOTE = straight_line_arms.NO_PATH_NOTE
#: Radius of a shape-only deep rotator tube (m): a display choice, ``expert_judgement``.
SHAPE_ONLY_RADIUS = 0.007
#: Beaton and Anson types: where each sciatic division passes piriformis.
BEATON_TYPES: dict[str, tuple[str, ...]] = {
    "A": ("below",), "B": ("through", "below"), "C": ("above", "below"),
    "D": ("through",), "E": ("above", "through"), "F": ("above",),
}
#: Vertical offset (pelvis frame, m) at the notch for each passage, relative to "below".
_PASSAGE_DY: dict[str, float] = {"below": 0.0, "through": 0.016, "above": 0.038}
_DIVISION_DZ = 0.005  # two divisions drawn 1 cm apart at the notch


@dataclass(frozen=True)
class Volume:
    """A muscle drawn as a tube: world vertices (n, 3), faces (m, 3), and what it is."""

    key: str
    label: str
    layer: str
    vertices: np.ndarray
    faces: np.ndarray


def pcsa_cm2(muscle: str) -> float:
    """Physiological cross-sectional area (cm^2) = F_max / specific tension."""
    return mechanics.max_isometric_force(muscle) / SPECIFIC_TENSION_N_PER_CM2


@lru_cache(maxsize=64)
def muscle_radius_m(muscle: str) -> float:
    """Radius (m) of a circle with the muscle's PCSA."""
    return float(np.sqrt(pcsa_cm2(muscle) / np.pi) / 100.0)


def resample(points: np.ndarray, n: int) -> np.ndarray:
    """``n`` points evenly spaced by arc length along a polyline (first and last kept)."""
    pts = np.asarray(points, dtype=float)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return np.repeat(pts[:1], n, axis=0)
    t = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(t, s, pts[:, k]) for k in range(3)], axis=1)


@lru_cache(maxsize=4)
def tube_faces(rings: int = TUBE_RINGS, sides: int = TUBE_SIDES) -> np.ndarray:
    """Triangle faces of a tube of ``rings`` x ``sides`` vertices plus two end caps."""
    faces = []
    for r in range(rings - 1):
        for k in range(sides):
            a, b = r * sides + k, r * sides + (k + 1) % sides
            c, d = a + sides, b + sides
            faces += [(a, b, c), (b, d, c)]
    start, end = rings * sides, rings * sides + 1
    for k in range(sides):
        faces.append((start, (k + 1) % sides, k))
        last = (rings - 1) * sides
        faces.append((end, last + k, last + (k + 1) % sides))
    return np.array(faces, dtype=np.int64)


def tube_vertices(points: np.ndarray, radius: float, rings: int = TUBE_RINGS,
                  sides: int = TUBE_SIDES, taper: float = 0.35) -> np.ndarray:
    """Vertices of a tube along a polyline; the radius tapers to ``taper * radius`` at ends."""
    centre = resample(points, rings)
    tangent = np.gradient(centre, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-12)
    ref = np.array([0.0, 0.0, 1.0]) if abs(tangent[0, 2]) < 0.9 else np.array([1.0, 0, 0])
    u = np.cross(tangent, ref)
    u /= np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-12)
    v = np.cross(tangent, u)
    angles = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    profile = radius * (taper + (1 - taper) * np.sin(np.linspace(0, np.pi, rings)))
    ring = (np.cos(angles)[None, :, None] * u[:, None, :]
            + np.sin(angles)[None, :, None] * v[:, None, :])
    out = np.empty((rings * sides + 2, 3))
    out[:-2] = (centre[:, None, :] + profile[:, None, None] * ring).reshape(-1, 3)
    out[-2], out[-1] = centre[0], centre[-1]
    return out


def muscle_volumes(flexion: float = 0.0, adduction: float = 0.0, rotation: float = 0.0
                   ) -> list[Volume]:
    """One tube per modelled muscle at a pose, in :data:`mechanics.MUSCLES` order."""
    paths = mechanics.muscle_paths(flexion, adduction, rotation)
    names = paths["muscle"].to_numpy()
    xyz = paths[["x", "y", "z"]].to_numpy()
    faces = tube_faces()
    out = []
    for key, (label, layer, _group) in mechanics.MUSCLES.items():
        pts = xyz[names == key]
        out.append(Volume(key, label, layer, tube_vertices(pts, muscle_radius_m(key)), faces))
    return out


def pcsa_table() -> pd.DataFrame:
    """Per modelled muscle: max isometric force (N), PCSA (cm^2), drawn radius (mm)."""
    rows = [{"muscle": label, "layer": layer,
             "max_isometric_force_N": round(mechanics.max_isometric_force(k), 1),
             "pcsa_cm2": round(pcsa_cm2(k), 1), "tube_radius_mm": round(muscle_radius_m(k) * 1000, 1)}
            for k, (label, layer, _g) in mechanics.MUSCLES.items()]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- point tables


def _read_points(name: str) -> pd.DataFrame:
    path = data_path("anatomy", name)
    table = pd.read_csv(path)
    needed = {"body", "sites", "offset_x", "offset_y", "offset_z"}
    missing = needed - set(table.columns)
    if missing:
        raise ContentError(path.name, f"missing column(s) {sorted(missing)}")
    return table


@lru_cache(maxsize=1)
def _pelvis_top() -> np.ndarray:
    m = mechanics.load_model().model
    mesh_id = int(m.geom("pelvis_r").dataid[0])
    va, vn = int(m.mesh_vertadr[mesh_id]), int(m.mesh_vertnum[mesh_id])
    verts = np.array(m.mesh_vert[va:va + vn], dtype=float)
    g = m.geom("pelvis_r")
    quat = np.array(g.quat, dtype=float)
    from gluteutils.mjcf import _quat_matrix

    local = verts @ _quat_matrix(quat).T + np.array(g.pos, dtype=float)  # pelvis body frame
    return local[int(np.argmax(local[:, 1]))]


def _local_point(row: Any, file: str) -> tuple[str, np.ndarray]:
    """``(body, local xyz)`` of a table row: mean of its sites plus its offset."""
    sites = str(row["sites"]).split(";")
    if sites == ["mesh_top"]:
        base = _pelvis_top()
    else:
        locs = []
        for s in sites:
            try:
                body, pos = mechanics.site_local(s)
            except KeyError as exc:
                raise ContentError(file, f"row {row.name}: unknown model site {s!r}") from exc
            if body != row["body"]:
                raise ContentError(file, f"row {row.name}: site {s!r} is on {body}, "
                                         f"not {row['body']}")
            locs.append(pos)
        base = np.mean(locs, axis=0)
    offset = np.array([row["offset_x"], row["offset_y"], row["offset_z"]], dtype=float)
    return str(row["body"]), base + offset


def landmarks(flexion: float = 0.0, adduction: float = 0.0, rotation: float = 0.0
              ) -> pd.DataFrame:
    """Bony landmarks at a pose: landmark, x, y, z (world, m), basis, sources."""
    table = _read_points("landmarks.csv")
    local = {r["landmark"]: _local_point(r, "landmarks.csv") for _, r in table.iterrows()}
    world = mechanics.body_points(local, flexion, adduction, rotation)
    xyz = np.array([world[n] for n in table["landmark"]])
    return pd.DataFrame({"landmark": table["landmark"], "x": xyz[:, 0], "y": xyz[:, 1],
                         "z": xyz[:, 2], "basis": table["basis"],
                         "sources": table["sources"].str.replace(";", ", ")})


def rotator_notes() -> dict[str, str]:
    """For each deep rotator drawn (card id): where its moment arm comes from, if anywhere."""
    return {cid: straight_line_arms.moment_arm_note(cid) for cid in SHAPE_ONLY}


def deep_rotator_volumes(flexion: float = 0.0, adduction: float = 0.0,
                         rotation: float = 0.0) -> list[Volume]:
    """Tubes for the deep rotators (not in MyoLeg), in :data:`SHAPE_ONLY` order."""
    from gluteutils.anatomy import card

    table = _read_points("deep_rotators.csv").sort_values(["card_id", "point"])
    local = {f"{r['card_id']}#{r['point']}": _local_point(r, "deep_rotators.csv")
             for _, r in table.iterrows()}
    world = mechanics.body_points(local, flexion, adduction, rotation)
    faces = tube_faces()
    out = []
    for cid in SHAPE_ONLY:
        keys = [k for k in local if k.split("#")[0] == cid]
        if len(keys) < 2:
            raise ContentError("deep_rotators.csv", f"{cid!r} needs at least two points")
        pts = np.array([world[k] for k in sorted(keys, key=lambda k: int(k.split("#")[1]))])
        out.append(Volume(cid, card(cid)["name"], "deep",
                          tube_vertices(pts, SHAPE_ONLY_RADIUS), faces))
    return out


def sciatic_nerve(beaton_type: str = "A", flexion: float = 0.0, adduction: float = 0.0,
                  rotation: float = 0.0) -> list[tuple[str, np.ndarray]]:
    """The sciatic nerve's course for a Beaton type: ``[(division label, (n, 3) world)]``."""
    if beaton_type not in BEATON_TYPES:
        raise ValueError(f"Beaton type must be one of {list(BEATON_TYPES)}, "
                         f"not {beaton_type!r}")
    table = _read_points("sciatic_course.csv").sort_values("point")
    base = [_local_point(r, "sciatic_course.csv") for _, r in table.iterrows()]
    passages = BEATON_TYPES[beaton_type]
    names = ["sciatic nerve"] if len(passages) == 1 else ["division 1", "division 2"]
    out = []
    for i, (name, passage) in enumerate(zip(names, passages, strict=True)):
        dz = 0.0 if len(passages) == 1 else (i - 0.5) * 2 * _DIVISION_DZ
        pts = {}
        for j, (body, local) in enumerate(base):
            shift = np.zeros(3)
            if j == 1:  # the notch
                shift = np.array([0.0, _PASSAGE_DY[passage], dz])
            elif j == 2:
                shift = np.array([0.0, 0.0, dz])
            pts[str(j)] = (body, local + shift)
        world = mechanics.body_points(pts, flexion, adduction, rotation)
        out.append((f"{name} ({passage} piriformis)",
                    np.array([world[str(j)] for j in range(len(base))])))
    return out


def nearest_muscle(point: Any, flexion: float = 0.0, adduction: float = 0.0,
                   rotation: float = 0.0, exclude_layers: tuple[str, ...] = ()) -> str:
    """The modelled muscle whose path passes closest to ``point`` (world xyz, m)."""
    p = np.asarray(point, dtype=float)
    paths = mechanics.muscle_paths(flexion, adduction, rotation)
    best, best_d = "", np.inf
    for key, (_label, layer, _g) in mechanics.MUSCLES.items():
        if layer in exclude_layers:
            continue
        pts = resample(paths.loc[paths["muscle"] == key, ["x", "y", "z"]].to_numpy(), 40)
        d = float(np.min(np.linalg.norm(pts - p, axis=1)))
        if d < best_d:
            best, best_d = key, d
    return best


#: Preset views: camera eye (world, z up; +y is behind the body), layers hidden, bone opacity.
PRESETS: dict[str, dict[str, Any]] = {
    "posterior": {"eye": {"x": -0.2, "y": 1.05, "z": 0.3}, "hide": (), "bone_opacity": 1.0},
    "lateral": {"eye": {"x": -1.05, "y": 0.1, "z": 0.3}, "hide": (), "bone_opacity": 1.0},
    "superficial": {"eye": {"x": -0.5, "y": 0.9, "z": 0.35}, "hide": (), "bone_opacity": 1.0},
    "middle": {"eye": {"x": -0.5, "y": 0.9, "z": 0.35}, "hide": ("superficial",),
               "bone_opacity": 1.0},
    "deep": {"eye": {"x": -0.35, "y": 0.95, "z": 0.25}, "hide": ("superficial", "middle"),
             "bone_opacity": 0.45},
}
#: Camera centre (plotly scene units): the hip region, not the middle of the femur.
CAMERA_CENTER: dict[str, float] = {"x": 0.0, "y": 0.0, "z": 0.22}
