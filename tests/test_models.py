"""Known-answer tests of gluteutils.outcomes.models on real open trial data.

Reference results: ../shared/clinical/data/PROVENANCE.md ("Reference results computed from
these files"). Responder counts are checked against a direct count of the raw table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gluteutils.outcomes import models
from gluteutils.outcomes.models import (
    ANCOVA,
    ModelError,
    MultipleImputation,
    NotFittedError,
    PropensityWeighting,
    RepeatedMeasures,
    ResponderAnalysis,
    TimeToRecovery,
)
from gluteutils.references import check_keys

SHARED = Path(__file__).resolve().parents[2] / "shared" / "clinical" / "data"
NECK = SHARED / "neck_pain_chow2006_lllt.csv"
KNEE = SHARED / "knee_sports_injury_tutz_catdata.csv"

pytestmark = pytest.mark.needs_shared


@pytest.fixture(scope="module")
def neck_long() -> pd.DataFrame:
    d = pd.read_csv(NECK)
    d["vas"] = d["vas"] * 10  # VAS in cm, as in PROVENANCE.md
    d["arm"] = d["laser"].map({1: "laser", 2: "placebo"})
    return d


@pytest.fixture(scope="module")
def neck_wide(neck_long: pd.DataFrame) -> pd.DataFrame:
    w = neck_long.pivot(index=["id", "arm"], columns="time", values="vas").reset_index()
    w.columns = ["id", "arm", "base", "wk7", "wk12"]
    return w


@pytest.fixture(scope="module")
def knee() -> pd.DataFrame:
    k = pd.read_csv(KNEE)
    k["arm"] = k["Th"].map({1: "placebo", 2: "ointment"})
    return k


@pytest.mark.parametrize(("outcome", "est", "lo", "hi", "n"), [
    ("wk7", -2.96, -3.86, -2.07, 84),
    ("wk12", -2.35, -3.26, -1.43, 90),
])
def test_ancova_neck_matches_provenance(neck_wide, outcome, est, lo, hi, n):
    row = ANCOVA(outcome, "base", "arm", "placebo").fit(neck_wide).summary_.iloc[0]
    assert row["treatment"] == "laser"
    assert row["estimate"] == pytest.approx(est, abs=0.01)
    assert row["ci_lower"] == pytest.approx(lo, abs=0.01)
    assert row["ci_upper"] == pytest.approx(hi, abs=0.01)
    assert row["n"] == n


def test_ancova_knee_matches_provenance(knee):
    row = ANCOVA("R4", "R1", "arm", "placebo").fit(knee).summary_.iloc[0]
    assert row["estimate"] == pytest.approx(-0.59, abs=0.01)
    assert row["ci_lower"] == pytest.approx(-0.86, abs=0.01)
    assert row["ci_upper"] == pytest.approx(-0.31, abs=0.01)
    assert row["p_value"] < 0.0001


def test_ancova_is_not_a_change_score(neck_wide):
    """Vickers & Altman: with the neck data's baseline imbalance, change scores differ."""
    row = ANCOVA("wk12", "base", "arm", "placebo").fit(neck_wide).summary_.iloc[0]
    change = (neck_wide["wk12"] - neck_wide["base"]).groupby(neck_wide["arm"]).mean()
    assert abs((change["laser"] - change["placebo"]) - row["estimate"]) > 0.3


def test_mixedlm_interaction_matches_provenance(neck_long):
    fit = RepeatedMeasures("vas", "arm", "placebo", "time", "id", method="mixedlm",
                           change_from_first=True).fit(neck_long)
    row = fit.summary_.set_index("time").loc[2]
    assert row["estimate"] == pytest.approx(-3.66, abs=0.01)
    assert row["se"] == pytest.approx(0.43, abs=0.01)


def test_gee_close_to_ancova(neck_long, neck_wide):
    long = neck_long[neck_long["time"] > 1].merge(neck_wide[["id", "base"]], on="id")
    gee = RepeatedMeasures("vas", "arm", "placebo", "time", "id", baseline="base").fit(long)
    at12 = gee.summary_.set_index("time").loc[3, "estimate"]
    # with complete data at week 12 the GEE contrast is close to the ANCOVA one
    assert at12 == pytest.approx(-2.35, abs=0.1)
    assert (gee.summary_["ci_upper"] < 0).all()


