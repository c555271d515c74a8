"""Time to recovery: Kaplan-Meier by group (lifelines; Kaplan & Meier 1958).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gluteutils.outcomes.estimators.base import Estimator
from gluteutils.outcomes.tables import require_columns


@dataclass
class TimeToRecovery(Estimator):
    """Kaplan-Meier curves of time to recovery per treatment (``lifelines``).

    Input: one row per subject with ``duration`` (day of recovery or of last visit) and
    ``event`` (True = recovered). ``summary_`` has ``treatment, n, events, median,
    median_lower, median_upper`` (median time to recovery with its ``1 - alpha`` interval from
    the Kaplan-Meier confidence band, Brookmeyer & Crowley 1982 as lifelines computes it;
    ``inf`` when not reached) and ``curves_`` the tidy curves
    (``treatment, time, recovered, lower, upper`` where ``recovered`` = 1 - survival).
    Visit data give interval-censored recovery; treating the visit day as the event time biases
    towards later recovery (see EVIDENCE.md section 3) - the explorer says so.
    """

    duration: str
    event: str
    treatment: str
    alpha: float = 0.05
    curves_: pd.DataFrame | None = field(default=None, repr=False)
    fitters_: dict[str, Any] = field(default_factory=dict, repr=False)

    def fit(self, df: pd.DataFrame) -> TimeToRecovery:
        from lifelines import KaplanMeierFitter
        from lifelines.utils import median_survival_times

        require_columns(df, [self.duration, self.event, self.treatment])
        rows, curves = [], []
        self.fitters_ = {}
        for level, group in df.groupby(self.treatment, observed=True, sort=True):
            kmf = KaplanMeierFitter(alpha=self.alpha).fit(
                group[self.duration], group[self.event].astype(bool), label=str(level))
            self.fitters_[str(level)] = kmf
            sf = kmf.survival_function_.iloc[:, 0]
            ci = kmf.confidence_interval_survival_function_
            curves.append(pd.DataFrame({
                "treatment": str(level), "time": sf.index.to_numpy(dtype=float),
                "recovered": 1.0 - sf.to_numpy(), "lower": 1.0 - ci.iloc[:, 1].to_numpy(),
                "upper": 1.0 - ci.iloc[:, 0].to_numpy()}))
            rows.append({"treatment": str(level), "n": len(group),
                         "events": int(group[self.event].astype(bool).sum()),
                         "median": float(kmf.median_survival_time_),
                         **_median_interval(median_survival_times(kmf.confidence_interval_))})
        self._summary = pd.DataFrame(rows)
        self.curves_ = pd.concat(curves, ignore_index=True)
        return self

    def at_risk(self, times: Sequence[float]) -> pd.DataFrame:
        """Numbers at risk at ``times`` per treatment (from the fitted lifelines event tables)."""
        rows = []
        for level, kmf in self.fitters_.items():
            table = kmf.event_table
            for t in times:
                later = table.loc[table.index >= t, "at_risk"]
                rows.append({"treatment": level, "time": t,
                             "at_risk": int(later.iloc[0]) if len(later) else 0})
        return pd.DataFrame(rows)


def _median_interval(ci: pd.DataFrame) -> dict[str, float]:
    """Lower and upper bound of the median from lifelines' ``median_survival_times`` table."""
    values = ci.to_numpy(dtype=float).ravel()
    return {"median_lower": float(values[0]), "median_upper": float(values[1])}
