"""Load and validate outcome data (CSV or Parquet) against :mod:`gluteutils.outcomes.schema`.

Strict by default: any problem raises :class:`gluteutils.errors.DataValidationError` whose
``problems`` name the file, the 1-based data row (header = row 0), the column, the value found
and what was expected. Nothing is coerced or dropped silently. ``lenient=True`` returns the
good rows and a report (``OutcomeData.report``) with one line per problem of every rejected
row; whole-file problems (empty file, wrong encoding or delimiter, missing columns) still raise.

Fast path: a typed ``pyarrow.csv`` read followed by vectorised checks. Only when the typed read
fails (text in a number column, a bad boolean, a short row, ...) is the file re-read as text to
locate every bad cell.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gluteutils._paths import data_path
from gluteutils.errors import DataProblem, DataValidationError
from gluteutils.outcomes import instruments as INS
from gluteutils.outcomes import schema as S
from gluteutils.outcomes.arrow_reader import (
    all_valid_frame,
    fast_read,
    fast_table,
    needs_cell_reader,
    slow_read,
    suspect_rows,
)
from gluteutils.outcomes.instruments import Instrument
from gluteutils.outcomes.numbers import parse_numbers  # noqa: F401 (re-exported)
from gluteutils.outcomes.problems import (
    REPORT_COLUMNS,
    ProblemLog,
    is_missing,
    problem_report,
    problem_sort_key,
)
from gluteutils.outcomes.raw_files import (
    NON_SPACE,
    check_column_names,
    check_encoding,
    normalise_bytes,
    read_header,
)
from gluteutils.outcomes.typed import to_typed, write_table  # noqa: F401 (re-exported)
from gluteutils.outcomes.value_checks import check_values, fields_with, finish_frame


@dataclass
class OutcomeData:
    """Validated outcome data: ``episodes`` and ``visits`` (typed, categorical) and, in
    lenient mode, ``report`` (one row per problem of a rejected row; empty when clean).

    ``instruments`` maps each outcome column of ``visits`` (``pain_nprs``, ``function_lefs``,
    ``grc``) to its :class:`~gluteutils.outcomes.instruments.Instrument`; the values are on
    that instrument's own scale and resolution (``pain_nprs`` is "the pain outcome column",
    whatever the instrument: e.g. a VAS 0-1 stays 0-1, floats included). Default: NPRS 0-10,
    LEFS 0-80 and the 11-point GRC of the synthetic cohort. ``notes`` lists what was done
    that is not a problem (missing-value codes read as missing, identifiers normalised)."""

    episodes: pd.DataFrame
    visits: pd.DataFrame
    report: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REPORT_COLUMNS))
    instruments: dict[str, Instrument] = field(default_factory=INS.default_instruments)
    notes: list[str] = field(default_factory=list)
    #: The therapy every other is compared with (a mapping may declare its own labels).
    reference_therapy: str = S.REFERENCE_THERAPY


def custom_instruments(instruments: dict[str, Instrument] | None) -> dict[str, Instrument]:
    """The outcome columns whose instrument differs from the schema's default (NPRS, LEFS,
    GRC): those are checked against the instrument instead of the schema's integer range."""
    if not instruments:
        return {}
    return {col: inst for col, inst in instruments.items()
            if col in INS.DEFAULT_INSTRUMENTS and inst.key != INS.DEFAULT_INSTRUMENTS[col]}


def _resolved(instruments: dict[str, Instrument] | None) -> dict[str, Instrument]:
    out = INS.default_instruments()
    out.update(instruments or {})
    return out


def default_package() -> Path:
    """Return the shipped cohort's ``datapackage.json``."""
    return data_path("outcomes", "datapackage.json")


