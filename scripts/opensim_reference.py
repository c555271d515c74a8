"""OpenSim reference hip moment arms of the gluteal muscles on the Rajagopal 2016 model.

Regenerates ``data/anatomy/opensim_rajagopal_moment_arms.csv``: OpenSim's own
``Muscle.computeMomentArm`` (metres, written in mm) for glmax1-3, glmed1-3, glmin1-3, piri
and tfl (right leg) about ``hip_flexion_r``, ``hip_adduction_r`` and ``hip_rotation_r``, at
hip flexion 0-90 deg in 5 deg steps, in four adduction/rotation combinations (the poses of
``moment_arms_before_wrap_fix.csv``: (0, 0), (-20, 0), (0, -30), (10, 15) deg), every other
coordinate at its default value (0: pelvis neutral, knee straight). OpenSim's sign
convention is the project's: moment arm = -dL/dq.

Model. ``Models/RajagopalModel/Rajagopal2015.osim`` of opensim-org/opensim-models (Rajagopal
et al. 2016), commit e9eca11b56f55b27247f6678d55a9d284806495c. Pass the full file with
``--model``; without it the script writes :func:`subset_osim` to a temporary file and uses
that: the parts of the published file that determine these moment arms (bodies ground,
pelvis, femur_r and tibia_r with their mass properties and joints ground_pelvis, hip_r and
walker_knee_r including its knee splines, the three ``Gmax*_at_pelvis_r`` wrap cylinders
and the 11 muscles with their path points, ``PathWrap`` entries and Millard parameters),
every number copied from the file; comments, display geometry and the other 69 muscles
and bodies are left out (a muscle's moment arm depends only on its own path and the joints
it crosses). Muscles and coordinates are looked up by name, so both inputs work.

How it was run (2026-12-07, issue 12): OpenSim 4.6 from PyPI (wheel
``opensim-4.6-2-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl``;
``opensim.GetVersionAndDate()`` = "version 4.6-2026-06-22-85aaf64") in a scratch venv that
is *not* part of the project environment (opensim is not a project dependency)::

    python3.11 -m venv /tmp/osimvenv
    /tmp/osimvenv/bin/pip install opensim-4.6-2-cp311-...whl numpy pandas
    /tmp/osimvenv/bin/python scripts/opensim_reference.py \
        --out data/anatomy/opensim_rajagopal_moment_arms.csv

(the subset model; OpenSim logs "Updating Model file from 30000 to latest format").
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import xml.dom.minidom
from pathlib import Path

MUSCLES = ("glmax1", "glmax2", "glmax3", "glmed1", "glmed2", "glmed3", "glmin1", "glmin2",
           "glmin3", "piri", "tfl")
COORDINATES = {"flexion": "hip_flexion_r", "adduction": "hip_adduction_r",
               "rotation": "hip_rotation_r"}
FLEXION = tuple(float(f) for f in range(0, 91, 5))
#: (adduction, rotation) in degrees; flexion is swept at each.
OFF_AXIS = ((0.0, 0.0), (-20.0, 0.0), (0.0, -30.0), (10.0, 15.0))
SOURCE = ("opensim-org/opensim-models Models/RajagopalModel/Rajagopal2015.osim "
          "@ e9eca11b56f55b27247f6678d55a9d284806495c")

# ------------------------------------------------- transcription of Rajagopal2015.osim
KNEE_X = ("0 0.174533 0.349066 0.523599 0.698132 0.872665 1.0472 1.22173 1.39626 1.5708 "
          "1.74533 1.91986 2.0944")
KNEE_SPLINES = {  # walker_knee_r TransformAxis -> (axis, SimmSpline y over KNEE_X)
    "rotation2": ("0 0 1", "0 0.0126809 0.0226969 0.0296054 0.0332049 0.0335354 0.0308779 "
                           "0.0257548 0.0189295 0.011407 0.00443314 -0.00050475 -0.0016782"),
    "rotation3": ("0 1 0", "0 0.059461 0.109399 0.150618 0.18392 0.210107 0.229983 0.24435 "
                           "0.254012 0.25977 0.262428 0.262788 0.261654"),
    "translation1": ("0 1 0", "0 0.000479 0.000835 0.001086 0.001251 0.001346 0.001391 "
                              "0.001403 0.0014 0.0014 0.001421 0.001481 0.001599"),
    "translation2": ("0 0 1", "0 0.000988 0.001899 0.002734 0.003492 0.004173 0.004777 "
                              "0.005305 0.005756 0.00613 0.006427 0.006648 0.006792"),
}
WRAPS = (  # pelvis WrapObjectSet: name, xyz_body_rotation, translation, quadrant, radius, length
    ("Gmax1_at_pelvis_r", "-0.6 0.45 0", "-0.077 -0.099 0.061", "-x", "0.04", "0.15"),
    ("Gmax2_at_pelvis_r", "-0.75 0.39 0", "-0.08 -0.083 0.068", "all", "0.04", "0.1"),
    ("Gmax3_at_pelvis_r", "-0.1 0 0", "-0.083 -0.088 0.068", "all", "0.04", "0.1"),
)
#: muscle -> (path points [(body, location)], wrap objects (hybrid, range -1 -1),
#: max_isometric_force, optimal_fiber_length, tendon_slack_length,
#: pennation_angle_at_optimal, ignore_tendon_compliance)
PATHS: dict[str, tuple[list[tuple[str, str]], list[str], str, str, str, str, str]] = {
    "glmax1_r": ([("pelvis", "-0.1231 0.0345 0.0563"), ("pelvis", "-0.1257 -0.0242 0.0779"),
                  ("femur_r", "-0.0444 -0.0326 0.0302"), ("femur_r", "-0.0277 -0.0566 0.047")],
                 ["Gmax1_at_pelvis_r"], "983.783606557378", "0.147", "0.0488408889462853",
                 "0.35401178", "true"),
    "glmax2_r": ([("pelvis", "-0.1317 0.0087 0.0462"), ("pelvis", "-0.1344 -0.0609 0.0813"),
                  ("femur_r", "-0.045 -0.0584 0.0252"), ("femur_r", "-0.0156 -0.1016 0.0419")],
                 ["Gmax2_at_pelvis_r"], "1406.04590163935", "0.157", "0.0678871511792641",
                 "0.36738206", "true"),
    "glmax3_r": ([("pelvis", "-0.13 -0.0525 0.009"), ("pelvis", "-0.1273 -0.1263 0.0435"),
                  ("femur_r", "-0.0281 -0.1125 0.0094"), ("femur_r", "-0.006 -0.1419 0.0411")],
                 ["Gmax3_at_pelvis_r"], "947.754098360656", "0.167", "0.0697166058843707",
                 "0.38241613", "true"),
    "glmed1_r": ([("pelvis", "-0.0445 0.0245 0.1172"), ("femur_r", "-0.0218 -0.0117 0.0555")],
                 [], "1093.4667688", "0.073", "0.0558168319436554", "0.31655591", "true"),
    "glmed2_r": ([("pelvis", "-0.085 0.0316 0.0675"), ("femur_r", "-0.0258 -0.0058 0.0527")],
                 [], "765.0916616", "0.073", "0.0652488111992348", "0.31655591", "true"),
    "glmed3_r": ([("pelvis", "-0.1152 -0.0073 0.0526"), ("femur_r", "-0.0309 -0.0047 0.0518")],
                 [], "871.1992642", "0.073", "0.0452328436013583", "0.31655591", "true"),
    "glmin1_r": ([("pelvis", "-0.0464 -0.0149 0.1042"), ("femur_r", "-0.0072 -0.0104 0.056")],
                 [], "374.045901639344", "0.068", "0.0161377823749703", "0.17453293", "true"),
    "glmin2_r": ([("pelvis", "-0.0616 -0.0142 0.0971"), ("femur_r", "-0.0096 -0.0104 0.056")],
                 [], "394.819672131148", "0.056", "0.0260990524098789", "0", "true"),
    "glmin3_r": ([("pelvis", "-0.0789 -0.0155 0.0798"), ("femur_r", "-0.0135 -0.0083 0.055")],
                 [], "446.773770491804", "0.038", "0.0508725", "0.01745329", "false"),
    "piri_r": ([("pelvis", "-0.10181 -0.00653 0.01351"), ("pelvis", "-0.10202 -0.03066 0.06092"),
                ("femur_r", "-0.0148 -0.0036 0.0437")],
               [], "1029.7868852459", "0.026", "0.114906238342785", "0.17453293", "false"),
    "tfl_r": ([("pelvis", "-0.0311 0.0214 0.1241"), ("femur_r", "0.0294 -0.0995 0.0597"),
               ("femur_r", "0.0107 -0.405 0.0324"), ("tibia_r", "0.0108 -0.041 0.0346")],
              [], "411.20655737705", "0.095", "0.449497053805428", "0.05235988", "false"),
}

LINEAR = "<LinearFunction><coefficients> 1 0</coefficients></LinearFunction>"
ZERO = "<Constant><value>0</value></Constant>"


def _coordinate(name: str, default: float, rng: str, motion: str = "rotational") -> str:
    return (f'<Coordinate name="{name}"><motion_type>{motion}</motion_type>'
            f"<default_value>{default}</default_value><default_speed_value>0"
            f"</default_speed_value><range>{rng}</range><clamped>true</clamped>"
            f"<locked>false</locked><prescribed_function /><prescribed>false</prescribed>"
            f"</Coordinate>")


def _axis(name: str, coordinate: str, axis: str, function: str) -> str:
    return (f'<TransformAxis name="{name}"><coordinates>{coordinate}</coordinates>'
            f"<axis>{axis}</axis><function>{function}</function></TransformAxis>")


def _joint(name: str, parent: str, frames: tuple[str, str, str, str], coordinates: list[str],
           axes: list[str]) -> str:
    loc_in_parent, orient_in_parent, loc, orient = frames
    return (f'<Joint><CustomJoint name="{name}"><parent_body>{parent}</parent_body>'
            f"<location_in_parent>{loc_in_parent}</location_in_parent>"
            f"<orientation_in_parent>{orient_in_parent}</orientation_in_parent>"
            f"<location>{loc}</location><orientation>{orient}</orientation>"
            f"<CoordinateSet><objects>{''.join(coordinates)}</objects><groups />"
            f"</CoordinateSet><reverse>false</reverse>"
            f"<SpatialTransform>{''.join(axes)}</SpatialTransform></CustomJoint></Joint>")


def _body(name: str, mass: float, com: str, inertia: str, joint: str, wraps: str = "") -> str:
    ixx, iyy, izz = inertia.split()
    return (f'<Body name="{name}"><mass>{mass}</mass><mass_center>{com}</mass_center>'
            f"<inertia_xx>{ixx}</inertia_xx><inertia_yy>{iyy}</inertia_yy>"
            f"<inertia_zz>{izz}</inertia_zz><inertia_xy>0</inertia_xy><inertia_xz>0"
            f"</inertia_xz><inertia_yz>0</inertia_yz>{joint}"
            f"<WrapObjectSet><objects>{wraps}</objects><groups /></WrapObjectSet></Body>")


def _wrap(name: str, rotation: str, translation: str, quadrant: str, radius: str,
          length: str) -> str:
    return (f'<WrapCylinder name="{name}"><xyz_body_rotation>{rotation}</xyz_body_rotation>'
            f"<translation>{translation}</translation><active>true</active>"
            f"<quadrant>{quadrant}</quadrant><radius>{radius}</radius>"
            f"<length>{length}</length></WrapCylinder>")


def _muscle(name: str) -> str:
    points, wraps, fmax, ofl, tsl, pennation, rigid = PATHS[name]
    pts = "".join(f'<PathPoint name="{name}-P{i + 1}"><location>{loc}</location>'
                  f"<body>{body}</body></PathPoint>" for i, (body, loc) in enumerate(points))
    pws = "".join(f"<PathWrap><wrap_object>{w}</wrap_object><method>hybrid</method>"
                  f"<range> -1 -1</range></PathWrap>" for w in wraps)
    return (f'<Millard2012EquilibriumMuscle name="{name}"><GeometryPath>'
            f"<PathPointSet><objects>{pts}</objects><groups /></PathPointSet>"
            f"<PathWrapSet><objects>{pws}</objects><groups /></PathWrapSet></GeometryPath>"
            f"<max_isometric_force>{fmax}</max_isometric_force>"
            f"<optimal_fiber_length>{ofl}</optimal_fiber_length>"
            f"<tendon_slack_length>{tsl}</tendon_slack_length>"
            f"<pennation_angle_at_optimal>{pennation}</pennation_angle_at_optimal>"
            f"<ignore_tendon_compliance>{rigid}</ignore_tendon_compliance>"
            f"<fiber_damping>0.01</fiber_damping><default_activation>0.01</default_activation>"
            f"<minimum_activation>0.01</minimum_activation></Millard2012EquilibriumMuscle>")


def subset_osim() -> str:
    """The hip subset of Rajagopal2015.osim (OpenSim document version 30000, as published)."""
    pelvis_joint = _joint(
        "ground_pelvis", "ground", ("0 0 0", "0 0 0", "0 0 0", "0 0 0"),
        [_coordinate("pelvis_tilt", 0, "-1.57079633 1.57079633"),
         _coordinate("pelvis_list", 0, "-1.57079633 1.57079633"),
         _coordinate("pelvis_rotation", 0, "-1.57079633 1.57079633"),
         _coordinate("pelvis_tx", 0, "-5 5", "translational"),
         _coordinate("pelvis_ty", 0.94, "-1 2", "translational"),
         _coordinate("pelvis_tz", 0, "-3 3", "translational")],
        [_axis("rotation1", "pelvis_tilt", "0 0 1", LINEAR),
         _axis("rotation2", "pelvis_list", "1 0 0", LINEAR),
         _axis("rotation3", "pelvis_rotation", "0 1 0", LINEAR),
         _axis("translation1", "pelvis_tx", "1 0 0", LINEAR),
         _axis("translation2", "pelvis_ty", "0 1 0", LINEAR),
         _axis("translation3", "pelvis_tz", "0 0 1", LINEAR)])
    hip = _joint(
        "hip_r", "pelvis", ("-0.056276 -0.07849 0.07726", "0 0 0", "0 0 0", "0 0 0"),
        [_coordinate("hip_flexion_r", 0, "-0.52359878 2.0943951"),
         _coordinate("hip_adduction_r", 0, "-0.87266463 0.52359878"),
         _coordinate("hip_rotation_r", 0, "-0.6981317 0.6981317")],
        [_axis("rotation1", "hip_flexion_r", "0 0 1", LINEAR),
         _axis("rotation2", "hip_adduction_r", "1 0 0", LINEAR),
         _axis("rotation3", "hip_rotation_r", "0 1 0", LINEAR),
         _axis("translation1", "", "1 0 0", ZERO), _axis("translation2", "", "0 1 0", ZERO),
         _axis("translation3", "", "0 0 1", ZERO)])
    spline = {k: (a, f"<SimmSpline><x> {KNEE_X}</x><y> {y}</y></SimmSpline>")
              for k, (a, y) in KNEE_SPLINES.items()}
    knee = _joint(
        "walker_knee_r", "femur_r",
        ("-0.00809 -0.40796 -0.00275", "-1.64156849 1.4461808 1.57079633",
         "-0.00808954 -0.0035348 -0.00148474", "-1.64156849 1.4461808 1.57079633"),
        [_coordinate("knee_angle_r", 0, "0 2.0944")],
        [_axis("rotation1", "knee_angle_r", "1 0 0", LINEAR),
         *(_axis(k, "knee_angle_r", *spline[k]) for k in
           ("rotation2", "rotation3", "translation1", "translation2")),
         _axis("translation3", "", "1 0 0", ZERO)])
    bodies = "".join([
        _body("ground", 0, "0 0 0", "0 0 0", "<Joint />"),
        _body("pelvis", 11.777, "-0.0707 0 0", "0.1028 0.0871 0.0579", pelvis_joint,
              "".join(_wrap(*w) for w in WRAPS)),
        _body("femur_r", 9.3014, "0 -0.17 0", "0.1339 0.0351 0.1412", hip),
        _body("tibia_r", 3.7075, "0 -0.1867 0", "0.0504 0.0051 0.0511", knee),
    ])
    muscles = "".join(_muscle(m) for m in PATHS)
    doc = (f'<?xml version="1.0" encoding="UTF-8" ?><OpenSimDocument Version="30000">'
           f'<Model name="Rajagopal2015_hip_subset"><credits>Subset of {SOURCE}'
           f"</credits><length_units>meters</length_units><force_units>N</force_units>"
           f"<gravity> 0 -9.80665 0</gravity><BodySet><objects>{bodies}</objects><groups />"
           f"</BodySet><ForceSet><objects>{muscles}</objects><groups /></ForceSet></Model>"
           f"</OpenSimDocument>")
    return xml.dom.minidom.parseString(doc).toprettyxml(indent="\t")


# ------------------------------------------------------------------------ reference table
def reference_rows(model_path: str) -> list[dict[str, object]]:
    """OpenSim moment arms (mm) over the poses above, one row per muscle x coordinate x pose."""
    import opensim as osim

    model = osim.Model(model_path)
    state = model.initSystem()
    coordinate_set = model.getCoordinateSet()
    for i in range(coordinate_set.getSize()):  # every coordinate at its default value
        c = coordinate_set.get(i)
        c.setValue(state, c.getDefaultValue(), False)
    coords = {k: coordinate_set.get(v) for k, v in COORDINATES.items()}
    rows: list[dict[str, object]] = []
    for adduction, rotation in OFF_AXIS:
        for flexion in FLEXION:
            pose = {"flexion": flexion, "adduction": adduction, "rotation": rotation}
            for name, deg in pose.items():
                coords[name].setValue(state, math.radians(deg), False)
            model.realizePosition(state)
            for muscle in MUSCLES:
                m = model.getMuscles().get(f"{muscle}_r")
                for cname, coord in coords.items():
                    arm = m.computeMomentArm(state, coord)
                    rows.append({"muscle": muscle, "coordinate": cname,
                                 "hip_flexion_deg": flexion, "hip_adduction_deg": adduction,
                                 "hip_rotation_deg": rotation,
                                 "moment_arm_mm": round(arm * 1000.0, 4)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="Rajagopal2015.osim (default: the built-in subset)")
    parser.add_argument("--out", default="data/anatomy/opensim_rajagopal_moment_arms.csv")
    parser.add_argument("--write-subset", metavar="PATH",
                        help="only write the subset model to PATH and exit")
    args = parser.parse_args(argv)
    if args.write_subset:
        Path(args.write_subset).write_text(subset_osim(), encoding="utf-8")
        return 0
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            model = str(Path(tmp) / "Rajagopal2015_hip_subset.osim")
            Path(model).write_text(subset_osim(), encoding="utf-8")
        table = pd.DataFrame(reference_rows(model))
    table.to_csv(args.out, index=False)
    print(f"wrote {len(table)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
