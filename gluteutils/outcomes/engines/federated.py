"""Federated pooling across clinics: only aggregates leave a site (DataSHIELD / OHDSI pattern).

Round 1 (:func:`site_summary`): each clinic's engine computes counts (episodes, reviews,
responders per condition x therapy), Table 1 counts, Kaplan-Meier numbers at risk and
cumulative recoveries on a coarse grid, and the ANCOVA's sufficient statistics (X'X, X'y,
y'y: sums of products over at least tens of episodes, not cells). Every count goes through
:func:`gluteutils.privacy.suppress_small_cells` before it is written; :func:`check_disclosure`
refuses a summary with a visible count from 1 to threshold-1 or any row-level field.

Round 2 (:func:`site_residuals`): with the pooled coefficients sent back, each site returns
the HC1 meat and its residual sums (for the case-mix-adjusted funnel plot). Pooling adds the
statistics, so the pooled ANCOVA equals the fit on the pooled rows; with ``site_effects``
each site gets its own intercept (the rows of its X'X are the site dummy's cross-products).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gluteutils.errors import DisclosureError
from gluteutils.outcomes.engines import fit, sql
from gluteutils.outcomes.engines.analysis import ancova_stats, table_one_counts
from gluteutils.outcomes.engines.backends import Engine
from gluteutils.outcomes.engines.explorer import compute_cubes

FORMAT = "glute-network-summary/1"
#: Kaplan-Meier grid (days): every 2 days for DOMS, every 14 days otherwise (the explorer's).
KM_STEP = {"doms": 2}
KM_DEFAULT_STEP = 14
KM_HORIZON = 112
ROW_LEVEL_FIELDS = ("episode_id", "visit_day", "date", "name", "birth")


def _suppress(frame: pd.DataFrame, keys: list[str], counts: list[str], threshold: int, *,
              block: list[str], complementary: bool = True) -> tuple[pd.DataFrame, int]:
    """Counts through the privacy layer, one small table per ``block`` (rows = the other
    keys, columns = ``counts``); hidden cells become None."""
    from gluteutils.privacy import suppress_small_cells

    if frame.empty:
        return frame, 0
    parts, hidden = [], 0
    for _, g in frame.groupby(block, sort=True):
        wide = g.set_index(keys)[counts].astype("int64")
        wide = wide.loc[:, (wide > 0).any(axis=0)]
        try:
            masked = suppress_small_cells(wide, threshold, columns=list(wide.columns),
                                          complementary=complementary)
            mask = np.asarray(masked.attrs["suppressed"], dtype=bool)
        except DisclosureError:  # no pattern protects the block: withhold all of it
            mask = np.ones(wide.shape, dtype=bool)
        parts.append(wide.astype(object).where(~mask, None).reset_index())  # type: ignore[call-overload]
        hidden += int(mask.sum())
    return pd.concat(parts, ignore_index=True), hidden


def _suppress_long(t1: pd.DataFrame, threshold: int) -> tuple[pd.DataFrame, int]:
    """Table 1 counts suppressed per condition x variable (therapy x level tables)."""
    parts, hidden = [], 0
    for (cond, var), g in t1.groupby(["condition", "variable"], sort=True):
        w = g.pivot_table(index="therapy", columns="level", values="n", aggfunc="sum",
                          fill_value=0)
        w.columns = [str(c) for c in w.columns]
        sup, h = _suppress(w.reset_index().assign(block=0), ["therapy"], list(w.columns),
                           threshold, block=["block"], complementary=False)
        long = sup.melt(id_vars=["therapy"], var_name="level", value_name="n")
        parts.append(long.assign(condition=str(cond), variable=str(var)))
        hidden += h
    cols = ["condition", "therapy", "variable", "level", "n"]
    return pd.concat(parts, ignore_index=True)[cols], hidden


def _km_grid(km: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """At risk and cumulative recoveries at each grid day, per condition x therapy."""
    rows = []
    n = episodes.groupby(["condition", "therapy"])["episodes"].sum()
    for (cond, ther), g in km.groupby(["condition", "therapy"], sort=True):
        step = KM_STEP.get(str(cond), KM_DEFAULT_STEP)
        for t in range(0, KM_HORIZON + 1, step):
            left = int(g.loc[g["duration"] < t, "n"].sum())
            ev = int(g.loc[(g["duration"] <= t) & (g["event"] == 1), "n"].sum())
            rows.append({"condition": cond, "therapy": ther, "time": t,
                         "at_risk": int(n.loc[(cond, ther)]) - left,  # type: ignore[index]
                         "recovered": ev})
    return pd.DataFrame(rows)


def site_summary(engine: Engine, site: str, *, threshold: int = 5) -> dict[str, Any]:
    """Round 1 of one site: everything the network pools, disclosure-checked."""
    cubes = compute_cubes(engine, outcomes=())
    ep = cubes.episode.groupby(["condition", "therapy"], as_index=False)[
        ["episodes", "with_review", "responders"]].sum()
    ep["no_review"] = ep["episodes"] - ep["with_review"]
    ep["non_responders"] = ep["with_review"] - ep["responders"]
    counts, hid1 = _suppress(ep, ["condition", "therapy"],
                             ["responders", "non_responders", "no_review"], threshold,
                             block=["condition"])
    t1 = table_one_counts(engine)
    t1 = t1.assign(level=t1["level"].fillna("(missing)"))
    t1c, hid2 = _suppress_long(t1, threshold)
    km = _km_grid(cubes.km, cubes.episode)
    kmc, hid3 = _suppress(km, ["condition", "therapy", "time"], ["at_risk", "recovered"],
                          threshold, block=["condition", "therapy"], complementary=False)
    st = ancova_stats(engine)
    summary = {"format": FORMAT, "site": site, "threshold": threshold,
               "suppressed_cells": hid1 + hid2 + hid3,
               "counts": counts.to_dict("records"), "table_one": t1c.to_dict("records"),
               "km": kmc.to_dict("records"),
               "ancova_stats": [{k: (int(v) if k != "condition" else v) for k, v in r.items()}
                                for r in st.to_dict("records")]}
    check_disclosure(summary)
    return summary


def check_disclosure(summary: dict[str, Any]) -> None:
    """Raise :class:`DisclosureError` for a visible small count or a row-level field."""
    thr = int(summary["threshold"])
    for part in ("counts", "table_one", "km"):
        for i, rec in enumerate(summary.get(part, [])):
            for key, value in rec.items():
                if any(f in key for f in ROW_LEVEL_FIELDS):
                    raise DisclosureError(f"{part} row {i}: row-level field {key!r}")
                if key in ("condition", "therapy", "variable", "level", "time"):
                    continue
                if value is not None and 0 < int(value) < thr:
                    raise DisclosureError(f"{part} row {i}, column {key!r}: count {value} is "
                                          f"below {thr} (small cell)")
    for i, rec in enumerate(summary.get("ancova_stats", [])):
        if int(rec["n"]) < 2 * thr:
            raise DisclosureError(f"ancova_stats row {i}: only {rec['n']} episodes "
                                  f"(fewer than {2 * thr})")


def _expand(row: pd.Series, k: int, site: int, n_sites: int) -> tuple[np.ndarray, np.ndarray]:
    """A site's X'X, X'y with site-dummy columns appended (site 0 is the reference)."""
    xx, xy = fit.sym(row, "xx", k), fit.vec(row, "xy", k)
    big_xx = np.zeros((k + n_sites - 1, k + n_sites - 1))
    big_xy = np.zeros(k + n_sites - 1)
    big_xx[:k, :k], big_xy[:k] = xx, xy
    if site > 0:
        j = k + site - 1
        big_xx[j, :k] = big_xx[:k, j] = xx[0]
        big_xx[j, j] = xx[0, 0]
        big_xy[j] = xy[0]
    return big_xx, big_xy


