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

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from gluteutils._paths import data_path
from gluteutils.errors import DataProblem, DataValidationError, GluteError
from gluteutils.outcomes import instruments as INS
from gluteutils.outcomes import models
from gluteutils.outcomes.analysis_plan import (
    AnalysisPlan,
    any_symptom_threshold,
    follow_up_frame,
    plan_instrument,
)
from gluteutils.outcomes.anonymise import AnonymisedData, anonymise
from gluteutils.outcomes.mapping import Mapping, apply_mapping, read_export, read_mapping
from gluteutils.privacy import POLICY, mask_attr

#: Categorical case-mix columns whose values k-anonymity may blank (kept as their own level).
SUPPRESSED_LEVEL = "suppressed"


#: The default reference group when neither the plan nor the mapping names one.
DEFAULT_REFERENCE = "home_self_care"
#: Columns of :attr:`ByodResult.skipped`.
SKIPPED_COLUMNS: list[str] = ["step", *models.SKIPPED_COLUMNS]


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
    seed: int = 0
    plan: AnalysisPlan = field(default_factory=AnalysisPlan)
    instrument: INS.Instrument = field(default_factory=lambda: INS.get_instrument("nprs_0_10"))
    reference: str = DEFAULT_REFERENCE
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SKIPPED_COLUMNS))

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
        if self.responders.empty:
            return self.responders.copy()
        return models.published_responders(self.responders, self.reference, by="condition",
                                           threshold=threshold)

    def long_frame(self) -> pd.DataFrame:
        """Every post-baseline visit with the baseline score, the time point being the
        visit day (the package's own schedule, nothing merged)."""
        data = self.anonymised.data
        long = models.visit_frame(data.episodes, data.visits, time_bins="visit_day",
                                  covariates=self.plan.covariates)
        if self.plan.outcome != "pain_nprs":
            score = data.visits.set_index(["episode_id", "visit_day"])[self.plan.outcome]
            long["pain_nprs"] = [float(score.get((e, d), np.nan)) for e, d in
                                 zip(long["episode_id"], long["visit_day"], strict=True)]
            base = self.frame.set_index("episode_id")["baseline_score"]
            long["baseline_pain"] = long["episode_id"].map(base).astype(float)
        return long

    def repeated_measures(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """GEE over every post-baseline visit, per condition, with the plan's covariates
        (:func:`gluteutils.outcomes.models.repeated_measures_by_condition`):
        ``(summary, skipped)``. A :class:`ModelError` names why nothing could be fitted."""
        notes: list[dict[str, Any]] = []
        out = _guard("repeated measures", lambda: models.repeated_measures_by_condition(
            self.long_frame(), self.reference, self.plan.covariates,
            min_group_size=self.plan.min_group_size, skipped=notes))
        return out, pd.DataFrame([{"step": "repeated measures", **r} for r in notes],
                                 columns=SKIPPED_COLUMNS)

    def compare_methods(self, n_imputations: int = 20) -> tuple[pd.DataFrame, pd.DataFrame]:
        """ANCOVA (complete case), ANCOVA + MICE and IPT weighting side by side with the
        plan's covariates (:func:`gluteutils.outcomes.models.compare_methods`, seeded by the
        run's seed): ``(table, skipped)``."""
        notes: list[dict[str, Any]] = []
        out = _guard("method comparison", lambda: models.compare_methods(
            self.frame, reference=self.reference, n_imputations=n_imputations,
            seed=self.seed, covariates=self.plan.covariates, outcome="follow_up_score",
            baseline="baseline_score", cov_type=self.plan.cov_type,
            min_group_size=self.plan.min_group_size, skipped=notes))
        rows = [{"step": f"method comparison: {r.pop('method')}", **r} for r in notes]
        return out, pd.DataFrame(rows, columns=SKIPPED_COLUMNS)

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
              treatment: str = "therapy", alpha: float = 0.05, threshold: float = 0.0,
              by: str | None = None) -> pd.DataFrame:
    """Share of people with any pain (a value above ``threshold``: the instrument's
    ``any_symptom_threshold``, 0 on the NPRS) at the follow-up, per treatment (and ``by``
    group), and the risk difference vs ``reference`` (Wilson and Newcombe 95% CIs,
    statsmodels). A ``by`` group without the reference is left out; none at all is a
    :class:`~gluteutils.outcomes.models.ModelError`."""
    data = frame.dropna(subset=[outcome])
    rows = []
    groups = ([(None, data)] if by is None else
              list(data.groupby(data[by].astype(str), sort=True)))
    for key, g in groups:
        any_pain = g[outcome].astype(float) > threshold
        counts = any_pain.groupby(g[treatment].astype(str)).agg(["size", "sum"])
        if reference not in counts.index:
            continue
        n0 = int(counts.at[reference, "size"])  # type: ignore[arg-type]
        x0 = int(counts.at[reference, "sum"])  # type: ignore[arg-type]
        for level, (n, x) in counts.iterrows():
            n, x = int(n), int(x)
            lo, hi = proportion_confint(x, n, alpha=alpha, method="wilson")
            row: dict[str, Any] = {"treatment": level, "n": n, "with_pain": x,
                                   "share": x / n, "share_lower": float(lo),
                                   "share_upper": float(hi), "risk_difference": np.nan,
                                   "rd_lower": np.nan, "rd_upper": np.nan}
            if level != reference:
                rlo, rhi = confint_proportions_2indep(x, n, x0, n0, compare="diff",
                                                      method="newcomb", alpha=alpha)
                row.update(risk_difference=x / n - x0 / n0, rd_lower=float(rlo),
                           rd_upper=float(rhi))
            rows.append(row if by is None else {by: key, **row})
    if not rows:
        raise models.ModelError(f"no rows with the reference {reference!r}")
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
    if table.empty:
        return table.copy()
    derived = [c for c in table.columns if c.startswith(("share", "risk_difference", "rd_"))]
    out = models.suppress_counts(table, "with_pain", "n", derived=derived, threshold=threshold)
    mask = np.asarray(out.attrs["suppressed"], dtype=bool)
    ref = table["risk_difference"].isna().to_numpy()
    if mask[ref].any():
        out[["risk_difference", "rd_lower", "rd_upper"]] = np.nan
    return out


