"""The rules of a column mapping applied to an export's cells: label tables, numbers by the one
parser, rescaling, dates, ages, missing-value codes, identifiers, wide layouts."""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from gluteutils.errors import (
    DataProblem,
)
from gluteutils.outcomes import schema as S
from gluteutils.outcomes.instruments import Instrument
from gluteutils.outcomes.mapping_file import MAX_AGE, NUMERIC_VISIT, Mapping
from gluteutils.outcomes.numbers import parse_numbers

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


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
    old = ok & (age > MAX_AGE)
    for r, v in age[old].items():
        problems.append(DataProblem(file, int(r), column, f"age over {MAX_AGE} years",  # type: ignore[call-overload]
                                    f"an age of 0-{MAX_AGE} years", f"{v:g}"))
    ok &= ~old
    idx = np.clip(np.searchsorted(lower, age[ok].to_numpy(), side="right") - 1, 0, None)
    band[ok] = np.array(S.AGE_BANDS, dtype=object)[idx]
    return band


def visit_date_format(mapping: Mapping, rule: dict[str, Any]) -> str | None:
    """The format of a date-of-birth rule's visit dates: the ``visit_day`` rule's
    ``date_format`` when it reads the same export column, else the rule's own."""
    visit_rule = mapping.columns.get("visit_day", {})
    if (rule.get("date_of_birth") and "date_format" in visit_rule
            and str(visit_rule.get("column")) == str(rule.get("visit_date"))):
        return str(visit_rule["date_format"])
    return None


def apply_rule(export: pd.DataFrame, col: str, rule: dict[str, Any], file: str,
                problems: list[DataProblem], *, visit_format: str | None = None,
                instrument: Instrument | None = None) -> pd.Series:
    """One column of the mapped table from its rule: own labels, a label table, visit dates,
    an age band (from an age or a date of birth), a unit change, or a checked number."""
    src = str(rule["column"])
    raw = export[src]
    if rule.get("labels") == "own":  # the export's own labels, trimmed and NFKC-normalised
        return raw.map(lambda v: None if v is None else (normalise_identifier(v) or None))
    if "values" in rule:
        return _labels(raw, src, col, rule, file, problems)
    if "date_format" in rule and not rule.get("date_of_birth"):
        return _visit_dates(raw, src, str(rule["date_format"]), file, problems)
    if rule.get("age") or rule.get("date_of_birth"):
        age = (_age_from_birth(export, src, rule, file, problems, visit_format)
               if rule.get("date_of_birth") else _numeric(raw, src, file, problems))
        return _age_band(age, rule, export.index, src, file, problems)
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


def _labels(raw: pd.Series, src: str, col: str, rule: dict[str, Any], file: str,
            problems: list[DataProblem]) -> pd.Series:
    """The export's labels through the rule's ``values`` table; an unknown label is named."""
    table = {_key(k): v for k, v in rule["values"].items()}
    keys = raw.map(lambda v: None if pd.isna(v) else _key(v))
    out = keys.map(lambda k: table.get(k) if k is not None else None)
    bad = keys.notna() & ~keys.isin(list(table))
    for r, v in raw[bad].items():
        problems.append(DataProblem(file, int(r), src, f"label not in the mapping for {col}",  # type: ignore[call-overload]
                                    "one of " + ", ".join(repr(k) for k in table), str(v)))
    return out.where(~bad, None)  # type: ignore[call-overload]


def _visit_dates(raw: pd.Series, src: str, fmt: str, file: str,
                 problems: list[DataProblem]) -> pd.Series:
    """Visit dates in ``fmt``; a date after tomorrow is reported and left out."""
    d = _parse_dates(raw, src, fmt, file, problems)
    future = d > pd.Timestamp.today().normalize() + pd.Timedelta(days=1)
    for r, v in raw[future].items():
        problems.append(DataProblem(file, int(r), src, "visit date in the future",  # type: ignore[call-overload]
                                    "a date not after today", str(v)))
    return d.where(~future)


def _age_from_birth(export: pd.DataFrame, src: str, rule: dict[str, Any], file: str,
                    problems: list[DataProblem], visit_format: str | None) -> pd.Series:
    """Whole years from the date of birth to the episode's first visit; a birth after that
    visit or an age over ``MAX_AGE`` is reported and left out."""
    raw = export[src]
    fmt = str(rule.get("date_format", "%Y-%m-%d"))
    dob = _parse_dates(raw, src, fmt, file, problems)
    visit_src = str(rule["visit_date"])
    # the visit dates' problems are reported too (once: apply_mapping drops repeats when the
    # visit_day rule reads the same column)
    visit = _parse_dates(export[visit_src], visit_src, visit_format or fmt, file, problems)
    first = visit.groupby(export["__episode__"]).transform("min")
    years = (first.dt.year - dob.dt.year) - (
        (first.dt.month * 100 + first.dt.day) < (dob.dt.month * 100 + dob.dt.day))
    age = years.astype("float64")
    negative = age < 0
    for r, v in raw[negative].items():
        problems.append(DataProblem(file, int(r), src,  # type: ignore[call-overload]
                                    "date of birth after the episode's first visit",
                                    f"a date of birth before the first {visit_src}", str(v)))
    age = age.where(~negative)
    old = age > MAX_AGE
    for r, v in raw[old].items():
        problems.append(DataProblem(file, int(r), src,  # type: ignore[call-overload]
                                    f"age at the first visit over {MAX_AGE} years",
                                    f"a date of birth giving an age of 0-{MAX_AGE}", str(v)))
    return age.where(~old)


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


