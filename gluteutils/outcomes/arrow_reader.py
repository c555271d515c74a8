"""Reading a table: a typed ``pyarrow.csv`` read with vectorised checks, and the text re-read
that locates every bad cell when the typed read fails."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from gluteutils.outcomes import schema as S
from gluteutils.outcomes.instruments import Instrument
from gluteutils.outcomes.numbers import parse_numbers
from gluteutils.outcomes.problems import ProblemLog


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


def needs_cell_reader(raw: bytes, delimiter: str, chunk: int = 1 << 23) -> bool:
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


def fast_table(raw: bytes, resource: str, delimiter: str) -> pa.Table | None:
    """The typed ``pyarrow.csv`` read of ``raw``, or None when any cell does not parse."""
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


def all_valid_frame(table: pa.Table, resource: str) -> pd.DataFrame | None:
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


def suspect_rows(table: pa.Table, resource: str) -> np.ndarray | None:
    """0-based rows of a typed table that may hold a bad cell, found in Arrow: a superset of
    the rows a row-level check of :func:`gluteutils.outcomes.value_checks.check_values`
    rejects (required value missing, integer out of range, unknown label, malformed id, the
    visit rules). None when a primary key may repeat (a check across rows), so the caller
    checks every row. Locating one bad cell then costs about as much as a clean load."""
    bad = np.zeros(table.num_rows, dtype=bool)
    for f in S.fields(resource):
        arr = table.column(f.name)
        if f.required and arr.null_count:
            bad |= arr.is_null().to_numpy(zero_copy_only=False)
        if f.kind == "integer":
            lo = -(2**31) if f.minimum is None else f.minimum
            hi = 2**31 - 1 if f.maximum is None else f.maximum
            vals = arr.fill_null(lo).to_numpy() if arr.null_count else arr.to_numpy()
            bad |= (vals < lo) | (vals > hi)
        elif f.kind == "category":
            assert f.values is not None
            known = pc.is_in(arr, value_set=pa.array(list(f.values), type=arr.type))
            bad |= ~known.fill_null(True).to_numpy(zero_copy_only=False)
        elif f.kind == "id":
            assert f.pattern is not None
            ok = pc.match_substring_regex(arr, f.pattern).fill_null(True)
            bad |= ~ok.to_numpy(zero_copy_only=False)
    if resource == "visits":
        base = pc.equal(table.column("visit_type"), "baseline").fill_null(False).to_numpy(
            zero_copy_only=False)
        day = table.column("visit_day")
        day0 = pc.equal(day, 0).fill_null(False).to_numpy(zero_copy_only=False)
        bad |= (base != day0) | (base & table.column("grc").is_valid().to_numpy(
            zero_copy_only=False))
    if _key_may_repeat(table, resource):
        return None
    return np.flatnonzero(bad)


def _key_may_repeat(table: pa.Table, resource: str) -> bool:
    """True when two rows may share a primary key. Valid ids are compared as numbers (fast);
    with a malformed id anywhere Arrow groups the key columns instead. A false alarm only
    sends the caller to the full check; a real repeat is never missed."""
    key = list(S.PRIMARY_KEYS[resource])
    ids = _id_numbers(table.column(key[0]).combine_chunks())
    if ids is None:
        counts = table.select(key).group_by(key).aggregate([([], "count_all")])
        return bool(counts.num_rows) and pc.max(counts.column("count_all")).as_py() > 1
    if len(key) == 2:
        day = table.column(key[1])
        days = (day.fill_null(-1) if day.null_count else day).to_numpy().astype(np.int64)
        ids = ids * 8192 + days  # a day outside 0..8190 may collide: a false alarm at most
    ordered = np.sort(ids)
    return bool((ordered[1:] == ordered[:-1]).any())


def fast_read(table: pa.Table, resource: str) -> pd.DataFrame:
    """A typed Arrow table as a pandas frame (integers with gaps as floats, for the checks)."""
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


def _csv_rows(text: str, delimiter: str, names: list[str], probs: ProblemLog,
              bad_rows: set[int]) -> pd.DataFrame:
    """The data rows of ``text`` as strings (index: row number); rows that cannot be read,
    a repeated header and rows of the wrong width are reported and left out."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    next(reader, None)
    good: list[list[str]] = []
    rownums: list[int] = []
    i = 0
    while True:
        i += 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a stray carriage return inside an unquoted field
            message = ("a carriage return (\\r) on its own inside the row" if "new-line" in
                       str(exc) else f"row cannot be read as CSV ({exc})")
            probs.add(i, None, message, "fields separated by the declared delimiter, rows ending "
                      "in LF or CRLF")
            bad_rows.add(i)
            continue
        if [c.strip().lstrip("\ufeff") for c in row] == names:
            probs.add(i, None, "the header row is repeated here (two files joined into one?)",
                      "one header line, at the top", delimiter.join(row)[:60])
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
    return raw


def slow_read(text: str, resource: str, delimiter: str, names: list[str],
               probs: ProblemLog, custom: dict[str, Instrument] | None = None,
               ) -> tuple[pd.DataFrame, set[int]]:
    """Parse text cell by cell; return typed columns (bad cells -> missing) and bad rows."""
    bad_rows: set[int] = set()
    raw = _csv_rows(text, delimiter, names, probs, bad_rows)
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
