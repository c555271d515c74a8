"""Reading a clinic's or trial's export file as text cells, as its mapping declares (delimiter,
encoding, spreadsheets named), with the export's own row numbers."""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from gluteutils.errors import (
    DataProblem,
    DataValidationError,
)
from gluteutils.outcomes.mapping_file import Mapping
from gluteutils.outcomes.raw_files import binary_kind


def _decode(raw: bytes, encoding: str, file: str) -> str:
    """Decode an export: UTF-8 with or without BOM, UTF-16 with BOM, latin-1/cp1252 when
    declared; anything else is named as an encoding problem (with the 1-based data row)."""
    def fail(message: str, row: int | None = None, value: str | None = None) -> None:
        raise DataValidationError([DataProblem(
            file, row, None, message,
            "a CSV saved as 'CSV UTF-8' (or declare source: {encoding: cp1252})", value)])

    kind = binary_kind(raw)
    if kind is not None:
        fail(f"this is {kind}")
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
    header = [h.strip().lstrip("\ufeff").strip() for h in header]
    if header in ([], [""]):
        raise DataValidationError([DataProblem(file, 0, None, "the first line is blank",
                                               "the column names on the first line")])
    problems = _header_problems(header, text, mapping, file)
    if problems:
        raise DataValidationError(problems)
    rows = _data_rows(reader, header, mapping.delimiter, file, problems)
    if not rows and not problems:
        problems.append(DataProblem(file, None, None, "the export has a header but no data "
                                    "rows", "at least one data row"))
    if problems:
        raise DataValidationError(_title_line(header, rows, problems, file))
    frame = pd.DataFrame(rows, columns=_unique_names(header), dtype=object)
    frame = frame.where(frame != "", None)  # type: ignore[call-overload]
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    frame = _unnamed_columns(frame, header, file)
    missing = sorted(mapping.source_columns() - set(frame.columns))
    if missing:
        raise DataValidationError([DataProblem(file, 0, c, "column named in the mapping "
                                               "is not in the export" + _did_you_mean(
                                                   c, list(frame.columns)),
                                               f"columns {list(frame.columns)}")
                                   for c in missing])
    twins = _case_twins(mapping.source_columns(), list(frame.columns), file)
    if twins:
        raise DataValidationError(twins)
    return frame


def _fold(name: str) -> str:
    return "".join(name.casefold().split())