def _count_responders(base: pd.Series, fu: pd.Series) -> pd.Series:
    drop = base - fu
    return (drop >= 2) & (drop >= 0.3 * base)


@pytest.mark.parametrize(("base", "fu", "ref"), [("base", "wk12", "placebo")])
def test_responder_analysis_neck_counts(neck_wide, base, fu, ref):
    res = ResponderAnalysis(base, fu, "arm", ref).fit(neck_wide).summary_.set_index("treatment")
    expect = _count_responders(neck_wide[base], neck_wide[fu]).groupby(neck_wide["arm"]).sum()
    assert res.loc["laser", "responders"] == expect["laser"] == 30
    assert res.loc["placebo", "responders"] == expect["placebo"] == 6
    assert res.loc["laser", "risk_difference"] == pytest.approx(30 / 45 - 6 / 45, abs=1e-9)
    # Newcombe hybrid-score interval from the two Wilson intervals (Newcombe 1998, method 10)
    p1, p2 = 30 / 45, 6 / 45
    l1, u1 = res.loc["laser", ["rate_lower", "rate_upper"]]
    l2, u2 = res.loc["placebo", ["rate_lower", "rate_upper"]]
    lo = (p1 - p2) - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = (p1 - p2) + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    assert res.loc["laser", "rd_lower"] == pytest.approx(lo, abs=0.01)
    assert res.loc["laser", "rd_upper"] == pytest.approx(hi, abs=0.01)
    assert res.loc["laser", "nnt"] == pytest.approx(1 / (p1 - p2))
    assert res.loc["laser", "nnt_lower"] == pytest.approx(1 / hi)
    assert res.loc["laser", "nnt_upper"] == pytest.approx(1 / lo)


def test_responder_analysis_knee_direction(knee):
    # 1-5 scale: MCID 2 points and 30% -> count directly
    res = ResponderAnalysis("R1", "R4", "arm", "placebo").fit(knee).summary_.set_index("treatment")
    expect = _count_responders(knee["R1"], knee["R4"]).groupby(knee["arm"]).sum()
    assert res.loc["ointment", "responders"] == expect["ointment"]
    assert res.loc["placebo", "responders"] == expect["placebo"]
    assert res.loc["ointment", "n"] == 64 and res.loc["placebo", "n"] == 63


def test_responders_rule_needs_both_criteria():
    base = np.array([10, 5, 2, 1, 6, 8])
    fu = np.array([8, 3, 0, 0, 4.5, 5.5])
    # 10->8: 2 pts but 20% -> no; 5->3: 2 pts, 40% -> yes; 2->0 yes; 1->0: 1 pt -> no;
    # 6->4.5: 1.5 pts -> no; 8->5.5: 2.5 pts and 31% -> yes
    assert models.responders(base, fu).tolist() == [False, True, True, False, False, True]
    assert not models.responders([5.0], [np.nan])[0]


def test_nnt_interval_spanning_zero_follows_altman():
    # RD 0.1 (-0.05 to 0.25): NNTB 4 to infinity to NNTH 20 (Altman 1998)
    nnt, benefit, harm = models.nnt_interval(0.1, -0.05, 0.25)
    assert nnt == pytest.approx(10) and benefit == pytest.approx(4) and harm == pytest.approx(-20)
    assert models.nnt_text(0.1, -0.05, 0.25) == "NNTB 10.0 (95% CI NNTB 4.0 to inf to NNTH 20.0)"
    nnt, lo, hi = models.nnt_interval(-0.2, -0.3, -0.1)
    assert nnt == pytest.approx(-5) and (lo, hi) == pytest.approx((-10, -1 / 0.3))
    assert models.nnt_text(-0.2, -0.3, -0.1) == "NNTH 5.0 (95% CI NNTH 3.3 to 10.0)"
    assert models.nnt_text(0.2, 0.1, 0.3) == "NNTB 5.0 (95% CI NNTB 3.3 to 10.0)"
    assert models.nnt_interval(0.0, -0.1, 0.0) == (np.inf, np.inf, -10.0)