def incidence_at_visit(result: ByodResult, visit_day: int, *,
                       reference: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`incidence` at any one visit of the anonymised data (not only the follow-up),
    per condition, with the run's outcome, instrument threshold and reference.

    For the licorice trial, ``visit_day`` 3 is the 4-hour time point (see its mapping file),
    the one the trial report's headline quotes.
    """
    outcome = result.plan.outcome
    visits = result.anonymised.data.visits
    episodes = result.anonymised.data.episodes
    at_visit = visits.loc[visits["visit_day"] == visit_day, ["episode_id", outcome]]
    if at_visit.empty:
        raise models.ModelError(f"no visit with visit_day == {visit_day}")
    frame = at_visit.merge(episodes[["episode_id", "condition", "therapy"]], on="episode_id",
                           how="inner")
    return incidence(frame, reference or result.reference, outcome=outcome, alpha=alpha,
                     threshold=any_symptom_threshold(result.plan, result.instrument), by="condition")


def _guard(step: str, fn: Any) -> Any:
    """Run one analysis step; an error that is not one of gluteutils' own (a numpy, pandas
    or statsmodels failure) comes back as a :class:`ModelError` naming the step."""
    try:
        return fn()
    except GluteError:
        raise
    except (ArithmeticError, LookupError, ValueError, TypeError, np.linalg.LinAlgError,
            RuntimeError) as exc:
        raise models.ModelError(f"{step} failed: {type(exc).__name__}: {exc}") from exc


def _fill_suppressed(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Blanked quasi-identifiers become their own level, so no one drops out of the model."""
    out = frame.copy()
    for c in columns:
        if c in out.columns and out[c].isna().any():
            out[c] = out[c].astype(object).where(out[c].notna(), SUPPRESSED_LEVEL)
    return out


def run(export_file: str | Path, mapping: str | Path | Mapping, *, k: int = 5,
        seed: int = 0, reference: str | None = None, drop_invalid: bool = True,
        covariates: tuple[str, ...] | None = None,
        plan: AnalysisPlan | None = None) -> ByodResult:
    """Validate, anonymise and analyse one export (see the module docstring).

    ``plan`` is the analysis plan (:class:`AnalysisPlan`; default: the trial ANCOVA,
    baseline only, at the review visit, on the mapping's instrument). ``reference`` and
    ``covariates``, when given, override the plan's. A group too small to fit is left out
    and listed in :attr:`ByodResult.skipped`; every other failure is a gluteutils error
    (:class:`DataValidationError`, :class:`~gluteutils.errors.PrivacyError`,
    :class:`~gluteutils.outcomes.models.ModelError`), never a raw numpy or pandas one.
    """
    plan = plan or AnalysisPlan()
    if reference is not None:
        plan = replace(plan, reference=reference)
    if covariates is not None:
        plan = replace(plan, covariates=tuple(covariates))
    m, export, problems, bad_rows = _validated(export_file, mapping, seed, drop_invalid)
    clean = export.drop(index=[r for r in bad_rows if r in export.index])
    clean = clean.drop(columns=[c for c in clean.columns if c.startswith("__")])
    if export.empty:
        raise models.ModelError(f"{m.name}: the export has no data rows (header only?)")
    if clean.empty:
        raise models.ModelError(f"{m.name}: every row of the export was rejected "
                                f"({len(problems)} problem(s), see the problems table)")
    anon = _guard("anonymisation", lambda: anonymise(clean, m, k=k, seed=seed))
    ref = plan.reference or getattr(m, "reference", None) or DEFAULT_REFERENCE
    frame = _guard("analysis frame", lambda: follow_up_frame(anon.data.episodes,
                                                             anon.data.visits, plan))
    inst = plan_instrument(plan, m)  # the mapping declares the export's instruments
    frame = _fill_suppressed(frame, list(anon.quasi_identifiers))
    skipped: list[dict[str, Any]] = []
    fit = _guard("primary ANCOVA", lambda: models.ANCOVA(
        "follow_up_score", "baseline_score", "therapy", ref, covariates=list(plan.covariates),
        by="condition", cov_type=plan.cov_type,
        min_group_size=plan.min_group_size).fit(frame))
    skipped += [{"step": "primary ANCOVA", **r} for r in fit._skipped or []]
    resp = _responders(frame, plan, inst, ref, skipped)
    inc = _incidence_table(frame, plan, inst, ref, skipped)
    return ByodResult(mapping=m, problems=problems, rows_in_export=len(export),
                      rows_dropped=len(bad_rows), anonymised=anon, frame=frame,
                      primary=fit.summary_, responders=resp, incidence=inc, seed=seed,
                      plan=plan, instrument=inst, reference=ref,
                      skipped=pd.DataFrame(skipped, columns=SKIPPED_COLUMNS))


