"""The in-memory reference: the same raw aggregates as the SQL, computed with pandas.

The equality tests compare every engine against these frames (and the model fits against
``statsmodels`` through :mod:`gluteutils.outcomes.models`). Definitions follow
:mod:`gluteutils.outcomes.engines.sql` line for line, written independently in pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gluteutils.outcomes.engines.explorer import Cubes
from gluteutils.outcomes.engines.sql import DAILY, MCID_FRACTION, MCID_POINTS

CELL = ["condition", "therapy", "age_band", "sex"]


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype) or str(out[c].dtype).startswith(
                "string"):
            out[c] = out[c].astype(object).where(out[c].notna(), None)  # type: ignore[call-overload]
    return out


def episode_table(episodes: pd.DataFrame, visits: pd.DataFrame,
                  recovery_pain: float = 1.0) -> pd.DataFrame:
    """One row per episode: baseline / review pain, recovery event and day, responder."""
    v = _plain(visits)
    ep = _plain(episodes)
    pain = v["pain_nprs"].astype(float)
    base = pain.where(v["visit_type"] == "baseline").groupby(v["episode_id"]).max()
    rv = v.loc[v["visit_type"] == "review"].sort_values("visit_day")
    review = rv.drop_duplicates("episode_id", keep="last").set_index("episode_id")["pain_nprs"]
    rec = v.loc[(v["visit_day"] > 0) & (pain <= recovery_pain)]
    first = rec.groupby("episode_id")["visit_day"].min()
    last = v.groupby("episode_id")["visit_day"].max()
    out = ep.copy()
    ids = out["episode_id"]
    out["baseline_pain"] = ids.map(base).astype(float)
    out["review_pain"] = ids.map(review).astype(float)
    fr = ids.map(first)
    out["event"] = fr.notna().astype(int)
    out["duration"] = fr.fillna(ids.map(last).fillna(0)).astype(int)
    b, r = out["baseline_pain"], out["review_pain"]
    drop = b - r
    out["responder"] = ((drop >= MCID_POINTS) & (drop >= MCID_FRACTION * b - 1e-12)
                        & (b > 0) & r.notna() & b.notna()).astype(int)
    return out


def _group(frame: pd.DataFrame, keys: Sequence[str]) -> Any:
    return frame.groupby(list(keys), sort=True, dropna=False, observed=True)


def cubes(episodes: pd.DataFrame, visits: pd.DataFrame, recovery_pain: float = 1.0,
          outcomes: Sequence[str] = ("pain_nprs", "function_lefs")) -> Cubes:
    """The explorer cubes of :func:`gluteutils.outcomes.engines.explorer.compute_cubes`."""
    e = episode_table(episodes, visits, recovery_pain)
    has_r = e["review_pain"].notna()
    e = e.assign(with_review=has_r.astype(int), with_baseline=e["baseline_pain"].notna()
                 .astype(int), responders=e["responder"].where(has_r, 0),
                 review_sum=e["review_pain"], one=1)
    ec = _group(e, CELL).agg(episodes=("one", "sum"), with_baseline=("with_baseline", "sum"),
                             with_review=("with_review", "sum"),
                             responders=("responders", "sum"),
                             baseline_sum=("baseline_pain", "sum"),
                             review_sum=("review_sum", "sum")).reset_index()
    km = _group(e, [*CELL, "duration", "event"]).size().rename("n").reset_index()
    v = _plain(visits).merge(e[["episode_id", *CELL]], on="episode_id")
    day = v["visit_day"].astype(int)
    v["tbin"] = np.where(v["condition"].isin(DAILY), day, day // 7)
    traj = {}
    for o in outcomes:
        w = v.loc[v[o].notna()].copy()
        w["val"] = w[o].astype(float)
        pb = _group(w, [*CELL, "episode_id", "tbin"])["val"].mean().rename("m").reset_index()
        pb["m2"] = pb["m"] ** 2
        traj[o] = _group(pb, [*CELL, "tbin"]).agg(n=("m", "size"), s=("m", "sum"),
                                                  ss=("m2", "sum")).reset_index()
    return Cubes(episode=ec, km=km, trajectory=traj)


def table_one_counts(frame: pd.DataFrame, categorical: Sequence[str],
                     continuous: Sequence[str]) -> pd.DataFrame:
    """Long Table 1 counts like :func:`gluteutils.outcomes.engines.sql.table_one_counts`."""
    f = _plain(frame)
    parts = []
    for var in categorical:
        lv = f[var].map(lambda x: None if pd.isna(x) else str(x).lower()
                        if isinstance(x, (bool, np.bool_)) else str(x))
        g = f.assign(level=lv).groupby(["condition", "therapy", "level"], dropna=False).size()
        parts.append(g.rename("n").reset_index().assign(variable=var, s=np.nan, ss=np.nan))
    for var in continuous:
        x = f[var].astype(float)
        lv = np.where(x.notna(), "value", None)  # type: ignore[call-overload]
        grouped = f.assign(level=lv, x=x, x2=x * x).groupby(
            ["condition", "therapy", "level"], dropna=False)
        agg = grouped.agg(n=("x", "size"), s=("x", "sum"), ss=("x2", "sum")).reset_index()
        agg.loc[agg["level"].isna(), ["s", "ss"]] = np.nan
        parts.append(agg.assign(variable=var))
    cols = ["condition", "therapy", "variable", "level", "n", "s", "ss"]
    return pd.concat(parts, ignore_index=True)[cols]
