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

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from gluteutils.errors import (
    AllRowsRejectedError,
    ContentError,
    DataProblem,
    DataValidationError,
)
from gluteutils.outcomes import instruments as INS
from gluteutils.outcomes import schema as S
from gluteutils.outcomes.instruments import Instrument
from gluteutils.outcomes.io import OutcomeData, validate_frame
from gluteutils.outcomes.numbers import parse_numbers
from gluteutils.outcomes.problems import problem_report
from gluteutils.outcomes.raw_files import spreadsheet_kind

EPISODE_LEVEL: tuple[str, ...] = tuple(c for c in S.EPISODE_COLUMNS if c != "episode_id")
VISIT_LEVEL: tuple[str, ...] = tuple(c for c in S.VISIT_COLUMNS if c != "episode_id")
_RULE_KEYS = {"column", "values", "multiply", "add", "round", "date_format", "age", "under_18",
              "date_of_birth", "visit_date", "derive", "note", "missing", "labels",
              "reference"}
#: Columns that may keep the export's own labels (``labels: own``).
OWN_LABEL_COLUMNS: tuple[str, ...] = ("condition", "therapy")
#: Visit columns read as numbers (outcome columns are checked against their instrument).
NUMERIC_VISIT: tuple[str, ...] = ("visit_day", "pain_nprs", "function_lefs", "grc")
#: Oldest plausible age (years) from a date of birth (data dictionary).
MAX_AGE: int = 110


@dataclass
class Mapping:
    """A parsed mapping file (see the module docstring for the format)."""

    name: str
    episode: list[str]
    columns: dict[str, dict[str, Any]]
    constants: dict[str, Any] = field(default_factory=dict)
    layout: str = "long"
    wide: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    quasi_identifiers: list[str] = field(default_factory=lambda: ["age_band", "sex", "site"])
    delimiter: str = ","
    encoding: str = "utf-8"
    file: str = "<mapping>"
    instruments: dict[str, Instrument] = field(default_factory=INS.default_instruments)
    review_window: tuple[int, int] | None = None

    def wide_columns(self) -> set[str]:
        """Schema columns given per visit by the ``wide`` list."""
        return {k for entry in self.wide for k in entry}

    def source_columns(self) -> set[str]:
        """Every export column a rule reads."""
        cols = set(self.episode)
        for col, rule in self.columns.items():
            if col in self.wide_columns():
                continue  # the wide list names the source columns
            for key in ("column", "visit_date"):
                if key in rule:
                    cols.add(str(rule[key]))
        for entry in self.wide:
            cols.update(str(v) for k, v in entry.items() if k not in ("visit_day", "visit_type"))
        return cols