def _read_any(file: str | Path, resource: str, delimiter: str, encoding: str,
              lenient: bool, instruments: dict[str, Instrument] | None = None,
              ) -> tuple[pd.DataFrame, pd.Series, list[DataProblem]]:
    """Return (typed good rows, their 1-based row numbers, row problems)."""
    custom = custom_instruments(instruments) if resource == "visits" else {}
    path = Path(file)
    name = str(file)
    probs = ProblemLog(name)
    if resource not in S.TABLES:
        raise ValueError(f"unknown resource {resource!r}; expected 'episodes' or 'visits'")
    if not path.is_file():
        probs.add(None, None, "file not found", "an existing CSV or Parquet file")
        probs.raise_if_any()
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ValueError("only UTF-8 files are supported; convert the file to UTF-8")
    skip: set[int] = set()
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = _read_parquet_file(path, resource, probs, skip, custom)
    else:
        frame, skip, clean = _read_csv_file(path, name, resource, delimiter, probs, custom,
                                            lenient)
        if clean:  # the common case: a clean file, fully vectorised
            return frame, pd.Series(np.arange(1, len(frame) + 1), dtype="int64"), []
    check_values(frame, resource, probs, skip, custom)
    problems = sorted(probs.items, key=problem_sort_key)
    if problems and not lenient:
        raise DataValidationError(problems)
    bad_rows = {p.row for p in problems if p.row is not None and p.row > 0}
    keep = ~np.isin(frame.index.to_numpy(), np.fromiter(bad_rows, dtype=np.int64))
    good = frame.loc[keep]
    rownums = pd.Series(good.index.to_numpy(), dtype="int64")
    return finish_frame(good, resource, custom), rownums, problems


