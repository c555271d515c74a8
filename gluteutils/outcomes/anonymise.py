"""Pipeline step: anonymise a clinic export with its column mapping.

:func:`anonymise` keeps only the outcome schema's columns (every other export column - names,
emails, phone numbers, addresses, Medicare/IHI-like numbers, free text, postcodes, clinician
names - is dropped), turns dates into days since the episode's first visit, turns dates of
birth or ages into age bands (top-coded 70+), replaces ids with fresh random ids (drawn from
a random generator, never a hash of the original id) and enforces k-anonymity over the
declared quasi-identifiers (:func:`gluteutils.privacy.enforce_k_anonymity`: optional ones
generalised, rare records removed, required columns never blanked), with a report of every
action. Finally it scans the output for any declared identifier value.

Rules follow EVIDENCE.md section 4 (HIPAA Safe Harbor identifiers, OAIC de-identification
guidance, AIHW consequential suppression, k = 5 for shared data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gluteutils.errors import PrivacyError, RequiredColumnError
from gluteutils.outcomes.io import OutcomeData
from gluteutils.outcomes.mapping import (
    Mapping,
    apply_mapping,
    normalise_identifier,
    read_export,
    read_mapping,
)
from gluteutils.outcomes.schema import REQUIRED_EPISODE_COLUMNS, REVIEW_WINDOW
from gluteutils.privacy.kanon import DEFAULT_K, enforce_k_anonymity, k_anonymity
from gluteutils.privacy.sequences import coarsen_visit_days, sequence_classes

#: Rule keys allowed to read a declared identifier column (they transform, never copy it).
DERIVING_KEYS = ("date_of_birth", "date_format", "age")


@dataclass
class AnonymisedData:
    """Result of :func:`anonymise`: the anonymised data and what was done to it."""

    data: OutcomeData
    k: int
    k_before: int
    k_after: int
    quasi_identifiers: list[str]
    actions: pd.DataFrame
    dropped_columns: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A short, stable text summary."""
        n_sup = int(self.actions["records"].sum()) if len(self.actions) else 0
        return (f"{len(self.data.episodes)} episodes, {len(self.data.visits)} visits; "
                f"k over {self.quasi_identifiers}: {self.k_before} -> {self.k_after} "
                f"(target {self.k}); {n_sup} record suppression(s); "
                f"{len(self.dropped_columns)} export column(s) dropped")


def _check_mapping_privacy(mapping: Mapping) -> None:
    ids = set(mapping.identifiers)
    for col, rule in mapping.columns.items():
        src = rule.get("column")
        if src in ids and not any(rule.get(k) for k in DERIVING_KEYS):
            raise PrivacyError(
                f"{mapping.file}: the mapping copies the identifier column {src!r} into "
                f"{col!r}; identifiers may only be transformed (dates, date of birth, age)")


def find_identifiers(data: OutcomeData, export: pd.DataFrame, columns: list[str]) -> list[str]:
    """Return a description of every value of the export's identifier ``columns`` found in
    the output's text cells (empty when none survived).

    Whole values are compared (after identifier normalisation: NFKC, zero-width characters
    removed, trimmed), and identifiers of 6 or more characters are also searched inside
    longer text. Numeric columns (``visit_day``, scores) are not text: a visit on day 365 is
    not the patient numbered 365."""
    planted: set[str] = set()
    for col in columns:
        if col in export.columns:
            planted |= {normalise_identifier(v) for v in export[col].dropna()
                        if len(normalise_identifier(v)) >= 3}
    long_ids = [p for p in planted if len(p) >= 6]
    hits = []
    for name, frame in (("episodes", data.episodes), ("visits", data.visits)):
        for col in frame.columns:
            series = frame[col]
            if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(
                    series.dtype):
                continue
            for value in set(series.dropna().astype(str)):
                norm = normalise_identifier(value)
                if norm in planted or any(p in norm for p in long_ids):
                    hits.append(f"{name}.{col}: {value!r}")
    return hits


def _as_text(col: pd.Series) -> pd.Series:
    """Sort key: ids by their text (not a categorical's order), other columns as they are."""
    return col.astype(str) if col.name == "episode_id" else col


