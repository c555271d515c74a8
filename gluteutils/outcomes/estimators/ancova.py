"""ANCOVA per group (statsmodels OLS with HC1 errors; Vickers & Altman 2001) and Holm's
adjustment of its pairwise comparisons (Holm 1979).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from gluteutils.outcomes.estimators.base import (
    AdjustedEstimator,
    ModelError,
    NotFittedError,
    aliased_columns,
    design_matrix,
    effects_from_fit,
    fittable_groups,
    group_label,
    skip_record,
    treatment_term,
    usable_covariates,
)
from gluteutils.outcomes.tables import require_columns


@dataclass
class ANCOVA(AdjustedEstimator):
    """Follow-up outcome regressed on treatment, baseline and case mix (OLS).

    The coefficient of each treatment level is the adjusted mean difference from the
    ``reference`` level (Vickers & Altman 2001). With ``by`` (e.g. ``"condition"``) one model is
    fitted per group. Covariates that are constant within a group are dropped from that group's
    model; rows with a missing value in any used column are dropped (complete case).
    ``cov_type`` is passed to statsmodels' ``OLS.fit`` (``"nonrobust"`` = classical standard
    errors, as in the published trial analyses; ``"HC1"`` = heteroscedasticity-robust, used by
    :func:`primary_analysis` because 0-10 pain scores have unequal variance between groups).
    """

    alpha: float = 0.05
    cov_type: str = "nonrobust"
    min_group_size: int = 1
    results_: dict[Any, Any] = field(default_factory=dict, repr=False)

    def design(self, data: pd.DataFrame) -> pd.DataFrame:
        """Design matrix for one group: intercept, treatment dummies, baseline, case mix.

        Equivalent to the formula ``outcome ~ C(treatment, Treatment(reference)) + baseline +
        covariates`` (categorical covariates dummy-coded, first level dropped), built with
        pandas rather than patsy because the calibration test refits it thousands of times.
        """
        return design_matrix(data, self.treatment, self.reference,
                       [self.baseline, *usable_covariates(data, self.covariates)])

    def fit(self, df: pd.DataFrame) -> ANCOVA:
        """Fit one model per group. Treatment groups smaller than ``min_group_size`` are left
        out, and a covariate exactly collinear with the rest is dropped from that group's
        model; both are listed in ``skipped_`` (see :func:`fit_groups_only`). Raises
        :class:`ModelError` only when no group could be fitted at all."""
        cols = [self.outcome, self.baseline, self.treatment, *self.covariates]
        require_columns(df, cols + ([self.by] if self.by else []))
        parts = []
        skipped: list[dict[str, Any]] = []
        self.results_ = {}
        for key, data in fittable_groups(df, cols, treatment=self.treatment,
                                         reference=self.reference, by=self.by,
                                         min_size=self.min_group_size, skipped=skipped):
            x = self.design(data)
            fixed = [c for c in x.columns if c == "Intercept" or c.startswith("C(")]
            aliased = aliased_columns(x, keep=[*fixed, self.baseline])
            bad = [c for c in aliased if c in fixed or c == self.baseline]
            if bad:
                skipped.append(skip_record(self.by, key, "", len(data), self.min_group_size,
                                     f"{group_label(self.by, key)}: not analysed, the "
                                     f"treatment or baseline is collinear ({', '.join(bad)})"))
                continue
            for c in aliased:
                skipped.append(skip_record(self.by, key, "", len(data), self.min_group_size,
                                     f"{group_label(self.by, key)}: covariate column {c!r} "
                                     f"left out of the model (collinear with the others)"))
            x = x.drop(columns=aliased)
            try:
                result = sm.OLS(data[self.outcome].astype(float), x).fit(
                    method="qr", cov_type=self.cov_type)
            except (np.linalg.LinAlgError, ValueError) as exc:
                skipped.append(skip_record(self.by, key, "", len(data), self.min_group_size,
                                     f"{group_label(self.by, key)}: the model could not be "
                                     f"fitted ({exc})"))
                continue
            self.results_[key] = result
            table = effects_from_fit(result, self.treatment, self.reference, self.alpha)
            if self.by is not None:
                table.insert(0, self.by, key)
            parts.append(table)
        self._skipped = skipped
        if not parts:
            raise ModelError(f"no group has both the reference {self.reference!r} and another "
                             f"level of {self.treatment!r} to fit: "
                             + ("; ".join(r["message"] for r in skipped) or "no rows"))
        self._summary = pd.concat(parts, ignore_index=True)
        return self

    def pairwise(self, method: str = "holm") -> pd.DataFrame:
        """All pairwise treatment contrasts per group with p-values adjusted by ``method``.

        The contrasts come from each fitted model (``t_test`` on differences of coefficients);
        the adjustment is ``statsmodels.stats.multitest.multipletests`` within each group
        (Holm 1979 by default). Confidence intervals are unadjusted 95% intervals.
        """
        if not self.results_:
            raise NotFittedError("ANCOVA.fit() has not been called")
        prefix = treatment_term(self.treatment, self.reference) + "[T."
        rows = []
        for key, result in self.results_.items():
            names = list(result.params.index)
            levels = [self.reference] + [n[len(prefix):-1] for n in names if n.startswith(prefix)]
            group_rows = []
            for i, a in enumerate(levels):
                for b in levels[i + 1:]:
                    contrast = np.zeros(len(names))
                    if a != self.reference:
                        contrast[names.index(f"{prefix}{a}]")] -= 1.0
                    contrast[names.index(f"{prefix}{b}]")] += 1.0
                    test = result.t_test(contrast)
                    lo, hi = np.asarray(test.conf_int(alpha=self.alpha)).ravel()
                    group_rows.append({
                        "treatment": b, "reference": a,
                        "estimate": float(np.asarray(test.effect).ravel()[0]),
                        "se": float(np.asarray(test.sd).ravel()[0]),
                        "ci_lower": float(lo), "ci_upper": float(hi),
                        "p_value": float(np.asarray(test.pvalue).ravel()[0]),
                    })
            table = pd.DataFrame(group_rows)
            if table.empty:
                continue
            table["p_adjusted"] = holm_adjust(table["p_value"].to_numpy(), method=method)
            if self.by is not None:
                table.insert(0, self.by, key)
            rows.append(table)
        return pd.concat(rows, ignore_index=True)


def holm_adjust(p_values: Sequence[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """Return multiplicity-adjusted p-values (``multipletests``, Holm 1979 by default)."""
    p = np.asarray(p_values, dtype=float)
    if p.size == 0:
        return p
    return np.asarray(multipletests(p, method=method)[1])