def _read_parquet_file(path: Path, resource: str, probs: ProblemLog, skip: set[int],
                       custom: dict[str, Instrument]) -> pd.DataFrame:
    """A Parquet file's columns as the schema's frame (column names checked first)."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        probs.add(None, None, f"not a readable Parquet file ({exc})", "a Parquet file")
        probs.raise_if_any()
        raise AssertionError("unreachable") from None
    check_column_names(list(table.column_names), resource, probs)
    probs.raise_if_any()
    return _parquet_frame(table, resource, probs, skip, custom)


def _read_csv_file(path: Path, name: str, resource: str, delimiter: str, probs: ProblemLog,
                   custom: dict[str, Instrument],
                   lenient: bool) -> tuple[pd.DataFrame, set[int], bool]:
    """A CSV file as (frame, rows to skip, clean). ``clean``: every cell already valid and
    the frame typed (the vectorised path); otherwise the frame is text or Arrow-read cells
    for :func:`check_values`."""
    raw_or_none = normalise_bytes(path.read_bytes(), probs)
    probs.raise_if_any()
    assert raw_or_none is not None
    raw = raw_or_none
    names = read_header(raw, name, delimiter, probs)
    probs.raise_if_any()
    assert names is not None
    check_column_names(names, resource, probs)
    probs.raise_if_any()
    first_nl = raw.find(b"\n")
    if first_nl < 0 or NON_SPACE.search(raw, first_nl) is None:
        probs.add(None, None, "file has a header but no data rows", "at least one data row")
        probs.raise_if_any()
    # blank lines (pyarrow skips them, shifting row numbers) and padding spaces (pyarrow trims
    # them around numbers) are reported by the cell-by-cell reader instead; so are the
    # decimals of a declared instrument other than the defaults (the one number parser)
    suspicious = bool(custom) or needs_cell_reader(raw, delimiter)
    table = None if suspicious else fast_table(raw, resource, delimiter)
    if table is not None and list(table.column_names) == [f.name for f in S.fields(resource)]:
        good = all_valid_frame(table, resource)
        if good is not None:
            return good, set(), True
        if not lenient:
            _raise_suspect_rows(table, resource, probs)
    fast = None if table is None else fast_read(table, resource)
    if fast is not None:
        frame = fast[names] if list(fast.columns) != names else fast
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        return frame, set(), False
    if not check_encoding(raw, probs):
        probs.raise_if_any()
    frame, skip = slow_read(raw.decode("utf-8-sig"), resource, delimiter, names, probs, custom)
    return frame, skip, False


def _raise_suspect_rows(table: pa.Table, resource: str, probs: ProblemLog) -> None:
    """Strict reading of a typed table that failed the all-valid check: run the cell checks on
    the suspect rows only (:func:`suspect_rows`) and raise what they find. Returns (and the
    caller checks every row) when a key may repeat or the suspects hold no problem."""
    rows = suspect_rows(table, resource)
    if rows is None or not len(rows):
        return
    subset = fast_read(table.take(pa.array(rows)), resource)
    subset.index = pd.Index(rows + 1)
    check_values(subset, resource, probs, set())
    probs.raise_if_any()


def _parquet_frame(table: pa.Table, resource: str, probs: ProblemLog,
                   skip: set[int], custom: dict[str, Instrument] | None = None,
                   ) -> pd.DataFrame:
    cols: dict[str, Any] = {}
    n = table.num_rows
    index = pd.RangeIndex(1, n + 1)
    for f in S.fields(resource):
        arr = table.column(f.name)
        t = arr.type
        if f.kind == "integer":
            if pa.types.is_integer(t):
                cols[f.name] = pd.Series(arr.to_numpy(zero_copy_only=False), index=index,
                                         dtype="float64")
            elif pa.types.is_floating(t):
                v = pd.Series(arr.to_numpy(zero_copy_only=False), index=index, dtype="float64")
                frac = v.notna() & (v != np.floor(v.fillna(0)))
                if f.name in (custom or {}):
                    frac = frac & False  # checked against the instrument's resolution
                for r, val in v[frac].items():
                    probs.add(int(r), f.name, "not a whole number", f.expected, val)  # type: ignore[call-overload]
                    skip.add(int(r))  # type: ignore[call-overload]
                cols[f.name] = v.where(~frac)
            else:
                s = pd.Series(arr.to_pylist(), index=index, dtype=object).astype(object)
                vals, reasons = parse_numbers(s, integer=f.name not in (custom or {}))
                for r, val, why in zip(s.index, s.to_numpy(), reasons, strict=True):
                    if why is not None:
                        probs.add(int(r), f.name, why, f.expected, val)
                        skip.add(int(r))
                cols[f.name] = pd.Series(vals, index=index, dtype="float64")
        elif f.kind == "boolean":
            if pa.types.is_boolean(t):
                cols[f.name] = pd.Series(arr.to_pylist(), index=index, dtype="boolean")
            else:
                s = pd.Series(arr.to_pylist(), index=index, dtype=object)
                ok = s.isin(["true", "false"]) | s.isna()
                for r, val in s[~ok].items():
                    probs.add(int(r), f.name, "not a boolean", f.expected, val)  # type: ignore[call-overload]
                    skip.add(int(r))  # type: ignore[call-overload]
                cols[f.name] = s.map({"true": True, "false": False}).astype("boolean")
        else:
            s = pd.Series(arr.to_pylist(), index=index, dtype=object)
            cols[f.name] = s.where(s.notna() & (s != ""), None)  # type: ignore[call-overload]
    return pd.DataFrame(cols, index=index)


def load_table(file: str | Path, resource: str = "visits", *, lenient: bool = False,
               delimiter: str = S.DELIMITER, encoding: str = S.ENCODING,
               instruments: dict[str, str | Instrument] | None = None) -> pd.DataFrame:
    """Load and validate one CSV or Parquet table (``resource`` = ``"visits"`` or
    ``"episodes"``). Strict by default; with ``lenient=True`` bad rows are left out and the
    report of every rejected row is in ``result.attrs["report"]``. ``instruments`` (column
    -> instrument key) checks the outcome columns on their own scales (default NPRS, LEFS,
    11-point GRC)."""
    insts = {c: INS.get_instrument(k) for c, k in (instruments or {}).items()}
    frame, _, problems = _read_any(file, resource, delimiter, encoding, lenient, insts)
    if lenient:
        frame.attrs["report"] = problem_report(problems)
    return frame


def _package_resources(path: Path) -> tuple[dict[str, Path], dict[str, str],
                                            dict[str, Instrument]]:
    if path.is_dir():
        path = path / "datapackage.json"
    try:
        desc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataValidationError([DataProblem(str(path), None, None,
                                               f"cannot read the data package ({exc})",
                                               "a Frictionless datapackage.json")]) from None
    files: dict[str, Path] = {}
    delims: dict[str, str] = {}
    insts: dict[str, Instrument] = {}
    for res in desc.get("resources", []):
        if res.get("name") in S.TABLES:
            files[res["name"]] = path.parent / res["path"]
            delims[res["name"]] = res.get("dialect", {}).get("delimiter", S.DELIMITER)
            for fld in (res.get("schema") or {}).get("fields", []):
                key = fld.get("instrument") if isinstance(fld, dict) else None
                if key is None:
                    continue
                try:
                    insts[str(fld.get("name"))] = INS.get_instrument(str(key))
                except KeyError as exc:
                    raise DataValidationError([DataProblem(
                        str(path), None, str(fld.get("name")), str(exc.args[0]),
                        "an instrument of data/instruments/instruments.csv")]) from None
    missing = [r for r in S.TABLES if r not in files]
    if missing:
        raise DataValidationError([DataProblem(str(path), None, None,
                                               f"resources {missing} are not declared",
                                               "resources 'episodes' and 'visits'")])
    return files, delims, insts


def load(path: str | Path | None = None, *, lenient: bool = False) -> OutcomeData:
    """Load and validate an outcome data package (folder or ``datapackage.json``; default:
    the shipped synthetic cohort). Checks both tables and that every visit's episode exists.
    Strict by default; ``lenient=True`` keeps good rows and reports every rejected row."""
    pkg = default_package() if path is None else Path(path)
    files, delims, insts = _package_resources(pkg)
    problems: list[DataProblem] = []
    frames: dict[str, pd.DataFrame] = {}
    rownums: dict[str, pd.Series] = {}
    for res in ("episodes", "visits"):
        try:
            frame, rows, probs = _read_any(files[res], res, delims[res], S.ENCODING, lenient,
                                           insts)
        except DataValidationError as exc:
            if lenient:
                raise
            problems.extend(exc.problems)
            continue
        frames[res], rownums[res] = frame, rows
        problems.extend(probs)
    if problems and not lenient:
        raise DataValidationError(problems)
    episodes, visits = frames["episodes"], frames["visits"]
    known = visits["episode_id"].isin(episodes["episode_id"]).to_numpy()
    if not known.all():
        vfile = str(files["visits"])
        bad_rows = rownums["visits"].to_numpy()[~known]
        fk = [DataProblem(vfile, int(r), "episode_id", "episode not in the episodes table",
                          "an episode_id listed in episodes", str(v))
              for r, v in zip(bad_rows, visits["episode_id"].to_numpy()[~known], strict=True)]
        if not lenient:
            raise DataValidationError(fk)
        problems.extend(fk)
        visits = visits.loc[known].reset_index(drop=True)
    rules = package_rule_problems(episodes, visits, str(files["episodes"]),
                                  str(files["visits"]), rownums["episodes"], rownums["visits"])
    if rules and not lenient:
        raise DataValidationError(rules)
    problems.extend(rules)
    return OutcomeData(episodes=episodes, visits=visits, report=problem_report(problems),
                       instruments=_resolved(insts))


def package_rule_problems(episodes: pd.DataFrame, visits: pd.DataFrame, episodes_file: str,
                          visits_file: str, episode_rows: pd.Series | None = None,
                          visit_rows: pd.Series | None = None) -> list[DataProblem]:
    """The data dictionary's cross-table rules of a package: every episode has visits, one
    baseline, at most one review, the review inside its condition's window
    (:data:`gluteutils.outcomes.schema.REVIEW_WINDOW`), and ``sessions_attended`` equal to
    its visits when given. Rows are 1-based data rows of each file."""
    out: list[DataProblem] = []
    erow = (episode_rows.to_numpy() if episode_rows is not None
            else np.arange(1, len(episodes) + 1))
    vrow = visit_rows.to_numpy() if visit_rows is not None else np.arange(1, len(visits) + 1)
    vid = visits["episode_id"].astype(str).to_numpy()
    vtype = visits["visit_type"].astype(object).to_numpy()
    vday = visits["visit_day"].to_numpy(dtype="float64", na_value=np.nan)
    n_vis = pd.Series(vid).value_counts()
    n_base = pd.Series(vid[vtype == "baseline"]).value_counts()
    cond = dict(zip(episodes["episode_id"].astype(str), episodes["condition"].astype(object),
                    strict=True))
    for i, (eid, sessions) in enumerate(zip(episodes["episode_id"].astype(str),
                                            episodes["sessions_attended"], strict=True)):
        n = int(n_vis.get(eid, 0))
        if n == 0:
            out.append(DataProblem(episodes_file, int(erow[i]), "episode_id",
                                   "episode has no visits", "at least one visit", eid))
            continue
        if int(n_base.get(eid, 0)) != 1:
            out.append(DataProblem(episodes_file, int(erow[i]), "episode_id",
                                   f"episode has {int(n_base.get(eid, 0))} baseline visits",
                                   "exactly one baseline visit", eid))
        if not is_missing(sessions) and int(sessions) != n:
            out.append(DataProblem(episodes_file, int(erow[i]), "sessions_attended",
                                   "sessions attended do not match the visits",
                                   f"{n} (the episode's rows in visits)", sessions))
    review = np.flatnonzero(vtype == "review")
    seen: set[str] = set()
    for j in review:
        eid = vid[j]
        if eid in seen:
            out.append(DataProblem(visits_file, int(vrow[j]), "visit_type",
                                   "a second review visit in one episode",
                                   "at most one review per episode", "review"))
            continue
        seen.add(eid)
        lo, hi = S.REVIEW_WINDOW.get(str(cond.get(eid)), (49, 63))
        if not lo <= vday[j] <= hi:
            out.append(DataProblem(visits_file, int(vrow[j]), "visit_day",
                                   "review visit outside its window",
                                   f"a review on day {lo}-{hi}", f"{vday[j]:g}"))
    return out


def write_package(data: OutcomeData, folder: str | Path, *, name: str, title: str,
                  description: str) -> Path:
    """Write ``data`` as a data package (``episodes.csv``, ``visits.csv``,
    ``datapackage.json`` declaring each outcome column's instrument, so :func:`load` reads
    it back on the same scales). Returns the ``datapackage.json`` path."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    write_table(data.episodes, out / "episodes.csv")
    write_table(data.visits, out / "visits.csv")
    desc = S.datapackage_descriptor(
        name=name, title=title, description=description,
        instruments={c: i.key for c, i in custom_instruments(data.instruments).items()})
    dp = out / "datapackage.json"
    dp.write_text(json.dumps(desc, indent=2) + "\n", encoding="utf-8")
    return dp