def pooled_first_pass(summaries: Sequence[dict[str, Any]], *, site_effects: bool = False
                      ) -> dict[str, dict[str, Any]]:
    """Pooled ANCOVA coefficients per condition from the sites' sufficient statistics."""
    cols = sql.ancova_columns()
    k = len(cols)
    sites = sorted(s["site"] for s in summaries)
    names = [*cols] + ([sql.Column(f"site[{s}]", "0", "site_fe") for s in sites[1:]]
                       if site_effects else [])
    frames = [pd.DataFrame(s["ancova_stats"]) for s in summaries]
    pooled = fit.add_stats(frames, ["condition"])
    first = fit.ancova_first_pass(cols, pooled)
    if not site_effects:
        return first
    for cond, f in first.items():
        xx = np.zeros((len(names), len(names)))
        xy = np.zeros(len(names))
        for s, frame in zip(summaries, frames, strict=True):
            row = frame.loc[frame["condition"] == cond]
            if row.empty:
                continue
            a, b = _expand(row.iloc[0], k, sites.index(s["site"]), len(sites))
            xx, xy = xx + a, xy + b
        keep = f["keep"] + [k + i for i in range(len(sites) - 1) if xx[k + i, k + i] > 0]
        f.update(keep=keep, xx=xx[np.ix_(keep, keep)], xy=xy[keep])
        f["beta"] = np.linalg.solve(f["xx"], f["xy"])
    return first


