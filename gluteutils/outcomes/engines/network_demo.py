"""A clinic network on one machine: split a cohort into clinics and run both rounds.

Used by notebook 07 and the tests: :func:`split_clinics` gives each clinic its own episodes
and visits (SYNTHETIC DATA), :func:`run_network` runs round 1 and round 2 of
:mod:`gluteutils.outcomes.engines.federated` with one DuckDB engine per clinic (in a real
network each clinic runs ``gluteutils network summarise`` on its own machine), and
:func:`compare_with_pooled_rows` sets the federated ANCOVA beside the fit on the pooled rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gluteutils.outcomes.engines import federated as fed
from gluteutils.outcomes.engines.backends import DuckDBEngine

#: The shipped cohort's four sites as three clinics.
CLINICS: dict[str, str] = {"site_a": "clinic_1", "site_b": "clinic_2", "site_c": "clinic_3",
                           "site_d": "clinic_3"}


def split_clinics(episodes: pd.DataFrame, visits: pd.DataFrame,
                  clinics: dict[str, str] = CLINICS) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """``{clinic: (episodes, visits)}`` by the episodes' ``site``."""
    clinic = episodes["site"].astype(str).map(clinics)
    out = {}
    for name in sorted(set(clinic.dropna())):
        ep = episodes.loc[clinic == name]
        out[name] = (ep, visits.loc[visits["episode_id"].isin(ep["episode_id"])])
    return out


def run_network(parts: dict[str, tuple[pd.DataFrame, pd.DataFrame]], *,
                site_effects: bool = False, threshold: int = 5) -> dict[str, Any]:
    """Both rounds for every clinic; returns the pooled result and the site files."""
    engines = {n: DuckDBEngine.from_frames(ep, vi) for n, (ep, vi) in parts.items()}
    files = [fed.site_summary(e, n, threshold=threshold) for n, e in engines.items()]
    round1 = fed.pool_files(files, site_effects=site_effects)
    for f in files:
        betas = {c: {int(i): b for i, b in v.items()}
                 for c, v in round1["site_betas"][f["site"]].items()}
        f["residuals"] = fed.site_residuals(engines[f["site"]], f["site"], betas)["residuals"]
        f["residual_betas"] = round1["site_betas"][f["site"]]
    return {"files": files, "round1": round1,
            "pooled": fed.pool_files(files, site_effects=site_effects)}


def compare_with_pooled_rows(pooled: dict[str, Any], rows_fit: pd.DataFrame) -> pd.DataFrame:
    """Federated and pooled-rows effects side by side with their absolute differences."""
    mine = pd.DataFrame(pooled["ancova"])
    rows = rows_fit.assign(condition=rows_fit["condition"].astype(str))
    m = mine.merge(rows, on=["condition", "treatment"], suffixes=("_federated", "_rows"))
    for c in ("estimate", "se"):
        m[f"{c}_abs_diff"] = np.abs(m[f"{c}_federated"] - m[f"{c}_rows"])
    return m[["condition", "treatment", "estimate_federated", "estimate_rows", "se_federated",
              "se_rows", "estimate_abs_diff", "se_abs_diff"]]
