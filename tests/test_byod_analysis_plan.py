"""The analysis plan is the user's: byod.run on the demo clinic export and the licorice trial."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from gluteutils._paths import notebooks_dir
from gluteutils.errors import GluteError
from gluteutils.outcomes import byod, models

DEMO = ("mappings/demo_clinic_export.csv", "mappings/demo_clinic.yaml")
LICORICE = ("examples/licorice_gargle.csv", "mappings/licorice_gargle.yaml")
SMALL = re.compile(r"^condition (\w+): therapy '(\w+)'( \(the reference\))? has (\d+) "
                   r"(person|people); at least (\d+) needed to fit$")


@pytest.fixture(scope="module")
def demo() -> byod.ByodResult:
    return byod.run(*DEMO, k=5, seed=1)


@pytest.fixture(scope="module")
def licorice() -> byod.ByodResult:
    return byod.run(*LICORICE, k=5, seed=1)


def test_demo_export_runs_and_names_every_group_too_small(demo):
    counts = demo.frame.dropna(subset=["baseline_score", "follow_up_score"]).groupby(
        [demo.frame["condition"].astype(str), demo.frame["therapy"].astype(str)]).size()
    small = {k for k, n in counts.items() if n < models.MIN_GROUP_SIZE}
    assert small, "the demo export is expected to have small therapy groups"
    named = set()
    for msg in demo.skipped.loc[demo.skipped["step"] == "primary ANCOVA", "message"]:
        hit = SMALL.match(msg)
        if hit:
            cond, ther, _, n, _, need = hit.groups()
            assert int(n) == counts[(cond, ther)] and int(need) == models.MIN_GROUP_SIZE
            named.add((cond, ther))
    assert named == small
    fitted = set(zip(demo.primary["condition"].astype(str), demo.primary["treatment"],
                     strict=True))
    assert fitted and not fitted & small  # the others are analysed, the small ones are not


def test_default_plan_is_the_trial_ancova_baseline_only(licorice):
    f = licorice.frame.dropna(subset=["baseline_score", "follow_up_score"])
    f = f.assign(active=(f["therapy"].astype(str) == "physiotherapy") * 1.0)
    ols = smf.ols("follow_up_score ~ active + baseline_score", f).fit(cov_type="HC1")
    row = licorice.primary.iloc[0]
    assert row["estimate"] == pytest.approx(ols.params["active"], abs=1e-10)
    assert row["se"] == pytest.approx(ols.bse["active"], abs=1e-10)


def test_covariates_are_only_added_when_asked():
    r = byod.run(*LICORICE, k=5, seed=1, plan=byod.AnalysisPlan(covariates=("age_band", "sex")))
    f = r.frame.dropna(subset=["baseline_score", "follow_up_score"])
    f = f.assign(active=(f["therapy"].astype(str) == "physiotherapy") * 1.0,
                 age_band=f["age_band"].astype(str), sex=f["sex"].astype(str))
    ols = smf.ols("follow_up_score ~ active + baseline_score + C(age_band) + C(sex)",
                  f).fit(cov_type="HC1")
    assert r.primary.iloc[0]["estimate"] == pytest.approx(ols.params["active"], abs=1e-10)


def test_follow_up_visit_and_window_pick_the_declared_visit(licorice):
    day3 = byod.run(*LICORICE, k=5, seed=1, plan=byod.AnalysisPlan(follow_up=3))
    v = day3.anonymised.data.visits
    at3 = v[v["visit_day"] == 3].set_index("episode_id")["pain_nprs"].astype(float)
    got = day3.frame.set_index("episode_id")["follow_up_score"].dropna()
    pd.testing.assert_series_equal(got.sort_index(), at3.reindex(got.index).sort_index(),
                                   check_names=False)
    window = byod.run(*LICORICE, k=5, seed=1, plan=byod.AnalysisPlan(window=(2, 3)))
    assert set(window.frame["follow_up_day"].dropna()) <= {2.0, 3.0}
    assert not np.isclose(day3.primary.iloc[0]["estimate"], licorice.primary.iloc[0]["estimate"])


def test_reference_and_any_pain_threshold_follow_the_plan(licorice):
    r = byod.run(*LICORICE, k=5, seed=1, plan=byod.AnalysisPlan(reference="physiotherapy",
                                                                 any_symptom_threshold=3))
    assert set(r.primary["reference"]) == {"physiotherapy"}
    assert r.primary.iloc[0]["estimate"] == pytest.approx(
        -licorice.primary.iloc[0]["estimate"], abs=1e-9)
    f = r.frame.dropna(subset=["follow_up_score"])
    expected = int((f["follow_up_score"] > 3).sum())
    assert int(r.incidence["with_pain"].sum()) == expected


def test_responder_rule_uses_the_instrument_and_can_be_declared(licorice):
    r = byod.run(*LICORICE, k=5, seed=1,
                 plan=byod.AnalysisPlan(responder_rule="points", responder_points=1))
    f = r.frame.dropna(subset=["baseline_score", "follow_up_score"])
    expected = int(((f["baseline_score"] - f["follow_up_score"]) >= 1).sum())
    assert int(r.responders["responders"].sum()) == expected
    none = byod.run(*LICORICE, k=5, seed=1, plan=byod.AnalysisPlan(instrument="likert_1_5"))
    assert none.responders.empty
    assert none.skipped["message"].str.contains("no established points criterion").any()


@pytest.mark.parametrize("plan, words", [
    (byod.AnalysisPlan(outcome="not_a_column"), "not a visits column"),
    (byod.AnalysisPlan(covariates=("shoe_size",)), "not episode columns"),
    (byod.AnalysisPlan(instrument="no_such_scale"), "unknown instrument"),
    (byod.AnalysisPlan(reference="acupuncture"), "no one has the reference"),
    (byod.AnalysisPlan(min_group_size=500), "at least 500 needed"),
    (byod.AnalysisPlan(window=(50, 10)), "low <= high"),
    (byod.AnalysisPlan(follow_up="week 8"), "'review' or a visit day"),
])
def test_bad_plans_give_a_named_gluteutils_error(plan, words):
    with pytest.raises(GluteError, match=words):
        byod.run(*LICORICE, k=5, seed=1, plan=plan)


def test_sensitivity_methods_run_on_the_demo_export(demo):
    gee, gee_skipped = demo.repeated_measures()
    assert len(gee) and gee_skipped["message"].str.match(SMALL.pattern).any()
    methods, skipped = demo.compare_methods(n_imputations=5)
    assert set(methods["method"]) == {"ANCOVA (complete case)", "ANCOVA + MICE",
                                      "IPT-weighted"}
    small = {(m.group(1), m.group(2)) for m in map(SMALL.match, skipped["message"]) if m}
    fitted = set(zip(methods["condition"].astype(str), methods["treatment"], strict=True))
    assert small and not fitted & small


def test_notebook_06_runs_to_the_end_on_the_demo_export(tmp_path):
    papermill = pytest.importorskip("papermill")
    nb = notebooks_dir() / "06_bring_your_own_data.ipynb"
    out = papermill.execute_notebook(
        str(nb), str(tmp_path / "06_demo.ipynb"), cwd=str(nb.parent), progress_bar=False,
        parameters={"EXPORT_FILE": DEMO[0], "MAPPING_FILE": DEMO[1], "ARM_LABELS": {},
                    "PUBLISHED": None, "HEADLINE_VISIT_DAY": None,
                    "OUTCOME_LABEL": "pain at review"})
    code = [c for c in out["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code)
    assert not [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]


def test_missing_or_empty_exports_are_named(tmp_path):
    with pytest.raises(GluteError, match="nope.csv.*cannot read the (file|export)"):
        byod.run(str(tmp_path / "nope.csv"), DEMO[1])
    header = tmp_path / "header.csv"
    header.write_text(byod.resolve(DEMO[0]).read_text(encoding="utf-8").splitlines()[0] + "\n",
                      encoding="utf-8")
    with pytest.raises(GluteError, match="no data rows"):
        byod.run(str(header), DEMO[1])


def test_function_outcome_runs_without_an_any_pain_threshold():
    plan = byod.AnalysisPlan(outcome="function_lefs")
    r = byod.run(*DEMO, k=5, seed=1, plan=plan)
    assert r.instrument.higher_is == "better" and len(r.primary)
    assert r.incidence.empty and r.published_incidence().empty
    assert r.skipped["message"].str.contains("'any pain' not computed").any()
    # LEFS has no percent criterion: the default rule "both" is not guessed, it is named
    assert r.responders.empty
    assert r.skipped["message"].str.contains("no established percent criterion").any()
    # with the points rule, responders improve upwards by the LEFS MCID (higher is better)
    pts = byod.run(*DEMO, k=5, seed=1, plan=byod.AnalysisPlan(outcome="function_lefs",
                                                              responder_rule="points"))
    f = pts.frame.dropna(subset=["baseline_score", "follow_up_score"])
    f = f[f["condition"].astype(str).isin(set(pts.responders["condition"].astype(str)))]
    gain = f["follow_up_score"] - f["baseline_score"]
    assert pts.instrument.mcid is not None
    assert int(pts.responders["responders"].sum()) == int((gain >= pts.instrument.mcid).sum())