def test_suppress_counts_hides_count_complement_and_reference_comparisons():
    table = pd.DataFrame({"g": ["a", "a", "b", "b"], "treatment": ["ref", "x", "ref", "x"],
                          "n": [40, 50, 30, 60], "responders": [3, 20, 26, 57],
                          "rate": [3 / 40, 0.4, 26 / 30, 0.95]})
    out = models.suppress_counts(table, "responders", "n", derived=["rate"])
    assert out.loc[0, "responders"] == "<5" and np.isnan(out.loc[0, "rate"])
    # n - responders = 3 for row 3: the count itself is hidden, so 60 - x reveals nothing
    assert out.loc[3, "responders"] in ("<5", "n.p.") and np.isnan(out.loc[3, "rate"])
    mask = np.asarray(out.attrs["suppressed"])
    for row in mask:  # every row with a hidden cell hides at least two of x, n-x, n
        assert row.sum() in (0, 2, 3)
    assert table.loc[0, "responders"] == 3  # input untouched


def test_responder_published_blanks_comparisons_when_reference_hidden():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"arm": ["ref"] * 30 + ["new"] * 30,
                       "b": np.full(60, 8.0),
                       "f": np.r_[np.full(27, 8.0), np.full(3, 2.0), rng.choice([2.0, 8.0], 30)]})
    fit = ResponderAnalysis("b", "f", "arm", "ref").fit(df)
    raw = fit.summary_.set_index("treatment")
    assert raw.loc["ref", "responders"] == 3  # exact numbers stay in summary_
    shown = fit.published().set_index("treatment")
    assert shown.loc["ref", "responders"] == "<5"
    assert np.isnan(shown.loc["new", "risk_difference"]) and pd.isna(shown.loc["new", "nnt_ci"])


def test_followup_summary_suppressed_for_publication():
    frame = pd.DataFrame({"condition": ["a"] * 20 + ["b"] * 30,
                          "review_pain": [1.0] * 17 + [np.nan] * 3 + [2.0] * 30})
    raw = models.followup_summary(frame)
    assert raw.loc["a", "with_review"] == 17  # exact numbers without a threshold
    shown = models.followup_summary(frame, threshold=5)
    # 3 lost to follow-up in "a": with_review hidden (20 - 17 = 3), and the % too
    assert shown.loc["a", "with_review"] == "n.p." and np.isnan(shown.loc["a", "lost_to_follow_up_pct"])
    assert shown.loc["b", "with_review"] in ("n.p.", 30)


def test_mice_close_to_complete_case(neck_wide):
    cc = ANCOVA("wk7", "base", "arm", "placebo").fit(neck_wide).summary_.iloc[0]
    mi = MultipleImputation("wk7", "base", "arm", "placebo", n_imputations=10,
                            seed=1).fit(neck_wide).summary_.iloc[0]
    assert mi["n"] == 90  # the 6 missing follow-ups are imputed, not dropped
    assert mi["estimate"] == pytest.approx(cc["estimate"], abs=0.5)
    assert mi["ci_upper"] < 0 and 0 < mi["fmi"] < 0.5


def test_propensity_weighting_balances_baseline(neck_wide):
    pw = PropensityWeighting("wk12", "arm", "placebo", covariates=["base"], truncate=(0, 1))
    pw.fit(neck_wide)
    bal = pw.balance_.set_index("covariate").loc["base"]
    assert abs(bal["smd_before"]) > 0.5  # the trial's chance imbalance (5.9 vs 4.0 cm)
    assert abs(bal["smd_after"]) < 0.1
    row = pw.summary_.iloc[0]
    assert row["ci_lower"] < row["estimate"] < row["ci_upper"] < 0
    assert pw.converged_ == {None: True} and bool(row["ps_converged"])
    assert models.balance_summary(pw.balance_)["balanced"].tolist() == [True]
    dr = PropensityWeighting("wk12", "arm", "placebo", covariates=["base"], truncate=(0, 1),
                             doubly_robust=True).fit(neck_wide).summary_.iloc[0]
    assert dr["estimate"] == pytest.approx(row["estimate"], abs=1.0) and dr["ci_upper"] < 0


