"""Multiple imputation by chained equations (statsmodels MICE; van Buuren &
Groothuis-Oudshoorn 2011), made stable across machines by design (issue 9).
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.imputation.mice import MICE, MICEData

from gluteutils.outcomes.estimators.base import (
    AdjustedEstimator,
    aliased_columns,
    dummy_columns,
    fit_groups_only,
    group_label,
    skip_record,
    split_groups,
    stack_or_error,
    usable_covariates,
)
from gluteutils.outcomes.tables import require_columns

#: Predictive means are matched on this decimal grid. Predicted means that agree to far more
#: digits than the data carry are the same prediction; rounding them makes exact ties of
#: what is really one value, so a last-bit difference from another BLAS or SIMD path cannot
#: reorder the donors (the reproducibility rule in DESIGN.md).
PMM_DECIMALS: int = 9


class StableMICEData(MICEData):
    """statsmodels' ``MICEData`` with predictive mean matching that is stable by design.

    statsmodels orders the donors with ``np.argsort`` (an unstable quicksort whose tie order
    depends on the CPU's SIMD code path) and draws the perturbed imputation parameters with
    an SVD whose singular-vector signs depend on the LAPACK kernel. Predicted means tie
    whenever observed cases share every predictor, so the same data and seed gave different
    donors, and different multiple-imputation estimates, on machines with and without AVX2
    (issue 9). Here the matching is the same method (van Buuren 2018, section 3.4: the
    ``k_pmm`` nearest observed cases, one drawn at random) with every discrete step
    deterministic:

    * predicted means and distances are rounded to :data:`PMM_DECIMALS` decimals;
    * donors are ordered by (rounded predicted mean, observed value) with a stable sort, so
      donors tied on both have the same value and any order of them imputes the same;
    * the k nearest are taken with a stable sort of the rounded distances;
    * parameters are perturbed with a Cholesky factor (unique for a positive definite
      covariance), not an SVD.
    """

    def _perturb_gaussian(self, vname: str) -> None:
        endog, exog, init_kwds, fit_kwds = self.get_fitting_data(vname)
        model = self.model_class[vname](endog, exog, **init_kwds)
        self.models[vname] = model
        self.results[vname] = model.fit(**fit_kwds)
        mean = np.asarray(self.results[vname].params, dtype=float)
        cov = np.asarray(self.results[vname].cov_params(), dtype=float)
        self.params[vname] = self.rng.multivariate_normal(mean, cov, method="cholesky")

    def impute_pmm(self, vname: str) -> None:
        k = self.k_pmm
        endog_obs, exog_obs, exog_miss, kwds_obs, kwds_miss = self.get_split_data(vname)
        model = self.models[vname]
        pred_obs = np.round(self._get_predicted(
            model.predict(self.params[vname], exog_obs, **kwds_obs)), PMM_DECIMALS)
        pred_miss = np.round(self._get_predicted(
            model.predict(self.params[vname], exog_miss, **kwds_miss)), PMM_DECIMALS)
        observed = np.asarray(endog_obs, dtype=float).ravel()
        order = np.lexsort((observed, pred_obs))  # stable: by prediction, then by value
        observed, pred_obs = observed[order], pred_obs[order]
        nearest = np.searchsorted(pred_obs, pred_miss)
        window = nearest[:, None] + np.arange(-k, k)[None, :]
        outside = (window < 0) | (window > len(observed) - 1)
        window = np.clip(window, 0, len(observed) - 1)
        distance = np.round(np.abs(pred_miss[:, None] - pred_obs[window]), PMM_DECIMALS)
        distance[outside] = np.inf
        closest = np.argsort(distance, axis=1, kind="stable")[:, :k]
        pick = self.rng.integers(0, k, len(pred_miss))
        rows = np.arange(len(pred_miss))
        self._store_changes(vname, observed[window[rows, closest[rows, pick]]])


def group_seed(seed: int, key: object) -> np.random.SeedSequence:
    """A seed for one analysis group that depends only on ``seed`` and the group's label.

    ``zlib.crc32`` of the label's text, not Python's ``hash`` (salted per process by
    ``PYTHONHASHSEED``), so a group draws the same numbers whatever other groups exist, in
    any order, in any process.
    """
    return np.random.SeedSequence([int(seed), zlib.crc32(str(key).encode("utf-8"))])


@dataclass
class MultipleImputation(AdjustedEstimator):
    """ANCOVA under multiple imputation of a missing follow-up (statsmodels MICE).

    The follow-up outcome is imputed by predictive mean matching from a model that includes
    the treatment, its interaction with baseline, and the covariates ("imputed by therapy":
    treatment-specific imputation slopes, as recommended for trials). The analysis model is the
    ANCOVA; ``MICE.fit`` pools the imputations with Rubin's rules. Run per ``by`` group, each
    group with its own generator (:func:`group_seed`) and the stable matching of
    :class:`StableMICEData`, so the estimates are the same on every machine.
    """

    n_imputations: int = 20
    n_burnin: int = 5
    seed: int = 0
    alpha: float = 0.05
    min_group_size: int = 1

    def fit(self, df: pd.DataFrame) -> MultipleImputation:
        cols = [self.outcome, self.baseline, self.treatment, *self.covariates]
        require_columns(df, cols + ([self.by] if self.by else []))
        parts = []
        skipped: list[dict[str, Any]] = []
        for key, group in split_groups(df, self.by):
            table = self._fit_group(key, group, cols, skipped)
            if table is not None:
                parts.append(table)
        self._skipped = skipped
        self._summary = stack_or_error(parts, skipped, "multiple imputation")
        return self

    def _fit_group(self, key: Any, group: pd.DataFrame, cols: list[str],
                   skipped: list[dict[str, Any]]) -> pd.DataFrame | None:
        """One ``by`` group's pooled treatment effects (None when it cannot be fitted)."""
        data = group.loc[:, cols].dropna(subset=[c for c in cols if c != self.outcome])
        data = data.assign(**{self.treatment: data[self.treatment].astype(str)})
        # group sizes count the people with an observed outcome (the imputation model's)
        kept, notes = fit_groups_only(data.dropna(subset=[self.outcome]), self.treatment,
                                      self.reference, by=self.by, key=key,
                                      min_size=self.min_group_size)
        skipped += notes
        if kept is None:
            return None
        data = data[data[self.treatment].isin(set(kept[self.treatment]))]
        levels = sorted(set(data[self.treatment]) - {self.reference})
        frame, t_terms, x_terms = self._design(data, levels)
        mice_data = StableMICEData(frame, rng=np.random.default_rng(group_seed(self.seed, key)))
        dropped = self._aliased_terms(frame, t_terms, x_terms, levels, key, skipped)
        imp = " + ".join(c for c in ["b", *t_terms, *[f"{t}:b" for t in t_terms],
                                     *x_terms] if c not in dropped)
        mice_data.set_imputer("y", formula=imp, fit_kwds={"method": "qr"})
        analysis = "y ~ " + " + ".join(["b", *t_terms, *x_terms])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = MICE(analysis, sm.OLS, mice_data,
                              fit_kwds={"method": "qr"}).fit(self.n_burnin, self.n_imputations)
            except (np.linalg.LinAlgError, ValueError) as exc:
                skipped.append(skip_record(self.by, key, "", len(frame), self.min_group_size,
                                           f"{group_label(self.by, key)}: multiple imputation "
                                           f"could not be fitted ({exc})"))
                return None
        names = list(result.model.exog_names) if hasattr(result.model, "exog_names") else (
            ["Intercept", "b", *t_terms, *x_terms])
        table = self._pooled_rows(result, names, levels, len(frame))
        if self.by is not None:
            table.insert(0, self.by, key)
        return table

    def _design(self, data: pd.DataFrame,
                levels: list[str]) -> tuple[pd.DataFrame, list[str], list[str]]:
        """The imputation frame: ``y`` (outcome), ``b`` (baseline), ``t<i>`` (treatment
        indicators), ``x<i>`` (covariate dummies); returns it with the t and x names."""
        cov = usable_covariates(data, self.covariates)
        x = dummy_columns(data, cov)
        x.columns = [f"x{i}" for i in range(x.shape[1])]
        frame = pd.DataFrame({"y": data[self.outcome].astype(float),
                              "b": data[self.baseline].astype(float)}, index=data.index)
        trt = pd.DataFrame({f"t{i}": (data[self.treatment] == lv).astype(float)
                            for i, lv in enumerate(levels)}, index=data.index)
        frame = pd.concat([frame, trt, x], axis=1)
        return frame, list(trt.columns), list(x.columns)

    def _aliased_terms(self, frame: pd.DataFrame, t_terms: list[str], x_terms: list[str],
                       levels: list[str], key: Any, skipped: list[dict[str, Any]]) -> list[str]:
        """Imputation terms collinear with the others (e.g. a treatment x baseline interaction
        when everyone in that arm has the same baseline): left out, each one named."""
        observed = frame.dropna(subset=["y"])
        terms = pd.DataFrame({"Intercept": 1.0, "b": observed["b"],
                              **{t: observed[t] for t in t_terms},
                              **{f"{t}:b": observed[t] * observed["b"] for t in t_terms},
                              **{c: observed[c] for c in x_terms}})
        dropped = aliased_columns(terms, keep=["Intercept", "b", *t_terms])
        words = {f"t{i}:b": f"{self.treatment} {lv!r} x {self.baseline}"
                 for i, lv in enumerate(levels)}
        words.update({f"t{i}": f"{self.treatment} {lv!r}" for i, lv in enumerate(levels)})
        for c in dropped:
            skipped.append(skip_record(self.by, key, "", len(frame), self.min_group_size,
                                       f"{group_label(self.by, key)}: imputation term "
                                       f"{words.get(c, 'covariate column ' + c)!r} "
                                       f"left out (collinear with the others)"))
        return list(dropped)

    def _pooled_rows(self, result: Any, names: list[str], levels: list[str],
                     n: int) -> pd.DataFrame:
        """Rubin-pooled estimate, SE, CI, p and fraction of missing information per arm."""
        params = pd.Series(np.asarray(result.params), index=names)
        bse = pd.Series(np.asarray(result.bse), index=names)
        ci = np.asarray(result.conf_int(alpha=self.alpha))
        pv = np.asarray(result.pvalues)
        rows = []
        for i, lv in enumerate(levels):
            j = names.index(f"t{i}")
            rows.append({"treatment": lv, "reference": self.reference,
                         "estimate": float(params.iloc[j]), "se": float(bse.iloc[j]),
                         "ci_lower": float(ci[j, 0]), "ci_upper": float(ci[j, 1]),
                         "p_value": float(pv[j]), "n": n,
                         "fmi": float(np.asarray(result.frac_miss_info)[j])})
        return pd.DataFrame(rows)
