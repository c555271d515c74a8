"""Engine-level analyses: Table 1 counts, ANCOVA (HC1) and repeated measures on any engine.

Each function takes an :class:`~gluteutils.outcomes.engines.backends.Engine` and returns
RAW aggregates or model results; what is published goes through :mod:`gluteutils.privacy`.
"""

from __future__ import annotations

import pandas as pd

from gluteutils.outcomes.engines import fit, sql
from gluteutils.outcomes.engines.backends import Engine
from gluteutils.outcomes.schema import SYMPTOM_COLUMNS

#: Table 1 variables (as ``models.TABLE_ONE_COLUMNS``), split by kind.
TABLE_ONE_CATEGORICAL: tuple[str, ...] = ("age_band", "sex", *SYMPTOM_COLUMNS)
TABLE_ONE_CONTINUOUS: tuple[str, ...] = ("symptom_duration_weeks", "baseline_pain")


def table_one_counts(engine: Engine) -> pd.DataFrame:
    """Long Table 1 counts per condition x therapy x variable x level (raw)."""
    out = engine.sql(sql.table_one_counts(TABLE_ONE_CATEGORICAL, TABLE_ONE_CONTINUOUS))
    for c in ("condition", "therapy", "variable", "level"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)  # type: ignore[call-overload]
    out["n"] = out["n"].astype("int64")
    return out.sort_values(["condition", "therapy", "variable", "level"],
                           na_position="last", kind="stable").reset_index(drop=True)


def table_one_summary(counts: pd.DataFrame) -> pd.DataFrame:
    """Means and SDs of the continuous rows of :func:`table_one_counts` (n = non-missing)."""
    c = counts.loc[counts["level"] == "value"].copy()
    c["mean"] = c["s"] / c["n"]
    c["sd"] = ((c["ss"] - c["n"] * c["mean"] ** 2) / (c["n"] - 1)).clip(lower=0) ** 0.5
    return c[["condition", "therapy", "variable", "n", "mean", "sd"]].reset_index(drop=True)


def ancova_stats(engine: Engine) -> pd.DataFrame:
    """First pass of the primary ANCOVA: X'X, X'y, y'y, n per condition (exact integers)."""
    out = engine.sql(sql.ancova_stats(sql.ancova_columns()))
    out["condition"] = out["condition"].astype(str)
    return out.sort_values("condition").reset_index(drop=True)


def ancova_meat(engine: Engine, betas: dict[str, dict[int, float]]) -> pd.DataFrame:
    """Second pass: e'e and the HC1 meat for the coefficients ``betas``."""
    out = engine.sql(sql.ancova_meat(sql.ancova_columns(), betas))
    out["condition"] = out["condition"].astype(str)
    return out


def ancova(engine: Engine, *, cov_type: str = "HC1", alpha: float = 0.05) -> pd.DataFrame:
    """The primary analysis (``models.primary_analysis``) in one pass over the engine:
    ``review_pain ~ therapy + baseline_pain + case mix`` per condition, complete cases.

    The engine returns per-cell moments (``sql.ancova_moments``); coefficients and HC1
    errors follow exactly from them (``fit.ancova_from_moments``). ``ancova_two_pass`` is
    the earlier route (coefficients, then a second scan for the meat), kept as a check."""
    cols = sql.ancova_columns()
    moments = engine.sql(sql.ancova_moments(cols))
    moments["condition"] = moments["condition"].astype(str)
    return fit.ancova_from_moments(cols, moments, cov_type=cov_type, alpha=alpha)


def ancova_two_pass(engine: Engine, *, cov_type: str = "HC1", alpha: float = 0.05
                    ) -> pd.DataFrame:
    """The same fit in two scans: X'X and X'y, then sum(e^2 x x') with the coefficients."""
    cols = sql.ancova_columns()
    first = fit.ancova_first_pass(cols, ancova_stats(engine))
    meat = ancova_meat(engine, fit.betas_for_sql(first))
    return fit.ancova_finish(cols, first, meat, cov_type=cov_type, alpha=alpha)


def repeated_measures(engine: Engine, *, alpha: float = 0.05) -> pd.DataFrame:
    """Exchangeable Gaussian GEE of pain over post-baseline visits per condition
    (``models.repeated_measures_by_condition``) from cluster sums, robust SEs."""
    cols = sql.gee_columns()
    st = engine.sql(sql.gee_stats(cols))
    st["condition"] = st["condition"].astype(str)
    first = fit.gee_first_pass(cols, st)
    meat = engine.sql(sql.gee_meat(cols, fit.betas_for_sql(first),
                                   {c: f["alpha"] for c, f in first.items()}))
    meat["condition"] = meat["condition"].astype(str)
    return fit.gee_finish(cols, first, meat, alpha=alpha)
