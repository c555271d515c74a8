"""Outcome models: the researcher's adjusted comparisons, each a thin layer over a library.

Every estimator follows the lifelines/statsmodels pattern: configure in ``__init__``, call
``fit(df)`` (returns ``self``), read ``summary_`` (a tidy DataFrame whose rows carry their own
95% confidence intervals). Column names are parameters, so the same estimators run on the
synthetic cohort, a clinic export and the open trial tables used in the tests.

Libraries doing the statistics (nothing here re-implements them):

* ANCOVA and propensity-weighted outcome models - ``statsmodels`` OLS / WLS
  (Vickers & Altman 2001; Austin 2011);
* repeated measures - ``statsmodels`` GEE (Liang & Zeger 1986) or MixedLM;
* responder analysis - ``statsmodels.stats.proportion`` (Wilson intervals, Newcombe
  risk-difference intervals); MCID after Farrar 2001;
* multinomial propensity score - ``statsmodels`` MNLogit; weighted means/variances for the
  balance table - ``statsmodels.stats.weightstats.DescrStatsW``;
* multiple imputation - ``statsmodels.imputation.mice`` (van Buuren & Groothuis-Oudshoorn 2011);
* Holm adjustment - ``statsmodels.stats.multitest.multipletests`` (Holm 1979);
* Kaplan-Meier - ``lifelines.KaplanMeierFitter`` (Kaplan & Meier 1958; Davidson-Pilon 2019);
* Table 1 - ``tableone``.
"""

from __future__ import annotations

import re
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from patsy import PatsyError
from statsmodels.imputation.mice import MICE, MICEData
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from gluteutils.errors import GluteError
from gluteutils.privacy import label as hidden_label
from gluteutils.privacy import labelled, mask_attr, suppress_small_cells

#: Reference keys for the methods used here (resolve in data/references/*.yaml).
METHOD_REFERENCES: dict[str, str] = {
    "ancova": "vickers2001",
    "gee": "liang1986",
    "mice": "vanbuuren2011",
    "propensity": "austin2011",
    "holm": "holm1979",
    "kaplan_meier": "kaplan1958",
    "lifelines": "davidsonpilon2019",
    "statsmodels": "seabold2010",
    "mcid": "farrar2001",
}

#: Minimal clinically important difference on the NPRS: both criteria must hold.
MCID_POINTS: float = 2.0
MCID_FRACTION: float = 0.30

#: Fewest people a treatment group needs before a model compares it with the others
#: (``expert_judgement``: the same figure as the small-cell threshold of
#: :data:`gluteutils.privacy.POLICY`, so no group too small to publish is ever estimated; a
#: group of 1-2 people also makes robust (HC1) standard errors undefined).
MIN_GROUP_SIZE: int = 5

#: Columns of the ``skipped_`` table every per-group estimator fills.
SKIPPED_COLUMNS: list[str] = ["group", "treatment", "n", "needed", "message"]

SUMMARY_COLUMNS: list[str] = [
    "treatment", "reference", "estimate", "se", "ci_lower", "ci_upper", "p_value", "n",
]


class ModelError(GluteError, ValueError):
    """An analysis cannot be run on the data given (too few rows, a missing column, ...)."""


class NotFittedError(GluteError, RuntimeError):
    """``summary_`` was read before ``fit`` was called."""


# --------------------------------------------------------------------------- helpers


