"""Declarative column mappings: a clinic's (or a trial's) export -> the outcome schema.

A clinic never edits code: it writes a small YAML file (see ``data/mappings/*.yaml``)::

    name: Demo clinic export
    layout: long                      # one row per visit ("wide": one row per episode)
    source: {delimiter: ",", encoding: utf-8}
    episode: [patient_number]         # export columns that identify an episode (-> random id)
    identifiers: [full_name, email]   # direct identifiers: never copied (declared for checks)
    constants: {site: site_a}         # schema column -> one value for every row
    columns:                          # schema column -> rule
      pain_nprs: {column: pain_score}
      therapy: {column: service, values: {Physio: physiotherapy, Massage: myotherapy_massage}}
      visit_day: {column: appointment_date, date_format: "%d/%m/%Y"}   # -> days since 1st visit
      age_band: {column: date_of_birth, date_of_birth: true, date_format: "%d/%m/%Y",
                 visit_date: appointment_date}
      visit_type: {derive: true}      # day 0 = baseline; last visit in the review window = review
      sessions_attended: {derive: visits}

Rules: ``column`` (copy), ``values`` (label table; anything not listed is an error),
``multiply``/``add`` then ``round: half_up`` (declared numeric rescaling), ``date_format``
(dates -> days since the episode's first visit), ``age: true`` (years -> age band, top-coded
70+; ``under_18: "18-29"`` puts younger people in the lowest band, declared), ``date_of_birth``
(age at the first visit -> band), ``derive``. Every export column not used by a rule is dropped.
In a wide layout, a visit whose source cells are all empty did not happen and gets no row.
Problems name the export file, the export row (1-based; header = row 0) and the export column.

Also (see ``data/mappings/README.md``): ``instruments: {pain_nprs: vas_0_1}`` keeps each outcome
on its instrument's own scale (:mod:`gluteutils.outcomes.instruments`), ``missing: [...]`` on a
rule declares missing-value codes, ``review_window: [lo, hi]`` the trial's outcome visit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gluteutils.errors import (
    AllRowsRejectedError,
    DataProblem,
    DataValidationError,
)
from gluteutils.outcomes import instruments as INS
from gluteutils.outcomes import schema as S
from gluteutils.outcomes.export_file import read_export  # noqa: F401 (re-exported)
from gluteutils.outcomes.io import OutcomeData, validate_frame
from gluteutils.outcomes.mapping_file import (  # noqa: F401 (re-exported)
    ENCODINGS,
    EPISODE_LEVEL,
    MAX_AGE,
    NUMERIC_VISIT,
    OWN_LABEL_COLUMNS,
    VISIT_LEVEL,
    Mapping,
    read_mapping,
)
from gluteutils.outcomes.mapping_rules import (  # noqa: F401 (re-exported)
    apply_missing_codes,
    apply_rule,
    apply_wide_rule,
    check_birth_dates,
    check_identifiers,
    normalise_identifier,
    normalise_identifiers,
    rule_sources,
    visit_date_format,
    wide_to_long,
)
from gluteutils.outcomes.problems import problem_report


def _frame_problems(frame: pd.DataFrame, export: pd.DataFrame, keyed_rows: Any,
                    mapping: Mapping, file: str, derive: Any) -> list[DataProblem]:
    """Problems of the mapped visit frame, in the export's own terms: same-day visits,
    wide rows with no visit cell filled (never dropped silently), the dictionary's rules."""
    problems = [_in_export_terms(p, mapping)
                for p in _same_day_visits(frame, export, mapping, file)]
    if mapping.layout == "wide":
        for r in sorted(set(keyed_rows) - {int(i) for i in frame.index}):
            problems.append(DataProblem(file, r, None, "episode has no visits (every visit "
                                        "cell is empty)", "at least one visit"))
    problems += [_in_export_terms(p, mapping)
                 for p in _dictionary_problems(frame, mapping, file, derive)]
    return problems


