"""The explorer's aggregates from an engine: cubes computed once, filtered updates after.

:func:`compute_cubes` runs three small ``GROUP BY`` queries (episode counts, Kaplan-Meier
counts, per-person trajectory sums) at the grain condition x therapy x age band x sex (x time
bin / day), so the engine streams the data once and returns a few thousand rows whatever the
number of visits. :func:`explorer_counts` answers one filter choice from the cubes: the
groups are disjoint, so summing the selected cells gives exactly what filtering the rows
would. The output is RAW (unsuppressed) aggregates: publish through
:func:`publish_counts`, which calls :func:`gluteutils.privacy.suppress_small_cells`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gluteutils.outcomes.engines import sql
from gluteutils.outcomes.engines.backends import Engine
from gluteutils.outcomes.schema import THERAPIES

OUTCOMES = ("pain_nprs", "function_lefs")


@dataclass(frozen=True)
class Cubes:
    """The explorer's raw aggregates for one dataset."""

    episode: pd.DataFrame
    km: pd.DataFrame
    trajectory: dict[str, pd.DataFrame]


def _strings(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in ("condition", "therapy", "age_band", "sex"):
        if c in out.columns:
            out[c] = out[c].astype(object).where(out[c].notna(), None)  # type: ignore[call-overload]
    return out


def compute_cubes(engine: Engine, *, recovery_pain: float = 1.0,
                  outcomes: Sequence[str] = OUTCOMES) -> Cubes:
    """Run the cube queries once on ``engine``."""
    return Cubes(episode=_strings(engine.sql(sql.episode_cube(recovery_pain))),
                 km=_strings(engine.sql(sql.km_cube(recovery_pain))),
                 trajectory={o: _strings(engine.sql(sql.trajectory_cube(o))) for o in outcomes})


def _select(frame: pd.DataFrame, condition: str, therapies: Sequence[str],
            age_bands: Sequence[str], sexes: Sequence[str]) -> pd.DataFrame:
    keep = frame["condition"] == condition
    for col, sel in (("therapy", therapies), ("age_band", age_bands), ("sex", sexes)):
        if sel:
            keep &= frame[col].isin(list(sel))
    return frame.loc[keep]


def _km(km: pd.DataFrame, counts: pd.Series) -> pd.DataFrame:
    """Product-limit curve per therapy from event / censoring counts per day."""
    parts = []
    for therapy, g in km.groupby("therapy", sort=True):
        d = g.groupby(["duration", "event"])["n"].sum().unstack(fill_value=0)
        d = d.reindex(columns=[0, 1], fill_value=0).sort_index()
        leaving = (d[0] + d[1]).cumsum().shift(fill_value=0)
        risk = int(counts.get(therapy, 0)) - leaving
        surv = np.cumprod(np.where(risk > 0, 1.0 - d[1] / np.maximum(risk, 1), 1.0))
        parts.append(pd.DataFrame({"therapy": therapy, "time": d.index.astype(int),
                                   "at_risk": risk.to_numpy().astype(int),
                                   "events": d[1].to_numpy().astype(int),
                                   "censored": d[0].to_numpy().astype(int),
                                   "survival": surv}))
    cols = ["therapy", "time", "at_risk", "events", "censored", "survival"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def explorer_counts(cubes: Cubes, condition: str, therapies: Sequence[str] = (),
                    age_bands: Sequence[str] = (), sexes: Sequence[str] = (),
                    outcome: str = "pain_nprs") -> dict[str, pd.DataFrame]:
    """Raw aggregates for one filter choice (empty selections mean "all").

    ``trajectory``: therapy, time, people n, mean, sd; ``responders``: therapy, episodes with
    a review, responders; ``km``: therapy, day, at risk, events, censored, survival (only days
    with an event or censoring); ``table``: therapy, episodes, with review, mean baseline and
    review pain.
    """
    ep = _select(cubes.episode, condition, therapies, age_bands, sexes)
    g = ep.groupby("therapy", sort=True)[
        ["episodes", "with_baseline", "with_review", "responders", "baseline_sum",
         "review_sum"]].sum()
    g = g.loc[g["episodes"] > 0]
    names = g.index.to_numpy(dtype=object)
    table = pd.DataFrame({
        "therapy": names, "episodes": g["episodes"].to_numpy(),
        "with_review": g["with_review"].to_numpy(),
        "baseline_pain": np.where(  # missing if any episode lacks one
            g["with_baseline"] == g["episodes"],
                                  g["baseline_sum"] / g["episodes"].clip(lower=1), np.nan),
        "review_pain": (g["review_sum"] / g["with_review"].clip(lower=1)).to_numpy()})
    resp = pd.DataFrame({"therapy": names, "n": g["with_review"].to_numpy(),
                         "responders": g["responders"].to_numpy()})
    tr = _select(cubes.trajectory[outcome], condition, therapies, age_bands, sexes)
    t = tr.groupby(["therapy", "tbin"], sort=True)[["n", "s", "ss"]].sum().reset_index()
    mean = t["s"] / t["n"]
    var = np.maximum(t["ss"] - t["n"] * mean * mean, 0.0) / np.maximum(t["n"] - 1, 1)
    traj = pd.DataFrame({"therapy": t["therapy"], "time": t["tbin"].astype(int),
                         "n": t["n"].astype(int), "mean": mean, "sd": np.sqrt(var)})
    km = _km(_select(cubes.km, condition, therapies, age_bands, sexes), g["episodes"])
    order = {t: i for i, t in enumerate(THERAPIES)}
    out = {"trajectory": traj, "responders": resp, "km": km, "table": table}
    for k, frame in out.items():
        out[k] = frame.sort_values(["therapy"] + (["time"] if "time" in frame else []),
                                   key=lambda s: s.map(order) if s.name == "therapy" else s,
                                   kind="stable").reset_index(drop=True)
    return out


def publish_counts(counts: dict[str, pd.DataFrame], threshold: int = 5) -> pd.DataFrame:
    """The episode / review / responder counts per therapy, through the privacy layer
    (:func:`gluteutils.privacy.suppress_small_cells`, complementary cells included)."""
    from gluteutils.privacy import suppress_small_cells

    t = counts["table"].merge(counts["responders"], on="therapy")
    wide = pd.DataFrame({"responders": t["responders"].to_numpy(),
                         "non_responders": (t["n"] - t["responders"]).to_numpy(),
                         "no_review": (t["episodes"] - t["with_review"]).to_numpy()},
                        index=pd.Index(t["therapy"], name="therapy"))
    return suppress_small_cells(wide, threshold, marker="n.p.")