def _validated(export_file: str | Path, mapping: str | Path | Mapping, seed: int,
               drop_invalid: bool) -> tuple[Mapping, pd.DataFrame, pd.DataFrame, list[int]]:
    """(mapping, export, problems table, rows to leave out); with ``drop_invalid=False`` any
    problem stops the run as a :class:`DataValidationError`."""
    try:
        m, export, problems = _guard("validation", lambda: validate_export(
            export_file, mapping, seed=seed))
    except OSError as exc:  # a missing or unreadable file: named, not a traceback
        raise DataValidationError([DataProblem(
            str(getattr(exc, "filename", None) or export_file), None, None,
            f"cannot read the file: {exc.strerror or exc}")]) from None
    if not len(problems):
        return m, export, problems, []
    if not drop_invalid:
        raise DataValidationError([
            DataProblem(str(r.file),
                        None if pd.isna(r.row) else int(r.row),  # type: ignore[arg-type]
                        None if pd.isna(r.column) else str(r.column), str(r.message),
                        None if pd.isna(r.expected) else str(r.expected),
                        None if pd.isna(r.value) else str(r.value))
            for r in problems.itertuples(index=False)])
    return m, export, problems, sorted({int(r) for r in problems["row"].dropna()})


def _responders(frame: pd.DataFrame, plan: AnalysisPlan, inst: INS.Instrument, ref: str,
                skipped: list[dict[str, Any]]) -> pd.DataFrame:
    """The responder analysis vs the plan's rule; an empty table (and a skipped entry) when
    it cannot be run."""
    scored = frame.dropna(subset=["baseline_score", "follow_up_score"])
    try:
        flags = INS.responder(scored["baseline_score"], scored["follow_up_score"], inst,
                              points=plan.responder_points, percent=plan.responder_percent,
                              rule=plan.responder_rule)
        return _guard("responders", lambda: models.ResponderAnalysis(
            "baseline_score", "follow_up_score", "therapy", ref, by="condition",
            flag="responder").fit(scored.assign(responder=flags)).summary_)
    except (ValueError, models.ModelError) as exc:
        skipped.append({"step": "responders", "group": "all data", "treatment": "", "n": 0,
                        "needed": 0, "message": f"responder analysis not run: {exc}"})
        return pd.DataFrame()


def _incidence_table(frame: pd.DataFrame, plan: AnalysisPlan, inst: INS.Instrument, ref: str,
                     skipped: list[dict[str, Any]]) -> pd.DataFrame:
    """Share with any pain at follow-up and the risk difference vs ``ref`` per condition;
    conditions it cannot cover (no threshold, nobody followed on the reference) are listed
    in ``skipped``."""
    try:
        threshold: float | None = any_symptom_threshold(plan, inst)
    except models.ModelError as exc:
        skipped.append({"step": "incidence", "group": "all data", "treatment": "", "n": 0,
                        "needed": 0, "message": f"'any pain' not computed: {exc}"})
        threshold = None
    inc = (pd.DataFrame(columns=["condition", "treatment", "n", "with_pain", "share"])
           if threshold is None else
           _guard("incidence", lambda: incidence(frame, ref, outcome="follow_up_score",
                                                 threshold=threshold, by="condition")))
    followed = frame.dropna(subset=["follow_up_score"])
    covered = set(inc["condition"]) if threshold is not None else set(followed["condition"]
                                                                     .astype(str))
    for cond in sorted(set(followed["condition"].astype(str)) - covered):
        skipped.append({"step": "incidence", "group": f"condition {cond}", "treatment": ref,
                        "n": 0, "needed": 1,
                        "message": f"condition {cond}: no one with a follow-up has the "
                                   f"reference therapy {ref!r}, so no risk difference"})
    return inc


def relabel(table: pd.DataFrame, labels: dict[str, str],
            columns: tuple[str, ...] = ("treatment", "reference", "therapy")) -> pd.DataFrame:
    """Replace stand-in therapy ids by the export's own arm names for display."""
    out = table.copy()
    for c in columns:
        if c in out.columns:
            out[c] = out[c].astype(str).map(lambda v: labels.get(v, v))
    return out
