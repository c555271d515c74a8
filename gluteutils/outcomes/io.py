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

import csv
import difflib
import io
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from gluteutils._paths import data_path
from gluteutils.errors import DataProblem, DataValidationError
from gluteutils.outcomes import instruments as INS
from gluteutils.outcomes import schema as S
from gluteutils.outcomes.instruments import Instrument

REPORT_COLUMNS: list[str] = ["file", "row", "column", "value", "message", "expected"]
_INT_RE = re.compile(r"^-?[0-9]+$")
_OTHER_DELIMITERS = (";", "\t", "|")
_NON_SPACE = re.compile(rb"\S")


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


# ---------------------------------------------------------------------------------------------
# the one number parser
# ---------------------------------------------------------------------------------------------
_DECIMAL = r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)"
_INTEGER = r"-?[0-9]+"
_EXPONENT = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+"
_DECIMAL_COMMA = r"-?[0-9]+,[0-9]+"
_NON_FINITE = r"[-+]?(?:inf|infinity|nan)"
#: More significant digits than a float64 holds exactly.
MAX_DIGITS: int = 15


def parse_numbers(values: Any, *, integer: bool = False) -> tuple[np.ndarray, list[str | None]]:
    """Parse text cells as numbers, the same way on every path (strict loader, mappings).

    Accepted: plain decimals (``7``, ``-2``, ``4.5``, ``.5``; with ``integer=True`` whole
    numbers only). Refused with a reason: scientific notation (``1e1`` is not read as 10),
    ``inf``/``nan``, a decimal comma, more than :data:`MAX_DIGITS` digits (no silent rounding
    or integer overflow), anything else. Missing (``None``/NaN/empty) gives NaN and no reason.
    Returns ``(float64 values with NaN where missing or refused, reasons)``."""
    s = pd.Series(values, dtype=object).reset_index(drop=True)
    missing = s.isna() | (s.astype(str) == "")
    text = s.where(~missing, "").astype(str)
    ok = text.str.fullmatch(_INTEGER if integer else _DECIMAL)
    digits = text.str.count(r"[0-9]")
    too_long = ok & (digits > MAX_DIGITS)
    good = ok & ~too_long & ~missing
    out = np.full(len(s), np.nan)
    if good.any():
        out[good.to_numpy()] = text[good].astype("float64").to_numpy()
    reasons: list[str | None] = [None] * len(s)
    bad = (~good & ~missing).to_numpy()
    if bad.any():
        for i in (int(j) for j in np.flatnonzero(bad)):
            t = text.iat[i]
            if too_long.iat[i]:
                why = (f"number has {digits.iat[i]} digits, more than the {MAX_DIGITS} that "
                       "can be held exactly")
            elif pd.Series([t]).str.fullmatch(_EXPONENT).iat[0]:
                why = "number in scientific notation (write it out, e.g. 10 not 1e1)"
            elif pd.Series([t]).str.fullmatch(_NON_FINITE, case=False).iat[0]:
                why = "not a finite number"
            elif pd.Series([t]).str.fullmatch(_DECIMAL_COMMA).iat[0]:
                why = "decimal comma (use a point, e.g. 4.5)"
            elif integer and pd.Series([t]).str.fullmatch(_DECIMAL).iat[0]:
                why = "not a whole number"
            else:
                why = "not a number"
            reasons[i] = why
    return out, reasons


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


# ---------------------------------------------------------------------------------------------
# typing
# ---------------------------------------------------------------------------------------------
def _dtype(f: S.Field) -> Any:
    if f.kind == "category":
        assert f.values is not None
        return pd.CategoricalDtype(list(f.values), ordered=f.ordered)
    if f.kind == "id":
        return pd.StringDtype("pyarrow")
    return f.pandas_dtype