def wide_to_long(export: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
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


def rule_sources(mapping: Mapping, col: str, rule: dict[str, Any]) -> list[str]:
    """Export columns read by the rule of schema column ``col`` (wide: one per visit)."""
    if mapping.layout == "wide" and col in mapping.wide_columns():
        return [str(e[col]) for e in mapping.wide if col in e]
    return [str(rule["column"])] if "column" in rule else []


def apply_missing_codes(export: pd.DataFrame, mapping: Mapping, notes: list[str]) -> None:
    """Blank the declared missing-value codes (``missing: [0, -9, "NA"]``) of each rule's
    export columns, in place, and note how many cells each code blanked."""
    for col, rule in mapping.columns.items():
        codes = rule.get("missing")
        if not codes:
            continue
        keys = {_key(c).strip() for c in (codes if isinstance(codes, list) else [codes])}
        for src in rule_sources(mapping, col, rule):
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
    return unicodedata.normalize("NFKC", str(value)).translate(ZERO_WIDTH).strip()


def normalise_identifiers(export: pd.DataFrame, mapping: Mapping, notes: list[str]) -> None:
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


#: Episode-key cells that are a missing-value code, not a patient (case-insensitive).
MISSING_KEY_CODES: frozenset[str] = frozenset(
    {"na", "n/a", "n.a.", "nan", "null", "none", "nil", "-", "--", "?", "??", ".", "#n/a",
     "unknown", "missing", "not recorded", "tbc"})

_SCIENTIFIC_ID = r"[-+]?[0-9]+(?:[.,][0-9]+)?[eE][-+]?[0-9]+"


def _id_twin_key(value: str) -> str:
    """Key under which two spellings of one identifier meet: letter case, leading zeros and a
    trailing '.0' (a spreadsheet's number) do not count."""
    text = value.casefold()
    number = pd.Series([text]).str.fullmatch(r"[0-9]+(?:\.0+)?").iat[0]
    return text.split(".")[0].lstrip("0") or "0" if number else text


def check_identifiers(export: pd.DataFrame, mapping: Mapping, file: str,
                      problems: list[DataProblem]) -> None:
    """Episode keys that cannot identify a patient safely, named by row and export column:
    a missing-value code (``NA``: patients would be merged), a number in scientific notation
    (``1.23E+11``: a spreadsheet rounded a long id, patients may be merged) and one id
    spelled two ways (``101`` / ``101.0`` / ``0101``, ``ab1`` / ``AB1``: one patient split in
    two). Run after :func:`normalise_identifiers`."""
    for col in mapping.episode:
        if col not in export.columns:
            continue
        cells = export[col]
        present = cells.notna()
        text = cells[present].astype(str)
        code = text.str.casefold().isin(MISSING_KEY_CODES)
        for r, v in text[code].items():
            problems.append(DataProblem(file, int(r), col, "episode key is a missing-value "  # type: ignore[call-overload]
                                        "code, not a patient's identifier",
                                        "a value identifying the episode", v))
        sci = text.str.fullmatch(_SCIENTIFIC_ID)
        for r, v in text[sci].items():
            problems.append(DataProblem(file, int(r), col, "identifier in scientific "  # type: ignore[call-overload]
                                        "notation (a spreadsheet rounded a long number: "
                                        "patients may be merged)",
                                        "the identifier's digits in full (format the column "
                                        "as text before exporting)", v))
        ok = text[~code & ~sci]
        twin = ok.map(_id_twin_key)
        first_spelling: dict[str, tuple[str, int]] = {}
        for r, v, k in zip(ok.index, ok.to_numpy(), twin.to_numpy(), strict=True):
            if k not in first_spelling:
                first_spelling[k] = (v, int(r))  # type: ignore[call-overload]
            elif first_spelling[k][0] != v:
                other, row = first_spelling[k]
                problems.append(DataProblem(
                    file, int(r), col,  # type: ignore[call-overload]
                    f"identifier {v!r} and {other!r} (row {row}) differ only in letter case, "
                    "leading zeros or a trailing '.0': one patient or two?",
                    "one spelling of each identifier", v))


def check_birth_dates(export: pd.DataFrame, mapping: Mapping, file: str,
                      problems: list[DataProblem]) -> None:
    """A date of birth must be the same on every row of an episode (missing on some rows
    counts as different): named by row, with the episode's first row and value."""
    for rule in mapping.columns.values():
        if not rule.get("date_of_birth") or mapping.layout != "long":
            continue
        src = str(rule["column"])
        if src not in export.columns:
            continue
        dob = export[src].map(lambda v: None if v is None else str(v).strip() or None)
        keyed = ~export["__episode__"].astype(str).str.startswith("\x00")  # keyless: reported
        frame = pd.DataFrame({"key": export["__episode__"], "dob": dob})[keyed.to_numpy()]
        for _, group in frame.groupby("key", sort=False):
            given = group["dob"].dropna()
            if given.nunique() <= 1 and len(given) in (0, len(group)):
                continue
            usual = given.value_counts(sort=True).index[0] if len(given) else None
            r0 = int(group.index[(group["dob"] == usual).to_numpy()][0])
            for r, v in group["dob"].items():
                if v == usual:
                    continue
                problems.append(DataProblem(
                    file, int(r), src,  # type: ignore[call-overload]
                    f"date of birth {'missing on this row' if v is None else 'differs'} "
                    f"within one episode ({usual} on row {r0})",
                    "the same date of birth on every row of an episode", v))


def apply_wide_rule(export: pd.DataFrame, col: str, rule: dict[str, Any], mapping: Mapping,
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
        mapped = apply_rule(part, col, {**rule, "column": src}, file, problems,
                             instrument=mapping.instruments.get(col))
        out.iloc[np.flatnonzero(sel)] = mapped.to_numpy()
    return out