def _require(df: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ModelError(f"the data lack column(s) {missing}; have {list(df.columns)}")


def _term(df: pd.DataFrame, column: str) -> str:
    """Return the formula term for a covariate: categorical -> ``C(col)``, else the name."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return column
    return f"C({column})"


def _usable_covariates(df: pd.DataFrame, covariates: Sequence[str]) -> list[str]:
    """Drop covariates that are constant (or all missing) in ``df``: they carry no information."""
    return [c for c in covariates if df[c].nunique(dropna=True) > 1]


def _prepare(df: pd.DataFrame, columns: Sequence[str], treatment: str) -> pd.DataFrame:
    """Complete cases of ``columns`` with the treatment as plain strings and bools as ints."""
    out = df.loc[:, list(dict.fromkeys(columns))].dropna().copy()
    out[treatment] = out[treatment].astype(str)
    for c in out.columns:
        if pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].astype(int)
        elif isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(str)
    return out


def _dummies(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Numeric design columns for ``columns`` (dummy-coded, constant columns dropped)."""
    if not columns:
        return pd.DataFrame(index=data.index)
    x = data[list(columns)].copy()
    for c in x.columns:
        if pd.api.types.is_bool_dtype(x[c]) or pd.api.types.is_numeric_dtype(x[c]):
            x[c] = x[c].astype(float)
        else:
            x[c] = x[c].astype(str)
    x = pd.get_dummies(x, drop_first=True, dtype=float)
    return x.loc[:, x.std() > 0]


def _design(data: pd.DataFrame, treatment: str, reference: str,
            covariates: Sequence[str]) -> pd.DataFrame:
    """Intercept + treatment dummies (named like patsy's) + covariates (dummy-coded)."""
    prefix = _treatment_term(treatment, reference)
    levels = sorted(set(data[treatment]) - {reference})
    trt = data[treatment].to_numpy()
    parts = [pd.DataFrame({"Intercept": 1.0, **{f"{prefix}[T.{lv}]": (trt == lv).astype(float)
                                                for lv in levels}}, index=data.index)]
    numeric = [c for c in covariates if pd.api.types.is_numeric_dtype(data[c])]
    other = [c for c in covariates if c not in numeric]
    if numeric:
        parts.append(data[numeric].astype(float))
    if other:
        parts.append(_dummies(data, other))
    return pd.concat(parts, axis=1)


def _treatment_term(treatment: str, reference: str) -> str:
    return f"C({treatment}, Treatment(reference={reference!r}))"


def _groups(df: pd.DataFrame, by: str | None) -> list[tuple[Any, pd.DataFrame]]:
    if by is None:
        return [(None, df)]
    return [(k, g) for k, g in df.groupby(by, observed=True, sort=True)]


def _effects_from_fit(result: Any, treatment: str, reference: str, alpha: float
                      ) -> pd.DataFrame:
    """Pick the treatment contrasts (each level vs the reference) out of a statsmodels fit."""
    prefix = _treatment_term(treatment, reference) + "[T."
    ci = result.conf_int(alpha=alpha)
    rows = []
    for name in result.params.index:
        if name.startswith(prefix):
            rows.append({
                "treatment": name[len(prefix):-1],
                "reference": reference,
                "estimate": float(result.params[name]),
                "se": float(result.bse[name]),
                "ci_lower": float(ci.loc[name, 0]),
                "ci_upper": float(ci.loc[name, 1]),
                "p_value": float(result.pvalues[name]),
                "n": int(result.nobs),
            })
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _group_name(by: str | None, key: Any) -> str:
    return "all data" if by is None else f"{by} {key!s}"


def _skip(by: str | None, key: Any, treatment: Any, n: int, needed: int, message: str
          ) -> dict[str, Any]:
    return {"group": _group_name(by, key), "treatment": treatment, "n": int(n),
            "needed": int(needed), "message": message}


def fit_groups_only(data: pd.DataFrame, treatment: str, reference: str, *, by: str | None,
                    key: Any, min_size: int, subject: str | None = None,
                    label: str = "therapy") -> tuple[pd.DataFrame | None, list[dict[str, Any]]]:
    """Keep the treatment groups of one analysis group that are big enough to fit.

    A group with fewer than ``min_size`` people (rows, or distinct ``subject`` values for long
    data) is left out with a message naming it ("condition doms: therapy 'x' has 2 people; at
    least 5 needed to fit"). When the ``reference`` is too small, or fewer than two groups
    remain, nothing is fitted (``None``) and the message says why. Returns ``(data or None,
    messages)``, the messages as rows of :data:`SKIPPED_COLUMNS`.
    """
    where = _group_name(by, key)
    people = (data.groupby(treatment, sort=True)[subject].nunique() if subject
              else data.groupby(treatment, sort=True).size())
    skipped = []
    for level, n in people.items():
        if n < min_size:
            role = " (the reference)" if level == reference else ""
            skipped.append(_skip(by, key, level, int(n), min_size,
                                 f"{where}: {label} {level!r}{role} has {int(n)} "
                                 f"{'person' if n == 1 else 'people'}; at least {min_size} "
                                 f"needed to fit"))
    big = [lv for lv, n in people.items() if n >= min_size]
    if reference not in people.index:
        skipped.append(_skip(by, key, reference, 0, min_size,
                             f"{where}: no one has the reference {label} {reference!r}, so "
                             f"nothing can be compared with it"))
        return None, skipped
    if reference not in big:
        skipped.append(_skip(by, key, "", int(people[reference]), min_size,
                             f"{where}: not analysed, its reference group is too small"))
        return None, skipped
    if len(big) < 2:
        if len(people) > 1:
            skipped.append(_skip(by, key, "", len(data), min_size,
                                 f"{where}: not analysed, no {label} other than the "
                                 f"reference has at least {min_size} people"))
        else:
            skipped.append(_skip(by, key, "", len(data), min_size,
                                 f"{where}: not analysed, every person has the reference "
                                 f"{label} {reference!r}"))
        return None, skipped
    return data[data[treatment].isin(big)], skipped


def aliased_columns(x: pd.DataFrame, keep: Sequence[str] = ()) -> list[str]:
    """Design columns that are linear combinations of the columns before them (exact
    collinearity; numpy ``matrix_rank`` with its default SVD tolerance). ``keep`` columns are
    taken first, so a covariate, not the treatment, is named as the aliased one."""
    values = x.to_numpy(dtype=float)
    if values.size == 0 or np.linalg.matrix_rank(values) == x.shape[1]:
        return []
    order = [c for c in keep if c in x.columns] + [c for c in x.columns if c not in keep]
    taken: list[str] = []
    aliased: list[str] = []
    for c in order:
        trial = x[[*taken, c]].to_numpy(dtype=float)
        if np.linalg.matrix_rank(trial) > len(taken):
            taken.append(c)
        else:
            aliased.append(c)
    return aliased


def _stack_or_error(parts: list[pd.DataFrame], skipped: list[dict[str, Any]],
                    what: str) -> pd.DataFrame:
    """The per-group tables as one; when none was fitted a :class:`ModelError` that lists why
    each group was left out."""
    if parts:
        return pd.concat(parts, ignore_index=True)
    reasons = "; ".join(r["message"] for r in skipped) or "there are no rows"
    raise ModelError(f"{what}: no group could be fitted ({reasons})")


class _Estimator:
    """Shared ``summary_`` / ``fitted`` / ``skipped_`` plumbing."""

    _summary: pd.DataFrame | None = None
    _skipped: list[dict[str, Any]] | None = None

    @property
    def skipped_(self) -> pd.DataFrame:
        """Groups (or treatment levels within a group) left out of the fit and why, one row
        each (:data:`SKIPPED_COLUMNS`); empty when everything was fitted."""
        return pd.DataFrame(self._skipped or [], columns=SKIPPED_COLUMNS)

    @property
    def summary_(self) -> pd.DataFrame:
        """The fitted results as a tidy DataFrame (raises :class:`NotFittedError` before fit)."""
        if self._summary is None:
            raise NotFittedError(f"{type(self).__name__}.fit() has not been called")
        return self._summary.copy()

    @property
    def fitted(self) -> bool:
        return self._summary is not None


# --------------------------------------------------------------------------- ANCOVA


@dataclass
class _AdjustedEstimator(_Estimator):
    """The columns an adjusted comparison reads (named by keyword): outcome, baseline,
    treatment and its reference level, covariates, and an optional ``by`` grouping."""

    outcome: str
    baseline: str
    treatment: str
    reference: str
    covariates: Sequence[str] = ()
    by: str | None = None


@dataclass
class ANCOVA(_AdjustedEstimator):
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
        return _design(data, self.treatment, self.reference,
                       [self.baseline, *_usable_covariates(data, self.covariates)])

    def fit(self, df: pd.DataFrame) -> ANCOVA:
        """Fit one model per group. Treatment groups smaller than ``min_group_size`` are left
        out, and a covariate exactly collinear with the rest is dropped from that group's
        model; both are listed in ``skipped_`` (see :func:`fit_groups_only`). Raises
        :class:`ModelError` only when no group could be fitted at all."""
        cols = [self.outcome, self.baseline, self.treatment, *self.covariates]
        _require(df, cols + ([self.by] if self.by else []))
        parts = []
        skipped: list[dict[str, Any]] = []
        self.results_ = {}
        for key, group in _groups(df, self.by):
            data, notes = fit_groups_only(_prepare(group, cols, self.treatment),
                                          self.treatment, self.reference, by=self.by, key=key,
                                          min_size=self.min_group_size)
            skipped += notes
            if data is None:
                continue
            x = self.design(data)
            fixed = [c for c in x.columns if c == "Intercept" or c.startswith("C(")]
            aliased = aliased_columns(x, keep=[*fixed, self.baseline])
            bad = [c for c in aliased if c in fixed or c == self.baseline]
            if bad:
                skipped.append(_skip(self.by, key, "", len(data), self.min_group_size,
                                     f"{_group_name(self.by, key)}: not analysed, the "
                                     f"treatment or baseline is collinear ({', '.join(bad)})"))
                continue
            for c in aliased:
                skipped.append(_skip(self.by, key, "", len(data), self.min_group_size,
                                     f"{_group_name(self.by, key)}: covariate column {c!r} "
                                     f"left out of the model (collinear with the others)"))
            x = x.drop(columns=aliased)
            try:
                result = sm.OLS(data[self.outcome].astype(float), x).fit(
                    method="qr", cov_type=self.cov_type)
            except (np.linalg.LinAlgError, ValueError) as exc:
                skipped.append(_skip(self.by, key, "", len(data), self.min_group_size,
                                     f"{_group_name(self.by, key)}: the model could not be "
                                     f"fitted ({exc})"))
                continue
            self.results_[key] = result
            table = _effects_from_fit(result, self.treatment, self.reference, self.alpha)
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
        prefix = _treatment_term(self.treatment, self.reference) + "[T."
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


# --------------------------------------------------------------------------- repeated measures


@dataclass
class RepeatedMeasures(_Estimator):
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
        trt = _treatment_term(self.treatment, self.reference)
        rhs = f"{trt} * C({self.time})" if self.interaction else f"{trt} + C({self.time})"
        extra = ([self.baseline] if self.baseline else [])
        extra += [_term(df, c) for c in _usable_covariates(df, self.covariates)]
        return f"{self.outcome} ~ " + " + ".join([rhs, *extra])

    def fit(self, df: pd.DataFrame) -> RepeatedMeasures:
        cols = [self.outcome, self.treatment, self.time, self.subject, *self.covariates]
        if self.baseline:
            cols.append(self.baseline)
        _require(df, cols)
        data = _prepare(df, cols, self.treatment).sort_values([self.subject, self.time])
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
        prefix = _treatment_term(self.treatment, self.reference) + "[T."
        levels = [n[len(prefix):-1] for n in names if n.startswith(prefix) and ":" not in n]
        times = sorted(data[self.time].unique())
        rows = []
        n_subjects = int(data[self.subject].nunique())
        for level in levels:
            main = f"{prefix}{level}]"
            targets: list[tuple[Any, np.ndarray]] = []
            if self.interaction:
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
            else:
                c = np.zeros(len(names))
                c[names.index(main)] = 1.0
                targets.append(("all", c))
            for t, c in targets:
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


# --------------------------------------------------------------------------- responders


def responders(baseline: pd.Series | np.ndarray, follow_up: pd.Series | np.ndarray,
               points: float = MCID_POINTS, fraction: float = MCID_FRACTION) -> np.ndarray:
    """Return True where pain fell by at least ``points`` AND by at least ``fraction``.

    NPRS MCID after Farrar 2001 (2 points and 30%). Missing follow-up gives False; callers
    decide whether to drop those rows first (the responder analysis does). Baselines below
    ``points`` can never respond - this is intended (they cannot drop 2 points).
    """
    b = np.asarray(baseline, dtype=float)
    f = np.asarray(follow_up, dtype=float)
    drop = b - f
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (drop >= points) & (drop >= fraction * b - 1e-12) & (b > 0)
    return np.asarray(ok & ~np.isnan(f) & ~np.isnan(b))


def nnt_interval(rd: float, lo: float, hi: float) -> tuple[float, float, float]:
    """Number needed to treat from a risk difference and its CI (Altman 1998 convention).

    Returns ``(nnt, nnt_lower, nnt_upper)`` = ``(1/rd, 1/hi, 1/lo)``; a positive NNT is a
    number needed to treat for one more good outcome (NNTB), a negative one for one more
    bad outcome (NNTH, its absolute value). When the RD interval excludes 0 the two bounds
    have the same sign and ``nnt_lower <= nnt_upper``. When it spans 0 (Altman 1998) the
    confidence set runs from the NNTB bound ``1/hi`` through infinity to the NNTH bound
    ``1/|lo|``: then ``nnt_lower = 1/hi > 0`` and ``nnt_upper = 1/lo < 0`` (write it with
    :func:`nnt_text`, e.g. "NNTB 12 to inf to NNTH 40"). A bound at exactly 0 is infinite;
    RD = 0 gives NNT = inf.
    """

    def inv(v: float) -> float:
        return float("inf") if v == 0 else 1.0 / v

    return inv(rd), inv(hi), inv(lo)


def nnt_text(rd: float, lo: float, hi: float, digits: int = 1) -> str:
    """The NNT and its 95% CI in words, Altman 1998 style (positive RD = benefit).

    ``"NNTB 7.9 (95% CI NNTB 4.5 to 32.8)"`` when the RD interval excludes 0,
    ``"NNTB 9.0 (95% CI NNTB 4.3 to inf to NNTH 85.9)"`` when it spans 0.
    """

    def word(v: float) -> str:
        if not np.isfinite(v):
            return "inf"
        return f"{'NNTB' if v > 0 else 'NNTH'} {abs(v):.{digits}f}"

    nnt, b_lo, b_hi = nnt_interval(rd, lo, hi)
    if lo > 0 or hi < 0:
        first, second = sorted((abs(b_lo), abs(b_hi)))
        label = "NNTB" if lo > 0 else "NNTH"
        return f"{word(nnt)} (95% CI {label} {first:.{digits}f} to {second:.{digits}f})"
    return f"{word(nnt)} (95% CI {word(b_lo)} to inf to {word(b_hi)})"


@dataclass
class ResponderAnalysis(_Estimator):
    """Responder rates vs the MCID, risk differences vs the reference and NNT.

    ``summary_`` has one row per (group, treatment): ``n``, ``responders``, ``rate`` with a
    Wilson 95% CI, and for non-reference levels the risk difference vs the reference with a
    Newcombe (score) 95% CI from ``confint_proportions_2indep`` and the NNT with its CI
    (:func:`nnt_interval`; ``nnt_ci`` in words, :func:`nnt_text`). Rows with a
    missing follow-up are excluded (complete case).
    """

    baseline: str
    follow_up: str
    treatment: str
    reference: str
    by: str | None = None
    points: float = MCID_POINTS
    fraction: float = MCID_FRACTION
    alpha: float = 0.05
    rd_method: str = "newcomb"
    flag: str | None = None

    def fit(self, df: pd.DataFrame) -> ResponderAnalysis:
        """Count responders per group. With ``flag`` (a boolean column, e.g. from
        :func:`gluteutils.outcomes.instruments.responder` for the instrument's own MCID and
        direction) that column says who responded; else the NPRS rule :func:`responders`."""
        _require(df, [self.baseline, self.follow_up, self.treatment]
                 + ([self.by] if self.by else []) + ([self.flag] if self.flag else []))
        data = df.dropna(subset=[self.baseline, self.follow_up]).copy()
        data["_responder"] = (data[self.flag].astype(bool).to_numpy() if self.flag else
                              responders(data[self.baseline], data[self.follow_up],
                                         self.points, self.fraction))
        data[self.treatment] = data[self.treatment].astype(str)
        rows = []
        for key, group in _groups(data, self.by):
            counts = group.groupby(self.treatment)["_responder"].agg(["size", "sum"])
            if self.reference not in counts.index:
                continue
            ref_n = int(counts.at[self.reference, "size"])  # type: ignore[arg-type]
            ref_x = int(counts.at[self.reference, "sum"])  # type: ignore[arg-type]
            for level, (n, x) in counts.iterrows():
                n, x = int(n), int(x)
                lo, hi = proportion_confint(x, n, alpha=self.alpha, method="wilson")
                row: dict[str, Any] = {"treatment": level, "reference": self.reference,
                                       "n": n, "responders": x, "rate": x / n,
                                       "rate_lower": float(lo), "rate_upper": float(hi),
                                       "risk_difference": np.nan, "rd_lower": np.nan,
                                       "rd_upper": np.nan, "nnt": np.nan,
                                       "nnt_lower": np.nan, "nnt_upper": np.nan,
                                       "nnt_ci": ""}
                if level != self.reference:
                    rd = x / n - ref_x / ref_n
                    rlo, rhi = confint_proportions_2indep(x, n, ref_x, ref_n, compare="diff",
                                                          method=self.rd_method,
                                                          alpha=self.alpha)
                    nnt, nlo, nhi = nnt_interval(rd, float(rlo), float(rhi))
                    row.update(risk_difference=rd, rd_lower=float(rlo), rd_upper=float(rhi),
                               nnt=nnt, nnt_lower=nlo, nnt_upper=nhi,
                               nnt_ci=nnt_text(rd, float(rlo), float(rhi)))
                if self.by is not None:
                    row = {self.by: key, **row}
                rows.append(row)
        if not rows:
            raise ModelError("no group contains the reference level")
        self._summary = pd.DataFrame(rows)
        return self

    def published(self, threshold: int = 5) -> pd.DataFrame:
        """``summary_`` for display (:func:`published_responders`)."""
        return published_responders(self.summary_, self.reference, by=self.by,
                                    threshold=threshold)


def published_responders(table: pd.DataFrame, reference: str, *, by: str | None = None,
                         threshold: int = 5) -> pd.DataFrame:
    """A :class:`ResponderAnalysis` summary for display: ``responders`` and ``n`` small-cell
    suppressed (:func:`suppress_counts`, the non-responders included), per ``by`` group;
    rates, risk differences and NNT of a row with a hidden count are blanked, and all risk
    differences and NNTs of a group whose reference row has a hidden count (they would give
    it back). ``result.attrs["suppressed"]``: per row (responders, non-responders, n)."""
    derived = [c for c in table.columns if c not in ("treatment", "reference", "n",
                                                     "responders", by)]
    keys = table[by] if by is not None else pd.Series(0, index=table.index)
    parts, masks = [], []
    for _, g in table.groupby(keys, sort=False, observed=True):
        part = suppress_counts(g, "responders", "n", derived=derived, threshold=threshold)
        masks.append(pd.DataFrame(part.attrs.pop("suppressed"), index=g.index))
        parts.append(part)
    out = pd.concat(parts).loc[table.index]
    mask = pd.concat(masks).loc[table.index]
    comparison = [c for c in derived if c.startswith(("risk_difference", "rd_", "nnt"))]
    for _, g in out.groupby(keys, sort=False, observed=True):
        ref = g.index[g["treatment"] == reference]
        if mask.loc[ref].to_numpy().any():
            out.loc[g.index, comparison] = np.nan
    out.attrs["suppressed"] = mask_attr(mask)
    return out


# --------------------------------------------------------------------------- propensity


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
class PropensityWeighting(_Estimator):
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
        cov = _usable_covariates(data, self.covariates)
        if self.baseline:
            cov = [self.baseline, *cov]
        return _dummies(data, cov)

    def fit(self, df: pd.DataFrame) -> PropensityWeighting:
        cols = [self.outcome, self.treatment, *self.covariates]
        if self.baseline:
            cols.append(self.baseline)
        _require(df, cols + ([self.by] if self.by else []))
        parts, balance, all_w = [], [], []
        skipped: list[dict[str, Any]] = []
        self.converged_ = {}
        for key, group in _groups(df, self.by):
            kept, notes = fit_groups_only(_prepare(group, cols, self.treatment),
                                          self.treatment, self.reference, by=self.by, key=key,
                                          min_size=self.min_group_size)
            skipped += notes
            if kept is None:
                continue
            data = kept
            x = self._design(data)
            levels = [self.reference] + sorted(set(data[self.treatment]) - {self.reference})
            codes = pd.Categorical(data[self.treatment], categories=levels).codes
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ps_model = sm.MNLogit(codes, sm.add_constant(x, has_constant="add")).fit(
                    disp=False, method="bfgs", maxiter=500)
            converged = bool(getattr(ps_model, "mle_retvals", {}).get("converged", False))
            self.converged_[key] = converged
            if not converged:
                warnings.warn(f"the propensity model (MNLogit) did not converge"
                              f"{'' if key is None else f' for {self.by} = {key}'}: the "
                              f"weights and the weighted estimate are unreliable",
                              RuntimeWarning, stacklevel=2)
            probs = np.asarray(ps_model.predict(sm.add_constant(x, has_constant="add")))
            p_own = probs[np.arange(len(codes)), codes]
            marginal = np.bincount(codes, minlength=len(levels)) / len(codes)
            w = marginal[codes] / p_own
            lo, hi = np.quantile(w, self.truncate)
            w = np.clip(w, lo, hi)
            data = data.assign(_w=w)
            all_w.append(pd.Series(w, index=data.index))
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
                    balance.append(row)
            rhs = _treatment_term(self.treatment, self.reference)
            if self.baseline:
                rhs += f" + {self.baseline}"
            if self.doubly_robust:
                rhs += "".join(f" + {_term(data, c)}"
                               for c in _usable_covariates(data, self.covariates))
            result = smf.wls(f"{self.outcome} ~ {rhs}", data, weights=data["_w"]).fit(
                cov_type="HC0")
            table = _effects_from_fit(result, self.treatment, self.reference, self.alpha)
            table["ps_converged"] = converged
            if self.by is not None:
                table.insert(0, self.by, key)
            parts.append(table)
        self._skipped = skipped
        self._summary = _stack_or_error(parts, skipped, "propensity weighting")
        self.balance_ = pd.DataFrame(balance)
        self.weights_ = pd.concat(all_w)
        return self


# --------------------------------------------------------------------------- MICE


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
class MultipleImputation(_AdjustedEstimator):
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
        _require(df, cols + ([self.by] if self.by else []))
        parts = []
        skipped: list[dict[str, Any]] = []
        for key, group in _groups(df, self.by):
            data = group.loc[:, cols].dropna(subset=[c for c in cols if c != self.outcome])
            data = data.assign(**{self.treatment: data[self.treatment].astype(str)})
            # group sizes count the people with an observed outcome (the imputation model's)
            kept, notes = fit_groups_only(data.dropna(subset=[self.outcome]), self.treatment,
                                          self.reference, by=self.by, key=key,
                                          min_size=self.min_group_size)
            skipped += notes
            if kept is None:
                continue
            data = data[data[self.treatment].isin(set(kept[self.treatment]))]
            levels = sorted(set(data[self.treatment]) - {self.reference})
            cov = _usable_covariates(data, self.covariates)
            x = _dummies(data, cov)
            x.columns = [f"x{i}" for i in range(x.shape[1])]
            frame = pd.DataFrame({"y": data[self.outcome].astype(float),
                                  "b": data[self.baseline].astype(float)}, index=data.index)
            trt = pd.DataFrame({f"t{i}": (data[self.treatment] == lv).astype(float)
                                for i, lv in enumerate(levels)}, index=data.index)
            frame = pd.concat([frame, trt, x], axis=1)
            t_terms = list(trt.columns)
            x_terms = list(x.columns)
            mice_data = StableMICEData(
                frame, rng=np.random.default_rng(group_seed(self.seed, key)))
            # an imputation term collinear with the others (e.g. a treatment x baseline
            # interaction when everyone in that arm has the same baseline) is left out
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
                skipped.append(_skip(self.by, key, "", len(frame), self.min_group_size,
                                     f"{_group_name(self.by, key)}: imputation term "
                                     f"{words.get(c, 'covariate column ' + c)!r} "
                                     f"left out (collinear with the others)"))
            imp = " + ".join(c for c in ["b", *t_terms, *[f"{t}:b" for t in t_terms],
                                         *x_terms] if c not in dropped)
            mice_data.set_imputer("y", formula=imp, fit_kwds={"method": "qr"})
            analysis = "y ~ " + " + ".join(["b", *t_terms, *x_terms])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    result = MICE(analysis, sm.OLS, mice_data,
                                  fit_kwds={"method": "qr"}).fit(self.n_burnin,
                                                                   self.n_imputations)
                except (np.linalg.LinAlgError, ValueError) as exc:
                    skipped.append(_skip(self.by, key, "", len(frame), self.min_group_size,
                                         f"{_group_name(self.by, key)}: multiple imputation "
                                         f"could not be fitted ({exc})"))
                    continue
            names = list(result.model.exog_names) if hasattr(result.model, "exog_names") else (
                ["Intercept", "b", *t_terms, *x_terms])
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
                             "p_value": float(pv[j]), "n": len(frame),
                             "fmi": float(np.asarray(result.frac_miss_info)[j])})
            table = pd.DataFrame(rows)
            if self.by is not None:
                table.insert(0, self.by, key)
            parts.append(table)
        self._skipped = skipped
        self._summary = _stack_or_error(parts, skipped, "multiple imputation")
        return self


