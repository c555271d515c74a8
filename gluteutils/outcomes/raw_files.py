"""File-level checks on raw bytes: encoding, spreadsheets saved as .csv, header, delimiter."""

from __future__ import annotations

import csv
import difflib
import re

from gluteutils.outcomes import schema as S
from gluteutils.outcomes.problems import ProblemLog

_OTHER_DELIMITERS = (";", "\t", "|")
NON_SPACE = re.compile(rb"\S")


def check_column_names(names: list[str], resource: str, probs: ProblemLog) -> None:
    """Log duplicate, unknown (with the closest known name) and missing column names."""
    expected = [f.name for f in S.fields(resource)]
    seen: set[str] = set()
    for j, n in enumerate(names):
        if not n.strip():
            probs.add(0, f"(unnamed column {j + 1})", "column without a name in the header "
                      "(trailing separators?)", f"columns {expected}")
        elif n in seen:
            probs.add(0, n, "column appears more than once", "each column once")
        seen.add(n)
    names = [n for n in names if n.strip()]
    unknown = [n for n in names if n not in expected]
    missing = [n for n in expected if n not in names]
    for n in unknown:
        close = difflib.get_close_matches(n, missing or expected, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "not a column of this table"
        probs.add(0, n, f"unknown column ({hint})", f"columns {expected}", n)
    for n in missing:
        probs.add(0, n, "required column is missing", f"columns {expected}")


def spreadsheet_kind(raw: bytes) -> str | None:
    """'.xlsx' / '.ods' / '.xls' when the bytes are a spreadsheet file, else None."""
    if raw[:4] == b"PK\x03\x04":
        head = raw[:4096]
        if b"opendocument.spreadsheet" in head:
            return ".ods"
        return ".xlsx" if (b"xl/" in raw or b"[Content_Types]" in head) else ".xlsx or other zip"
    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return ".xls"
    return None


#: Leading bytes of files that are not text at all (a compressed or document file renamed .csv).
_BINARY_KINDS: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "a gzip-compressed file (.gz): unpack it first"),
    (b"BZh", "a bzip2-compressed file (.bz2): unpack it first"),
    (b"\xfd7zXZ\x00", "an xz-compressed file (.xz): unpack it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: unpack it first"),
    (b"%PDF", "a PDF document: export the data as CSV instead"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3\x00", "an SQLite database: export the table as CSV"),
    (b"PAR1", "a Parquet file: name it .parquet (gluteutils data check reads it)"),
    (b"{\\rtf", "an RTF document: save the data as CSV"),
)


def binary_kind(raw: bytes) -> str | None:
    """What a non-text file is (compressed, PDF, image, database, spreadsheet), else None."""
    kind = spreadsheet_kind(raw)
    if kind is not None:
        return f"an {kind} spreadsheet file, not CSV text: save it as CSV UTF-8"
    for magic, what in _BINARY_KINDS:
        if raw.startswith(magic):
            return f"{what.split(':')[0]}, not CSV text" + (
                f":{what.split(':', 1)[1]}" if ":" in what else "")
    return None


def normalise_bytes(raw: bytes, probs: ProblemLog) -> bytes | None:
    """Spreadsheets and UTF-16 without a byte-order mark are named; UTF-16 with a BOM is
    re-encoded as UTF-8; old-Mac CR-only line ends become LF. None when the file is refused."""
    kind = binary_kind(raw)
    if kind is not None:
        probs.add(None, None, f"this is {kind}", "a CSV file")
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


def read_header(raw: bytes, file: str, delimiter: str, probs: ProblemLog) -> list[str] | None:
    """The header names, or None after logging an empty file, an unreadable header or the wrong delimiter."""
    if NON_SPACE.search(raw.removeprefix(b"\xef\xbb\xbf")) is None:
        probs.add(None, None, "file is empty", "a header row and at least one data row")
        return None
    end = raw.find(b"\n")
    first = raw if end < 0 else raw[:end]
    if not first.removeprefix(b"\xef\xbb\xbf").strip():
        probs.add(0, None, "the first line is blank", "the column names on the first line")
        return None
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


def check_encoding(raw: bytes, probs: ProblemLog) -> bool:
    """True for valid UTF-8; else log the first bad bytes and their line."""
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n")
        bad = raw[exc.start: exc.start + 4]
        probs.add(line, None, "text is not valid UTF-8 (wrong encoding?)",
                  "UTF-8 encoded text (save the file as 'CSV UTF-8')", repr(bad))
        return False