def _did_you_mean(name: str, columns: list[str]) -> str:
    same = [c for c in columns if _fold(c) == _fold(name)]
    close = same or difflib.get_close_matches(name, columns, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _case_twins(sources: set[str], columns: list[str], file: str) -> list[DataProblem]:
    """A column the mapping reads with another column whose name differs only in letter case
    or spaces: which one is meant is ambiguous, so it is named, never guessed."""
    out = []
    for c in sorted(sources):
        twins = [h for h in columns if h != c and _fold(h) == _fold(c)]
        if twins:
            out.append(DataProblem(file, 0, c, f"columns {c!r} and {twins[0]!r} differ only "
                                   "in letter case or spaces: which one is meant is unclear",
                                   "column names that differ by more than case or spaces "
                                   "(rename or delete the other column)", twins[0]))
    return out


def _unique_names(header: list[str]) -> list[str]:
    """The header with each unnamed column called '(unnamed column N)' (1-based)."""
    return [h if h else f"(unnamed column {j + 1})" for j, h in enumerate(header)]


def _unnamed_columns(frame: pd.DataFrame, header: list[str], file: str) -> pd.DataFrame:
    """Columns without a name: dropped when empty (a spreadsheet's trailing separators);
    a value in one is an error naming its first row (its data has no column name)."""
    names = [n for n, h in zip(frame.columns, header, strict=True) if not h]
    problems = []
    for n in names:
        filled = frame[n].notna() & (frame[n].astype(str).str.strip() != "")
        if filled.any():
            r = int(frame.index[filled.to_numpy()][0])
            problems.append(DataProblem(file, r, n, "a column without a name in the header "
                                        "holds data", "a column name for every column that "
                                        "holds data", str(frame.at[r, n])))
    if problems:
        raise DataValidationError(problems)
    return frame.drop(columns=names)


def _title_line(header: list[str], rows: list[list[str]], problems: list[DataProblem],
                file: str) -> list[DataProblem]:
    """A one-name header above rows of several fields is a title line, not the column names:
    one problem naming it instead of one per row."""
    counts = [p for p in problems if p.message.startswith("row has ")]
    if len(header) == 1 and len(counts) == len(problems) and len(counts) >= len(rows) / 2:
        return [DataProblem(file, 0, None, "the first line holds 1 name but the rows hold "
                            f"more fields: is {header[0][:60]!r} a title line above the "
                            "column names?", "the column names on the first line",
                            header[0])]
    return problems


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
    if not text.strip(" \t\r\n\ufeff"):
        raise DataValidationError([DataProblem(file, None, None, "the export is empty (no "
                                               "text after the byte-order mark)",
                                               "a header row and data rows")])
    if "\x00" in text:
        nul_row = text[: text.index("\x00")].count("\n")
        raise DataValidationError([DataProblem(file, nul_row, None, "encoding problem: NUL "
                                               "character in the text", "CSV text")])
    _stray_carriage_return(text, mapping.delimiter, file)
    return text


_BARE_CR = re.compile(r"\r(?!\n)")


def _stray_carriage_return(text: str, delimiter: str, file: str) -> None:
    """In a file whose lines end in LF or CRLF, a carriage return on its own outside quotes
    would split a row in two (shifting every later row number): named with its row."""
    if "\n" not in text:
        return  # old-Mac CR-only line ends: read as line ends
    for m in _BARE_CR.finditer(text):
        before = text[: m.start()]
        if before.count('"') % 2:
            continue  # inside a quoted cell: part of the value
        records = list(csv.reader(io.StringIO(before, newline=""), delimiter=delimiter))
        row = max(len(records) - 1, 0)
        raise DataValidationError([DataProblem(
            file, row, None, "a carriage return (\\r) on its own inside the row (a stray "
            "character, or mixed line ends)", "rows ending in LF or CRLF (re-save the file as "
            "CSV)", repr(text[max(m.start() - 30, 0): m.start() + 1]))])


def _header_problems(header: list[str], text: str, mapping: Mapping,
                     file: str) -> list[DataProblem]:
    """Repeated column names, and a one-column header that holds another delimiter."""
    problems: list[DataProblem] = []
    seen: set[str] = set()
    for h in header:
        if h in seen and h:
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
        if [c.strip().lstrip("\ufeff").strip() for c in row] == header:
            problems.append(DataProblem(file, i, None, "the header row is repeated here (two "
                                        "exports joined into one file?)",
                                        "one header line, at the top", delimiter.join(row)))
            rows.append(row)
            continue
        swallowed = _unbalanced_quote(row, header, delimiter)
        if swallowed is not None:
            j, n = swallowed
            problems.append(DataProblem(file, i, header[j] if j < len(header) else None,
                                        f"a quote (\") opened in this cell is not closed: it "
                                        f"swallows {n} following line(s) of the file",
                                        "a closing quote in the same cell (or no quote)",
                                        row[j][:80]))
            rows.append((row + [""] * len(header))[: len(header)])
            continue
        if len(row) != len(header):
            problems.append(DataProblem(file, i, None, f"row has {len(row)} fields",
                                        f"{len(header)} fields like the header",
                                        delimiter.join(row)))
            row = (row + [""] * len(header))[: len(header)]
        rows.append(row)
    return rows


def _unbalanced_quote(row: list[str], header: list[str], delimiter: str
                      ) -> tuple[int, int] | None:
    """(cell index, lines swallowed) when a quoted cell runs over line ends and either the row
    has the wrong number of fields or a swallowed line looks like a whole row."""
    for j, cell in enumerate(row):
        if "\n" not in cell and "\r" not in cell:
            continue
        lines = cell.splitlines()[1:]
        row_like = [ln for ln in lines if ln.count(delimiter) >= max(1, len(header) - 2)]
        if row_like or len(row) != len(header):
            return j, len(lines)
    return None
