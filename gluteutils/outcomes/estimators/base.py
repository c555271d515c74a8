"""Shared parts of the outcome estimators: constants, the per-group loop, design helpers and
the estimator base classes (configure in ``__init__``, ``fit(df)`` returns ``self``, read
``summary_`` and ``skipped_``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gluteutils.errors import ModelError, NotFittedError

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


def formula_term(df: pd.DataFrame, column: str) -> str:
    """Return the formula term for a covariate: categorical -> ``C(col)``, else the name."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return column
    return f"C({column})"


def usable_covariates(df: pd.DataFrame, covariates: Sequence[str]) -> list[str]:
    """Drop covariates that are constant (or all missing) in ``df``: they carry no information."""
    return [c for c in covariates if df[c].nunique(dropna=True) > 1]


def prepare_frame(df: pd.DataFrame, columns: Sequence[str], treatment: str) -> pd.DataFrame:
    """Complete cases of ``columns`` with the treatment as plain strings and bools as ints."""
    out = df.loc[:, list(dict.fromkeys(columns))].dropna().copy()
    out[treatment] = out[treatment].astype(str)
    for c in out.columns:
        if pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].astype(int)
        elif isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(str)
    return out


def dummy_columns(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
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


def design_matrix(data: pd.DataFrame, treatment: str, reference: str,
            covariates: Sequence[str]) -> pd.DataFrame:
    """Intercept + treatment dummies (named like patsy's) + covariates (dummy-coded)."""
    prefix = treatment_term(treatment, reference)
    levels = sorted(set(data[treatment]) - {reference})
    trt = data[treatment].to_numpy()
    parts = [pd.DataFrame({"Intercept": 1.0, **{f"{prefix}[T.{lv}]": (trt == lv).astype(float)
                                                for lv in levels}}, index=data.index)]
    numeric = [c for c in covariates if pd.api.types.is_numeric_dtype(data[c])]
    other = [c for c in covariates if c not in numeric]
    if numeric:
        parts.append(data[numeric].astype(float))
    if other:
        parts.append(dummy_columns(data, other))
    return pd.concat(parts, axis=1)


def treatment_term(treatment: str, reference: str) -> str:
    return f"C({treatment}, Treatment(reference={reference!r}))"


def split_groups(df: pd.DataFrame, by: str | None) -> list[tuple[Any, pd.DataFrame]]:
    if by is None:
        return [(None, df)]
    return [(k, g) for k, g in df.groupby(by, observed=True, sort=True)]


def effects_from_fit(result: Any, treatment: str, reference: str, alpha: float
                      ) -> pd.DataFrame:
    """Pick the treatment contrasts (each level vs the reference) out of a statsmodels fit."""
    prefix = treatment_term(treatment, reference) + "[T."
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


def group_label(by: str | None, key: Any) -> str:
    return "all data" if by is None else f"{by} {key!s}"


def skip_record(by: str | None, key: Any, treatment: Any, n: int, needed: int, message: str
          ) -> dict[str, Any]:
    return {"group": group_label(by, key), "treatment": treatment, "n": int(n),
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
    where = group_label(by, key)
    people = (data.groupby(treatment, sort=True)[subject].nunique() if subject
              else data.groupby(treatment, sort=True).size())
    skipped = []
    for level, n in people.items():
        if n < min_size:
            role = " (the reference)" if level == reference else ""
            skipped.append(skip_record(by, key, level, int(n), min_size,
                                 f"{where}: {label} {level!r}{role} has {int(n)} "
                                 f"{'person' if n == 1 else 'people'}; at least {min_size} "
                                 f"needed to fit"))
    big = [lv for lv, n in people.items() if n >= min_size]
    if reference not in people.index:
        skipped.append(skip_record(by, key, reference, 0, min_size,
                             f"{where}: no one has the reference {label} {reference!r}, so "
                             f"nothing can be compared with it"))
        return None, skipped
    if reference not in big:
        skipped.append(skip_record(by, key, "", int(people[reference]), min_size,
                             f"{where}: not analysed, its reference group is too small"))
        return None, skipped
    if len(big) < 2:
        if len(people) > 1:
            skipped.append(skip_record(by, key, "", len(data), min_size,
                                 f"{where}: not analysed, no {label} other than the "
                                 f"reference has at least {min_size} people"))
        else:
            skipped.append(skip_record(by, key, "", len(data), min_size,
                                 f"{where}: not analysed, every person has the reference "
                                 f"{label} {reference!r}"))
        return None, skipped
    return data[data[treatment].isin(big)], skipped


def fittable_groups(df: pd.DataFrame, cols: Sequence[str], *, treatment: str, reference: str,
                    by: str | None, min_size: int, skipped: list[dict[str, Any]]
                    ) -> Iterator[tuple[Any, pd.DataFrame]]:
    """The per-group loop of the estimators: each analysis group's complete cases with the
    treatment groups big enough to fit (:func:`fit_groups_only`); what is left out is
    appended to ``skipped``."""
    for key, group in split_groups(df, by):
        data, notes = fit_groups_only(prepare_frame(group, cols, treatment), treatment,
                                      reference, by=by, key=key, min_size=min_size)
        skipped += notes
        if data is not None:
            yield key, data


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


def stack_or_error(parts: list[pd.DataFrame], skipped: list[dict[str, Any]],
                    what: str) -> pd.DataFrame:
    """The per-group tables as one; when none was fitted a :class:`ModelError` that lists why
    each group was left out."""
    if parts:
        return pd.concat(parts, ignore_index=True)
    reasons = "; ".join(r["message"] for r in skipped) or "there are no rows"
    raise ModelError(f"{what}: no group could be fitted ({reasons})")


class Estimator:
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

    @property
    def confidence_level(self) -> float | None:
        """The intervals' level in percent (``100 (1 - alpha)``), ``None`` without ``alpha``."""
        alpha = getattr(self, "alpha", None)
        return None if alpha is None else round(100 * (1 - float(alpha)), 6)

    def summary(self) -> pd.DataFrame:
        """``summary_`` with the interval level in the column names (``ci_lower`` ->
        ``ci_lower_95``), as lifelines and statsmodels label theirs. ``summary_`` keeps the
        plain names that the tables, plots and engines read."""
        table = self.summary_
        level = self.confidence_level
        if level is None:
            return table
        tag = f"{level:g}".replace(".", "_")
        return table.rename(columns={c: f"{c}_{tag}" for c in ("ci_lower", "ci_upper")
                                     if c in table.columns})

    def _header(self) -> list[str]:
        options = {k: v for k, v in getattr(self, "__dict__", {}).items()
                   if not k.startswith("_") and not k.endswith("_")
                   and isinstance(v, (str, int, float, bool, list, tuple, type(None)))}
        lines = [f"<{type(self).__name__}>"]
        lines += [f"  {k} = {v!r}" for k, v in options.items()]
        return lines

    def print_summary(self, decimals: int = 3) -> None:
        """Print the options, the results (level in the CI column names) and what was
        left out, in the manner of lifelines' ``print_summary``."""
        print("\n".join(self._header()))
        print(self.summary().round(decimals).to_string(index=False))
        skipped = self.skipped_
        if not skipped.empty:
            print(f"left out ({len(skipped)}):")
            print(skipped.to_string(index=False))

    def _repr_html_(self) -> str:
        import html

        head = "<br>".join(html.escape(line) for line in self._header())
        if not self.fitted:
            return f"<div>{head}<br><i>not fitted: call fit(df)</i></div>"
        body = self.summary().round(3).to_html(index=False)
        return f"<div>{head}{body}</div>"


@dataclass
class AdjustedEstimator(Estimator):
    """The columns an adjusted comparison reads (named by keyword): outcome, baseline,
    treatment and its reference level, covariates, and an optional ``by`` grouping."""

    outcome: str
    baseline: str
    treatment: str
    reference: str
    covariates: Sequence[str] = ()
    by: str | None = None


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
