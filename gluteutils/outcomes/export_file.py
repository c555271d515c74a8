"""Reading a clinic's or trial's export file as text cells, as its mapping declares (delimiter,
encoding, spreadsheets named), with the export's own row numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from gluteutils.errors import (
    DataProblem,
    DataValidationError,
)
from gluteutils.outcomes.mapping_file import Mapping
from gluteutils.outcomes.raw_files import spreadsheet_kind


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
    text = _export_text(path, mapping)
    # a cell may be long (a pasted letter): allow up to 64 MB, messages cut it short
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise DataValidationError([DataProblem(file, 0, None, f"header cannot be read ({exc})",
                                               "one line of column names")]) from None
    header = [h.strip() for h in header]
    problems = _header_problems(header, text, mapping, file)
    if problems:
        raise DataValidationError(problems)
    rows = _data_rows(reader, header, mapping.delimiter, file, problems)
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


def _export_text(path: Path, mapping: Mapping) -> str:
    """The export's bytes decoded (see :func:`_decode`); unreadable, empty or NUL-holding
    files are errors."""
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
    return text


def _header_problems(header: list[str], text: str, mapping: Mapping,
                     file: str) -> list[DataProblem]:
    """Repeated column names, and a one-column header that holds another delimiter."""
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
    return problems


def _data_rows(reader: Iterator[list[str]], header: list[str], delimiter: str, file: str,
               problems: list[DataProblem]) -> list[list[str]]:
    """Every data row, as many fields as the header; blank lines, unreadable rows and rows
    with the wrong number of fields are added to ``problems`` with their row number."""
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
                                        delimiter.join(row)))
            row = (row + [""] * len(header))[: len(header)]
        rows.append(row)
    return rows
