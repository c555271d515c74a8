"""Responder analysis against the MCID (Farrar 2001): Wilson and Newcombe intervals from
``statsmodels.stats.proportion``, numbers needed to treat (Altman 1998).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from gluteutils.outcomes.estimators.base import (
    MCID_FRACTION,
    MCID_POINTS,
    Estimator,
    ModelError,
    responders,
    split_groups,
)
from gluteutils.outcomes.tables import require_columns, suppress_counts
from gluteutils.privacy import mask_attr


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
class ResponderAnalysis(Estimator):
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
        require_columns(df, [self.baseline, self.follow_up, self.treatment]
                 + ([self.by] if self.by else []) + ([self.flag] if self.flag else []))
        data = df.dropna(subset=[self.baseline, self.follow_up]).copy()
        data["_responder"] = (data[self.flag].astype(bool).to_numpy() if self.flag else
                              responders(data[self.baseline], data[self.follow_up],
                                         self.points, self.fraction))
        data[self.treatment] = data[self.treatment].astype(str)
        rows = []
        for key, group in split_groups(data, self.by):
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