# --------------------------------------------------------------------------- Kaplan-Meier


@dataclass
class TimeToRecovery(_Estimator):
    """Kaplan-Meier curves of time to recovery per treatment (``lifelines``).

    Input: one row per subject with ``duration`` (day of recovery or of last visit) and
    ``event`` (True = recovered). ``summary_`` has ``treatment, n, events, median`` (median
    time to recovery; ``inf`` when not reached) and ``curves_`` the tidy curves
    (``treatment, time, recovered, lower, upper`` where ``recovered`` = 1 - survival).
    Visit data give interval-censored recovery; treating the visit day as the event time biases
    towards later recovery (see EVIDENCE.md section 3) - the explorer says so.
    """

    duration: str
    event: str
    treatment: str
    curves_: pd.DataFrame | None = field(default=None, repr=False)
    fitters_: dict[str, Any] = field(default_factory=dict, repr=False)

    def fit(self, df: pd.DataFrame) -> TimeToRecovery:
        from lifelines import KaplanMeierFitter

        _require(df, [self.duration, self.event, self.treatment])
        rows, curves = [], []
        self.fitters_ = {}
        for level, group in df.groupby(self.treatment, observed=True, sort=True):
            kmf = KaplanMeierFitter().fit(group[self.duration], group[self.event].astype(bool),
                                          label=str(level))
            self.fitters_[str(level)] = kmf
            sf = kmf.survival_function_.iloc[:, 0]
            ci = kmf.confidence_interval_survival_function_
            curves.append(pd.DataFrame({
                "treatment": str(level), "time": sf.index.to_numpy(dtype=float),
                "recovered": 1.0 - sf.to_numpy(), "lower": 1.0 - ci.iloc[:, 1].to_numpy(),
                "upper": 1.0 - ci.iloc[:, 0].to_numpy()}))
            rows.append({"treatment": str(level), "n": len(group),
                         "events": int(group[self.event].astype(bool).sum()),
                         "median": float(kmf.median_survival_time_)})
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