def test_holm_pairwise_three_arms(knee):
    k = knee.assign(arm3=np.where(knee["N"] % 2 == 0, knee["arm"], "third"))
    pairs = ANCOVA("R4", "R1", "arm3", "placebo").fit(k).pairwise()
    assert len(pairs) == 3
    p = np.sort(pairs["p_value"].to_numpy())
    expect = np.maximum.accumulate(np.minimum(1, p * np.array([3, 2, 1])))
    assert np.sort(pairs["p_adjusted"].to_numpy()) == pytest.approx(expect)


def test_kaplan_meier_matches_counts():
    df = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5], "e": [1, 1, 0, 1, 0, 1],
                       "arm": ["a"] * 6})
    km = TimeToRecovery("t", "e", "arm").fit(df)
    curve = km.curves_.set_index("time")["recovered"]
    # S(1) = 5/6, S(2) = 5/6 * 4/5, S(3) = 4/6 * 2/3
    assert curve.loc[1.0] == pytest.approx(1 - 5 / 6)
    assert curve.loc[3.0] == pytest.approx(1 - 4 / 6 * 2 / 3)
    assert km.at_risk([0, 3, 9]).set_index("time")["at_risk"].tolist() == [6, 3, 0]


def test_table_one_and_suppression(neck_wide):
    w = neck_wide.assign(sex=np.where(neck_wide["id"] <= 3, "x", "y"))
    table = models.table_one(w, ["base", "sex"], "arm")
    out, hidden = models.suppress_table_one(table, threshold=5)
    assert hidden >= 1
    assert "<5" in out.to_string()


def _assert_no_single_hidden_cell(out: pd.DataFrame) -> None:
    """Within every categorical block, each row (groups + Overall) and each column has 0 or
    at least 2 hidden cells, so no hidden count follows from a row or column total."""
    hide = pd.DataFrame(out.attrs["suppressed"], index=out.index, columns=out.columns)
    labels = [c[-1] if isinstance(c, tuple) else c for c in out.columns]
    count_cols = [c for c, lab in zip(out.columns, labels, strict=True) if lab != "Missing"]
    for var in pd.unique(out.index.get_level_values(0)):
        if not (str(var).endswith("n (%)") or var == "n"):
            continue
        block = hide.loc[out.index.get_level_values(0) == var, count_cols]
        assert set(block.sum(axis=1).tolist()) <= {0} | set(range(2, 99)), var
        if var != "n":
            assert set(block.sum(axis=0).tolist()) <= {0} | set(range(2, 99)), var


def test_table_one_hidden_cells_cannot_be_derived():
    from gluteutils import outcomes

    data = outcomes.load()
    frame = models.analysis_frame(data.episodes, data.visits)
    out, hidden = models.table_one_by_therapy(frame, condition="sciatica_disc")
    _assert_no_single_hidden_cell(out)
    row = out.loc[("new_exercise_72h, n (%)", "yes")]
    ep = [c for c in out.columns if c[-1] == "exercise_physiology"][0]
    assert row[ep] == "<5"
    # the complementary level is hidden too, so 187 - no cannot reveal yes
    assert out.loc[("new_exercise_72h, n (%)", "no"), ep] == "n.p."
    assert hidden == int(np.sum(out.attrs["suppressed"]))
    assert "n.p." in repr(out)  # a wide table still prints