def _k_anonymous(episodes: pd.DataFrame, visits: pd.DataFrame, qis: list[str], k: int,
                 required: list[str], sequences: bool = True
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """k-anonymity over the quasi-identifiers AND (``sequences``) over each episode's
    visit-day sequence within its condition: the two steps alternate until neither
    removes a record (a record removed by one can leave a class of the other too small).
    A wide export's visit days are the mapping's fixed schedule, not the person's dates:
    its sequences are left as they are (``sequences=False``)."""
    steps = []
    by: list[str] = []
    for _ in range(10):
        episodes, acts = enforce_k_anonymity(episodes, qis, k, required=required)
        steps.append(acts)
        visits = visits[visits["episode_id"].isin(episodes["episode_id"])]
        if not sequences:
            break
        by = ["condition"] if "condition" in episodes.columns else []
        visits, seq_acts = coarsen_visit_days(visits, k, episodes=episodes, by=by,
                                              review_windows=REVIEW_WINDOW)
        steps.append(seq_acts)
        kept = episodes["episode_id"].isin(visits["episode_id"])
        episodes = episodes[kept]
        if kept.all() and (not qis or not len(episodes)
                           or k_anonymity(episodes, qis) >= k):
            break
    actions = pd.concat([a for a in steps if len(a)], ignore_index=True) if any(
        len(a) for a in steps) else steps[0]
    if len(actions):
        actions["step"] = range(1, len(actions) + 1)
    if not sequences:
        return episodes, visits, actions
    if "sessions_attended" in episodes.columns:  # visits merged away: sessions = visits
        n = visits.groupby("episode_id", observed=True).size()
        had = episodes["sessions_attended"].notna()
        episodes = episodes.assign(sessions_attended=episodes["sessions_attended"].where(
            ~had, episodes["episode_id"].map(n)).astype(episodes["sessions_attended"].dtype))
    sizes = sequence_classes(visits, episodes, by)
    if len(sizes) and int(sizes.min()) < k:  # pragma: no cover - coarsen_visit_days removes them
        raise PrivacyError(f"a visit-day sequence is shared by {int(sizes.min())} < {k} "
                           "episodes after coarsening")
    return episodes, visits, actions


def anonymise(export: pd.DataFrame | str | Path, mapping: Mapping | str | Path | dict[str, Any],
              *, k: int = DEFAULT_K, seed: int | None = None,
              quasi_identifiers: list[str] | None = None) -> AnonymisedData:
    """Anonymise a clinic export with its column mapping (see :mod:`gluteutils.outcomes.mapping`).

    Raises :class:`gluteutils.errors.PrivacyError` if the mapping would copy a declared
    identifier, or if any identifier value is found in the output; data problems raise
    :class:`gluteutils.errors.DataValidationError` naming the export row and column (a
    DataFrame's index is taken as the 1-based export row numbers when it is a unique integer
    index starting at 1 or later, e.g. :func:`read_export`'s after rows were dropped;
    otherwise rows are numbered 1..n). Both output tables are ordered by the new random
    ``episode_id`` (then ``visit_day``), never by the export's order.
    """
    m = mapping if isinstance(mapping, Mapping) else read_mapping(mapping)
    _check_mapping_privacy(m)
    if isinstance(export, (str, Path)):
        file = str(export)
        frame = read_export(export, m)
    else:
        file = "export"
        frame = export.copy()
        # keep the caller's export row numbers (e.g. read_export's, after bad rows were
        # dropped) so problems name the right row; otherwise number the rows 1..n
        idx = frame.index
        if not (pd.api.types.is_integer_dtype(idx.dtype) and idx.is_unique
                and (len(idx) == 0 or idx.min() >= 1)):
            frame.index = pd.RangeIndex(1, len(frame) + 1)
    data = apply_mapping(frame, m, file=file, seed=seed)
    qis = list(quasi_identifiers if quasi_identifiers is not None else m.quasi_identifiers)
    unknown = [q for q in qis if q not in data.episodes.columns]
    if unknown:
        raise PrivacyError(f"quasi-identifiers {unknown} are not columns of the anonymised "
                           "episodes (they were removed entirely, or are misspelt)")
    k_before = k_anonymity(data.episodes, qis)
    required = [q for q in qis if q in REQUIRED_EPISODE_COLUMNS]
    episodes, visits, actions = _k_anonymous(data.episodes, data.visits, qis, k, required,
                                             sequences=m.layout == "long")
    if len(data.episodes) and not len(episodes):  # never an empty package with exit 0
        err = RequiredColumnError if required else PrivacyError
        raise err(f"k-anonymity k={k} over {qis} cannot be reached: every record would be "
                  "removed" + (f" (the required column(s) {required} are never blanked)"
                               if required else "") + "; declare fewer quasi-identifiers "
                  "or a smaller k")
    # export order would re-identify (ids were drawn in that order): order by the random id
    episodes = episodes.sort_values("episode_id", key=_as_text, kind="stable")
    episodes = episodes.reset_index(drop=True)
    visits = visits.sort_values(["episode_id", "visit_day"], key=_as_text, kind="stable")
    result = OutcomeData(episodes=episodes, visits=visits.reset_index(drop=True),
                         report=data.report, instruments=data.instruments, notes=data.notes)
    k_after = k_anonymity(episodes, qis)
    if len(episodes) and k_after < k:  # pragma: no cover - enforce_k_anonymity guarantees it
        raise PrivacyError(f"k-anonymity {k_after} < {k} after suppression")
    identifier_cols = sorted(set(m.identifiers) | set(m.episode))
    hits = find_identifiers(result, frame, identifier_cols)
    if hits:
        raise PrivacyError("identifiers survived anonymisation: " + "; ".join(hits[:5]))
    used = {c for c in m.source_columns()}
    dropped = [c for c in frame.columns if c not in used or c in identifier_cols]
    return AnonymisedData(data=result, k=k, k_before=k_before, k_after=k_after,
                          quasi_identifiers=qis, actions=actions, dropped_columns=dropped)
