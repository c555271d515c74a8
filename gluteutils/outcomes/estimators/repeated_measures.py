"""Repeated measures per group: statsmodels GEE (Liang & Zeger 1986) or MixedLM.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from patsy import PatsyError

from gluteutils.outcomes.estimators.base import (
    Estimator,
    ModelError,
    formula_term,
    prepare_frame,
    treatment_term,
    usable_covariates,
)
from gluteutils.outcomes.tables import require_columns


@dataclass
class RepeatedMeasures(Estimator):
    """All post-baseline visits in one model: GEE (default) or a random-intercept MixedLM.

    Long data, one row per visit: ``outcome ~ treatment * time [+ baseline + covariates]``
    with ``time`` categorical (e.g. visit week). GEE uses an exchangeable working correlation
    and robust standard errors (Liang & Zeger 1986). ``summary_`` holds the treatment effect at
    each time point (main effect plus interaction, via ``t_test``), and the row ``time = "all"``
    holds the effect averaged over the observed time points when ``interaction=False``.
    With ``change_from_first=True`` each row is the interaction alone: the treatment effect on
    the change from the first time point (the classical "time x arm" coefficient).
    """

    outcome: str
    treatment: str
    reference: str
    time: str
    subject: str
    baseline: str | None = None
    covariates: Sequence[str] = ()
    method: str = "gee"
    interaction: bool = True
    change_from_first: bool = False
    alpha: float = 0.05
    result_: Any = field(default=None, repr=False)

    def formula(self, df: pd.DataFrame) -> str:
        trt = treatment_term(self.treatment, self.reference)
        rhs = f"{trt} * C({self.time})" if self.interaction else f"{trt} + C({self.time})"
        extra = ([self.baseline] if self.baseline else [])
        extra += [formula_term(df, c) for c in usable_covariates(df, self.covariates)]
        return f"{self.outcome} ~ " + " + ".join([rhs, *extra])

    def fit(self, df: pd.DataFrame) -> RepeatedMeasures:
        cols = [self.outcome, self.treatment, self.time, self.subject, *self.covariates]
        if self.baseline:
            cols.append(self.baseline)
        require_columns(df, cols)
        data = prepare_frame(df, cols, self.treatment).sort_values([self.subject, self.time])
        formula = self.formula(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.method not in ("gee", "mixedlm"):
                raise ModelError(f"method must be 'gee' or 'mixedlm', not {self.method!r}")
            if data.empty:
                raise ModelError("repeated measures: no complete rows to fit (every row lacks "
                                 f"one of {cols})")
            try:
                if self.method == "gee":
                    model = smf.gee(formula, self.subject, data,
                                    cov_struct=sm.cov_struct.Exchangeable(),
                                    family=sm.families.Gaussian())
                    result = model.fit()
                else:
                    result = smf.mixedlm(formula, data,
                                         groups=data[self.subject]).fit(reml=True)
            except (np.linalg.LinAlgError, ValueError, PatsyError) as exc:
                raise ModelError(f"repeated measures: the model could not be fitted ({exc})"
                                 ) from None
        self.result_ = result
        n_fe = int(getattr(result, "k_fe", len(result.params)))
        names = list(result.params.index)[:n_fe]
        prefix = treatment_term(self.treatment, self.reference) + "[T."
        levels = [n[len(prefix):-1] for n in names if n.startswith(prefix) and ":" not in n]
        times = sorted(data[self.time].unique())
        rows = []
        n_subjects = int(data[self.subject].nunique())
        for level in levels:
            for t, c in self._contrasts(names, f"{prefix}{level}]", times):
                test = result.t_test(c[None, :])
                lo, hi = np.asarray(test.conf_int(alpha=self.alpha)).ravel()
                rows.append({"treatment": level, "reference": self.reference, "time": t,
                             "estimate": float(np.asarray(test.effect).ravel()[0]),
                             "se": float(np.asarray(test.sd).ravel()[0]),
                             "ci_lower": float(lo), "ci_upper": float(hi),
                             "p_value": float(np.asarray(test.pvalue).ravel()[0]),
                             "n": n_subjects})
        self._summary = pd.DataFrame(rows)
        return self

    def _contrasts(self, names: list[str], main: str,
                   times: list[Any]) -> list[tuple[Any, np.ndarray]]:
        """The contrast vectors of one treatment's effect: at each time (with the
        interaction; from the first time when ``change_from_first``) or overall."""
        targets: list[tuple[Any, np.ndarray]] = []
        if not self.interaction:
            c = np.zeros(len(names))
            c[names.index(main)] = 1.0
            return [("all", c)]
        for t in times:
            c = np.zeros(len(names))
            if not self.change_from_first:
                c[names.index(main)] = 1.0
            elif t == times[0]:
                continue
            inter = f"{main}:C({self.time})[T.{t}]"
            if inter in names:
                c[names.index(inter)] = 1.0
            targets.append((t, c))
        return targets
