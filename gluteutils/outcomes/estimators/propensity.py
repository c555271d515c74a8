"""Propensity weighting (multinomial logit, statsmodels MNLogit; Austin 2011) with balance by
standardised differences.
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
from statsmodels.stats.weightstats import DescrStatsW

from gluteutils.outcomes.estimators.base import (
    Estimator,
    dummy_columns,
    effects_from_fit,
    fittable_groups,
    formula_term,
    stack_or_error,
    treatment_term,
    usable_covariates,
)
from gluteutils.outcomes.tables import require_columns


def standardised_difference(x: np.ndarray, treated: np.ndarray,
                            weights: np.ndarray | None = None) -> float:
    """Standardised mean difference of ``x`` between ``treated`` (True) and the rest.

    Austin 2011: (mean_t - mean_c) / sqrt((var_t + var_c) / 2), with weighted means and
    variances (``DescrStatsW``) when ``weights`` are given. Binary covariates use the same
    formula on 0/1 values, which equals Austin's proportion form up to the variance divisor.
    """
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    t = np.asarray(treated, dtype=bool)
    a, b = DescrStatsW(x[t], weights=w[t], ddof=0), DescrStatsW(x[~t], weights=w[~t], ddof=0)
    pooled = np.sqrt((a.var + b.var) / 2.0)
    if pooled == 0:
        return 0.0
    return float((a.mean - b.mean) / pooled)


@dataclass
class PropensityWeighting(Estimator):
    """Multinomial propensity score (MNLogit), stabilised IPT weights, balance and effects.

    Within each ``by`` group: fit ``MNLogit(treatment ~ covariates)``; weight each row by
    P(T = t) / P(T = t | X) (stabilised), truncated at the ``truncate`` quantiles; report
    ``balance_`` (standardised differences of every covariate column, each treatment vs the
    reference, before and after weighting) and ``summary_`` (weighted least squares of the
    outcome on treatment [+ baseline], robust HC0 errors - the weighted effect estimate).
    Whether each propensity model converged (``mle_retvals["converged"]``) is in
    ``converged_`` and the ``ps_converged`` column of ``summary_``; a model that did not
    converge also raises a ``RuntimeWarning``. With ``doubly_robust=True`` the weighted
    outcome model also adjusts for the covariates (consistent if either the propensity or the
    outcome model is right; it mops up residual imbalance after weighting).
    """

    outcome: str
    treatment: str
    reference: str
    covariates: Sequence[str]
    baseline: str | None = None
    by: str | None = None
    truncate: tuple[float, float] = (0.01, 0.99)
    alpha: float = 0.05
    doubly_robust: bool = False
    min_group_size: int = 1
    balance_: pd.DataFrame | None = field(default=None, repr=False)
    weights_: pd.Series | None = field(default=None, repr=False)
    converged_: dict[Any, bool] = field(default_factory=dict, repr=False)

    def _design(self, data: pd.DataFrame) -> pd.DataFrame:
        cov = usable_covariates(data, self.covariates)
        if self.baseline:
            cov = [self.baseline, *cov]
        return dummy_columns(data, cov)

    def _weights(self, x: pd.DataFrame, codes: np.ndarray, n_levels: int,
                 key: Any) -> tuple[np.ndarray, bool]:
        """Stabilised inverse-probability weights from a multinomial logit propensity model,
        truncated at ``self.truncate`` quantiles; and whether the model converged (a warning
        when it did not)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ps_model = sm.MNLogit(codes, sm.add_constant(x, has_constant="add")).fit(
                disp=False, method="bfgs", maxiter=500)
        converged = bool(getattr(ps_model, "mle_retvals", {}).get("converged", False))
        if not converged:
            warnings.warn(f"the propensity model (MNLogit) did not converge"
                          f"{'' if key is None else f' for {self.by} = {key}'}: the "
                          f"weights and the weighted estimate are unreliable",
                          RuntimeWarning, stacklevel=3)
        probs = np.asarray(ps_model.predict(sm.add_constant(x, has_constant="add")))
        p_own = probs[np.arange(len(codes)), codes]
        marginal = np.bincount(codes, minlength=n_levels) / len(codes)
        w = marginal[codes] / p_own
        lo, hi = np.quantile(w, self.truncate)
        return np.clip(w, lo, hi), converged

    def _balance_rows(self, data: pd.DataFrame, x: pd.DataFrame, w: np.ndarray,
                      levels: list[str], key: Any) -> list[dict[str, Any]]:
        """Standardised mean differences of every design column, before and after
        weighting, for each treatment against the reference."""
        rows = []
        for level in levels[1:]:
            pair = data[self.treatment].isin([level, self.reference]).to_numpy()
            t = (data[self.treatment] == level).to_numpy()[pair]
            for col in x.columns:
                v = x[col].to_numpy()[pair]
                row: dict[str, Any] = {
                    "treatment": level, "reference": self.reference, "covariate": col,
                    "smd_before": standardised_difference(v, t),
                    "smd_after": standardised_difference(v, t, w[pair]),
                }
                if self.by is not None:
                    row = {self.by: key, **row}
                rows.append(row)
        return rows

    def fit(self, df: pd.DataFrame) -> PropensityWeighting:
        cols = [self.outcome, self.treatment, *self.covariates]
        if self.baseline:
            cols.append(self.baseline)
        require_columns(df, cols + ([self.by] if self.by else []))
        parts, balance, all_w = [], [], []
        skipped: list[dict[str, Any]] = []
        self.converged_ = {}
        for key, data in fittable_groups(df, cols, treatment=self.treatment,
                                         reference=self.reference, by=self.by,
                                         min_size=self.min_group_size, skipped=skipped):
            x = self._design(data)
            levels = [self.reference] + sorted(set(data[self.treatment]) - {self.reference})
            codes = pd.Categorical(data[self.treatment], categories=levels).codes
            w, converged = self._weights(x, codes, len(levels), key)
            self.converged_[key] = converged
            data = data.assign(_w=w)
            all_w.append(pd.Series(w, index=data.index))
            balance += self._balance_rows(data, x, w, levels, key)
            rhs = treatment_term(self.treatment, self.reference)
            if self.baseline:
                rhs += f" + {self.baseline}"
            if self.doubly_robust:
                rhs += "".join(f" + {formula_term(data, c)}"
                               for c in usable_covariates(data, self.covariates))
            result = smf.wls(f"{self.outcome} ~ {rhs}", data, weights=data["_w"]).fit(
                cov_type="HC0")
            table = effects_from_fit(result, self.treatment, self.reference, self.alpha)
            table["ps_converged"] = converged
            if self.by is not None:
                table.insert(0, self.by, key)
            parts.append(table)
        self._skipped = skipped
        self._summary = stack_or_error(parts, skipped, "propensity weighting")
        self.balance_ = pd.DataFrame(balance)
        self.weights_ = pd.concat(all_w)
        return self