def apply_mapping(export: pd.DataFrame, mapping: Mapping, *, file: str = "export",
                  seed: int | None = None, lenient: bool = False) -> OutcomeData:
    """Map an export (text columns, index = export row numbers) onto the schema.

    Episode ids are fresh random ids (``numpy.random.default_rng(seed)``; ``seed=None`` draws
    fresh entropy) and are never derived from the export's own ids. Returns validated
    :class:`OutcomeData`; problems raise :class:`DataValidationError` (or, with
    ``lenient=True``, the affected rows are left out and listed in ``report``).
    """
    problems: list[DataProblem] = []
    notes: list[str] = []
    export = export.astype(object).where(export.notna() & (export != ""), None)  # type: ignore[call-overload]
    n_rows = len(export)
    apply_missing_codes(export, mapping, notes)
    normalise_identifiers(export, mapping, notes)
    check_identifiers(export, mapping, file, problems)
    export, keyed_rows = _episode_keys(export, mapping, file, problems)
    check_birth_dates(export, mapping, file, problems)
    values, problems = _mapped_values(export, mapping, file, problems)
    frame, derive = _episode_frame(values, export, mapping, seed)
    problems += _frame_problems(frame, export, keyed_rows, mapping, file, derive)
    # row-level export problems first (named by export column)
    if problems and not lenient:
        _raise(problems, n_rows, file)
    bad_rows = {p.row for p in problems if p.row is not None}
    bad_rows |= _varying_episode_facts(frame, bad_rows, mapping, file, problems)
    if problems and not lenient:
        _raise(problems, n_rows, file)
    episodes, visits = _split_tables(frame, bad_rows)
    categories = _own_categories(episodes, mapping)
    reference = str(mapping.columns.get("therapy", {}).get("reference", S.REFERENCE_THERAPY))
    if _reference_missing(categories, reference, mapping, file, problems) and not lenient:
        _raise(problems, n_rows, file)
    ep_typed, ep_probs = validate_frame(episodes, "episodes", file, lenient=True,
                                        categories=categories)
    vi_typed, vi_probs = validate_frame(visits, "visits", file, lenient=True,
                                        instruments=mapping.instruments)
    # name the export's own columns, not the schema's
    ep_probs = [_in_export_terms(p, mapping) for p in ep_probs]
    vi_probs = [_in_export_terms(p, mapping) for p in vi_probs]
    if (ep_probs or vi_probs) and not lenient:
        _raise(ep_probs + vi_probs, n_rows, file)
    visit_probs = _rejected_episode_visits(episodes, visits, ep_typed, ep_probs,
                                           {p.row for p in [*problems, *ep_probs, *vi_probs]},
                                           file)
    vi_typed = vi_typed[vi_typed["episode_id"].isin(ep_typed["episode_id"])]
    everything = problems + ep_probs + vi_probs + visit_probs
    if len(vi_typed) == 0 and everything:
        _raise(everything, n_rows, file, force=True)
    return OutcomeData(episodes=ep_typed, visits=vi_typed.reset_index(drop=True),
                       report=problem_report(everything),
                       instruments=dict(mapping.instruments), notes=notes,
                       reference_therapy=reference)


def _reference_missing(categories: dict[str, tuple[str, ...]], reference: str, mapping: Mapping,
                       file: str, problems: list[DataProblem]) -> bool:
    """True (and a problem added) when the therapy's declared comparison group is not one of
    the export's own therapy labels."""
    if "therapy" not in categories or reference in categories["therapy"]:
        return False
    problems.append(DataProblem(file, None, str(mapping.columns["therapy"]["column"]),
                                f"the declared reference {reference!r} is not a label of the "
                                "export", "one of " + ", ".join(
                                    repr(c) for c in categories["therapy"])))
    return True