def _as_category(col: pd.Series, f: S.Field) -> pd.Series:
    """Return ``col`` as a categorical with exactly the schema's categories, in order.

    (``astype`` is a no-op between unordered categoricals with the same categories in a
    different order, so the categories are set explicitly.)"""
    assert f.values is not None
    if not isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object).astype("category")
    col = col.cat.remove_unused_categories()
    extra = [c for c in col.cat.categories if c not in f.values]
    if extra:
        raise ValueError(f"column {f.name!r} has labels {extra} outside the schema")
    return col.cat.set_categories(list(f.values), ordered=f.ordered)


def to_typed(frame: pd.DataFrame, resource: str) -> pd.DataFrame:
    """Return ``frame`` with the schema's column order and dtypes (categoricals with the
    schema's categories; ``age_band`` ordered; optional integers/booleans nullable)."""
    out = {}
    for f in S.fields(resource):
        col = frame[f.name]
        dtype = _dtype(f)
        out[f.name] = _as_category(col, f) if f.kind == "category" else col.astype(dtype)
    return pd.DataFrame(out, index=frame.index)


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write one table as CSV (UTF-8, ',', missing = empty, booleans true/false, '\\n' line
    ends) or Parquet, chosen by the file suffix. Deterministic bytes for the same frame."""
    path = Path(path)
    arrays = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            arrays[name] = pa.array(col.astype(object).where(col.notna(), None), type=pa.string())  # type: ignore[call-overload]
        elif str(col.dtype).startswith("string"):
            arrays[name] = pa.array(col.astype(object).where(col.notna(), None), type=pa.string())  # type: ignore[call-overload]
        else:
            arrays[name] = pa.array(col, from_pandas=True)
    table = pa.table(arrays)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
        return
    needs_quotes = any(
        pa.types.is_string(table.column(c).type)
        and pc.any(pc.match_substring_regex(table.column(c), '[,"\\r\\n]')).as_py()
        for c in table.column_names
    )
    if needs_quotes:  # pragma: no cover - the schema's values never need quoting
        frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        return
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    buf = io.BytesIO()
    buf.write((",".join(table.column_names) + "\n").encode("utf-8"))
    pacsv.write_csv(table, buf, write_options=opts)
    path.write_bytes(buf.getvalue())


# ---------------------------------------------------------------------------------------------
# problems
# ---------------------------------------------------------------------------------------------
class _Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[DataProblem] = []

    def add(self, row: int | None, column: str | None, message: str,
            expected: str | None = None, value: Any = None) -> None:
        self.items.append(DataProblem(self.file, row, column, message, expected,
                                      None if value is None else str(value)))

    def add_rows(self, rows: np.ndarray, column: str, message: str, expected: str,
                 values: Any) -> None:
        vals = list(values)
        for r, v in zip(rows.tolist(), vals, strict=True):
            self.add(int(r), column, message, expected, None if _isna(v) else v)

    def raise_if_any(self) -> None:
        if self.items:
            raise DataValidationError(sorted(self.items, key=_problem_key))


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _problem_key(p: DataProblem) -> tuple[int, str]:
    return (-1 if p.row is None else p.row, p.column or "")


def _report(problems: list[DataProblem]) -> pd.DataFrame:
    rows = [{"file": p.file, "row": p.row, "column": p.column, "value": p.value,
             "message": p.message, "expected": p.expected} for p in problems]
    rep = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    return rep.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# file-level checks
# ---------------------------------------------------------------------------------------------
def _check_columns(names: list[str], resource: str, probs: _Problems) -> None:
    expected = [f.name for f in S.fields(resource)]
    seen: set[str] = set()
    for n in names:
        if n in seen:
            probs.add(0, n, "column appears more than once", "each column once")
        seen.add(n)
    unknown = [n for n in names if n not in expected]
    missing = [n for n in expected if n not in names]
    for n in unknown:
        close = difflib.get_close_matches(n, missing or expected, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "not a column of this table"
        probs.add(0, n, f"unknown column ({hint})", f"columns {expected}", n)
    for n in missing:
        probs.add(0, n, "required column is missing", f"columns {expected}")


def _spreadsheet_kind(raw: bytes) -> str | None:
    """'.xlsx' / '.ods' / '.xls' when the bytes are a spreadsheet file, else None."""
    if raw[:4] == b"PK\x03\x04":
        head = raw[:4096]
        if b"opendocument.spreadsheet" in head:
            return ".ods"
        return ".xlsx" if (b"xl/" in raw or b"[Content_Types]" in head) else ".xlsx or other zip"
    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return ".xls"
    return None


def _normalise_bytes(raw: bytes, probs: _Problems) -> bytes | None:
    """Spreadsheets and UTF-16 without a byte-order mark are named; UTF-16 with a BOM is
    re-encoded as UTF-8; old-Mac CR-only line ends become LF. None when the file is refused."""
    kind = _spreadsheet_kind(raw)
    if kind is not None:
        probs.add(None, None, f"this is an {kind} spreadsheet file, not CSV text: save it as "
                  "CSV UTF-8", "a CSV file")
        return None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            raw = raw.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            probs.add(None, None, "encoding problem: UTF-16 byte-order mark but not valid "
                      "UTF-16", "UTF-8 text")
            return None
    elif raw and raw.count(b"\x00") > len(raw) // 4:
        probs.add(None, None, "encoding problem: the file looks like UTF-16 without a "
                  "byte-order mark", "UTF-8 text (save the file as 'CSV UTF-8')")
        return None
    if b"\r" in raw and b"\n" not in raw:
        raw = raw.replace(b"\r", b"\n")
    return raw


def _read_header(raw: bytes, file: str, delimiter: str, probs: _Problems) -> list[str] | None:
    if _NON_SPACE.search(raw) is None:
        probs.add(None, None, "file is empty", "a header row and at least one data row")
        return None
    end = raw.find(b"\n")
    first = raw if end < 0 else raw[:end]
    try:
        header = first.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        probs.add(0, None, "header row is not valid UTF-8 text", "UTF-8 encoding")
        return None
    if delimiter not in header:
        for d in _OTHER_DELIMITERS:
            if d in header:
                probs.add(0, None, f"header uses the delimiter {d!r}",
                          f"the declared delimiter {delimiter!r}", header[:60])
                return None
    try:
        return next(csv.reader([header], delimiter=delimiter))
    except csv.Error as exc:  # e.g. a stray carriage return inside the header
        probs.add(0, None, f"header row cannot be read as CSV ({exc})",
                  "one line of column names", header[:60])
        return None


def _check_encoding(raw: bytes, probs: _Problems) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n")
        bad = raw[exc.start: exc.start + 4]
        probs.add(line, None, "text is not valid UTF-8 (wrong encoding?)",
                  "UTF-8 encoded text (save the file as 'CSV UTF-8')", repr(bad))
        return False


# ---------------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------------
def _arrow_types(resource: str) -> dict[str, pa.DataType]:
    types: dict[str, pa.DataType] = {}
    for f in S.fields(resource):
        if f.kind == "integer":
            types[f.name] = pa.int32()
        elif f.kind == "boolean":
            types[f.name] = pa.bool_()
        else:
            types[f.name] = pa.string()
    return types


def _needs_cell_reader(raw: bytes, delimiter: str, chunk: int = 1 << 23) -> bool:
    """True if the typed pyarrow read could silently accept or mis-number something: blank
    lines (pyarrow skips them, shifting row numbers), spaces or tabs (trimmed around numbers)
    or a field starting with ``0x``/``0X`` (parsed as hexadecimal). Vectorised over bytes, in
    overlapping chunks so that memory stays bounded on big files."""
    view = memoryview(raw)
    for start in range(0, max(len(raw), 1), chunk):
        lo = max(0, start - 2)
        if _suspicious_bytes(np.frombuffer(view[lo: start + chunk], dtype=np.uint8),
                             delimiter, at_file_start=lo == 0):
            return True
    return False


def _suspicious_bytes(arr: np.ndarray, delimiter: str, *, at_file_start: bool) -> bool:
    if (arr == ord(" ")).any() or (delimiter != "\t" and (arr == ord("\t")).any()):
        return True
    newlines = np.flatnonzero(arr == ord("\n"))
    if newlines.size > 1:
        gaps = np.diff(newlines)
        if (gaps == 1).any():
            return True
        two = newlines[:-1][gaps == 2]
        if two.size and (arr[two + 1] == ord("\r")).any():
            return True
    exes = np.flatnonzero((arr == ord("x")) | (arr == ord("X")))
    exes = exes[exes >= 1]
    zero_x = exes[arr[exes - 1] == ord("0")]
    if zero_x.size == 0:
        return False
    if (arr[zero_x] == ord("x")).any():
        return True  # lower-case "0x" never occurs in a valid file
    lead = zero_x[zero_x >= 2] - 2
    starts = (arr[lead] == ord(delimiter)) | (arr[lead] == ord("\n"))
    return bool(starts.any() or (at_file_start and (zero_x == 1).any()))


def _fast_table(raw: bytes, resource: str, delimiter: str) -> pa.Table | None:
    try:
        return pacsv.read_csv(
            io.BytesIO(raw),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types=_arrow_types(resource), null_values=[""],
                true_values=["true"], false_values=["false"], strings_can_be_null=True,
                quoted_strings_can_be_null=True, check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def _codes(arr: pa.ChunkedArray, values: tuple[str, ...]) -> np.ndarray | None:
    """Categorical codes in the schema's order (-1 = missing), or None if a label is unknown."""
    encoded = arr.combine_chunks().dictionary_encode() if arr.num_chunks else None
    if encoded is None:
        return np.zeros(0, dtype=np.int8)
    dictionary = encoded.dictionary.to_pylist()
    if any(d not in values for d in dictionary):
        return None
    remap = np.array([values.index(d) for d in dictionary] + [-1], dtype=np.int8)
    idx = encoded.indices.fill_null(len(dictionary)).to_numpy()
    return np.asarray(remap[idx])


