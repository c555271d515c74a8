"""Real trials through the documented bring-your-own-data path, on their native scales.

Each trial file in ``../shared/clinical/data`` (see its PROVENANCE.md) goes through a mapping
(written here as the user would, with the trial's own instrument and schedule) and
:func:`gluteutils.outcomes.byod.run` with the trial's analysis plan (ANCOVA, baseline only).
The adjusted difference must match (a) an independent statsmodels fit on the raw file and (b)
the figure PROVENANCE.md quotes, within 0.01 on the trial's own scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from gluteutils.outcomes import byod
from gluteutils.outcomes.mapping import read_mapping
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.needs_shared

TOL = 0.01

CHOW: dict[str, Any] = {
    "name": "Chow 2006 laser vs sham, neck pain VAS 0-1 (native scale)",
    "layout": "long", "source": {"delimiter": ",", "encoding": "utf-8"},
    "episode": ["id"], "identifiers": [],
    "constants": {"condition": "piriformis_syndrome"},  # stand-in label (no neck condition)
    "instruments": {"pain_nprs": "vas_0_1"},
    "columns": {
        "therapy": {"column": "laser", "values": {1: "physiotherapy", 2: "home_self_care"}},
        "visit_day": {"column": "time", "values": {1: 0, 2: 49, 3: 84}},
        "visit_type": {"column": "time", "values": {1: "baseline", 2: "review",
                                                    3: "treatment"}},
        "pain_nprs": {"column": "vas"},
        "sessions_attended": {"derive": "visits"},
    },
    "quasi_identifiers": ["age_band", "sex", "site"],
}

KNEE: dict[str, Any] = {
    "name": "Tutz knee ointment trial, pain on movement 1-5 (native scale)",
    "layout": "wide", "source": {"delimiter": ",", "encoding": "utf-8"},
    "episode": ["N"], "identifiers": [],
    "constants": {"condition": "doms"},  # stand-in label
    "instruments": {"pain_nprs": "likert_1_5"},
    "columns": {
        "therapy": {"column": "Th", "values": {1: "home_self_care", 2: "sports_physiotherapy"}},
        "age_band": {"column": "Age", "age": True, "under_18": "18-29"},
        "sex": {"column": "Sex", "values": {1: "female", 0: "male"}},
        "pain_nprs": {"column": "pain"},
        "sessions_attended": {"derive": "visits"},
    },
    "wide": [
        {"visit_day": 0, "visit_type": "baseline", "pain_nprs": "R1"},
        {"visit_day": 3, "visit_type": "treatment", "pain_nprs": "R2"},
        {"visit_day": 7, "visit_type": "treatment", "pain_nprs": "R3"},
        {"visit_day": 10, "visit_type": "review", "pain_nprs": "R4"},
    ],
    "review_window": [10, 10],  # the trial's outcome visit: day 10
    "quasi_identifiers": ["age_band", "sex", "site"],
}

TRIAL_PLAN = byod.AnalysisPlan(cov_type="nonrobust")  # the trials' classical OLS ANCOVA


def _with_instruments(spec: dict[str, Any]) -> Any:
    """Read the mapping; its declared instrument must arrive (never a silent skip)."""
    m = read_mapping(spec)
    declared = [value for name, value in vars(m).items() if "instrument" in name and value]
    assert declared, f"{spec['name']}: the mapping lost its 'instruments:' declaration"
    return m


def _raw_ancova(wide: pd.DataFrame, follow: str, base: str, arm: str, active: Any) -> float:
    d = wide.dropna(subset=[follow, base]).assign(active=lambda x: (x[arm] == active) * 1.0)
    return float(smf.ols(f"{follow} ~ active + {base}", d).fit().params["active"])


@pytest.fixture(scope="module")
def chow_wide() -> pd.DataFrame:
    raw = pd.read_csv(SHARED_DATA / "neck_pain_chow2006_lllt.csv")
    wide = raw.pivot(index="id", columns="time", values="vas")
    wide.columns = [f"vas{t}" for t in wide.columns]
    return wide.join(raw.groupby("id")["laser"].first())


@pytest.mark.parametrize(("follow_up", "column", "published", "n"), [
    (49, "vas2", -0.296, 84),   # 7 weeks: -2.96 cm (-3.86 to -2.07), n 84 -> /10
    (84, "vas3", -0.235, 90),   # 12 weeks: -2.35 cm (-3.26 to -1.43), n 90 -> /10
])
def test_chow_neck_pain_vas_0_1(chow_wide, follow_up, column, published, n):
    m = _with_instruments(CHOW)
    plan = byod.AnalysisPlan(follow_up=follow_up, cov_type="nonrobust")
    r = byod.run(SHARED_DATA / "neck_pain_chow2006_lllt.csv", m, k=5, seed=0, plan=plan)
    assert r.problems.empty and r.instrument.key == "vas_0_1"
    row = r.primary.iloc[0]
    raw = _raw_ancova(chow_wide, column, "vas1", "laser", 1)
    assert int(row["n"]) == n
    assert abs(row["estimate"] - raw) < 1e-9  # same data, same model: same digits
    assert abs(row["estimate"] - published) < TOL


def test_knee_likert_1_5():
    m = _with_instruments(KNEE)
    raw = pd.read_csv(SHARED_DATA / "knee_sports_injury_tutz_catdata.csv")
    r = byod.run(SHARED_DATA / "knee_sports_injury_tutz_catdata.csv", m, k=5, seed=0,
                 plan=TRIAL_PLAN)
    assert r.problems.empty and r.instrument.key == "likert_1_5"
    row = r.primary.iloc[0]
    assert abs(row["estimate"] - _raw_ancova(raw, "R4", "R1", "Th", 2)) < TOL
    assert abs(row["estimate"] - (-0.59)) < TOL  # PROVENANCE.md: -0.59 (-0.86 to -0.31)
    # no published MCID for a 1-5 ordinal: responders are not guessed, the reason is given
    assert r.responders.empty
    assert r.skipped["message"].str.contains("responder analysis not run").any()


def test_licorice_nrs_0_10_matches_an_independent_fit():
    raw = pd.read_csv(SHARED_DATA / "licorice_gargle_ruetzler2013_medicaldata.csv")
    theirs = _raw_ancova(raw, "pacu30min_throatPain", "preOp_pain", "treat", 1)
    # k = 1: nothing removed for k-anonymity, so the same rows and the same digits
    r = byod.run("examples/licorice_gargle.csv", "mappings/licorice_gargle.yaml", k=1, seed=1,
                 plan=TRIAL_PLAN)
    assert int(r.primary.iloc[0]["n"]) == int(raw["pacu30min_throatPain"].notna().sum())
    assert abs(float(r.primary.iloc[0]["estimate"]) - theirs) < 1e-9
    # k = 5 (the notebook): records removed for k-anonymity move it, by less than 0.1
    r5 = byod.run("examples/licorice_gargle.csv", "mappings/licorice_gargle.yaml", k=5,
                  seed=1, plan=TRIAL_PLAN)
    assert abs(float(r5.primary.iloc[0]["estimate"]) - theirs) < 0.1


def test_trial_arms_compare_methods_and_gee_run_on_the_package():
    r = byod.run("examples/licorice_gargle.csv", "mappings/licorice_gargle.yaml", k=5, seed=1)
    methods, _ = r.compare_methods(n_imputations=5)
    assert set(methods["method"]) == {"ANCOVA (complete case)", "ANCOVA + MICE",
                                      "IPT-weighted"}
    assert np.isfinite(methods["estimate"]).all()
    gee, skipped = r.repeated_measures()
    assert len(gee) == 1 and skipped.empty and gee.iloc[0]["estimate"] < 0


@pytest.mark.parametrize(("follow_up", "published_cm"), [(49, -2.96), (84, -2.35)])
def test_shipped_chow_mapping_is_within_0_1_cm_of_the_published_ancova(follow_up, published_cm):
    """The mapping shipped in data/mappings (whatever scale it declares): the issue's bar,
    within 0.1 cm of PROVENANCE.md's ANCOVA (rounding x10 to whole points moves it ~0.05)."""
    plan = byod.AnalysisPlan(follow_up=follow_up, cov_type="nonrobust")
    r = byod.run(SHARED_DATA / "neck_pain_chow2006_lllt.csv", "mappings/neck_pain_chow2006.yaml",
                 k=5, seed=0, plan=plan)
    to_cm = 10.0 / (r.instrument.high - r.instrument.low)  # 0-1 fraction or 0-10 points
    assert abs(float(r.primary.iloc[0]["estimate"]) * to_cm - published_cm) < 0.1
