"""Every estimator reports like lifelines/statsmodels: CI level in the column names,
print_summary(), an HTML view; summary_ keeps the plain names the rest of the package reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gluteutils.errors import NotFittedError
from gluteutils.outcomes.estimators import ANCOVA


def _trial(n: int = 80, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.repeat(["control", "active"], n // 2)
    base = rng.integers(3, 9, n).astype(float)
    follow = base - 1.5 * (arm == "active") + rng.normal(0, 1, n)
    return pd.DataFrame({"arm": arm, "baseline": base, "follow_up": follow})


def test_summary_names_the_interval_level() -> None:
    fit = ANCOVA("follow_up", "baseline", "arm", "control", covariates=[], alpha=0.10
                 ).fit(_trial())
    assert fit.confidence_level == 90
    table = fit.summary()
    assert {"ci_lower_90", "ci_upper_90"} <= set(table.columns)
    assert "ci_lower" in fit.summary_.columns  # plain names stay for the package
    np.testing.assert_allclose(table["ci_lower_90"], fit.summary_["ci_lower"])
    wide = ANCOVA("follow_up", "baseline", "arm", "control", covariates=[]).fit(_trial())
    assert (wide.summary_["ci_lower"] < table["ci_lower_90"]).all()  # 95% is wider


def test_print_summary_and_html(capsys: pytest.CaptureFixture[str]) -> None:
    est = ANCOVA("follow_up", "baseline", "arm", "control", covariates=[])
    assert "not fitted" in est._repr_html_()
    with pytest.raises(NotFittedError):
        est.print_summary()
    est.fit(_trial())
    est.print_summary()
    out = capsys.readouterr().out
    assert out.startswith("<ANCOVA>") and "ci_lower_95" in out and "reference = 'control'" in out
    html = est._repr_html_()
    assert "<table" in html and "ci_upper_95" in html


def test_kaplan_meier_median_has_its_interval() -> None:
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    from gluteutils.outcomes.estimators import TimeToRecovery

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"t": rng.exponential(20, 200).round() + 1, "e": rng.random(200) < 0.8,
                       "arm": np.repeat(["a", "b"], 100)})
    table = TimeToRecovery("t", "e", "arm").fit(df).summary_
    a = df[df["arm"] == "a"]
    kmf = KaplanMeierFitter().fit(a["t"], a["e"])
    lo, hi = median_survival_times(kmf.confidence_interval_).to_numpy().ravel()
    row = table.set_index("treatment").loc["a"]
    assert (row["median_lower"], row["median"], row["median_upper"]) == (
        lo, kmf.median_survival_time_, hi)
    assert (table["median_lower"] <= table["median"]).all()
    assert (table["median"] <= table["median_upper"]).all()