def _episode_keys(export: pd.DataFrame, mapping: Mapping, file: str,
                  problems: list[DataProblem]) -> tuple[pd.DataFrame, list[int]]:
    """Add the ``__episode__`` key (wide layouts: reshaped to one row per visit).

    A row without an episode key belongs to no episode: reported, and given a key of its own
    so it is never merged with other key-less rows. Returns the frame and the export rows."""
    keyless = export[mapping.episode].isna()
    for col in mapping.episode:
        for r in export.index[keyless[col].to_numpy()]:
            problems.append(DataProblem(file, int(r), col, "episode key missing",
                                        "a value identifying the episode"))
    export["__episode__"] = export[mapping.episode].astype(str).agg("\x1f".join, axis=1)
    no_key = keyless.any(axis=1).to_numpy()
    export.loc[no_key, "__episode__"] = [f"\x00row {r}" for r in export.index[no_key]]
    keyed_rows = [int(r) for r in export.index]
    if mapping.layout == "wide":  # one row per episode: a repeated key is named, not merged
        first: dict[str, int] = {}
        for r, key in export.loc[~no_key, "__episode__"].items():
            if key in first:
                problems.append(DataProblem(
                    file, int(r), "/".join(mapping.episode),  # type: ignore[call-overload]
                    f"the episode key is on row {first[key]} too (a wide export has one row "
                    "per episode)", "each episode on one row",
                    str(key).replace("\x1f", "/")))
            else:
                first[key] = int(r)  # type: ignore[call-overload]
        export = wide_to_long(export, mapping)
    return export, keyed_rows


def _mapped_values(export: pd.DataFrame, mapping: Mapping, file: str,
                   problems: list[DataProblem]
                   ) -> tuple[dict[str, Any], list[DataProblem]]:
    """Each schema column's values by its rule (constants, wide visit columns included) and
    the problems so far, each reported once."""
    values: dict[str, Any] = {}
    for col, rule in mapping.columns.items():
        if "derive" in rule or (mapping.layout == "wide" and col in mapping.wide_columns()):
            continue
        values[col] = apply_rule(export, col, rule, file, problems,
                                  visit_format=visit_date_format(mapping, rule),
                                  instrument=mapping.instruments.get(col))
    problems = list({(p.row, p.column, p.message, p.value): p for p in problems}.values())
    for col, const in mapping.constants.items():
        values[col] = pd.Series([const] * len(export), index=export.index, dtype=object)
    if mapping.layout == "wide":
        for k in ("visit_day", "visit_type", "pain_nprs", "function_lefs", "grc"):
            if f"__{k}__" in export.columns and k not in values:
                if k in INS.OUTCOME_COLUMNS and k not in mapping.columns:
                    # a plain copy of each wide column: numbers by the one parser, checked
                    # against the instrument, problems named by the export's column
                    values[k] = apply_wide_rule(export, k, {"column": k}, mapping, file,
                                                 problems)
                else:
                    values[k] = export[f"__{k}__"]
        for col, rule in mapping.columns.items():
            if col in VISIT_LEVEL and "column" in rule and f"__{col}__" in export.columns:
                values[col] = apply_wide_rule(export, col, rule, mapping, file, problems)
    return values, problems


def _episode_frame(values: dict[str, Any], export: pd.DataFrame, mapping: Mapping,
                   seed: int | None) -> tuple[pd.DataFrame, set[str]]:
    """The mapped rows with visit days (dates become days since the episode's first visit),
    fresh random episode ids and the derived columns; returns it and the derived names."""
    frame = pd.DataFrame(values, index=export.index)
    ep_key = export["__episode__"]
    if "visit_day" in frame and pd.api.types.is_datetime64_any_dtype(frame["visit_day"]):
        first = frame["visit_day"].groupby(ep_key).transform("min")
        frame["visit_day"] = (frame["visit_day"] - first).dt.days.astype("float64")
    rng = np.random.default_rng(seed)
    keys = pd.unique(ep_key)
    new_ids = dict(zip(keys, S.random_episode_ids(rng, len(keys)), strict=True))
    frame["episode_id"] = ep_key.map(new_ids)
    # condition is needed to derive visit types (review window)
    derive = {c for c, r in mapping.columns.items() if "derive" in r}
    if "visit_type" in derive:
        frame["visit_type"] = _derive_visit_type(frame, mapping.review_window)
    if "sessions_attended" in derive:
        frame["sessions_attended"] = frame.groupby("episode_id")["episode_id"].transform("size")
    for col in ("visit_day", "pain_nprs", "function_lefs", "grc", "symptom_duration_weeks",
                "sessions_attended"):
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce") if frame[col].dtype != object \
                else frame[col]
    return frame, derive