# --------------------------------------------------------------------------- Table 1


def table_one(df: pd.DataFrame, columns: Sequence[str], groupby: str,
              categorical: Sequence[str] | None = None) -> pd.DataFrame:
    """Table 1 by ``groupby`` with ``tableone`` (no p-values: descriptive only).

    Returns the TableOne ``tableone`` DataFrame. Small-cell suppression is the caller's job
    (:func:`gluteutils.outcomes.models.suppress_table_one`).
    """
    from tableone import TableOne

    _require(df, [*columns, groupby])
    data = df.loc[:, [*columns, groupby]].copy()
    for c in data.columns:
        if pd.api.types.is_bool_dtype(data[c]):
            data[c] = data[c].map({True: "yes", False: "no"})
        elif isinstance(data[c].dtype, pd.CategoricalDtype):
            data[c] = data[c].cat.remove_unused_categories()
    if categorical is None:
        categorical = [c for c in columns if not pd.api.types.is_numeric_dtype(data[c])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = TableOne(data, columns=list(columns), categorical=list(categorical),
                         groupby=groupby, pval=False, missing=True, overall=True)
    return table.tableone


_COUNT_CELL = re.compile(r"^\s*(\d+)\s*(\(|$)")


def _cell_count(value: object) -> int | None:
    """The count at the start of a Table 1 cell (``"12 (3.4)"`` or ``"12"``), else None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        m = _COUNT_CELL.match(value)
        if m:
            return int(m.group(1))
    return None


def suppress_table_one(table: pd.DataFrame, threshold: int = 5, *,
                       marker: str = "n.p.") -> tuple[pd.DataFrame, int]:
    """Small-cell suppression of a ``tableone`` Table 1 so no hidden count can be derived.

    For every categorical variable the level counts form a table (levels x groups + Overall)
    whose rows add up to the Overall column and whose columns add up to the published ``n``;
    it goes through :func:`gluteutils.privacy.suppress_small_cells` (primary suppression of
    counts 1..threshold-1 and complementary suppression along rows and columns, Overall
    included). The ``n`` row gets the same treatment (a group with a hidden ``n`` is hidden
    entirely); a small ``Missing`` count is hidden, and for a categorical variable its whole
    block with it. Counts 1..threshold-1 show as ``"<threshold"``, complementary cells as
    ``marker``. Returns the suppressed table and how many cells were hidden
    (``result.attrs["suppressed"]`` is the boolean mask as nested tuples, one per row).
    """
    cols = list(table.columns)
    one_label = [False]  # a block published with one label for every hidden cell

    def label(c: Any) -> str:
        return str(c[-1]) if isinstance(c, tuple) else str(c)

    missing_col = next((c for c in cols if label(c) == "Missing"), None)
    overall_col = next((c for c in cols if label(c) == "Overall"), None)
    groups = [c for c in cols if c not in (missing_col, overall_col)]
    count_cols = groups + ([overall_col] if overall_col is not None else [])
    hide = pd.DataFrame(False, index=table.index, columns=table.columns)
    variables = table.index.get_level_values(0) if isinstance(table.index, pd.MultiIndex) \
        else pd.Index([str(i) for i in table.index])

    def suppress_block(rows: np.ndarray) -> None:
        block = table.loc[rows, count_cols]
        values = block.map(_cell_count)
        if values.isna().any().any():
            hide.loc[rows, count_cols] = True  # unreadable counts: hide rather than guess
            return
        k = len(count_cols) - 1 if overall_col is not None else None
        masked = suppress_small_cells(values.astype("int64"), threshold,
                                      total_column=count_cols[k] if k is not None else None)
        hide.loc[rows, count_cols] = masked.attrs["suppressed"].to_numpy()
        one_label[0] |= not masked.attrs["two_labels"]

    for var in pd.unique(variables):
        rows = np.asarray(variables == var)
        name = str(var)
        categorical = name.endswith("n (%)")
        if name == "n" or categorical:
            suppress_block(rows)
        if missing_col is not None:
            first = np.flatnonzero(rows)[0]
            m = _cell_count(table.iloc[first][missing_col])
            if m is not None and 0 < m < threshold:
                hide.iloc[first, cols.index(missing_col)] = True
                if categorical:
                    hide.loc[rows, count_cols] = True
        if name == "n":
            for c in groups:
                if hide.loc[rows, c].any():
                    hide[c] = True
    out = table.astype(object).copy()
    thr = 1 if one_label[0] else threshold  # thr 1: every hidden cell shows ``marker``
    for i in range(len(table)):
        for j in range(len(cols)):
            if hide.iat[i, j]:
                out.iat[i, j] = hidden_label(_cell_count(table.iat[i, j]), thr, marker)
    out.attrs["suppressed"] = mask_attr(hide)
    return out, int(hide.to_numpy().sum())


def suppress_counts(table: pd.DataFrame, count: str, total: str, *,
                    derived: Sequence[str] = (), threshold: int = 5,
                    marker: str = "n.p.") -> pd.DataFrame:
    """A display copy of a table whose rows report ``count`` events out of ``total``.

    The cells ``count``, ``total - count`` (the complement, not shown but derivable) and
    ``total`` of every row go through :func:`gluteutils.privacy.suppress_small_cells`
    (counts 1..threshold-1 hidden, complementary cells along rows and down columns).
    Hidden counts show as ``"<threshold"`` when they are small themselves and as ``marker``
    otherwise; in a row with any hidden cell the ``derived`` columns (rates, their CIs, risk
    differences - each would give the count back) become missing. The input is unchanged;
    ``result.attrs["suppressed"]`` holds, per row, whether (count, total - count, total) are
    hidden.
    """
    x = table[count].astype("int64").to_numpy()
    n = table[total].astype("int64").to_numpy()
    wide = pd.DataFrame({"count": x, "rest": n - x, "total": n}, index=range(len(table)))
    masked = suppress_small_cells(wide, threshold, total_column="total")
    mask = masked.attrs["suppressed"]
    thr = threshold if masked.attrs["two_labels"] else 1
    out = table.copy()
    for col, key, values in ((count, "count", x), (total, "total", n)):
        out[col] = pd.Series(labelled(values, mask[key].to_numpy(), thr, marker),
                             index=out.index, dtype=object)
    any_hidden = mask.any(axis=1).to_numpy()
    for col in derived:
        if col in out.columns:
            out[col] = out[col].where(~any_hidden)
    out.attrs["suppressed"] = mask_attr(mask[["count", "rest", "total"]])
    return out


# --------------------------------------------------------------------------- the glute cohort

#: Case-mix covariates of the primary estimand (shared data model).
CASE_MIX: tuple[str, ...] = (
    "age_band", "sex", "symptom_duration_weeks", "leg_pain_below_knee", "numbness_tingling",
    "leg_weakness", "sitting_intolerance", "new_exercise_72h", "pain_lying_on_side",
)


def analysis_frame(episodes: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    """One row per episode: the episode columns plus baseline and review pain/function.

    Adds ``baseline_pain``, ``review_pain`` (missing when the episode has no ``review`` row:
    lost to follow-up for the primary outcome), ``review_day``, ``baseline_lefs``,
    ``review_lefs``. Categorical columns keep their categories.
    """
    _require(visits, ["episode_id", "visit_type", "visit_day", "pain_nprs"])
    _require(episodes, ["episode_id", "condition", "therapy"])
    vtype = visits["visit_type"].astype(str)
    base = visits.loc[vtype == "baseline"].drop_duplicates("episode_id").set_index("episode_id")
    rev = (visits.loc[vtype == "review"].sort_values("visit_day")
           .drop_duplicates("episode_id", keep="last").set_index("episode_id"))
    out = episodes.set_index("episode_id", drop=False).copy()
    out["baseline_pain"] = base["pain_nprs"].astype(float).reindex(out.index)
    out["review_pain"] = rev["pain_nprs"].astype(float).reindex(out.index)
    out["review_day"] = rev["visit_day"].astype(float).reindex(out.index)
    if "function_lefs" in visits.columns:
        out["baseline_lefs"] = base["function_lefs"].astype(float).reindex(out.index)
        out["review_lefs"] = rev["function_lefs"].astype(float).reindex(out.index)
    return out.reset_index(drop=True)


def primary_analysis(frame: pd.DataFrame, *, reference: str = "home_self_care",
                     covariates: Sequence[str] = CASE_MIX, alpha: float = 0.05,
                     cov_type: str = "HC1") -> ANCOVA:
    """The pre-specified primary comparison: ANCOVA of review pain per condition.

    ``review_pain ~ therapy + baseline_pain + case mix``, one model per condition, complete
    cases (episodes with a review visit), heteroscedasticity-robust (HC1) standard errors:
    0-10 pain scores have a variance that depends on their mean, so groups with lower pain have
    smaller spread. Returns the fitted :class:`ANCOVA`.
    """
    covs = [c for c in covariates if c in frame.columns]
    return ANCOVA("review_pain", "baseline_pain", "therapy", reference, covariates=covs,
                  by="condition", alpha=alpha, cov_type=cov_type).fit(frame)


def calibration_check(summary: pd.DataFrame, truth: pd.DataFrame,
                      estimate: str = "estimate") -> pd.DataFrame:
    """Join estimated effects to the generator's true effects and flag CI coverage.

    ``summary``: rows ``condition, treatment, estimate, ci_lower, ci_upper`` (e.g.
    ``primary_analysis(...).summary_``); ``truth``: ``condition, therapy, effect``
    (``cohort.true_effects()``). Returns one row per estimated effect with ``true_effect``,
    ``bias`` and ``covered``.
    """
    t = truth.rename(columns={"therapy": "treatment", "effect": "true_effect"})
    t = t.assign(condition=t["condition"].astype(str), treatment=t["treatment"].astype(str))
    s = summary.assign(condition=summary["condition"].astype(str))
    out = s.merge(t[["condition", "treatment", "true_effect"]], on=["condition", "treatment"],
                  how="inner")
    out["bias"] = out[estimate] - out["true_effect"]
    out["covered"] = (out["ci_lower"] <= out["true_effect"]) & (
        out["true_effect"] <= out["ci_upper"])
    return out


# --------------------------------------------------------------------------- notebook helpers

TABLE_ONE_COLUMNS: tuple[str, ...] = (
    "age_band", "sex", "symptom_duration_weeks", "baseline_pain", "leg_pain_below_knee",
    "numbness_tingling", "leg_weakness", "sitting_intolerance", "new_exercise_72h",
    "pain_lying_on_side",
)


def table_one_by_therapy(frame: pd.DataFrame, condition: str | None = None,
                         threshold: int = 5) -> tuple[pd.DataFrame, int]:
    """Suppressed Table 1 by therapy (optionally for one condition): ``(table, n_hidden)``."""
    data = frame if condition is None else frame[frame["condition"].astype(str) == condition]
    cols = [c for c in TABLE_ONE_COLUMNS if c in data.columns]
    data = data.assign(therapy=data["therapy"].astype(str))
    return suppress_table_one(table_one(data, cols, "therapy"), threshold=threshold)


def visit_frame(episodes: pd.DataFrame, visits: pd.DataFrame, *, time_bins: str = "cohort",
                covariates: Sequence[str] = CASE_MIX) -> pd.DataFrame:
    """Post-baseline visits joined to episode case mix and baseline pain, with ``time_bin``.

    ``time_bins="cohort"`` (the glute cohort's schedule): the visit day for DOMS and the
    fortnight (``visit_day // 14``) otherwise, capped at the review window, so GEE's time
    effects stay few and well populated. ``time_bins="visit_day"``: every distinct visit day
    is its own time point (a trial's own schedule, nothing merged: 3- and 12-month visits stay
    apart). ``covariates`` are the episode columns carried along.
    """
    if time_bins not in ("cohort", "visit_day"):
        raise ModelError(f"time_bins must be 'cohort' or 'visit_day', not {time_bins!r}")
    frame = analysis_frame(episodes, visits)
    keep = list(dict.fromkeys(["episode_id", "condition", "therapy", "baseline_pain",
                               *[c for c in covariates if c in frame.columns]]))
    v = visits.loc[visits["visit_type"].astype(str) != "baseline",
                   ["episode_id", "visit_day", "pain_nprs"]]
    out = v.merge(frame[keep], on="episode_id", how="inner")
    if time_bins == "visit_day":
        out["time_bin"] = out["visit_day"].astype(int)
    else:
        doms = out["condition"].astype(str) == "doms"
        out["time_bin"] = np.where(doms, np.minimum(out["visit_day"], 9),
                                   np.minimum(out["visit_day"] // 14, 4)).astype(int)
    out["pain_nprs"] = out["pain_nprs"].astype(float)
    return out


def repeated_measures_by_condition(long: pd.DataFrame, reference: str = "home_self_care",
                                   covariates: Sequence[str] = CASE_MIX, *,
                                   outcome: str = "pain_nprs", baseline: str = "baseline_pain",
                                   min_group_size: int = 1,
                                   skipped: list[dict[str, Any]] | None = None
                                   ) -> pd.DataFrame:
    """GEE (exchangeable) of pain over all post-baseline visits, per condition.

    ``pain ~ therapy + C(time_bin) + baseline pain + case mix``; the therapy coefficient is the
    adjusted difference averaged over follow-up visits (robust SEs; Liang & Zeger 1986).
    Covariates absent from ``long`` or missing for everyone are not used. Therapy groups with
    fewer than ``min_group_size`` people and conditions that cannot be fitted are left out;
    why is appended to ``skipped`` (rows of :data:`SKIPPED_COLUMNS`) when a list is given.
    Raises :class:`ModelError` when no condition can be fitted.
    """
    _require(long, ["condition", "therapy", "time_bin", "episode_id", outcome, baseline])
    notes: list[dict[str, Any]] = []
    parts = []
    for cond, g in long.groupby("condition", observed=True, sort=True):
        g = g.assign(therapy=g["therapy"].astype(str))
        covs = [c for c in covariates if c in g.columns and g[c].notna().any()]
        complete = g.dropna(subset=[outcome, baseline, *covs])
        data, why = fit_groups_only(complete, "therapy", reference, by="condition", key=cond,
                                    min_size=min_group_size, subject="episode_id")
        notes += why
        if data is None:
            continue
        try:
            fit = RepeatedMeasures(outcome, "therapy", reference, "time_bin", "episode_id",
                                   baseline=baseline, covariates=covs,
                                   interaction=False).fit(data)
        except ModelError as exc:
            notes.append(_skip("condition", cond, "", len(data), min_group_size,
                               f"condition {cond!s}: {exc}"))
            continue
        parts.append(fit.summary_.drop(columns="time").assign(condition=str(cond)))
    if skipped is not None:
        skipped.extend(notes)
    out = _stack_or_error(parts, notes, "repeated measures (GEE)")
    return out[["condition", *[c for c in out.columns if c != "condition"]]]


def compare_methods(frame: pd.DataFrame, *, reference: str = "home_self_care",
                    n_imputations: int = 20, seed: int = 0,
                    covariates: Sequence[str] = CASE_MIX, outcome: str = "review_pain",
                    baseline: str = "baseline_pain", cov_type: str = "HC1",
                    min_group_size: int = 1,
                    skipped: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """The primary estimate next to its sensitivity analyses, one tidy table with ``method``.

    * ``ANCOVA (complete case)`` - :class:`ANCOVA` per condition (``cov_type`` errors);
    * ``ANCOVA + MICE`` - the follow-up imputed by therapy (:class:`MultipleImputation`);
    * ``IPT-weighted`` - multinomial propensity weights on the covariates + baseline, the
      weighted outcome model adjusted for the same covariates (doubly robust,
      :class:`PropensityWeighting` with ``doubly_robust=True``), complete cases.

    ``covariates`` absent from ``frame`` or missing for everyone are not used (a bring-your-own
    package usually has none of the cohort's case mix: pass ``covariates=()`` for the trial
    ANCOVA, baseline only). Groups too small to fit (``min_group_size``) are left out of every
    method and listed in ``skipped`` when a list is given.
    """
    covs = [c for c in covariates if c in frame.columns and frame[c].notna().any()]
    notes: list[dict[str, Any]] = []
    common = dict(by="condition", min_group_size=min_group_size)
    anc = ANCOVA(outcome, baseline, "therapy", reference, covariates=covs, cov_type=cov_type,
                 **common).fit(frame)  # type: ignore[arg-type]
    notes += [dict(r, method="ANCOVA (complete case)") for r in anc._skipped or []]
    cc = anc.summary_.assign(method="ANCOVA (complete case)")
    mi_fit = MultipleImputation(outcome, baseline, "therapy", reference, covariates=covs,
                                n_imputations=n_imputations, seed=seed,
                                **common).fit(frame)  # type: ignore[arg-type]
    notes += [dict(r, method="ANCOVA + MICE") for r in mi_fit._skipped or []]
    mi = mi_fit.summary_.assign(method="ANCOVA + MICE")
    pw = PropensityWeighting(outcome, "therapy", reference, covariates=covs,
                             baseline=baseline, doubly_robust=True,
                             **common).fit(frame)  # type: ignore[arg-type]
    notes += [dict(r, method="IPT-weighted") for r in pw._skipped or []]
    ipw = pw.summary_.assign(method="IPT-weighted")
    if skipped is not None:
        skipped.extend(notes)
    cols = ["condition", "treatment", "method", "estimate", "ci_lower", "ci_upper", "p_value",
            "n"]
    out = pd.concat([cc[cols], mi[cols], ipw[cols]], ignore_index=True)
    order = {m: i for i, m in enumerate(["ANCOVA (complete case)", "ANCOVA + MICE",
                                         "IPT-weighted"])}
    return out.sort_values(["condition", "treatment", "method"],
                           key=lambda s: s.map(order) if s.name == "method" else s,
                           kind="stable").reset_index(drop=True)


def balance_summary(balance: pd.DataFrame, threshold: float = 0.1) -> pd.DataFrame:
    """Per condition and therapy: largest |standardised difference| before and after weighting,
    and how many covariates exceed ``threshold`` (|SMD| < 0.1 is the usual balance target);
    ``balanced`` is True only when none does after weighting."""
    b = balance.assign(abs_before=balance["smd_before"].abs(),
                       abs_after=balance["smd_after"].abs())
    keys = [c for c in ("condition", "treatment") if c in b.columns]
    out = b.groupby(keys, sort=False).agg(
        max_smd_before=("abs_before", "max"), max_smd_after=("abs_after", "max"),
        over_before=("abs_before", lambda s: int((s > threshold).sum())),
        over_after=("abs_after", lambda s: int((s > threshold).sum()))).reset_index()
    out["balanced"] = out["over_after"] == 0
    return out


def followup_summary(frame: pd.DataFrame, *, threshold: int | None = None) -> pd.DataFrame:
    """Episodes, episodes with a review visit and % lost to follow-up, per condition.

    With ``threshold`` (e.g. 5) the counts are small-cell suppressed for publication
    (:func:`suppress_counts`: with and without a review, complementary cells included); the
    default returns the exact numbers.
    """
    g = frame.groupby(frame["condition"].astype(str), sort=False)
    out = pd.DataFrame({"episodes": g.size(), "with_review": g["review_pain"].count()})
    out["lost_to_follow_up_pct"] = (100 * (1 - out["with_review"] / out["episodes"])).round(1)
    if threshold is not None:
        out = suppress_counts(out, "with_review", "episodes",
                              derived=["lost_to_follow_up_pct"], threshold=threshold)
    return out
