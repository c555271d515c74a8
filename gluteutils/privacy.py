"""Anonymise a clinic export, check k-anonymity, and suppress small cells in published tables.

* :func:`anonymise` keeps only the outcome schema's columns (every other export column - names,
  emails, phone numbers, addresses, Medicare/IHI-like numbers, free text, postcodes, clinician
  names - is dropped), turns dates into days since the episode's first visit, turns dates of
  birth or ages into age bands (top-coded 70+), replaces ids with fresh random ids (drawn from
  a random generator, never a hash of the original id) and enforces k-anonymity over the
  declared quasi-identifiers by local suppression (site, then age band, then sex are blanked
  for records in classes smaller than k; records still in small classes are removed), with a
  report of every action. Finally it scans the output for any declared identifier value.
* :func:`suppress_small_cells` masks counts 1..threshold-1 (AIHW style: zeros may be shown) and
  the complementary cells that would let a masked count be derived from row/column totals.
  Every count table the collection publishes goes through it.

Rules follow EVIDENCE.md section 4 (HIPAA Safe Harbor identifiers, OAIC de-identification
guidance, AIHW consequential suppression, k = 5 for shared data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gluteutils.errors import PrivacyError
from gluteutils.outcomes.io import OutcomeData
from gluteutils.outcomes.mapping import Mapping, apply_mapping, read_export, read_mapping

DEFAULT_K: int = 5
MISSING_LABEL: str = "*"
#: Rule keys allowed to read a declared identifier column (they transform, never copy it).
_DERIVING_KEYS = ("date_of_birth", "date_format", "age")


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


def _qi_frame(frame: pd.DataFrame, qis: list[str]) -> pd.DataFrame:
    return pd.DataFrame({q: frame[q].astype(object).where(frame[q].notna(), MISSING_LABEL)
                         .astype(str) for q in qis}, index=frame.index)


def equivalence_classes(frame: pd.DataFrame, quasi_identifiers: list[str]) -> pd.DataFrame:
    """Return each combination of quasi-identifier values with its number of records
    (missing values count as their own value ``"*"``), smallest first."""
    if not quasi_identifiers:
        return pd.DataFrame({"records": [len(frame)]})
    qi = _qi_frame(frame, quasi_identifiers)
    sizes = qi.value_counts().rename("records").reset_index()
    return sizes.sort_values(["records", *quasi_identifiers], kind="stable").reset_index(drop=True)


def k_anonymity(frame: pd.DataFrame, quasi_identifiers: list[str]) -> int:
    """Return k: the size of the smallest equivalence class (0 for an empty frame)."""
    if len(frame) == 0:
        return 0
    return int(equivalence_classes(frame, quasi_identifiers)["records"].min())


def _class_sizes(frame: pd.DataFrame, qis: list[str]) -> pd.Series:
    qi = _qi_frame(frame, qis)
    return qi.groupby(qis, sort=False)[qis[0]].transform("size")


def enforce_k_anonymity(frame: pd.DataFrame, quasi_identifiers: list[str],
                        k: int = DEFAULT_K, *, suppress_order: list[str] | None = None
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Make ``frame`` k-anonymous over ``quasi_identifiers`` by local suppression.

    For records in classes smaller than ``k`` the quasi-identifiers are blanked one at a time
    (``suppress_order``; default: the declared list from last to first, e.g. site, then sex,
    then age band), then records still in small classes are removed. Returns the new frame and
    a table of actions (``step, column, records``).
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    qis = list(quasi_identifiers)
    order = list(suppress_order) if suppress_order is not None else list(reversed(qis))
    out = frame.copy()
    actions: list[dict[str, Any]] = []
    if not qis or len(out) == 0:
        return out, pd.DataFrame(actions, columns=["step", "column", "records"])
    for step, col in enumerate(order, start=1):
        small = (_class_sizes(out, qis) < k) & out[col].notna()
        if not small.any():
            continue
        out.loc[small, col] = None if not isinstance(out[col].dtype, pd.CategoricalDtype) \
            else np.nan
        actions.append({"step": step, "column": col, "records": int(small.sum()),
                        "action": "value blanked"})
    small = _class_sizes(out, qis) < k
    if small.any():
        actions.append({"step": len(order) + 1, "column": None, "records": int(small.sum()),
                        "action": "record removed"})
        out = out.loc[~small]
    table = pd.DataFrame(actions, columns=["step", "column", "records", "action"])
    return out, table


def _check_mapping_privacy(mapping: Mapping) -> None:
    ids = set(mapping.identifiers)
    for col, rule in mapping.columns.items():
        src = rule.get("column")
        if src in ids and not any(rule.get(k) for k in _DERIVING_KEYS):
            raise PrivacyError(
                f"{mapping.file}: the mapping copies the identifier column {src!r} into "
                f"{col!r}; identifiers may only be transformed (dates, date of birth, age)")


def find_identifiers(data: OutcomeData, export: pd.DataFrame, columns: list[str]) -> list[str]:
    """Return a description of every value of the export's identifier ``columns`` that
    appears in any text cell of ``data`` (empty when none survived)."""
    planted: set[str] = set()
    for col in columns:
        if col in export.columns:
            planted |= {str(v) for v in export[col].dropna() if len(str(v)) >= 3}
    hits = []
    for name, frame in (("episodes", data.episodes), ("visits", data.visits)):
        for col in frame.columns:
            cells = set(frame[col].dropna().astype(str))
            for value in cells:
                if value in planted or any(p in value for p in planted if len(p) >= 6):
                    hits.append(f"{name}.{col}: {value!r}")
    return hits


def _as_text(col: pd.Series) -> pd.Series:
    """Sort key: ids by their text (not a categorical's order), other columns as they are."""
    return col.astype(str) if col.name == "episode_id" else col


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
    episodes, actions = enforce_k_anonymity(data.episodes, qis, k)
    # export order would re-identify (ids were drawn in that order): order by the random id
    episodes = episodes.sort_values("episode_id", key=_as_text, kind="stable")
    episodes = episodes.reset_index(drop=True)
    visits = data.visits[data.visits["episode_id"].isin(episodes["episode_id"])]
    visits = visits.sort_values(["episode_id", "visit_day"], key=_as_text, kind="stable")
    result = OutcomeData(episodes=episodes, visits=visits.reset_index(drop=True),
                         report=data.report)
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


# ---------------------------------------------------------------------------------------------
# small-cell suppression
# ---------------------------------------------------------------------------------------------
def _complementary(values: np.ndarray, mask: np.ndarray, threshold: int) -> np.ndarray:
    """Add complementary suppressions until no suppressed cell can be derived from row or
    column totals: every row/column has 0 or >= 2 suppressed cells whose sum is >= threshold
    (when the line has enough cells)."""
    mask = mask.copy()
    changed = True
    while changed:
        changed = False
        for axis in (1, 0):
            lines = mask.shape[0] if axis == 1 else mask.shape[1]
            for i in range(lines):
                m = mask[i, :] if axis == 1 else mask[:, i]
                v = values[i, :] if axis == 1 else values[:, i]
                n_sup = int(m.sum())
                if n_sup == 0:
                    continue
                if n_sup >= 2 and v[m].sum() >= threshold:
                    continue
                candidates = np.flatnonzero(~m)
                if candidates.size == 0:
                    continue
                # prefer the smallest non-zero cell, then zeros
                nonzero = candidates[v[candidates] > 0]
                pool = nonzero if nonzero.size else candidates
                j = pool[np.argmin(v[pool])]
                if axis == 1:
                    mask[i, j] = True
                else:
                    mask[j, i] = True
                changed = True
    return mask


def suppress_small_cells(table: pd.DataFrame, threshold: int = 5, *,
                         columns: list[str] | None = None, count: str | None = None,
                         rows: str | list[str] | None = None, cols: str | None = None,
                         complementary: bool = True, marker: str | None = None) -> pd.DataFrame:
    """Mask counts from 1 to ``threshold - 1`` and, with ``complementary=True``, further cells
    so that no masked count can be recovered from row or column totals.

    Wide tables: the count cells are ``columns`` (default: every numeric column); masked cells
    become ``<NA>`` (nullable integers) or ``marker`` (e.g. ``"n.p."``) if given.
    Tidy tables: give ``count`` (the count column), ``rows`` and ``cols`` (the two grouping
    columns); suppression runs on the cross-table and the tidy table is returned with the
    count column masked. ``result.attrs["suppressed"]`` holds the boolean mask.
    """
    if threshold < 1:
        raise ValueError("threshold must be >= 1")
    if count is not None:
        if rows is None or cols is None:
            raise ValueError("a tidy table needs count=, rows= and cols=")
        row_keys = [rows] if isinstance(rows, str) else list(rows)
        keys = [*row_keys, cols]
        dup = table.duplicated(keys, keep=False)
        if dup.any():
            shown = table.loc[dup, keys].drop_duplicates().head(5).to_dict("records")
            raise ValueError(f"a tidy table needs one row per ({', '.join(keys)}); "
                             f"{int(dup.sum())} rows share a key, e.g. {shown} "
                             "(aggregate them first)")
        # a missing key is its own level (never dropped, so never shown unchecked)
        has_missing = bool(table[keys].isna().any().any())
        wide = table.pivot_table(index=row_keys, columns=cols, values=count, aggfunc="sum",
                                 fill_value=0, observed=True, dropna=not has_missing)
        masked = suppress_small_cells(wide, threshold, complementary=complementary)
        flags = masked.attrs["suppressed"].stack().rename("__suppressed__")
        keyed = table.join(flags, on=keys)
        out = table.copy()
        # a cell the cross-table did not decide on is hidden, never shown unflagged
        hide = keyed["__suppressed__"].astype("boolean").fillna(True).to_numpy(dtype=bool)
        out[count] = out[count].astype("Int64")
        out.loc[hide, count] = pd.NA
        if marker is not None:
            out[count] = out[count].astype(object).where(~hide, marker)
        out.attrs["suppressed"] = pd.Series(hide, index=out.index)
        return out
    cells = columns if columns is not None else [
        c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    values = table[cells].to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(values).any() or (values < 0).any() or (values != np.floor(values)).any():
        raise ValueError("count cells must be non-negative whole numbers without missing values")
    mask = (values > 0) & (values < threshold)
    if complementary and mask.any():
        mask = _complementary(values, mask, threshold)
    out = table.copy()
    mask_frame = pd.DataFrame(mask, index=table.index, columns=cells)
    for j, c in enumerate(cells):
        col = out[c].astype("Int64")
        col[mask[:, j]] = pd.NA  # type: ignore[call-overload]
        out[c] = col if marker is None else col.astype(object).where(~mask[:, j], marker)
    out.attrs["suppressed"] = mask_frame
    return out


# ---------------------------------------------------------------------------------------------
# a synthetic clinic export with planted identifiers (demo + tests)
# ---------------------------------------------------------------------------------------------
_FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery",
          "Quinn", "Harper", "Rowan")
_LAST = ("Citizen", "Nguyen", "Smith", "Papadopoulos", "Okafor", "Kowalski", "Tanaka", "Rossi",
         "Haddad", "Murphy", "Singh", "Larsen")
_STREETS = ("Example St", "Sample Rd", "Fictional Ave", "Placeholder Cres", "Demo Lane")
CLINIC_DIAGNOSIS: dict[str, str] = {
    "doms": "DOMS", "piriformis_syndrome": "Piriformis", "sciatica_disc": "Sciatica - disc",
    "sciatica_stenosis": "Sciatica - stenosis", "gluteal_tendinopathy": "GTPS / glute med",
}
CLINIC_SERVICE: dict[str, str] = {
    "physiotherapy": "Physio", "sports_physiotherapy": "Sports physio",
    "pelvic_floor_physiotherapy": "Women's health physio", "exercise_physiology": "EP",
    "myotherapy_massage": "Myotherapy", "physio_plus_massage": "Physio + massage",
    "home_self_care": "Advice only",
}
CLINIC_SITE: dict[str, str] = {"site_a": "North", "site_b": "South", "site_c": "East",
                               "site_d": "West"}


def demo_clinic_export(n_patients: int = 200, seed: int = 7) -> pd.DataFrame:
    """Return a synthetic clinic export (one row per appointment) with planted direct
    identifiers of every kind: name, email, phone, street address, postcode, Medicare-like
    and IHI-like numbers, date of birth, calendar dates, clinician name and free-text notes.
    SYNTHETIC: built from :func:`gluteutils.cohort.generate`; all identifiers are fake."""
    from gluteutils.cohort import generate

    rng = np.random.default_rng(seed)
    data = generate(n_patients, seed)
    ep = data.episodes.reset_index(drop=True)
    n = len(ep)
    first = rng.choice(_FIRST, n)
    last = rng.choice(_LAST, n)
    number = rng.permutation(np.arange(100000, 100000 + 10 * n, 10))[:n]
    lower = {b: lo for b, lo in zip(("18-29", "30-39", "40-49", "50-59", "60-69", "70+"),
                                    (18, 30, 40, 50, 60, 70), strict=True)}
    age = np.array([lower[str(b)] for b in ep["age_band"]]) + rng.integers(0, 10, n)
    start = pd.Timestamp("2025-01-06") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    dob = start - pd.to_timedelta((age * 365.25 + rng.integers(30, 330, n)).astype(int), unit="D")
    people = pd.DataFrame({
        "episode_id": ep["episode_id"].astype(str),
        "patient_number": [f"MRN{x:07d}" for x in number],
        "full_name": [f"{a} {b}" for a, b in zip(first, last, strict=True)],
        "email": [f"{a.lower()}.{b.lower()}{x % 1000}@example.com"
                  for a, b, x in zip(first, last, number, strict=True)],
        "phone": [f"04{x:02d} {y:03d} {z:03d}" for x, y, z in
                  zip(rng.integers(0, 100, n), rng.integers(0, 1000, n),
                      rng.integers(0, 1000, n), strict=True)],
        "street_address": [f"{h} {s}" for h, s in
                           zip(rng.integers(1, 300, n), rng.choice(_STREETS, n), strict=True)],
        "postcode": [f"{p:04d}" for p in rng.integers(3000, 3999, n)],
        "medicare_number": [f"{a:04d} {b:05d} {c}" for a, b, c in
                            zip(rng.integers(2000, 6999, n), rng.integers(0, 99999, n),
                                rng.integers(1, 9, n), strict=True)],
        "ihi": [f"8003 6{a:03d} {b:04d} {c:04d}" for a, b, c in
                zip(rng.integers(0, 999, n), rng.integers(0, 9999, n),
                    rng.integers(0, 9999, n), strict=True)],
        "date_of_birth": dob.strftime("%d/%m/%Y"),
        "first_date": start,
        "gender": ep["sex"].map({"female": "F", "male": "M"}).astype(str),
        "clinic": ep["site"].astype(str).map(CLINIC_SITE),
        "clinician": [f"Dr {a} {b}" for a, b in zip(rng.choice(_FIRST, n),
                                                      rng.choice(_LAST, n), strict=True)],
        "diagnosis": ep["condition"].astype(str).map(CLINIC_DIAGNOSIS),
        "service": ep["therapy"].astype(str).map(CLINIC_SERVICE),
    })
    v = data.visits.assign(episode_id=data.visits["episode_id"].astype(str))
    rows = v.merge(people, on="episode_id", how="left")
    rows["appointment_date"] = (rows["first_date"] + pd.to_timedelta(
        rows["visit_day"].astype(int), unit="D")).dt.strftime("%d/%m/%Y")
    rows["pain_score"] = rows["pain_nprs"].astype(int)
    rows["lefs_score"] = rows["function_lefs"].astype("Int64")
    rows["grc_score"] = rows["grc"].astype("Int64")
    rows["notes"] = [f"Seen {nm}; call back on {ph}. {dg}" for nm, ph, dg in
                     zip(rows["full_name"], rows["phone"], rows["diagnosis"], strict=True)]
    cols = ["patient_number", "full_name", "email", "phone", "street_address", "postcode",
            "medicare_number", "ihi", "date_of_birth", "gender", "clinic", "clinician",
            "diagnosis", "service", "appointment_date", "pain_score", "lefs_score",
            "grc_score", "notes"]
    return rows[cols].astype(object).where(rows[cols].notna(), "").astype(str)
