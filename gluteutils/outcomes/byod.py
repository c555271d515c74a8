"""Bring your own data: export file + mapping -> validate -> anonymise -> the same analysis.

The pipeline only composes other parts of the package:

1. **validate** - :func:`gluteutils.outcomes.mapping.read_export` and ``apply_mapping`` in
   lenient mode list every problem (export row, column, value, what was expected); rows with a
   problem are left out (``drop_invalid=True``, the default) or the run stops with
   :class:`gluteutils.errors.DataValidationError` (``drop_invalid=False``);
2. **anonymise** - :func:`gluteutils.outcomes.anonymise.anonymise` (identifiers dropped, fresh random
   episode ids, dates to days, ages to bands, k-anonymity enforced over the mapping's
   quasi-identifiers);
3. **analyse** - :func:`gluteutils.outcomes.models.analysis_frame`, the primary ANCOVA
   (:func:`gluteutils.outcomes.models.primary_analysis`), the responder analysis vs the MCID,
   and the share of people with any pain at the review visit (``incidence``) with a
   risk difference - the usual headline of trials whose outcome is "any pain".

Relative paths are resolved inside the collection's data folder
(``data_path``), so notebooks never depend on the working directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from gluteutils._paths import data_path
from gluteutils.errors import DataProblem, DataValidationError
from gluteutils.outcomes import models
from gluteutils.outcomes.anonymise import AnonymisedData, anonymise
from gluteutils.outcomes.mapping import Mapping, apply_mapping, read_export, read_mapping
from gluteutils.privacy import POLICY, mask_attr

#: Categorical case-mix columns whose values k-anonymity may blank (kept as their own level).
SUPPRESSED_LEVEL = "suppressed"


def resolve(path: str | Path) -> Path:
    """An absolute path as given; a relative one inside the data folder (``data_path``)."""
    p = Path(path)
    return p if p.is_absolute() else data_path(*p.parts)


@dataclass
class ByodResult:
    """Everything the bring-your-own-data notebook shows."""

    mapping: Mapping
    problems: pd.DataFrame
    rows_in_export: int
    rows_dropped: int
    anonymised: AnonymisedData
    frame: pd.DataFrame
    primary: pd.DataFrame
    responders: pd.DataFrame
    incidence: pd.DataFrame

    def summary(self) -> str:
        """A short, stable text summary of the run, safe to publish: it gives no record
        counts of the anonymisation steps (those are small cells, see
        :meth:`published_actions`) and no export row count they could be derived from."""
        a = self.anonymised
        return (f"{self.mapping.name}: {len(self.problems)} problem(s), "
                f"{self.rows_dropped} row(s) left out; "
                f"{len(a.data.episodes)} episodes, {len(a.data.visits)} visits; "
                f"k over {a.quasi_identifiers}: {a.k_before} -> {a.k_after} (target {a.k}); "
                f"{len(a.actions)} k-anonymity step(s); "
                f"{len(a.dropped_columns)} export column(s) dropped")

    def published_actions(self, threshold: int = 5) -> pd.DataFrame:
        """The anonymisation actions with the ``records`` counts small-cell suppressed
        (:data:`gluteutils.privacy.POLICY`, ``"<threshold"`` / ``"n.p."``)."""
        return published_counts(self.anonymised.actions, ["records"], threshold=threshold)

    def published_responders(self, threshold: int = 5) -> pd.DataFrame:
        """:attr:`responders` for display
        (:func:`gluteutils.outcomes.models.published_responders`)."""
        reference = str(self.responders["reference"].iloc[0])
        return models.published_responders(self.responders, reference, by="condition",
                                           threshold=threshold)

    def published_incidence(self, threshold: int = 5) -> pd.DataFrame:
        """:attr:`incidence` for display (see :func:`published_incidence`)."""
        return published_incidence(self.incidence, threshold=threshold)


def validate_export(export_file: str | Path, mapping: str | Path | Mapping, *,
                    seed: int = 0) -> tuple[Mapping, pd.DataFrame, pd.DataFrame]:
    """Read and validate an export: ``(mapping, export, problems)`` without stopping.

    ``problems`` has one row per problem (``file, row, column, message, value, expected``),
    rows being the export's 1-based data rows.
    """
    m = mapping if isinstance(mapping, Mapping) else read_mapping(resolve(mapping))
    path = resolve(export_file)
    export = read_export(path, m)
    checked = apply_mapping(export, m, file=path.name, seed=seed, lenient=True)
    problems = checked.report if checked.report is not None else pd.DataFrame()
    return m, export, problems


def incidence(frame: pd.DataFrame, reference: str, *, outcome: str = "review_pain",
              treatment: str = "therapy", alpha: float = 0.05) -> pd.DataFrame:
    """Share of people with any pain (> 0) at the review, per treatment, and the risk
    difference vs ``reference`` (Wilson and Newcombe 95% CIs, statsmodels)."""
    data = frame.dropna(subset=[outcome])
    any_pain = data[outcome] > 0
    counts = any_pain.groupby(data[treatment].astype(str)).agg(["size", "sum"])
    if reference not in counts.index:
        raise models.ModelError(f"no rows with the reference {reference!r}")
    n0 = int(counts.at[reference, "size"])  # type: ignore[arg-type]
    x0 = int(counts.at[reference, "sum"])  # type: ignore[arg-type]
    rows = []
    for level, (n, x) in counts.iterrows():
        n, x = int(n), int(x)
        lo, hi = proportion_confint(x, n, alpha=alpha, method="wilson")
        row: dict[str, Any] = {"treatment": level, "n": n, "with_pain": x, "share": x / n,
                               "share_lower": float(lo), "share_upper": float(hi),
                               "risk_difference": np.nan, "rd_lower": np.nan,
                               "rd_upper": np.nan}
        if level != reference:
            rlo, rhi = confint_proportions_2indep(x, n, x0, n0, compare="diff",
                                                  method="newcomb", alpha=alpha)
            row.update(risk_difference=x / n - x0 / n0, rd_lower=float(rlo),
                       rd_upper=float(rhi))
        rows.append(row)
    return pd.DataFrame(rows)


def published_counts(table: pd.DataFrame, columns: list[str], *,
                     threshold: int = 5) -> pd.DataFrame:
    """A display copy of ``table`` with the count ``columns`` small-cell suppressed
    (complementary cells included); small hidden counts read ``"<threshold"``, the others
    ``"n.p."``. The mask is in ``result.attrs["suppressed"]``."""
    if len(table) == 0:
        return table.copy()
    out = POLICY.with_threshold(threshold).table(table, columns=columns)
    out.attrs["suppressed"] = mask_attr(out.attrs["suppressed"][columns])
    return out


def published_incidence(table: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    """An :func:`incidence` table for display: ``with_pain``, ``n`` and ``n - with_pain``
    small-cell suppressed (:func:`gluteutils.outcomes.models.suppress_counts`); the shares of
    a row with a hidden count are blanked, and every risk difference when the reference
    row's count is hidden (it would give that count back)."""
    derived = [c for c in table.columns if c.startswith(("share", "risk_difference", "rd_"))]
    out = models.suppress_counts(table, "with_pain", "n", derived=derived, threshold=threshold)
    mask = np.asarray(out.attrs["suppressed"], dtype=bool)
    ref = table["risk_difference"].isna().to_numpy()
    if mask[ref].any():
        out[["risk_difference", "rd_lower", "rd_upper"]] = np.nan
    return out


