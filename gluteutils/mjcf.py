"""The project's generated MJCF: MyoLeg's packaged leg with the gluteus maximus wraps restored.

MyoSuite's MyoLeg (package ``myo-sim``; ``caggiano2022``) is a MuJoCo conversion of
Rajagopal et al. 2016 (``rajagopal2016``). It ships the wrapping cylinders of the upper and
middle gluteus maximus bundles (``Gmax1_at_pelvis``, ``Gmax2_at_pelvis``) as geoms but leaves
them commented out of the tendon paths of ``glmax1`` and ``glmax2``, so those paths cut
straight through where the original model wraps them around the back of the pelvis.

Frames. MyoLeg's ``pelvis`` body carries its sites and geoms in OpenSim's pelvis frame (the
body's ``euler="1.57 -1.57 0"`` only turns the whole model z-up in the world): the packaged
site and cylinder positions equal Rajagopal's numbers, and the cylinders' quaternions equal
Rajagopal's body-fixed X-Y-Z rotations ((-0.6, 0.45, 0) and (-0.75, 0.39, 0) rad); MuJoCo's
cylinder half-length is half of OpenSim's length (0.15 -> 0.075 m, 0.10 -> 0.05 m). The test
suite recomputes these equalities from the packaged file.

Side. The published Rajagopal 2016 model file (opensim-org/opensim-models,
``Models/RajagopalModel/Rajagopal2015.osim`` at commits 11a6203 and e9eca11, and the 4.0-format
``Models/Rajagopal/Rajagopal2016.osim`` at 523578f; the pelvis ``WrapObjectSet``) constrains ``Gmax1_at_pelvis_r`` to the ``-x`` quadrant but leaves
``Gmax2_at_pelvis_r`` (and ``Gmax3_at_pelvis_r``) unconstrained, ``<quadrant>all</quadrant>``
(issue 12 quoted -x for both; the file says otherwise). Both muscles' ``PathWrap`` use
``method hybrid`` and ``range -1 -1``. MuJoCo picks the side of a cylinder wrap from the 2D
direction of a *side site* in the cylinder's frame and, like OpenSim's quadrant, forces the
wrap when the straight line passes on the other side (MuJoCo ``wrap_circle``: no wrap only
when the line misses the circle *and* lies on the side site's side). Without a side site
MuJoCo wraps only when the straight line crosses the circle, on the shorter side: OpenSim's
``all``. So glmax1 gets a side site of this module on the cylinder's local ``-x`` axis, at
twice the radius (outside the cylinder, so MuJoCo's inside-wrap mode is never triggered;
MyoLeg's packaged side site points about 33 deg away from ``-x``), and glmax2 none.

:func:`model_files` returns every file the compiled model is built from: the top-level MJCF
and patched copies of the chain (new side sites), tendon (wraps enabled) and muscle files
(optionally restricted to the muscles the collection uses). Assets and meshes are included
from the installed package unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from gluteutils.errors import GluteError

#: Wraps restored: (tendon stem, cylinder geom stem).
RESTORED_WRAPS: tuple[tuple[str, str], ...] = (("glmax1", "Gmax1_at_pelvis"),
                                               ("glmax2", "Gmax2_at_pelvis"))
#: OpenSim quadrant of each restored cylinder, as in the published Rajagopal2015.osim
#: (opensim-org/opensim-models; ``rajagopal2016``): only "-x" gets a side site.
QUADRANTS: dict[str, str] = {"Gmax1_at_pelvis": "-x", "Gmax2_at_pelvis": "all"}
#: Side-site direction in the cylinder's own frame (OpenSim quadrant "-x").
QUADRANT_DIRECTION: tuple[float, float, float] = (-1.0, 0.0, 0.0)
SIDE_SITE_RADII = 2.0  # side site distance from the cylinder axis, in cylinder radii


class ModelError(GluteError, RuntimeError):
    """The MyoLeg model could not be found, patched or compiled (check the myo-sim install)."""


def models_dir() -> Path:
    """The installed myo-sim ``models`` folder."""
    try:
        import myo_sim
    except ImportError as exc:  # pragma: no cover - myo-sim is a dependency
        raise ModelError("myo-sim is not installed; `pip install myo-sim`") from exc
    return Path(myo_sim.MODELS_DIR)


def leg_asset(part: str) -> Path:
    """Path of a packaged MyoLeg leg file, ``part`` in assets/chain/tendon/muscle."""
    path = models_dir() / "leg" / "assets" / f"myolegs_{part}.xml"
    if not path.exists():
        raise ModelError(f"myo-sim leg asset missing: {path}")
    return path


def _quat_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrix of a unit quaternion ``(w, x, y, z)``."""
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def cylinder_geometry(chain: str, geom: str) -> dict[str, np.ndarray]:
    """Parse ``pos``, ``quat`` and ``size`` of a wrap cylinder from the chain file text."""
    match = re.search(rf'<geom name="{re.escape(geom)}"[^>]*/>', chain)
    if match is None:
        raise ModelError(f"myolegs_chain.xml: wrap geom {geom!r} not found")
    out = {}
    for attr in ("pos", "quat", "size"):
        value = re.search(rf'\b{attr}="([^"]+)"', match.group(0))
        if value is None:
            raise ModelError(f"myolegs_chain.xml: geom {geom!r} has no {attr}")
        out[attr] = np.array([float(v) for v in value.group(1).split()])
    return out