def read_mapping(source: str | Path | dict[str, Any]) -> Mapping:
    """Read and check a mapping (a YAML/JSON file path or an already-parsed dict)."""
    if isinstance(source, dict):
        spec, file = source, "<mapping>"
    else:
        file = str(source)
        try:
            spec = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ContentError(file, f"cannot read the mapping: {exc}") from None
    if not isinstance(spec, dict):
        raise ContentError(file, "a mapping file must hold a mapping (key: value)")
    for key in ("name", "episode"):
        if key not in spec:
            raise ContentError(file, f"the mapping needs '{key}'")
    columns = spec.get("columns") or {}
    constants = spec.get("constants") or {}
    known = set(S.EPISODE_COLUMNS) | set(S.VISIT_COLUMNS)
    for col in [*columns, *constants]:
        if col not in known or col == "episode_id":
            raise ContentError(file, f"'{col}' is not a schema column (episode_id is always "
                                     f"random); expected one of {sorted(known - {'episode_id'})}")
    for col, rule in columns.items():
        if not isinstance(rule, dict):
            raise ContentError(file, f"rule for '{col}' must be a mapping")
        unknown = set(rule) - _RULE_KEYS
        if unknown:
            raise ContentError(file, f"rule for '{col}' has unknown keys {sorted(unknown)}")
        if "column" not in rule and "derive" not in rule:
            raise ContentError(file, f"rule for '{col}' needs 'column' or 'derive'")
        if "labels" in rule and (rule["labels"] != "own" or col not in OWN_LABEL_COLUMNS):
            raise ContentError(file, f"rule for '{col}': 'labels: own' is allowed for "
                                     f"{list(OWN_LABEL_COLUMNS)} only")
        if "reference" in rule and col != "therapy":
            raise ContentError(file, f"rule for '{col}': only therapy has a reference group")
    therapy_rule = columns.get("therapy", {})
    if therapy_rule.get("labels") == "own" and "reference" not in therapy_rule:
        raise ContentError(file, "therapy with 'labels: own' needs 'reference:' (the export's "
                                 "label of the comparison group, e.g. Placebo)")
    if ("reference" in therapy_rule and therapy_rule.get("labels") != "own"
            and therapy_rule["reference"] not in S.THERAPIES):
        raise ContentError(file, f"therapy reference {therapy_rule['reference']!r} is not one "
                                 f"of {list(S.THERAPIES)} (or declare labels: own)")
    layout = spec.get("layout", "long")
    if layout not in ("long", "wide"):
        raise ContentError(file, "layout must be 'long' or 'wide'")
    if layout == "wide" and not spec.get("wide"):
        raise ContentError(file, "a wide layout needs a 'wide' list of visits")
    source = spec.get("source") or {}
    enc = str(source.get("encoding", "utf-8")).lower().replace("_", "-")
    if enc not in ENCODINGS + ("utf8", "latin1", "iso-8859-1", "windows-1252"):
        raise ContentError(file, f"encoding problem: source encoding {enc!r} is not "
                                 f"supported; expected one of {list(ENCODINGS)}")
    episode = spec["episode"]
    instruments = INS.default_instruments()
    declared = spec.get("instruments") or {}
    if not isinstance(declared, dict):
        raise ContentError(file, "'instruments' must map outcome columns to instrument keys")
    for col, key in declared.items():
        if col not in INS.OUTCOME_COLUMNS:
            raise ContentError(file, f"instruments: '{col}' is not an outcome column; expected "
                                     f"one of {list(INS.OUTCOME_COLUMNS)}")
        try:
            instruments[col] = INS.get_instrument(str(key))
        except KeyError as exc:
            raise ContentError(file, f"instruments: {exc.args[0]}") from None
    return Mapping(
        name=str(spec["name"]),
        episode=[episode] if isinstance(episode, str) else list(episode),
        columns={k: dict(v) for k, v in columns.items()},
        constants=dict(constants),
        layout=layout,
        wide=list(spec.get("wide") or []),
        identifiers=list(spec.get("identifiers") or []),
        quasi_identifiers=list(spec.get("quasi_identifiers") or ["age_band", "sex", "site"]),
        delimiter=str(source.get("delimiter", ",")),
        encoding=str(source.get("encoding", "utf-8")),
        file=file,
        instruments=instruments,
        review_window=_review_window(spec.get("review_window"), file),
    )


def _review_window(value: Any, file: str) -> tuple[int, int] | None:
    """``review_window: [lo, hi]`` (days since the first visit, inclusive): the trial's own
    outcome visit, instead of the schema's per-condition window."""
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) for v in value) or value[0] > value[1]):
        raise ContentError(file, "review_window must be [first day, last day], whole days")
    return int(value[0]), int(value[1])