def test_table_one_small_overall_and_missing_are_hidden():
    rng = np.random.default_rng(3)
    n = 60
    df = pd.DataFrame({"arm": np.repeat(["a", "b", "c"], n // 3),
                       "grade": rng.choice(["low", "mid"], n),
                       "score": rng.normal(size=n)})
    df.loc[[0, 25], "grade"] = "rare"  # Overall count 2 for "rare"
    df.loc[[1, 2], "score"] = np.nan  # 2 missing values
    out, hidden = models.suppress_table_one(models.table_one(df, ["grade", "score"], "arm"))
    _assert_no_single_hidden_cell(out)
    overall = [c for c in out.columns if c[-1] == "Overall"][0]
    missing = [c for c in out.columns if c[-1] == "Missing"][0]
    assert out.loc[("grade, n (%)", "rare"), overall] == "<5"
    hide = pd.DataFrame(out.attrs["suppressed"], index=out.index, columns=out.columns)
    assert hide.loc[out.index.get_level_values(0) == "grade, n (%)", overall].sum() >= 2
    score_row = [i for i in out.index if str(i[0]).startswith("score")][0]
    assert out.loc[score_row, missing] == "<5"


def test_errors_are_typed(neck_wide):
    with pytest.raises(NotFittedError):
        _ = ANCOVA("wk7", "base", "arm", "placebo").summary_
    with pytest.raises(ModelError):
        ANCOVA("nope", "base", "arm", "placebo").fit(neck_wide)
    with pytest.raises(ModelError):
        ANCOVA("wk7", "base", "arm", "sham").fit(neck_wide)


def test_method_reference_keys_resolve():
    missing = check_keys(models.METHOD_REFERENCES.values())
    assert missing in ([], ["farrar2001"])  # farrar2001 is defined by the data part


# --- groups too small to fit, collinear covariates (issue 11) ------------------------------


def _small_group_frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    for cond, sizes in (("a", {"ref": 30, "big": 30, "tiny": 2}), ("b", {"ref": 3, "big": 30})):
        for ther, n in sizes.items():
            base = rng.integers(2, 9, n).astype(float)
            rows.append(pd.DataFrame({"condition": cond, "therapy": ther, "baseline": base,
                                      "follow": base - 1 - (ther == "big") + rng.normal(0, 1, n),
                                      "site": "one"}))
    return pd.concat(rows, ignore_index=True)


def test_ancova_leaves_out_groups_too_small_and_names_them():
    from gluteutils.outcomes.models import ANCOVA

    df = _small_group_frame()
    fit = ANCOVA("follow", "baseline", "therapy", "ref", by="condition",
                 min_group_size=5).fit(df)
    assert list(zip(fit.summary_["condition"], fit.summary_["treatment"], strict=True)) == [
        ("a", "big")]
    msgs = list(fit.skipped_["message"])
    assert "condition a: therapy 'tiny' has 2 people; at least 5 needed to fit" in msgs
    assert ("condition b: therapy 'ref' (the reference) has 3 people; at least 5 needed to "
            "fit") in msgs
    assert "condition b: not analysed, its reference group is too small" in msgs
    # the fitted group's estimate is the one statsmodels gives on that group alone
    import statsmodels.formula.api as smf
    a = df[(df["condition"] == "a") & (df["therapy"] != "tiny")]
    ols = smf.ols("follow ~ C(therapy, Treatment('ref')) + baseline", a).fit()
    assert fit.summary_.iloc[0]["estimate"] == pytest.approx(
        ols.params["C(therapy, Treatment('ref'))[T.big]"], abs=1e-10)


def test_ancova_drops_a_collinear_covariate_with_a_message():
    from gluteutils.outcomes.models import ANCOVA

    df = _small_group_frame()
    df = df[df["condition"] == "a"].assign(twice=lambda d: 2 * d["baseline"])
    fit = ANCOVA("follow", "baseline", "therapy", "ref", covariates=["twice"]).fit(df)
    assert fit.skipped_["message"].str.contains("covariate column 'twice' left out").any()
    plain = ANCOVA("follow", "baseline", "therapy", "ref").fit(df)
    pd.testing.assert_series_equal(fit.summary_["estimate"], plain.summary_["estimate"])


def test_no_group_fittable_is_a_model_error_listing_why():
    from gluteutils.outcomes.models import ANCOVA, ModelError

    with pytest.raises(ModelError, match="at least 500 needed"):
        ANCOVA("follow", "baseline", "therapy", "ref", by="condition",
               min_group_size=500).fit(_small_group_frame())