def validate_frame(frame: pd.DataFrame, resource: str, file: str, *,
                   lenient: bool = False,
                   instruments: dict[str, Instrument] | None = None,
                   categories: dict[str, tuple[str, ...]] | None = None,
                   ) -> tuple[pd.DataFrame, list[DataProblem]]:
    """Validate an in-memory table (e.g. the result of a column mapping) against the schema.

    ``frame`` holds the schema's columns as plain values (numbers, strings, booleans, missing);
    its index gives the row number reported in problems (e.g. the row of a clinic export).
    Returns ``(typed good rows, problems)``; strict mode raises on any problem.
    """
    custom = custom_instruments(instruments) if resource == "visits" else {}
    probs = ProblemLog(file)
    skip: set[int] = set()
    cols: dict[str, Any] = {}
    for f in fields_with(resource, categories):
        col = frame[f.name] if f.name in frame.columns else pd.Series(
            [None] * len(frame), index=frame.index, dtype=object)
        if f.kind == "integer":
            if col.dtype == object:  # text: the one number parser
                arr, reasons = parse_numbers(col.to_numpy())
                vals = pd.Series(arr, index=col.index)
                text_bad = pd.Series([r is not None for r in reasons], index=col.index)
            else:
                vals = pd.Series(col.to_numpy(dtype="float64", na_value=np.nan),
                                 index=col.index)
                text_bad = pd.Series(False, index=col.index)
            fractional = vals.notna() & (vals != np.floor(vals))
            bad = text_bad | (fractional if f.name not in custom else False)
            for r, v in col[bad].items():
                probs.add(int(r), f.name, "not a whole number" if f.name not in custom  # type: ignore[call-overload]
                          else "not a number", f.expected if f.name not in custom
                          else custom[f.name].expected, v)
                skip.add(int(r))  # type: ignore[call-overload]
            cols[f.name] = vals.where(~bad)
        elif f.kind == "boolean":
            ok = col.isna() | col.isin([True, False])
            for r, v in col[~ok].items():
                probs.add(int(r), f.name, "not a boolean", f.expected, v)  # type: ignore[call-overload]
                skip.add(int(r))  # type: ignore[call-overload]
            cols[f.name] = col.where(ok).astype("boolean")
        else:
            cols[f.name] = col.astype(object).where(col.notna(), None)  # type: ignore[call-overload]
    typed = pd.DataFrame(cols, index=frame.index)
    check_values(typed, resource, probs, skip, custom, categories)
    # an export row can hold several visits (wide layouts): report each problem once
    problems = sorted(dict.fromkeys((p.file, p.row, p.column, p.message, p.expected, p.value)
                                    for p in probs.items), key=lambda t: (t[1] or 0, t[2] or ""))
    problem_list = [DataProblem(*t) for t in problems]
    if problem_list and not lenient:
        raise DataValidationError(problem_list)
    bad_rows = {p.row for p in problem_list if p.row is not None}
    keep = ~np.isin(typed.index.to_numpy(), np.fromiter(bad_rows, dtype=np.int64))
    return finish_frame(typed.loc[keep], resource, custom, categories), problem_list