def site_betas(first: dict[str, dict[str, Any]], site: str, sites: Sequence[str]
               ) -> dict[str, dict[int, float]]:
    """The coefficients a site applies in round 2 (its site effect folded into the intercept)."""
    k = len(sql.ancova_columns())
    order = sorted(sites)
    out: dict[str, dict[int, float]] = {}
    for cond, f in first.items():
        b = {i: float(v) for i, v in zip(f["keep"], f["beta"], strict=True) if i < k}
        j = k + order.index(site) - 1
        if j >= k and j in f["keep"]:
            b[0] = b.get(0, 0.0) + float(f["beta"][f["keep"].index(j)])
        out[cond] = b
    return out


def site_residuals(engine: Engine, site: str, betas: dict[str, dict[int, float]]
                   ) -> dict[str, Any]:
    """Round 2 of one site: HC1 meat (sums of e^2 x x'), e'e and residual sums per condition."""
    q = sql.ancova_meat(sql.ancova_columns(), betas).replace(
        "SELECT condition, SUM(e * e) AS ee,", "SELECT condition, SUM(e) AS se, SUM(e * e) AS ee,")
    meat = engine.sql(q)
    meat["condition"] = meat["condition"].astype(str)
    return {"format": FORMAT + "+residuals", "site": site,
            "residuals": [{k: (v if k == "condition" else float(v)) for k, v in r.items()}
                          for r in meat.to_dict("records")]}


def _expand_meat(row: pd.Series, k: int, site: int, n_sites: int) -> np.ndarray:
    m = fit.sym(row, "mm", k)
    big = np.zeros((k + n_sites - 1, k + n_sites - 1))
    big[:k, :k] = m
    if site > 0:
        j = k + site - 1
        big[j, :k] = big[:k, j] = m[0]
        big[j, j] = m[0, 0]
    return big


def pooled_ancova(summaries: Sequence[dict[str, Any]], residuals: Sequence[dict[str, Any]],
                  *, site_effects: bool = False, alpha: float = 0.05) -> pd.DataFrame:
    """Pooled primary ANCOVA with HC1 errors from both rounds of every site."""
    cols = sql.ancova_columns()
    k = len(cols)
    sites = sorted(s["site"] for s in summaries)
    first = pooled_first_pass(summaries, site_effects=site_effects)
    ncol = k + (len(sites) - 1 if site_effects else 0)
    names = [*cols] + [sql.Column(f"site[{s}]", "0", "site") for s in sites[1:]]
    meat_rows = []
    for cond in first:
        total = np.zeros((ncol, ncol))
        ee = 0.0
        for r in residuals:
            frame = pd.DataFrame(r["residuals"])
            row = frame.loc[frame["condition"] == cond]
            if row.empty:
                continue
            m = (_expand_meat(row.iloc[0], k, sites.index(r["site"]), len(sites))
                 if site_effects else fit.sym(row.iloc[0], "mm", k))
            total += m
            ee += float(row.iloc[0]["ee"])
        rec: dict[str, Any] = {"condition": cond, "ee": ee}
        rec.update({f"mm_{i}_{j}": total[i, j] for i in range(ncol) for j in range(i, ncol)})
        meat_rows.append(rec)
    return fit.ancova_finish(names[:ncol], first, pd.DataFrame(meat_rows), alpha=alpha)


def _sum_or_none(values: pd.Series) -> Any:
    return None if values.isna().any() else int(values.sum())


