"""Three real trials through the documented mapping path, on their native scales.

Read from ../shared/clinical/data (not shipped; GPL) and data/examples (licorice, MIT).
The loaded values must equal the file's values exactly (no rounding, no rescaling) and the
reference numbers of ../shared/clinical/data/PROVENANCE.md must come out of the loaded frame
(statsmodels directly on it, adjusting for baseline only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from gluteutils._paths import PROJECT_ROOT, data_path
from gluteutils.outcomes.mapping import load_export

SHARED = PROJECT_ROOT.parent / "shared" / "clinical" / "data"
NECK = SHARED / "neck_pain_chow2006_lllt.csv"
KNEE = SHARED / "knee_sports_injury_tutz_catdata.csv"
LICORICE = data_path("examples", "licorice_gargle.csv")
needs_shared = pytest.mark.needs_shared


def _arm(data, col="therapy"):
    return data.visits.merge(data.episodes[["episode_id", col]], on="episode_id")


def _ancova(v: pd.DataFrame, day: int, reference: str) -> tuple[float, float, float, int]:
    base = v[v.visit_day == 0][["episode_id", "pain_nprs"]].rename(columns={"pain_nprs": "b"})
    fu = v[v.visit_day == day][["episode_id", "therapy", "pain_nprs"]]
    d = fu.merge(base, on="episode_id").dropna()
    d["therapy"] = d["therapy"].astype(str)
    fit = smf.ols(f"pain_nprs ~ C(therapy, Treatment('{reference}')) + b", data=d).fit()
    name = [n for n in fit.params.index if n.startswith("C(therapy")][0]
    lo, hi = fit.conf_int().loc[name]
    return float(fit.params[name]), float(lo), float(hi), len(d)


@needs_shared
def test_chow_neck_pain_vas_0_1_native_scale():
    data = load_export(NECK, data_path("mappings", "neck_pain_chow2006.yaml"), seed=1)
    raw = pd.read_csv(NECK)
    assert data.instruments["pain_nprs"].key == "vas_0_1"
    assert len(data.visits) == len(raw) == 264  # 6 follow-ups missing: no row, nothing made up
    assert str(data.visits["pain_nprs"].dtype) == "float64"
    # exactly the file's values, in the file's order, no rounding
    np.testing.assert_array_equal(data.visits["pain_nprs"].to_numpy(), raw["vas"].to_numpy())
    v = _arm(data)
    cm = v.assign(cm=v.pain_nprs * 10)
    base = cm[cm.visit_day == 0].groupby("therapy", observed=True)["cm"]
    # PROVENANCE.md: baseline active 5.92 (SD 2.29) vs placebo 4.04 (2.26) cm
    assert round(base.mean()["physiotherapy"], 2) == 5.92
    assert round(base.mean()["home_self_care"], 2) == 4.04
    assert round(base.std()["physiotherapy"], 2) == 2.29
    assert round(base.std()["home_self_care"], 2) == 2.26
    wk12 = cm[cm.visit_day == 84].groupby("therapy", observed=True)["cm"].mean()
    assert round(wk12["physiotherapy"], 2) == 3.24 and round(wk12["home_self_care"], 2) == 4.29
    # ANCOVA in cm: 7 weeks -2.96 (-3.86 to -2.07), n = 84; 12 weeks -2.35 (-3.26 to -1.43)
    cmv = v.assign(pain_nprs=v.pain_nprs * 10)
    est, lo, hi, n = _ancova(cmv, 49, "home_self_care")
    assert (round(est, 2), round(lo, 2), round(hi, 2), n) == (-2.96, -3.86, -2.07, 84)
    est, lo, hi, n = _ancova(cmv, 84, "home_self_care")
    assert (round(est, 2), round(lo, 2), round(hi, 2), n) == (-2.35, -3.26, -1.43, 90)


@needs_shared
def test_knee_likert_1_5_wide_native_scale():
    data = load_export(KNEE, data_path("mappings", "knee_sports_injury_tutz.yaml"), seed=1)
    raw = pd.read_csv(KNEE)
    assert data.instruments["pain_nprs"].key == "likert_1_5"
    v = _arm(data)
    for day, col in ((0, "R1"), (3, "R2"), (7, "R3"), (10, "R4")):
        got = np.sort(v.loc[v.visit_day == day, "pain_nprs"].to_numpy())
        np.testing.assert_array_equal(got, np.sort(raw[col].to_numpy()))
    assert set(v["pain_nprs"]) <= {1, 2, 3, 4, 5}
    # PROVENANCE.md: ANCOVA on day-10 pain adjusting for baseline: -0.59 (-0.86 to -0.31)
    est, lo, hi, n = _ancova(v, 10, "home_self_care")
    assert (round(est, 2), round(lo, 2), round(hi, 2), n) == (-0.59, -0.86, -0.31, 127)


def test_licorice_nrs_0_10_native_scale():
    data = load_export(LICORICE, data_path("mappings", "licorice_gargle.yaml"), seed=1)
    raw = pd.read_csv(LICORICE)
    assert data.instruments["pain_nprs"].key == "nprs_0_10"
    v = _arm(data)
    cols = {0: "preOp_pain", 1: "pacu30min_throatPain", 2: "pacu90min_throatPain",
            3: "postOp4hour_throatPain", 4: "pod1am_throatPain"}
    for day, col in cols.items():
        got = np.sort(v.loc[v.visit_day == day, "pain_nprs"].to_numpy(dtype=float))
        want = np.sort(raw[col].dropna().to_numpy(dtype=float))
        np.testing.assert_array_equal(got, want)
    # independently computed from the file: mean 30-min sore-throat pain by arm
    by_arm = v[v.visit_day == 1].groupby("therapy", observed=True)["pain_nprs"].mean()
    want = raw.groupby("treat")["pacu30min_throatPain"].mean()
    assert by_arm["physiotherapy"] == pytest.approx(want[1], abs=1e-12)
    assert by_arm["home_self_care"] == pytest.approx(want[0], abs=1e-12)