def _same_day_visits(frame: pd.DataFrame, export: pd.DataFrame, mapping: Mapping,
                     file: str) -> list[DataProblem]:
    """Two visits of one episode on the same day: the later row is named (an exact copy of
    an earlier row says so), never merged or kept twice."""
    if "visit_day" not in frame or mapping.layout == "wide":
        return []  # wide: only a repeated episode key (named by _episode_keys) repeats a day
    day = pd.to_numeric(frame["visit_day"], errors="coerce")
    ok = day.notna().to_numpy()
    keys = pd.DataFrame({"e": frame["episode_id"].to_numpy()[ok], "d": day.to_numpy()[ok]},
                        index=frame.index[ok])
    dup = keys.duplicated(keep=False)
    out: list[DataProblem] = []
    if not dup.any():
        return out
    source = [c for c in export.columns if not (c.startswith("__") and c.endswith("__"))]
    first: dict[tuple[Any, float], int] = {}
    for r, e, d in zip(keys.index[dup], keys["e"][dup], keys["d"][dup], strict=True):
        if (e, d) not in first:
            first[(e, d)] = int(r)
            continue
        r0 = first[(e, d)]
        copy = export.loc[[r0], source].iloc[0].equals(export.loc[[r], source].iloc[0]) \
            if export.index.is_unique else False
        what = (f"row is an exact copy of row {r0}" if copy else
                f"a second visit of the episode on the same day as row {r0}")
        src = str(mapping.columns.get("visit_day", {}).get("column", ""))
        shown = export.at[r, src] if src in export.columns and export.index.is_unique else d
        out.append(DataProblem(file, int(r), "visit_day", what,
                               "one row per visit (delete or merge the repeated row)",
                               None if copy else str(shown)))
    return out


def _varying_episode_facts(frame: pd.DataFrame, bad_rows: set[int], mapping: Mapping,
                           file: str, problems: list[DataProblem]) -> set[int]:
    """Episode-level facts must be constant within an episode: log the first row of each
    change (named by the export's column) and return the rows newly rejected."""
    clean = frame[~frame.index.isin(list(bad_rows))]
    new_bad: set[int] = set()
    for col in [c for c in EPISODE_LEVEL if c in frame.columns]:
        n_distinct = clean.groupby("episode_id")[col].transform(
            lambda s: s.astype(str).nunique())
        varying = (n_distinct > 1).to_numpy()
        src = str(mapping.columns.get(col, {}).get("column", col))
        seen: set[int] = set()
        for r, v in zip(clean.index[varying], clean[col].to_numpy()[varying], strict=True):
            if int(r) in seen:
                continue
            seen.add(int(r))
            missing = v is None or (isinstance(v, float) and np.isnan(v))
            problems.append(DataProblem(file, int(r), src, "value missing on this row but "
                                        "given on other rows of the episode" if missing else
                                        "value changes within one episode",
                                        "the same value on every row of an episode",
                                        None if missing else str(v)))
            new_bad.add(int(r))
    return new_bad