def pooled_counts(summaries: Sequence[dict[str, Any]], part: str, keys: list[str]
                  ) -> pd.DataFrame:
    """Sum a count table over sites; a cell any site suppressed stays suppressed (None)."""
    frames = [pd.DataFrame(s[part]).assign(site=s["site"]) for s in summaries]
    both = pd.concat(frames, ignore_index=True)
    values = [c for c in both.columns if c not in (*keys, "site")]
    n_sites = both.groupby(keys)["site"].nunique()
    out = both.groupby(keys, sort=True)[values].agg(_sum_or_none)
    return out.reset_index().assign(sites=n_sites.to_numpy())


def funnel_data(summaries: Sequence[dict[str, Any]], residuals: Sequence[dict[str, Any]],
                condition: str) -> pd.DataFrame:
    """Per site: episodes in the model, case-mix-adjusted mean difference (observed minus
    expected review pain under the pooled model without site effects) and the pooled
    residual SD, the input of :func:`gluteutils.plots.network.funnel_plot`."""
    n = {s["site"]: next((int(r["n"]) for r in s["ancova_stats"]
                          if r["condition"] == condition), 0) for s in summaries}
    rows, ee, total = [], 0.0, 0
    for r in residuals:
        rec = next((x for x in r["residuals"] if x["condition"] == condition), None)
        if rec is None or n[r["site"]] == 0:
            continue
        rows.append({"site": r["site"], "n": n[r["site"]],
                     "adjusted_difference": float(rec["se"]) / n[r["site"]]})
        ee += float(rec["ee"])
        total += n[r["site"]]
    k = len(sql.ancova_columns())
    sd = float(np.sqrt(ee / max(total - k, 1)))
    return pd.DataFrame(rows).assign(condition=condition, residual_sd=sd)


def _classical(first: dict[str, dict[str, Any]], ncol: int) -> pd.DataFrame:
    """e'e per condition from round 1 alone: y'y - 2 b'X'y + b'X'X b."""
    rows = []
    for cond, f in first.items():
        b = f["beta"]
        ee = f["yy"] - 2 * b @ f["xy"] + b @ f["xx"] @ b
        rows.append({"condition": cond, "ee": float(ee),
                     **{f"mm_{i}_{j}": 0.0 for i in range(ncol) for j in range(i, ncol)}})
    return pd.DataFrame(rows)


def pool_files(summaries: Sequence[dict[str, Any]], *, site_effects: bool = False
               ) -> dict[str, Any]:
    """Everything the coordinating centre publishes from the sites' files (JSON-ready).

    ANCOVA errors are HC1 when every site sent round 2 (``residuals``), else classical.
    """
    sites = sorted(s["site"] for s in summaries)
    first = pooled_first_pass(summaries, site_effects=site_effects)
    k = len(sql.ancova_columns())
    ncol = k + (len(sites) - 1 if site_effects else 0)
    names = [*sql.ancova_columns()] + [sql.Column(f"site[{s}]", "0", "site") for s in sites[1:]]
    betas_out = {s: {c: {str(i): b for i, b in v.items()} for c, v in
                     site_betas(first, s, sites).items()} for s in sites}
    if all("residuals" in s for s in summaries):
        for s in summaries:
            if s.get("residual_betas") != betas_out[s["site"]]:
                raise ValueError(f"site {s['site']!r}: its round-2 residuals were computed "
                                 "for other coefficients; rerun summarise with this pool's "
                                 "--betas (and the same --site-effects choice)")
        effects = pooled_ancova(summaries, summaries, site_effects=site_effects)
        cov_type = "HC1"
    else:
        effects = fit.ancova_finish(names[:ncol], first, _classical(first, ncol),
                                    cov_type="nonrobust")
        cov_type = "nonrobust"
    out: dict[str, Any] = {
        "format": FORMAT + "+pooled", "sites": sites, "site_effects": site_effects,
        "ancova_cov_type": cov_type, "ancova": effects.to_dict("records"),
        "counts": pooled_counts(summaries, "counts", ["condition", "therapy"]
                                ).to_dict("records"),
        "table_one": pooled_counts(summaries, "table_one",
                                   ["condition", "therapy", "variable", "level"]
                                   ).to_dict("records"),
        "km": pooled_counts(summaries, "km", ["condition", "therapy", "time"]
                            ).to_dict("records"),
        "site_betas": betas_out}
    if cov_type == "HC1" and not site_effects:
        conds = sorted(first)
        out["funnel"] = pd.concat([funnel_data(summaries, summaries, c) for c in conds],
                                  ignore_index=True).to_dict("records")
    return out