#: Encodings a mapping may declare (``source: {encoding: ...}``).
ENCODINGS: tuple[str, ...] = ("utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def _decode(raw: bytes, encoding: str, file: str) -> str:
    """Decode an export: UTF-8 with or without BOM, UTF-16 with BOM, latin-1/cp1252 when
    declared; anything else is named as an encoding problem (with the 1-based data row)."""
    def fail(message: str, row: int | None = None, value: str | None = None) -> None:
        raise DataValidationError([DataProblem(
            file, row, None, message,
            "a CSV saved as 'CSV UTF-8' (or declare source: {encoding: cp1252})", value)])

    kind = spreadsheet_kind(raw)
    if kind is not None:
        fail(f"this is an {kind} spreadsheet file, not CSV text: save it as CSV UTF-8")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            fail("encoding problem: the file starts with a UTF-16 byte-order mark but is "
                 "not valid UTF-16")
    enc = encoding.lower().replace("_", "-")
    if raw.count(b"\x00") > len(raw) // 4 and raw:
        fail("encoding problem: the file looks like UTF-16 without a byte-order mark")
    if enc in ("latin-1", "latin1", "iso-8859-1", "cp1252", "windows-1252"):
        try:
            return raw.decode("cp1252" if "1252" in enc else "latin-1")
        except UnicodeDecodeError as exc:
            row = raw[: exc.start].count(b"\n")
            fail(f"encoding problem: not valid {encoding}", row, repr(raw[exc.start:exc.start + 4]))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n")
        fail("encoding problem: text is not valid UTF-8 (a latin-1/cp1252 file? declare "
             "source: {encoding: cp1252} in the mapping)", row,
             repr(raw[exc.start:exc.start + 4]))
    raise AssertionError("unreachable")  # pragma: no cover


def read_export(path: str | Path, mapping: Mapping) -> pd.DataFrame:
    """Read a clinic export as text (no type guessing, nothing read as missing but empty
    fields), index = 1-based export data row (the header is row 0, the first data row is
    row 1, as a spreadsheet's row 2). Encodings per :func:`_decode`; CR-only, LF and CRLF
    line ends; duplicate column names and rows with the wrong number of fields are errors
    naming the row; a header without data rows is an error."""
    path = Path(path)
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataValidationError([DataProblem(file, None, None, f"cannot read the export "
                                               f"({exc.strerror or exc})", "a readable file")]
                                  ) from None
    if not raw.strip():
        raise DataValidationError([DataProblem(file, None, None, "the export is empty",
                                               "a header row and data rows")])
    text = _decode(raw, mapping.encoding, file)
    if "\x00" in text:
        nul_row = text[: text.index("\x00")].count("\n")
        raise DataValidationError([DataProblem(file, nul_row, None, "encoding problem: NUL "
                                               "character in the text", "CSV text")])
    # a cell may be long (a pasted letter): allow up to 64 MB, messages cut it short
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise DataValidationError([DataProblem(file, 0, None, f"header cannot be read ({exc})",
                                               "one line of column names")]) from None
    header = [h.strip() for h in header]
    problems: list[DataProblem] = []
    seen: set[str] = set()
    for h in header:
        if h in seen:
            problems.append(DataProblem(file, 0, h, "column name appears more than once",
                                        "each column name once"))
        seen.add(h)
    if len(header) == 1 and mapping.delimiter not in text.split("\n", 1)[0]:
        for d in (";", "\t", "|", ","):
            if d != mapping.delimiter and d in header[0]:
                problems.append(DataProblem(file, 0, None, f"header uses the delimiter {d!r}",
                                            f"the declared delimiter {mapping.delimiter!r}",
                                            header[0]))
                break
    if problems:
        raise DataValidationError(problems)
    rows: list[list[str]] = []
    i = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(DataProblem(file, i + 1, None, f"row cannot be read as CSV ({exc})",
                                        "fields separated by the declared delimiter"))
            break
        i += 1
        if not row or all(c.strip() == "" for c in row) and len(row) <= 1:
            problems.append(DataProblem(file, i, None, "blank line", "a data row"))
            rows.append([""] * len(header))
            continue
        if len(row) != len(header):
            problems.append(DataProblem(file, i, None, f"row has {len(row)} fields",
                                        f"{len(header)} fields like the header",
                                        mapping.delimiter.join(row)))
            row = (row + [""] * len(header))[: len(header)]
        rows.append(row)
    if not rows and not problems:
        problems.append(DataProblem(file, None, None, "the export has a header but no data "
                                    "rows", "at least one data row"))
    if problems:
        raise DataValidationError(problems)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame = frame.where(frame != "", None)  # type: ignore[call-overload]
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    missing = sorted(mapping.source_columns() - set(frame.columns))
    if missing:
        raise DataValidationError([DataProblem(file, 0, c, "column named in the mapping "
                                               "is not in the export",
                                               f"columns {list(frame.columns)}")
                                   for c in missing])
    return frame


def _key(v: Any) -> str:
    """Normalise a label for lookup: 1, 1.0 and '1' all become '1'."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    text = str(v)
    try:
        f = float(text)
        if f.is_integer() and text.strip().lstrip("-").replace(".", "", 1).isdigit():
            return str(int(f))
    except ValueError:
        pass
    return text


def _age_band(age: pd.Series, rule: dict[str, Any], rows: pd.Index, column: str,
              file: str, problems: list[DataProblem]) -> pd.Series:
    lower = np.array(S.AGE_BAND_LOWER)
    band = pd.Series([None] * len(age), index=rows, dtype=object)
    ok = age.notna()
    young = ok & (age < lower[0])
    if young.any() and rule.get("under_18") != S.AGE_BANDS[0]:
        for r, v in age[young].items():
            problems.append(DataProblem(file, int(r), column, "age below the lowest band",
                                        f"an age >= {lower[0]} (or declare under_18: "
                                        f"'{S.AGE_BANDS[0]}' in the mapping)", str(v)))
        ok &= ~young
    idx = np.clip(np.searchsorted(lower, age[ok].to_numpy(), side="right") - 1, 0, None)
    band[ok] = np.array(S.AGE_BANDS, dtype=object)[idx]
    return band


def _visit_date_format(mapping: Mapping, rule: dict[str, Any]) -> str | None:
    """The format of a date-of-birth rule's visit dates: the ``visit_day`` rule's
    ``date_format`` when it reads the same export column, else the rule's own."""
    visit_rule = mapping.columns.get("visit_day", {})
    if (rule.get("date_of_birth") and "date_format" in visit_rule
            and str(visit_rule.get("column")) == str(rule.get("visit_date"))):
        return str(visit_rule["date_format"])
    return None


def _apply_rule(export: pd.DataFrame, col: str, rule: dict[str, Any], file: str,
                problems: list[DataProblem], *, visit_format: str | None = None,
                instrument: Instrument | None = None) -> pd.Series:
    src = str(rule["column"])
    raw = export[src]
    rows = export.index
    if rule.get("labels") == "own":  # the export's own labels, trimmed and NFKC-normalised
        return raw.map(lambda v: None if v is None else (normalise_identifier(v) or None))
    if "values" in rule:
        table = {_key(k): v for k, v in rule["values"].items()}
        keys = raw.map(lambda v: None if pd.isna(v) else _key(v))
        out = keys.map(lambda k: table.get(k) if k is not None else None)
        bad = keys.notna() & ~keys.isin(list(table))
        for r, v in raw[bad].items():
            problems.append(DataProblem(file, int(r), src, f"label not in the mapping for {col}",  # type: ignore[call-overload]
                                        "one of " + ", ".join(repr(k) for k in table), str(v)))
        return out.where(~bad, None)  # type: ignore[call-overload]
    if "date_format" in rule and not rule.get("date_of_birth"):
        d = _parse_dates(raw, src, str(rule["date_format"]), file, problems)
        future = d > pd.Timestamp.today().normalize() + pd.Timedelta(days=1)
        for r, v in raw[future].items():
            problems.append(DataProblem(file, int(r), src, "visit date in the future",  # type: ignore[call-overload]
                                        "a date not after today", str(v)))
        return d.where(~future)
    if rule.get("age") or rule.get("date_of_birth"):
        if rule.get("date_of_birth"):
            fmt = str(rule.get("date_format", "%Y-%m-%d"))
            dob = _parse_dates(raw, src, fmt, file, problems)
            visit_src = str(rule["visit_date"])
            # the visit dates' problems are reported too (once: apply_mapping drops repeats
            # when the visit_day rule reads the same column)
            visit = _parse_dates(export[visit_src], visit_src, visit_format or fmt, file,
                                 problems)
            first = visit.groupby(export["__episode__"]).transform("min")
            years = (first.dt.year - dob.dt.year) - (
                (first.dt.month * 100 + first.dt.day) < (dob.dt.month * 100 + dob.dt.day))
            age = years.astype("float64")
            negative = age < 0
            for r, v in raw[negative].items():
                problems.append(DataProblem(file, int(r), src,  # type: ignore[call-overload]
                                            "date of birth after the episode's first visit",
                                            f"a date of birth before the first {visit_src}",
                                            str(v)))
            age = age.where(~negative)
            old = age > MAX_AGE
            for r, v in raw[old].items():
                problems.append(DataProblem(file, int(r), src,  # type: ignore[call-overload]
                                            f"age at the first visit over {MAX_AGE} years",
                                            f"a date of birth giving an age of 0-{MAX_AGE}",
                                            str(v)))
            age = age.where(~old)
        else:
            age = _numeric(raw, src, file, problems)
        return _age_band(age, rule, rows, src, file, problems)
    if "multiply" in rule or "add" in rule or "round" in rule:
        x = _numeric(raw, src, file, problems)
        x = x * float(rule.get("multiply", 1.0)) + float(rule.get("add", 0.0))
        if rule.get("round") == "half_up":
            x = np.floor(x + 0.5 + 1e-9)
        _check_instrument(x, raw, src, instrument, file, problems)
        return x
    if col in NUMERIC_VISIT:
        x = _numeric(raw, src, file, problems)
        _check_instrument(x, raw, src, instrument, file, problems)
        return x
    return raw


def _check_instrument(x: pd.Series, raw: pd.Series, src: str, instrument: Instrument | None,
                      file: str, problems: list[DataProblem]) -> None:
    """Report values off the instrument's range or resolution, naming the export column."""
    if instrument is None:
        return
    bad = x.notna() & ~pd.Series(instrument.valid(x.to_numpy()), index=x.index)
    for r, v in raw[bad].items():
        problems.append(DataProblem(file, int(r), src,  # type: ignore[call-overload]
                                    f"value not on the {instrument.name} scale",
                                    instrument.expected, str(v)))


def _numeric(raw: pd.Series, src: str, file: str, problems: list[DataProblem]) -> pd.Series:
    """Numbers by the one parser of :func:`gluteutils.outcomes.io.parse_numbers`."""
    vals, reasons = parse_numbers(raw.to_numpy())
    for r, v, why in zip(raw.index, raw.to_numpy(), reasons, strict=True):
        if why is not None:
            problems.append(DataProblem(file, int(r), src, why, "a number", str(v)))
    return pd.Series(vals, index=raw.index, dtype="float64")


def _parse_dates(raw: pd.Series, src: str, fmt: str, file: str,
                 problems: list[DataProblem]) -> pd.Series:
    d = pd.to_datetime(raw, format=fmt, errors="coerce")
    bad = raw.notna() & d.isna()
    for r, v in raw[bad].items():
        problems.append(DataProblem(file, int(r), src, "not a date in the declared format",  # type: ignore[call-overload]
                                    f"a date like {pd.Timestamp('2024-03-05').strftime(fmt)}",
                                    str(v)))
    return d


def _wide_to_long(export: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    parts = []
    for position, entry in enumerate(mapping.wide):
        sources = [str(v) for k, v in entry.items() if k not in ("visit_day", "visit_type")]
        # a visit whose cells are all empty did not happen: it gets no row
        part = export[export[sources].notna().any(axis=1)].copy() if sources else export.copy()
        part["__wide__"] = position
        for k, v in entry.items():
            if k in ("visit_day", "visit_type"):
                part[f"__{k}__"] = v
            else:
                part[f"__{k}__"] = export[str(v)]
        parts.append(part)
    long = pd.concat(parts)
    return long.sort_index(kind="stable")


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
    _apply_missing_codes(export, mapping, notes)
    _normalise_identifiers(export, mapping, notes)
    # a row without an episode key belongs to no episode: reported, and given a key of its
    # own so it is never merged with other key-less rows
    keyless = export[mapping.episode].isna()
    for col in mapping.episode:
        for r in export.index[keyless[col].to_numpy()]:
            problems.append(DataProblem(file, int(r), col, "episode key missing",
                                        "a value identifying the episode"))
    export["__episode__"] = export[mapping.episode].astype(str).agg("\x1f".join, axis=1)
    no_key = keyless.any(axis=1).to_numpy()
    export.loc[no_key, "__episode__"] = [f"\x00row {r}" for r in export.index[no_key]]
    keyed_rows = [int(r) for r in export.index]
    if mapping.layout == "wide":
        export = _wide_to_long(export, mapping)
    values: dict[str, Any] = {}
    for col, rule in mapping.columns.items():
        if "derive" in rule or (mapping.layout == "wide" and col in mapping.wide_columns()):
            continue
        values[col] = _apply_rule(export, col, rule, file, problems,
                                  visit_format=_visit_date_format(mapping, rule),
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
                    values[k] = _apply_wide_rule(export, k, {"column": k}, mapping, file,
                                                 problems)
                else:
                    values[k] = export[f"__{k}__"]
        for col, rule in mapping.columns.items():
            if col in VISIT_LEVEL and "column" in rule and f"__{col}__" in export.columns:
                values[col] = _apply_wide_rule(export, col, rule, mapping, file, problems)
    frame = pd.DataFrame(values, index=export.index)
    ep_key = export["__episode__"]
    # dates -> days since the episode's first visit
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
    # episodes that lost every visit (wide rows with no cell filled) are not dropped silently
    if mapping.layout == "wide":
        for r in sorted(set(keyed_rows) - {int(i) for i in frame.index}):
            problems.append(DataProblem(file, r, None, "episode has no visits (every visit "
                                        "cell is empty)", "at least one visit"))
    problems += [_in_export_terms(p, mapping)
                 for p in _dictionary_problems(frame, mapping, file, derive)]
    # row-level export problems first (named by export column)
    if problems and not lenient:
        _raise(problems, n_rows, file)
    bad_rows = {p.row for p in problems if p.row is not None}
    # episode-level facts must be constant within an episode
    ep_cols = [c for c in EPISODE_LEVEL if c in frame.columns]
    clean = frame[~frame.index.isin(list(bad_rows))]
    new_bad: set[int] = set()
    for col in ep_cols:
        n_distinct = clean.groupby("episode_id")[col].transform(
            lambda s: s.astype(str).nunique())
        varying = (n_distinct > 1).to_numpy()
        src = str(mapping.columns.get(col, {}).get("column", col))
        seen: set[int] = set()
        for r, v in zip(clean.index[varying], clean[col].to_numpy()[varying], strict=True):
            if int(r) in seen:
                continue
            seen.add(int(r))
            problems.append(DataProblem(file, int(r), src, "value changes within one episode",
                                        "the same value on every row of an episode", str(v)))
            new_bad.add(int(r))
    bad_rows |= new_bad
    if problems and not lenient:
        _raise(problems, n_rows, file)
    frame = frame.reset_index().rename(columns={"index": "__row__"})
    frame = frame[~frame["__row__"].isin(list(bad_rows))]
    visits = frame.set_index("__row__")
    visits = visits[[c for c in S.VISIT_COLUMNS if c in visits.columns]]
    episodes = frame.drop_duplicates("episode_id").set_index("__row__")
    episodes = episodes[[c for c in S.EPISODE_COLUMNS if c in episodes.columns]]
    categories = _own_categories(episodes, mapping)
    reference = str(mapping.columns.get("therapy", {}).get("reference", S.REFERENCE_THERAPY))
    if "therapy" in categories and reference not in categories["therapy"]:
        problems.append(DataProblem(file, None, str(mapping.columns["therapy"]["column"]),
                                    f"the declared reference {reference!r} is not a label of "
                                    "the export", "one of " + ", ".join(
                                        repr(c) for c in categories["therapy"])))
        if not lenient:
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
    # visits of a rejected episode are left out too: one report line per visit row
    rejected_ids = set(episodes["episode_id"]) - set(ep_typed["episode_id"])
    first_row = {eid: int(r) for r, eid in episodes["episode_id"].items()}  # type: ignore[call-overload]
    reason = {eid: [p for p in ep_probs if p.row == first_row[eid]] for eid in rejected_ids}
    reported = {p.row for p in [*problems, *ep_probs, *vi_probs]}
    visit_probs: list[DataProblem] = []
    for r, eid in visits.loc[visits["episode_id"].isin(rejected_ids), "episode_id"].items():
        if int(r) in reported:  # type: ignore[call-overload]
            continue
        reported.add(int(r))  # type: ignore[call-overload]
        why = reason.get(eid) or []
        rep = first_row.get(eid)
        visit_probs.append(DataProblem(
            file, int(r), why[0].column if why else None,  # type: ignore[call-overload]
            "episode rejected: " + ("; ".join(p.message for p in why) or "invalid episode"),
            f"a valid episode (see export row {rep})" if rep is not None else None))
    vi_typed = vi_typed[vi_typed["episode_id"].isin(ep_typed["episode_id"])]
    everything = problems + ep_probs + vi_probs + visit_probs
    if len(vi_typed) == 0 and everything:
        _raise(everything, n_rows, file, force=True)
    report = problem_report(everything)
    return OutcomeData(episodes=ep_typed, visits=vi_typed.reset_index(drop=True), report=report,
                       instruments=dict(mapping.instruments), notes=notes,
                       reference_therapy=reference)


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
    if rule is not None:
        sources = _rule_sources(mapping, col, rule)
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


def _rule_sources(mapping: Mapping, col: str, rule: dict[str, Any]) -> list[str]:
    """Export columns read by the rule of schema column ``col`` (wide: one per visit)."""
    if mapping.layout == "wide" and col in mapping.wide_columns():
        return [str(e[col]) for e in mapping.wide if col in e]
    return [str(rule["column"])] if "column" in rule else []


def _apply_missing_codes(export: pd.DataFrame, mapping: Mapping, notes: list[str]) -> None:
    """Blank the declared missing-value codes (``missing: [0, -9, "NA"]``) of each rule's
    export columns, in place, and note how many cells each code blanked."""
    for col, rule in mapping.columns.items():
        codes = rule.get("missing")
        if not codes:
            continue
        keys = {_key(c).strip() for c in (codes if isinstance(codes, list) else [codes])}
        for src in _rule_sources(mapping, col, rule):
            if src not in export.columns:
                continue
            cells = export[src].map(lambda v: None if v is None else _key(v).strip())
            hit = cells.isin(list(keys)) & export[src].notna()
            if hit.any():
                for code, n in cells[hit].value_counts().sort_index().items():
                    notes.append(f"export column '{src}': {int(n)} cell(s) with the declared "
                                 f"missing-value code {code!r} read as missing")
                export.loc[hit, src] = None


def normalise_identifier(value: str) -> str:
    """An identifier as compared: Unicode NFKC, zero-width characters removed, trimmed."""
    return unicodedata.normalize("NFKC", str(value)).translate(_ZERO_WIDTH).strip()


def _normalise_identifiers(export: pd.DataFrame, mapping: Mapping, notes: list[str]) -> None:
    """Normalise the episode key columns in place (so ``"123\u200b"`` and ``" 123"`` are the
    patient ``123``) and note how many cells changed."""
    for col in mapping.episode:
        if col not in export.columns:
            continue
        raw = export[col]
        norm = raw.map(lambda v: None if v is None else (normalise_identifier(v) or None))
        changed = raw.notna() & (norm != raw)
        if changed.any():
            rows = ", ".join(str(r) for r in export.index[changed.to_numpy()][:5])
            notes.append(f"export column '{col}': {int(changed.sum())} identifier(s) normalised "
                         f"(spaces, zero-width characters, Unicode forms), e.g. row(s) {rows}")
            export[col] = norm


def _apply_wide_rule(export: pd.DataFrame, col: str, rule: dict[str, Any], mapping: Mapping,
                     file: str, problems: list[DataProblem]) -> pd.Series:
    """Apply ``rule`` to a visit-level column of a wide export; problems name the export's
    own column (e.g. ``R3``) for each visit."""
    out = pd.Series([None] * len(export), index=export.index, dtype=object)
    position = export["__wide__"].to_numpy()
    for i, entry in enumerate(mapping.wide):
        if col not in entry:
            continue
        sel = position == i
        part = export.iloc[np.flatnonzero(sel)]
        src = str(entry[col])
        mapped = _apply_rule(part, col, {**rule, "column": src}, file, problems,
                             instrument=mapping.instruments.get(col))
        out.iloc[np.flatnonzero(sel)] = mapped.to_numpy()
    return out


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