def _split_tables(frame: pd.DataFrame, bad_rows: set[int]
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The good rows as (episodes, visits), indexed by export row, schema columns only."""
    frame = frame.reset_index().rename(columns={"index": "__row__"})
    frame = frame[~frame["__row__"].isin(list(bad_rows))]
    visits = frame.set_index("__row__")
    visits = visits[[c for c in S.VISIT_COLUMNS if c in visits.columns]]
    episodes = frame.drop_duplicates("episode_id").set_index("__row__")
    episodes = episodes[[c for c in S.EPISODE_COLUMNS if c in episodes.columns]]
    return episodes, visits


def _rejected_episode_visits(episodes: pd.DataFrame, visits: pd.DataFrame,
                             ep_typed: pd.DataFrame, ep_probs: list[DataProblem],
                             reported: set[int | None], file: str) -> list[DataProblem]:
    """Visits of a rejected episode are left out too: one report line per visit row not
    already reported, naming the episode's problem and its export row."""
    rejected_ids = set(episodes["episode_id"]) - set(ep_typed["episode_id"])
    first_row = {eid: int(r) for r, eid in episodes["episode_id"].items()}  # type: ignore[call-overload]
    reason = {eid: [p for p in ep_probs if p.row == first_row[eid]] for eid in rejected_ids}
    out: list[DataProblem] = []
    for r, eid in visits.loc[visits["episode_id"].isin(rejected_ids), "episode_id"].items():
        if int(r) in reported:  # type: ignore[call-overload]
            continue
        reported.add(int(r))  # type: ignore[call-overload]
        why = reason.get(eid) or []
        rep = first_row.get(eid)
        out.append(DataProblem(
            file, int(r), why[0].column if why else None,  # type: ignore[call-overload]
            "episode rejected: " + ("; ".join(p.message for p in why) or "invalid episode"),
            f"a valid episode (see export row {rep})" if rep is not None else None))
    return out


def _own_categories(episodes: pd.DataFrame, mapping: Mapping) -> dict[str, tuple[str, ...]]:
    """Label lists of the columns that keep the export's own labels (``labels: own``): the
    labels found, sorted, the therapy reference first."""
    out: dict[str, tuple[str, ...]] = {}
    for col in OWN_LABEL_COLUMNS:
        rule = mapping.columns.get(col, {})
        if rule.get("labels") != "own" or col not in episodes:
            continue
        found = sorted({str(v) for v in episodes[col].dropna()})
        ref = str(rule.get("reference", ""))
        out[col] = tuple([ref] + [v for v in found if v != ref]) if ref in found else tuple(
            found)
    return out


def _in_export_terms(p: DataProblem, mapping: Mapping) -> DataProblem:
    """``p`` with its schema column replaced by the export column(s) the value came from
    (a constant or derived column keeps the schema name, saying so)."""
    col = p.column
    if col is None:
        return p
    rule = mapping.columns.get(col)
    if mapping.layout == "wide" and col == "visit_type" and "baseline visits" in p.message:
        base = [str(v) for e in mapping.wide if e.get("visit_type") == "baseline"
                for k, v in e.items() if k not in ("visit_day", "visit_type")]
        if base:  # the baseline's own cells are empty (or filled twice)
            return DataProblem(p.file, p.row, "/".join(base), f"{p.message} (the baseline "
                               "visit's cells)", p.expected, p.value)
    if rule is not None:
        sources = rule_sources(mapping, col, rule)
    elif mapping.layout == "wide" and col in mapping.wide_columns():
        sources = [str(e[col]) for e in mapping.wide if col in e and col not in
                   ("visit_day", "visit_type")]
    else:
        sources = []
    if col in mapping.constants:
        return DataProblem(p.file, p.row, col, f"{p.message} (mapping constant for {col})",
                           p.expected, p.value)
    if not sources:
        if rule is not None and "derive" in rule:
            return DataProblem(p.file, p.row, col, f"{p.message} (derived {col})", p.expected,
                               p.value)
        return p
    return DataProblem(p.file, p.row, "/".join(dict.fromkeys(sources)), p.message, p.expected,
                       p.value)


def _raise(problems: list[DataProblem], n_rows: int, file: str, *, force: bool = False) -> None:
    """Raise the problems; when every export row has one, as :class:`AllRowsRejectedError`
    whose first line says so (with the export column most often at fault)."""
    rows = {p.row for p in problems if p.row}
    if force or (n_rows and len(rows) >= n_rows):
        cols = pd.Series([p.column for p in problems if p.column]).value_counts()
        col = str(cols.index[0]) if len(cols) else None
        head = DataProblem(file, None, col, f"every row was rejected ({len(problems)} "
                           f"problem(s) in {len(rows)} of {n_rows} row(s))",
                           "rows that match the mapping (check the mapping's instrument, "
                           "labels and missing-value codes)")
        raise AllRowsRejectedError([head, *problems])
    raise DataValidationError(problems)


def _window(frame: pd.DataFrame, window: tuple[int, int] | None) -> tuple[pd.Series, pd.Series]:
    cond = frame["condition"] if "condition" in frame else pd.Series(None, index=frame.index)
    lo = cond.map(lambda c: (window or S.REVIEW_WINDOW.get(c, (49, 63)))[0]).astype(float)
    hi = cond.map(lambda c: (window or S.REVIEW_WINDOW.get(c, (49, 63)))[1]).astype(float)
    return lo, hi


def _dictionary_problems(frame: pd.DataFrame, mapping: Mapping, file: str,
                         derived: set[str]) -> list[DataProblem]:
    """The data dictionary's episode rules on the mapped rows (index = export row): one
    baseline per episode, at most one review, the review inside its window, sessions equal
    to the visits. Problems use schema columns (translated to the export's by the caller)."""
    out: list[DataProblem] = []
    if "visit_type" not in frame or "visit_day" not in frame:
        return out
    vt = frame["visit_type"].astype(object).to_numpy()
    day = pd.to_numeric(frame["visit_day"], errors="coerce").to_numpy(dtype="float64")
    lo_s, hi_s = _window(frame, mapping.review_window)
    lo, hi = lo_s.to_numpy(), hi_s.to_numpy()
    rows = np.asarray(frame.index, dtype=np.int64)
    sessions = (pd.to_numeric(frame["sessions_attended"], errors="coerce").to_numpy(
        dtype="float64") if "sessions_attended" in frame and "sessions_attended" not in derived
        else None)
    codes, _ = pd.factorize(frame["episode_id"])
    for g in range(codes.max() + 1 if len(codes) else 0):
        pos = np.flatnonzero(codes == g)
        t = vt[pos]
        first = int(rows[pos].min())
        n_base = int((t == "baseline").sum())
        if n_base != 1 and pd.notna(t).all() and not np.isnan(day[pos]).any():
            out.append(DataProblem(file, first, "visit_type",
                                   f"episode has {n_base} baseline visits",
                                   "exactly one baseline visit (day 0) per episode"))
        rev = pos[t == "review"]
        for i in rev[1:]:
            out.append(DataProblem(file, int(rows[i]), "visit_type", "a second review visit "
                                   "in one episode", "at most one review per episode"))
        for i in rev[:1]:
            if not np.isnan(day[i]) and not lo[i] <= day[i] <= hi[i]:
                out.append(DataProblem(file, int(rows[i]), "visit_day",
                                       "review visit outside its window",
                                       f"a review on day {lo[i]:g}-{hi[i]:g} (declare "
                                       "review_window: [first, last] in the mapping)",
                                       f"{day[i]:g}"))
        if sessions is not None:
            sv = sessions[pos][~np.isnan(sessions[pos])]
            if len(sv) and (sv != len(pos)).any():
                out.append(DataProblem(file, first, "sessions_attended",
                                       "sessions attended do not match the visits",
                                       f"{len(pos)} (the episode's visits)", f"{sv[0]:g}"))
    return out


def _derive_visit_type(frame: pd.DataFrame, window: tuple[int, int] | None = None) -> pd.Series:
    day = pd.to_numeric(frame["visit_day"], errors="coerce")
    out = pd.Series("treatment", index=frame.index, dtype=object)
    out[day == 0] = "baseline"
    lo, hi = _window(frame, window)
    in_window = (day >= lo) & (day <= hi)
    cand = day.where(in_window)
    last = cand.groupby(frame["episode_id"]).transform("max")
    out[in_window & (day == last)] = "review"
    return out


def load_export(path: str | Path, mapping: str | Path | dict[str, Any] | Mapping, *,
                seed: int | None = None, lenient: bool = False) -> OutcomeData:
    """Read an export with its mapping and return validated outcome data."""
    m = mapping if isinstance(mapping, Mapping) else read_mapping(mapping)
    export = read_export(path, m)
    return apply_mapping(export, m, file=str(path), seed=seed, lenient=lenient)