def side_site_position(chain: str, geom: str) -> np.ndarray:
    """Pelvis-frame position of the side site on the cylinder's local -x axis (metres)."""
    g = cylinder_geometry(chain, geom)
    local = np.asarray(QUADRANT_DIRECTION) * SIDE_SITE_RADII * g["size"][0]
    return np.asarray(g["pos"] + _quat_matrix(g["quat"]) @ local)


def side_site_name(geom: str, side: str) -> str:
    return f"gluteutils_{geom}_side_{side}"


def patched_chain(chain: str) -> str:
    """Chain text with a side site after each ``-x`` quadrant wrap cylinder (both legs)."""
    for _tendon, stem in RESTORED_WRAPS:
        if QUADRANTS[stem] != "-x":
            continue
        for side in ("r", "l"):
            geom = f"{stem}_wrap_{side}"
            line = re.search(rf'[ \t]*<geom name="{re.escape(geom)}"[^>]*/>\n', chain)
            if line is None:
                raise ModelError(f"myolegs_chain.xml: wrap geom {geom!r} not found")
            pos = " ".join(f"{v:.7f}" for v in side_site_position(chain, geom))
            site = (f'        <site name="{side_site_name(geom, side)}" pos="{pos}"/>'
                    f"  <!-- gluteutils: -x quadrant side site -->\n")
            chain = chain[:line.end()] + site + chain[line.end():]
    return chain


def patched_tendon(tendon: str) -> str:
    """Tendon text with the glmax1/glmax2 cylinder wraps enabled (both legs), side sites
    only where the quadrant is ``-x``."""
    for _name, stem in RESTORED_WRAPS:
        for side in ("r", "l"):
            geom = f"{stem}_wrap_{side}"
            commented = re.compile(rf'<!--\s*<geom geom="{re.escape(geom)}"[^>]*/>\s*-->')
            if not commented.search(tendon):
                raise ModelError(f"myolegs_tendon.xml: commented-out wrap {geom!r} not found "
                                 "(has the myo-sim version changed?)")
            sidesite = (f' sidesite="{side_site_name(geom, side)}"'
                        if QUADRANTS[stem] == "-x" else "")
            tendon = commented.sub(
                f'<geom geom="{geom}"{sidesite}/>'
                f"  <!-- gluteutils: restored (Rajagopal 2016, quadrant {QUADRANTS[stem]}) -->",
                tendon, count=1)
    return tendon


def keep_tendons(tendon: str, muscle: str, keep: Iterable[str]) -> tuple[str, str]:
    """Drop every spatial tendon and muscle actuator whose name is not in ``keep``.

    ``keep`` holds actuator names (e.g. ``"glmax1_r"``); tendons are ``<name>_tendon``.
    Tendons are independent of one another, so the kept ones compute exactly as in the full
    model, only faster (MuJoCo's tendon stage dominates a pose update).
    """
    wanted = set(keep)
    blocks = re.compile(r'[ \t]*<spatial name="(\w+)_tendon".*?</spatial>\n', re.S)
    found = {m.group(1) for m in blocks.finditer(tendon)}
    missing = sorted(wanted - found)
    if missing:
        raise ModelError(f"myolegs_tendon.xml: no tendon for actuator(s) {missing}")
    tendon = blocks.sub(lambda m: m.group(0) if m.group(1) in wanted else "", tendon)
    lines = re.compile(r'[ \t]*<general [^>]*name="(\w+)" tendon="\w+"[^>]*/>\n')
    muscle = lines.sub(lambda m: m.group(0) if m.group(1) in wanted else "", muscle)
    return tendon, muscle


def top_level_xml(models: Path, chain: str, tendon: str, muscle: str) -> str:
    """Top-level MJCF including the packaged assets and the given chain/tendon/muscle files."""
    assets = leg_asset("assets")
    return f"""<mujoco model="gluteutils_hip">
  <!-- Written by gluteutils.mjcf. Model: MyoSuite MyoLeg (myo-sim, Apache-2.0),
       converted from Rajagopal et al. 2016; glmax1/glmax2 cylinder wraps restored. -->
  <compiler angle="radian" meshdir="{models.as_posix()}" autolimits="true"/>
  <include file="{assets.as_posix()}"/>
  <worldbody>
    <include file="{chain}"/>
  </worldbody>
  <include file="{tendon}"/>
  <include file="{muscle}"/>
</mujoco>
"""


def model_files(keep: Iterable[str] | None = None) -> dict[str, str]:
    """Every generated file, name -> text: top level, patched chain, tendon and muscle files.

    ``keep`` (actuator names, e.g. ``"glmax1_r"``) restricts the model to those muscles;
    ``None`` keeps all 80 MyoLeg muscles.
    """
    chain = patched_chain(leg_asset("chain").read_text(encoding="utf-8"))
    tendon = patched_tendon(leg_asset("tendon").read_text(encoding="utf-8"))
    muscle = leg_asset("muscle").read_text(encoding="utf-8")
    if keep is not None:
        tendon, muscle = keep_tendons(tendon, muscle, keep)
    names = ("gluteutils_myolegs_chain.xml", "gluteutils_myolegs_tendon.xml",
             "gluteutils_myolegs_muscle.xml")
    return {"gluteutils_hip.xml": top_level_xml(models_dir(), *names),
            names[0]: chain, names[1]: tendon, names[2]: muscle}