_ID_LUT = np.full(256, -1, dtype=np.int8)
_ID_LUT[np.frombuffer(S.EPISODE_ID_ALPHABET.encode("ascii"), dtype=np.uint8)] = np.arange(
    len(S.EPISODE_ID_ALPHABET))


def _id_numbers(arr: pa.Array) -> np.ndarray | None:
    """Decode valid episode ids (``E`` + 9 characters of the id alphabet) to integers (a
    unique number per id, < 2**46); None if any id is malformed. Works on the raw Arrow
    buffers, so it is fast on millions of rows."""
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.null_count or not pa.types.is_string(arr.type):
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset: arr.offset + n + 1]
    if not (np.diff(offsets) == 10).all():
        return None
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[0] + 10 * n]
    chars = data.reshape(n, 10)
    if not (chars[:, 0] == ord("E")).all():
        return None
    digits = _ID_LUT[chars[:, 1:]]
    if (digits < 0).any():
        return None
    number = digits[:, 0].astype(np.int64)
    for j in range(1, 9):  # Horner, column by column: small temporaries on big files
        number *= len(S.EPISODE_ID_ALPHABET)
        number += digits[:, j]
    return number


def _all_valid_frame(table: pa.Table, resource: str) -> pd.DataFrame | None:
    """Vectorised check of a typed table; return the final frame if every value is valid,
    else None (the caller then locates every problem with the row-by-row checks)."""
    out: dict[str, Any] = {}
    id_numbers: np.ndarray | None = None
    for f in S.fields(resource):
        arr = table.column(f.name)
        if f.required and arr.null_count:
            return None
        if f.kind == "integer":
            lo = -(2**31) if f.minimum is None else f.minimum
            hi = 2**31 - 1 if f.maximum is None else f.maximum
            mask = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
            vals = arr.fill_null(lo).to_numpy() if arr.null_count else arr.to_numpy()
            if vals.size and (vals.min() < lo or vals.max() > hi):
                return None
            dtype = np.dtype(f.pandas_dtype.lower())
            if f.required:
                out[f.name] = vals.astype(dtype)
            else:
                m = np.zeros(len(vals), bool) if mask is None else mask
                out[f.name] = pd.arrays.IntegerArray(vals.astype(np.int16), m)
        elif f.kind == "boolean":
            mask = arr.is_null().to_numpy(zero_copy_only=False)
            vals = arr.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
            out[f.name] = vals if f.required else pd.arrays.BooleanArray(vals, mask)
        elif f.kind == "category":
            assert f.values is not None
            codes = _codes(arr, f.values)
            if codes is None:
                return None
            out[f.name] = pd.Categorical.from_codes(codes, categories=list(f.values),  # type: ignore[arg-type]
                                                    ordered=f.ordered)
        else:
            assert f.pattern is not None
            flat = arr.combine_chunks()
            id_numbers = _id_numbers(flat)
            if id_numbers is None:
                return None
            out[f.name] = pd.arrays.ArrowStringArray(flat)
    frame = pd.DataFrame(out)
    if len(frame):
        key = list(S.PRIMARY_KEYS[resource])
        assert id_numbers is not None
        ids = id_numbers
        if len(key) == 2:
            day = frame["visit_day"].to_numpy().astype(np.int64)
            combined = ids * 8192 + day
        else:
            combined = ids
        ordered = np.sort(combined)
        if (ordered[1:] == ordered[:-1]).any():
            return None
        if resource == "visits":
            base = frame["visit_type"].cat.codes.to_numpy() == S.VISIT_TYPES.index("baseline")
            day0 = frame["visit_day"].to_numpy() == 0
            if (base != day0).any() or (base & frame["grc"].notna().to_numpy()).any():
                return None
    return frame