def incidence_at_visit(result: ByodResult, visit_day: int, *,
                       reference: str = "home_self_care", alpha: float = 0.05) -> pd.DataFrame:
    """:func:`incidence` at any one visit of the anonymised data (not only the review).

    For the licorice trial, ``visit_day`` 3 is the 4-hour time point (see its mapping file),
    the one the trial report's headline quotes.
    """
    visits = result.anonymised.data.visits
    episodes = result.anonymised.data.episodes
    at_visit = visits.loc[visits["visit_day"] == visit_day, ["episode_id", "pain_nprs"]]
    if at_visit.empty:
        raise models.ModelError(f"no visit with visit_day == {visit_day}")
    frame = at_visit.merge(episodes[["episode_id", "therapy"]], on="episode_id", how="inner")
    return incidence(frame, reference, outcome="pain_nprs", alpha=alpha)


def _fill_suppressed(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Blanked quasi-identifiers become their own level, so no one drops out of the model."""
    out = frame.copy()
    for c in columns:
        if c in out.columns and out[c].isna().any():
            out[c] = out[c].astype(object).where(out[c].notna(), SUPPRESSED_LEVEL)
    return out


def run(export_file: str | Path, mapping: str | Path | Mapping, *, k: int = 5,
        seed: int = 0, reference: str = "home_self_care", drop_invalid: bool = True,
        covariates: tuple[str, ...] = models.CASE_MIX) -> ByodResult:
    """Validate, anonymise and analyse one export (see the module docstring)."""
    m, export, problems = validate_export(export_file, mapping, seed=seed)
    bad_rows: list[int] = []
    if len(problems):
        if not drop_invalid:
            raise DataValidationError([
                DataProblem(str(r.file),
                            None if pd.isna(r.row) else int(r.row),  # type: ignore[arg-type]
                            None if pd.isna(r.column) else str(r.column), str(r.message),
                            None if pd.isna(r.expected) else str(r.expected),
                            None if pd.isna(r.value) else str(r.value))
                for r in problems.itertuples(index=False)])
        bad_rows = sorted({int(r) for r in problems["row"].dropna()})
    clean = export.drop(index=[r for r in bad_rows if r in export.index])
    clean = clean.drop(columns=[c for c in clean.columns if c.startswith("__")])
    anon = anonymise(clean, m, k=k, seed=seed)
    frame = models.analysis_frame(anon.data.episodes, anon.data.visits)
    frame = _fill_suppressed(frame, list(anon.quasi_identifiers))
    covs = [c for c in covariates if c in frame.columns and frame[c].notna().any()]
    primary = models.primary_analysis(frame, reference=reference, covariates=covs).summary_
    responders = models.ResponderAnalysis("baseline_pain", "review_pain", "therapy", reference,
                                          by="condition").fit(frame).summary_
    inc = incidence(frame, reference)
    return ByodResult(mapping=m, problems=problems, rows_in_export=len(export),
                      rows_dropped=len(bad_rows), anonymised=anon, frame=frame,
                      primary=primary, responders=responders, incidence=inc)


def relabel(table: pd.DataFrame, labels: dict[str, str],
            columns: tuple[str, ...] = ("treatment", "reference", "therapy")) -> pd.DataFrame:
    """Replace stand-in therapy ids by the export's own arm names for display."""
    out = table.copy()
    for c in columns:
        if c in out.columns:
            out[c] = out[c].astype(str).map(lambda v: labels.get(v, v))
    return out