def _fast_read(table: pa.Table, resource: str) -> pd.DataFrame:
    cols: dict[str, Any] = {}
    for f in S.fields(resource):
        arr = table.column(f.name)
        if f.kind == "integer":
            if arr.null_count:
                cols[f.name] = pd.array(arr.to_numpy(zero_copy_only=False), dtype="float64")
            else:
                cols[f.name] = arr.to_numpy()
        elif f.kind == "boolean":
            cols[f.name] = arr.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
        elif f.kind == "category":
            cols[f.name] = arr.dictionary_encode().to_pandas() if arr.num_chunks else pd.Series(
                [], dtype="category")
        else:
            cols[f.name] = arr.to_pandas(types_mapper=pd.ArrowDtype).astype(
                pd.StringDtype("pyarrow"))
    frame = pd.DataFrame({k: pd.Series(v) if not isinstance(v, pd.Series) else
                          v.reset_index(drop=True) for k, v in cols.items()})
    return frame


def _slow_read(text: str, resource: str, delimiter: str, names: list[str],
               probs: _Problems, custom: dict[str, Instrument] | None = None,
               ) -> tuple[pd.DataFrame, set[int]]:
    """Parse text cell by cell; return typed columns (bad cells -> missing) and bad rows."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    next(reader, None)
    good: list[list[str]] = []
    rownums: list[int] = []
    bad_rows: set[int] = set()
    i = 0
    while True:
        i += 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a stray carriage return inside an unquoted field
            probs.add(i, None, f"row cannot be read as CSV ({exc})",
                      "fields separated by the declared delimiter")
            bad_rows.add(i)
            continue
        if len(row) != len(names):
            if not row:
                probs.add(i, None, "blank line", "a data row")
            else:
                probs.add(i, None, f"row has {len(row)} fields", f"{len(names)} fields",
                          delimiter.join(row)[:60])
            bad_rows.add(i)
            continue
        good.append(row)
        rownums.append(i)
    raw = pd.DataFrame(good, columns=names, dtype=object) if good else pd.DataFrame(
        {n: pd.Series([], dtype=object) for n in names})
    raw.index = pd.Index(rownums, dtype="int64")
    fmap = S.field_map(resource)
    cols: dict[str, pd.Series] = {}
    for name, f in fmap.items():
        s = raw[name].astype(object)
        empty = s == ""
        if f.kind == "integer":
            inst = (custom or {}).get(name)
            vals, reasons = parse_numbers(s, integer=inst is None)
            expected = f.expected if inst is None else inst.expected
            for r, v, why in zip(s.index, s.to_numpy(), reasons, strict=True):
                if why is not None:
                    probs.add(int(r), name, why, expected, v)
                    bad_rows.add(int(r))
            cols[name] = pd.Series(vals, index=s.index, dtype="float64")
        elif f.kind == "boolean":
            ok = s.isin(["true", "false"]) | empty
            for r, v in s[~ok].items():
                probs.add(int(r), name, "not a boolean", f.expected, v)  # type: ignore[call-overload]
                bad_rows.add(int(r))  # type: ignore[call-overload]
            cols[name] = s.map({"true": True, "false": False}).astype("boolean")
        else:
            cols[name] = s.where(~empty, None)  # type: ignore[call-overload]
    frame = pd.DataFrame(cols, index=raw.index)
    return frame, bad_rows


# ---------------------------------------------------------------------------------------------
# value checks (vectorised, on parsed columns; index = 1-based data row number)
# ---------------------------------------------------------------------------------------------
def _fields_with(resource: str, categories: dict[str, tuple[str, ...]] | None
                 ) -> tuple[S.Field, ...]:
    """The schema's fields, with a mapping's own label lists for ``condition``/``therapy``."""
    if not categories:
        return S.fields(resource)
    return tuple(replace(f, values=categories[f.name]) if f.name in categories else f
                 for f in S.fields(resource))


def _check_values(frame: pd.DataFrame, resource: str, probs: _Problems,
                  skip: set[int], custom: dict[str, Instrument] | None = None,
                  categories: dict[str, tuple[str, ...]] | None = None) -> None:
    rows = frame.index.to_numpy()
    skip_mask = np.isin(rows, np.fromiter(skip, dtype=np.int64)) if skip else np.zeros(
        len(rows), bool)
    for f in _fields_with(resource, categories):
        col = frame[f.name]
        isna = col.isna().to_numpy()
        if f.required:
            bad = isna & ~skip_mask
            if bad.any():
                probs.add_rows(rows[bad], f.name, "required value is missing", f.expected,
                               [None] * int(bad.sum()))
        present = ~isna
        inst = (custom or {}).get(f.name)
        if inst is not None:
            vals = col.to_numpy(dtype="float64", na_value=np.nan)
            bad = present & ~skip_mask & ~inst.valid(vals)
            if bad.any():
                probs.add_rows(rows[bad], f.name, f"value not on the {inst.name} scale",
                               inst.expected, vals[bad])
        elif f.kind == "integer":
            vals = col.to_numpy(dtype="float64", na_value=np.nan)
            bad = present & ~skip_mask
            lo = f.minimum if f.minimum is not None else -np.inf
            hi = f.maximum if f.maximum is not None else np.inf
            with np.errstate(invalid="ignore"):
                bad &= (vals < lo) | (vals > hi)
            if bad.any():
                probs.add_rows(rows[bad], f.name, "value out of range", f.expected,
                               vals[bad].astype(np.int64))
        elif f.kind == "category":
            assert f.values is not None
            if isinstance(col.dtype, pd.CategoricalDtype):
                cats = col.cat.categories
                unknown = [c for c in cats if c not in f.values]
                if not unknown:
                    continue
                bad = col.isin(unknown).to_numpy() & ~skip_mask
            else:
                bad = present & ~col.isin(list(f.values)).to_numpy() & ~skip_mask
            if bad.any():
                probs.add_rows(rows[bad], f.name, "unknown label", f.expected,
                               col.to_numpy()[bad])
        elif f.kind == "id":
            assert f.pattern is not None
            arr = pa.array(col.astype(object).where(col.notna(), None), type=pa.string())  # type: ignore[call-overload]
            ok = pc.match_substring_regex(arr, f.pattern).to_numpy(zero_copy_only=False)
            bad = present & ~np.asarray(ok, dtype=bool) & ~skip_mask
            if bad.any():
                probs.add_rows(rows[bad], f.name, "malformed episode id", f.expected,
                               col.to_numpy()[bad])
    # primary key
    key = list(S.PRIMARY_KEYS[resource])
    dup = frame.duplicated(subset=key, keep=False).to_numpy() & frame[key].notna().all(
        axis=1).to_numpy()
    if dup.any():
        probs.add_rows(rows[dup], key[-1], f"duplicate ({', '.join(key)})",
                       "each " + " + ".join(key) + " once", frame[key[-1]].to_numpy()[dup])
    if resource == "visits":
        day = frame["visit_day"].to_numpy(dtype="float64", na_value=np.nan)
        vtype = frame["visit_type"].astype(object).to_numpy()
        base = vtype == "baseline"
        bad = ((base & (day != 0)) | (~base & (day == 0))) & ~skip_mask & ~np.isnan(day)
        bad &= pd.notna(vtype)
        if bad.any():
            probs.add_rows(rows[bad], "visit_type", "the baseline visit must be day 0 and "
                           "day 0 must be the baseline visit",
                           "visit_type 'baseline' exactly when visit_day is 0", vtype[bad])
        grc_present = frame["grc"].notna().to_numpy()
        bad = base & grc_present & ~skip_mask
        if bad.any():
            probs.add_rows(rows[bad], "grc", "global rating of change given at baseline",
                           "an empty grc at the baseline visit",
                           frame["grc"].to_numpy()[bad])


def _finish(frame: pd.DataFrame, resource: str,
            custom: dict[str, Instrument] | None = None,
            categories: dict[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    out = {}
    for f in _fields_with(resource, categories):
        col = frame[f.name]
        dtype = _dtype(f)
        inst = (custom or {}).get(f.name)
        if inst is not None:
            col = pd.Series(col.to_numpy(dtype="float64", na_value=np.nan), index=frame.index)
            if inst.integer and inst.low >= -30000 and inst.high <= 30000:
                col = col.astype("int16" if f.required and col.notna().all() else "Int16")
        elif f.kind == "integer":
            col = pd.Series(col.to_numpy(dtype="float64", na_value=np.nan), index=frame.index)
            if f.required:
                col = col.astype(dtype)
            else:
                col = col.astype("Int16")
        elif f.kind == "boolean":
            col = col.astype("boolean") if not f.required else col.astype(bool)
        elif f.kind == "category":
            col = _as_category(col, f)
        else:
            col = col.astype(dtype)
        out[f.name] = col
    return pd.DataFrame(out).reset_index(drop=True)


def _read_any(file: str | Path, resource: str, delimiter: str, encoding: str,
              lenient: bool, instruments: dict[str, Instrument] | None = None,
              ) -> tuple[pd.DataFrame, pd.Series, list[DataProblem]]:
    """Return (typed good rows, their 1-based row numbers, row problems)."""
    custom = custom_instruments(instruments) if resource == "visits" else {}
    path = Path(file)
    name = str(file)
    probs = _Problems(name)
    if resource not in S.TABLES:
        raise ValueError(f"unknown resource {resource!r}; expected 'episodes' or 'visits'")
    if not path.is_file():
        probs.add(None, None, "file not found", "an existing CSV or Parquet file")
        probs.raise_if_any()
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ValueError("only UTF-8 files are supported; convert the file to UTF-8")
    skip: set[int] = set()
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            probs.add(None, None, f"not a readable Parquet file ({exc})", "a Parquet file")
            probs.raise_if_any()
            raise AssertionError("unreachable") from None
        _check_columns(list(table.column_names), resource, probs)
        probs.raise_if_any()
        frame = _parquet_frame(table, resource, probs, skip, custom)
    else:
        raw_or_none = _normalise_bytes(path.read_bytes(), probs)
        probs.raise_if_any()
        assert raw_or_none is not None
        raw = raw_or_none
        names = _read_header(raw, name, delimiter, probs)
        probs.raise_if_any()
        assert names is not None
        _check_columns(names, resource, probs)
        probs.raise_if_any()
        first_nl = raw.find(b"\n")
        if first_nl < 0 or _NON_SPACE.search(raw, first_nl) is None:
            probs.add(None, None, "file has a header but no data rows", "at least one data row")
            probs.raise_if_any()
        # blank lines (pyarrow skips them, shifting row numbers) and padding spaces (pyarrow
        # trims them around numbers) are reported by the cell-by-cell reader instead
        # a declared instrument other than the defaults: values may be decimals, read by the
        # one number parser cell by cell
        suspicious = bool(custom) or _needs_cell_reader(raw, delimiter)
        table = None if suspicious else _fast_table(raw, resource, delimiter)
        if table is not None and list(table.column_names) == [f.name for f in
                                                              S.fields(resource)]:
            good = _all_valid_frame(table, resource)
            if good is not None:  # the common case: a clean file, fully vectorised
                return good, pd.Series(np.arange(1, len(good) + 1), dtype="int64"), []
        fast = None if table is None else _fast_read(table, resource)
        if fast is not None:
            frame = fast[names] if list(fast.columns) != names else fast
            frame.index = pd.RangeIndex(1, len(frame) + 1)
        else:
            if not _check_encoding(raw, probs):
                probs.raise_if_any()
            text = raw.decode("utf-8-sig")
            frame, skip = _slow_read(text, resource, delimiter, names, probs, custom)
    _check_values(frame, resource, probs, skip, custom)
    problems = sorted(probs.items, key=_problem_key)
    if problems and not lenient:
        raise DataValidationError(problems)
    bad_rows = {p.row for p in problems if p.row is not None and p.row > 0}
    keep = ~np.isin(frame.index.to_numpy(), np.fromiter(bad_rows, dtype=np.int64))
    good = frame.loc[keep]
    rownums = pd.Series(good.index.to_numpy(), dtype="int64")
    return _finish(good, resource, custom), rownums, problems


def _parquet_frame(table: pa.Table, resource: str, probs: _Problems,
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
        frame.attrs["report"] = _report(problems)
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
    return OutcomeData(episodes=episodes, visits=visits, report=_report(problems),
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
        if not _isna(sessions) and int(sessions) != n:
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
    probs = _Problems(file)
    skip: set[int] = set()
    cols: dict[str, Any] = {}
    for f in _fields_with(resource, categories):
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
    _check_values(typed, resource, probs, skip, custom, categories)
    # an export row can hold several visits (wide layouts): report each problem once
    problems = sorted(dict.fromkeys((p.file, p.row, p.column, p.message, p.expected, p.value)
                                    for p in probs.items), key=lambda t: (t[1] or 0, t[2] or ""))
    problem_list = [DataProblem(*t) for t in problems]
    if problem_list and not lenient:
        raise DataValidationError(problem_list)
    bad_rows = {p.row for p in problem_list if p.row is not None}
    keep = ~np.isin(typed.index.to_numpy(), np.fromiter(bad_rows, dtype=np.int64))
    return _finish(typed.loc[keep], resource, custom, categories), problem_list
