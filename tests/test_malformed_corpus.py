"""A corpus of malformed clinic exports, generated from one good export: each kind asserts
the exact named error (file, 1-based data row with the header as row 0, the export's own
column, the message) or the lossless load. A CLI pass (subprocess) checks that no input
gives a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from gluteutils.errors import AllRowsRejectedError, DataValidationError
from gluteutils.outcomes.mapping import load_export

HEADER = ["pid", "dx", "service", "gender", "dob", "appt", "pain", "lefs"]
ROWS = [
    ["101", "Piriformis", "Physiothérapie", "F", "01/02/1980", "03/01/2024", "45.5", "40"],
    ["101", "Piriformis", "Physiothérapie", "F", "01/02/1980", "10/01/2024", "30", "50"],
    ["101", "Piriformis", "Physiothérapie", "F", "01/02/1980", "24/02/2024", "12.25", "60"],
    ["102", "DOMS", "Advice", "M", "15/06/1990", "05/03/2024", "60", ""],
    ["102", "DOMS", "Advice", "M", "15/06/1990", "11/03/2024", "20", "70"],
    ["103", "Piriformis", "Advice", "F", "20/11/1975", "01/04/2024", "70", "30"],
    ["103", "Piriformis", "Advice", "F", "20/11/1975", "25/05/2024", "65", "32"],
    ["104", "DOMS", "Physiothérapie", "M", "02/02/2000", "01/06/2024", "80", "55"],
    ["104", "DOMS", "Physiothérapie", "M", "02/02/2000", "07/06/2024", "10", "75"],
]
SPEC = {
    "name": "corpus", "layout": "long", "episode": ["pid"],
    "identifiers": ["pid", "dob", "appt"],
    "instruments": {"pain_nprs": "vas_0_100"},
    "columns": {
        "condition": {"column": "dx", "values": {"Piriformis": "piriformis_syndrome",
                                                  "DOMS": "doms"}},
        "therapy": {"column": "service", "values": {"Physiothérapie": "physiotherapy",
                                                     "Advice": "home_self_care"}},
        "sex": {"column": "gender", "values": {"F": "female", "M": "male"}},
        "age_band": {"column": "dob", "date_of_birth": True, "date_format": "%d/%m/%Y",
                     "visit_date": "appt"},
        "visit_day": {"column": "appt", "date_format": "%d/%m/%Y"},
        "visit_type": {"derive": True},
        "pain_nprs": {"column": "pain"},
        "function_lefs": {"column": "lefs", "missing": [-9]},
        "sessions_attended": {"derive": "visits"},
    },
    "quasi_identifiers": ["sex"],
}


def _csv(header: list[str], rows: list[list[str]], *, sep: str = ",", nl: str = "\n") -> str:
    return nl.join(sep.join(r) for r in [header, *rows]) + nl


def _good() -> str:
    return _csv(HEADER, ROWS)


def _cell(row: int, col: str, value: str) -> str:
    rows = [list(r) for r in ROWS]
    rows[row - 1][HEADER.index(col)] = f'"{value}"' if "," in value else value
    return _csv(HEADER, rows)


def _cells(col: str, value: str) -> str:
    rows = [list(r) for r in ROWS]
    for r in rows:
        r[HEADER.index(col)] = value
    return _csv(HEADER, rows)


# (kind, content, (row, column, fragment))
Expected = tuple[int | None, str | None, str]
CELL_CASES: list[tuple[str, int, str, str, Expected]] = [
    # the one number parser, on the export's own column
    ("pain_text", 2, "pain", "abc", (2, "pain", "not a number")),
    ("pain_exponent", 2, "pain", "1e1", (2, "pain", "scientific notation")),
    ("pain_exponent_negative", 3, "pain", "5e-1", (3, "pain", "scientific notation")),
    ("pain_inf", 2, "pain", "inf", (2, "pain", "not a finite number")),
    ("pain_minus_inf", 2, "pain", "-inf", (2, "pain", "not a finite number")),
    ("pain_infinity", 2, "pain", "Infinity", (2, "pain", "not a finite number")),
    ("pain_nan", 2, "pain", "nan", (2, "pain", "not a finite number")),
    ("pain_NaN", 2, "pain", "NaN", (2, "pain", "not a finite number")),
    ("pain_decimal_comma", 4, "pain", "4,5", (4, "pain", "decimal comma")),
    ("pain_30_digits", 2, "pain", "1" * 30, (2, "pain", "30 digits")),
    ("pain_uint64_max", 2, "pain", "18446744073709551615", (2, "pain", "20 digits")),
    ("pain_int64_overflow", 2, "pain", "9223372036854775808", (2, "pain", "19 digits")),
    ("pain_above_scale", 5, "pain", "101", (5, "pain", "Visual Analogue Scale 0-100")),
    ("pain_below_scale", 5, "pain", "-1", (5, "pain", "from 0 to 100")),
    ("pain_just_above", 5, "pain", "100.001", (5, "pain", "from 0 to 100")),
    ("pain_hex", 2, "pain", "0x1A", (2, "pain", "not a number")),
    ("pain_underscore", 2, "pain", "1_000", (2, "pain", "not a number")),
    ("pain_fraction_char", 2, "pain", "½", (2, "pain", "not a number")),
    ("pain_arabic_digit", 2, "pain", "٣", (2, "pain", "not a number")),
    ("pain_fullwidth_digit", 2, "pain", "５", (2, "pain", "not a number")),
    ("pain_two_points", 2, "pain", "1.2.3", (2, "pain", "not a number")),
    ("pain_percent", 2, "pain", "50%", (2, "pain", "not a number")),
    ("pain_dash", 2, "pain", "-", (2, "pain", "not a number")),
    ("pain_na_text", 2, "pain", "N/A", (2, "pain", "not a number")),
    ("pain_excel_error", 2, "pain", "#N/A", (2, "pain", "not a number")),
    ("pain_plus_sign", 2, "pain", "+5", (2, "pain", "not a number")),
    ("pain_missing", 2, "pain", "", (2, "pain", "required value is missing")),
    ("lefs_above_scale", 2, "lefs", "81", (2, "lefs", "Lower Extremity Functional Scale")),
    ("lefs_fractional", 2, "lefs", "40.5", (2, "lefs", "whole number")),
    ("lefs_negative", 2, "lefs", "-1", (2, "lefs", "from 0 to 80")),
    ("lefs_text", 2, "lefs", "good", (2, "lefs", "not a number")),
    ("lefs_exponent", 2, "lefs", "4e1", (2, "lefs", "scientific notation")),
    # labels
    ("dx_unknown_label", 4, "dx", "Sciatica", (4, "dx", "label not in the mapping")),
    ("dx_wrong_case", 4, "dx", "doms", (4, "dx", "label not in the mapping")),
    ("service_unknown_label", 6, "service", "Massage", (6, "service", "label not in the mapping")),
    ("gender_unknown_label", 8, "gender", "X", (8, "gender", "label not in the mapping")),
    ("dx_changes_in_episode", 2, "dx", "DOMS", (1, "dx", "changes within one episode")),
    # dates
    ("dob_impossible_date", 1, "dob", "31/02/1980", (1, "dob", "not a date")),
    ("dob_iso_format", 1, "dob", "1980-02-01", (1, "dob", "not a date")),
    ("dob_after_first_visit", 1, "dob", "01/02/2090", (1, "dob", "after the episode's first")),
    ("appt_impossible_day", 2, "appt", "32/01/2024", (2, "appt", "not a date")),
    ("appt_other_format", 2, "appt", "2024/01/10", (2, "appt", "not a date")),
    ("appt_text", 2, "appt", "next week", (2, "appt", "not a date")),
    # keys
    ("pid_missing", 2, "pid", "", (2, "pid", "episode key missing")),
    # round 3: more numbers, labels and dates a hostile tester tries
    ("pain_unicode_minus", 2, "pain", "\u22125", (2, "pain", "not a number")),
    ("pain_fullwidth_minus", 2, "pain", "\uff0d5", (2, "pain", "not a number")),
    ("pain_superscript", 2, "pain", "4\u00b2", (2, "pain", "not a number")),
    ("pain_nbsp_after", 2, "pain", "45\u00a0", (2, "pain", "not a number")),
    ("pain_whitespace_only", 2, "pain", "   ", (2, "pain", "not a number")),
    ("pain_trailing_tab", 2, "pain", "45\t", (2, "pain", "not a number")),
    ("pain_null_text", 2, "pain", "null", (2, "pain", "not a number")),
    ("pain_question_mark", 2, "pain", "?", (2, "pain", "not a number")),
    ("pain_thousands_separator", 2, "pain", "1,000", (2, "pain", "decimal comma")),
    ("pain_apostrophe_text", 2, "pain", "'5", (2, "pain", "not a number")),
    ("pain_formula", 2, "pain", "=5", (2, "pain", "not a number")),
    ("pain_bengali_digit", 2, "pain", "\u09e9", (2, "pain", "not a number")),
    ("pain_arabic_decimal_sign", 2, "pain", "4\u066b5", (2, "pain", "not a number")),
    ("pain_17_digit_decimal", 2, "pain", "45.500000000000001", (2, "pain", "17 digits")),
    ("lefs_fullwidth_digits", 2, "lefs", "\uff15\uff10", (2, "lefs", "not a number")),
    ("dx_trailing_space", 4, "dx", "DOMS ", (4, "dx", "label not in the mapping")),
    ("dx_nbsp", 4, "dx", "DOMS\u00a0", (4, "dx", "label not in the mapping")),
    ("dx_emoji", 4, "dx", "DOMS\U0001f642", (4, "dx", "label not in the mapping")),
    ("dx_quoted_newline", 4, "dx", '"DO\nMS"', (4, "dx", "label not in the mapping")),
    ("dx_missing_on_one_row", 4, "dx", "", (4, "dx", "missing on this row")),
    ("appt_excel_serial", 2, "appt", "45301", (2, "appt", "not a date")),
    ("appt_two_digit_year", 2, "appt", "10/01/24", (2, "appt", "not a date")),
    ("appt_with_time", 2, "appt", "10/01/2024 10:30", (2, "appt", "not a date")),
    ("appt_feb_30", 2, "appt", "30/02/2024", (2, "appt", "not a date")),
    ("appt_us_order", 2, "appt", "01/13/2024", (2, "appt", "not a date")),
    ("dob_missing_on_one_row", 1, "dob", "", (1, "dob", "missing on this row")),
    ("dob_differs_same_band", 2, "dob", "01/02/1981", (2, "dob", "date of birth differs")),
    ("pid_same_visit_twice", 2, "appt", "03/01/2024", (2, "appt", "on the same day as row 1")),
    ("pid_float_twin", 3, "pid", "101.0", (3, "pid", "differ only in letter case")),
    ("pid_leading_zero_twin", 3, "pid", "0101", (3, "pid", "leading zeros")),
]


def _bytes_cases() -> list[tuple[str, bytes, Expected, str]]:
    """(kind, file bytes, expected, declared encoding)."""
    good = _good()
    out: list[tuple[str, bytes, Expected, str]] = []
    for kind, row, col, value, exp in CELL_CASES:
        out.append((kind, _cell(row, col, value).encode("utf-8"), exp, "utf-8"))
    out += [
        ("empty_file", b"", (None, None, "empty"), "utf-8"),
        ("whitespace_only", b"  \n\n ", (None, None, "empty"), "utf-8"),
        ("header_only", (",".join(HEADER) + "\n").encode(), (None, None, "no data rows"),
         "utf-8"),
        ("duplicate_column", _csv(HEADER + ["pain"], [r + ["1"] for r in ROWS]).encode(),
         (0, "pain", "more than once"), "utf-8"),
        ("missing_column", _csv(HEADER[:-1], [r[:-1] for r in ROWS]).encode(),
         (0, "lefs", "not in the export"), "utf-8"),
        ("extra_field", good.replace("45.5,40\n", "45.5,40,x\n").encode(),
         (1, None, "row has 9 fields"), "utf-8"),
        ("short_row", good.replace(",45.5,40\n", ",45.5\n").encode(),
         (1, None, "row has 7 fields"), "utf-8"),
        ("blank_line", good.replace("\n102,DOMS,Advice,M,15/06/1990,05/03/2024",
                                    "\n\n102,DOMS,Advice,M,15/06/1990,05/03/2024", 1).encode(),
         (4, None, "blank line"), "utf-8"),
        ("semicolon_delimiter", _csv(HEADER, ROWS, sep=";").encode(),
         (0, None, "delimiter ';'"), "utf-8"),
        ("tab_delimiter", _csv(HEADER, ROWS, sep="\t").encode(), (0, None, "delimiter '\\t'"),
         "utf-8"),
        ("xlsx_renamed", b"PK\x03\x04" + b"\x00" * 26 + b"[Content_Types].xml" + b"xl/workbook",
         (None, None, "this is an .xlsx"), "utf-8"),
        ("ods_renamed", b"PK\x03\x04" + b"\x00" * 26 + b"mimetypeapplication/vnd.oasis."
         b"opendocument.spreadsheet", (None, None, "this is an .ods"), "utf-8"),
        ("xls_renamed", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
         (None, None, "this is an .xls"), "utf-8"),
        ("utf16_without_bom", good.encode("utf-16-le"), (None, None, "UTF-16 without"),
         "utf-8"),
        ("latin1_undeclared", good.encode("latin-1"), (1, None, "not valid UTF-8"), "utf-8"),
        ("nul_byte", good.replace("45.5", "4\x005").encode(), (1, None, "NUL"), "utf-8"),
        ("huge_label", _cell(4, "dx", "X" * 1_000_000).encode(),
         (4, "dx", "label not in the mapping"), "utf-8"),
        ("every_row_bad_scale", _cells("pain", "500").encode(),
         (None, "pain", "every row was rejected"), "utf-8"),
        # round 3: file structure
        ("only_bom", b"\xef\xbb\xbf", (None, None, "empty"), "utf-8"),
        ("only_bom_and_blank_lines", b"\xef\xbb\xbf\n\r\n", (None, None, "empty"), "utf-8"),
        ("gzip_renamed", b"\x1f\x8b\x08\x00" + bytes(range(200)), (None, None, "gzip"),
         "utf-8"),
        ("pdf_renamed", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", (None, None, "PDF"),
         "utf-8"),
        ("blank_first_line", ("\n" + good).encode(), (0, None, "first line is blank"),
         "utf-8"),
        ("title_line_above_header", ("Clinic export 2024\n" + good).encode(),
         (0, None, "title line"), "utf-8"),
        ("header_repeated_mid_file", _csv(HEADER, ROWS[:4] + [HEADER] + ROWS[4:]).encode(),
         (5, None, "header row is repeated"), "utf-8"),
        ("two_exports_concatenated_with_bom", (_csv(HEADER, ROWS[:4]) + "\ufeff"
                                              + _csv(HEADER, ROWS[4:])).encode(),
         (5, None, "header row is repeated"), "utf-8"),
        ("unnamed_column_with_data", _csv(HEADER + [""], [r + ["x"] for r in ROWS]).encode(),
         (1, "(unnamed column 9)", "without a name"), "utf-8"),
        ("case_twin_of_mapped_column", _csv(HEADER + ["PAIN"], [r + ["99"] for r in ROWS]
                                            ).encode(),
         (0, "pain", "differ only in letter case"), "utf-8"),
        ("header_in_other_case", _csv(["PID"] + HEADER[1:], ROWS).encode(),
         (0, "pid", "did you mean 'PID'"), "utf-8"),
        ("unbalanced_quote_swallows_a_row", _unbalanced_notes().encode(),
         (3, "notes", "not closed"), "utf-8"),
        ("unbalanced_quote_to_end_of_file", good.replace(
            "102,DOMS,Advice,M,15/06/1990,11/03", '102,DOMS,"Advice,M,15/06/1990,11/03'
            ).encode(), (5, "service", "not closed"), "utf-8"),
        ("stray_carriage_return_in_row", good.replace(
            "102,DOMS,Advice,M,15/06/1990,05/03", "102,DOMS\r,Advice,M,15/06/1990,05/03"
            ).encode(), (4, None, "carriage return"), "utf-8"),
        ("mixed_cr_and_lf_line_ends", (_csv(HEADER, ROWS[:3], nl="\r")
                                       + _csv(HEADER, ROWS[3:]).split("\n", 1)[1]).encode(),
         (0, None, "carriage return"), "utf-8"),
        ("exact_duplicate_row", _csv(HEADER, ROWS[:1] + ROWS).encode(),
         (2, "appt", "exact copy of row 1"), "utf-8"),
        ("pid_excel_scientific", _episode("101", "pid", "1.01E+02").encode(),
         (1, "pid", "scientific notation"), "utf-8"),
        ("pid_missing_value_code", _episode("101", "pid", "NA").encode(),
         (1, "pid", "missing-value code"), "utf-8"),
        ("pid_case_twin", _csv(HEADER, [["ab1" if r[0] == "101" and i < 2 else
                                         "AB1" if r[0] == "101" else r[0], *r[1:]]
                                        for i, r in enumerate(ROWS)]).encode(),
         (3, "pid", "letter case"), "utf-8"),
    ]
    return out


def _unbalanced_notes() -> str:
    """A notes cell opens a quote on row 3 and closes it on row 4: row 4 would vanish into
    the cell."""
    lines = _csv(HEADER + ["notes"], [r + ["ok"] for r in ROWS]).split("\n")
    lines[3] = lines[3][:-2] + '"start'
    lines[4] = lines[4][:-2] + 'end"'
    return "\n".join(lines)


VTYPES = ["B", "T", "R", "B", "R", "B", "R", "B", "R"]
HEADER_V = HEADER + ["vtype"]
SPEC_V = {**SPEC, "columns": {**SPEC["columns"], "visit_type": {
    "column": "vtype", "values": {"B": "baseline", "T": "treatment", "R": "review"}}}}


def _with_vtypes(changes: dict[int, str]) -> str:
    types = [changes.get(i + 1, v) for i, v in enumerate(VTYPES)]
    return _csv(HEADER_V, [r + [t] for r, t in zip(ROWS, types, strict=True)])


HEADER_W = ["patient", "arm", "age", "p0", "p1", "p2"]
SPEC_W = {
    "name": "wide corpus", "layout": "wide", "episode": ["patient"], "identifiers": [],
    "instruments": {"pain_nprs": "nprs_0_10"}, "constants": {"condition": "doms"},
    "columns": {"therapy": {"column": "arm", "values": {1: "physiotherapy",
                                                        0: "home_self_care"}},
                "age_band": {"column": "age", "age": True},
                "pain_nprs": {"column": "p0"},
                "sessions_attended": {"derive": "visits"}},
    "review_window": [1, 1],
    "wide": [{"visit_day": 0, "visit_type": "baseline", "pain_nprs": "p0"},
             {"visit_day": 1, "visit_type": "review", "pain_nprs": "p1"},
             {"visit_day": 2, "visit_type": "treatment", "pain_nprs": "p2"}],
}


def _wide(changes: dict[int, dict[str, str]] | None = None) -> str:
    rows = [[str(i), str(i % 2), str(30 + i), "3", "5", "2"] for i in range(1, 7)]
    for r, cells in (changes or {}).items():
        for col, v in cells.items():
            rows[r - 1][HEADER_W.index(col)] = v
    return _csv(HEADER_W, rows)


def _episode(pid: str, col: str, value: str) -> str:
    rows = [list(r) for r in ROWS]
    for r in rows:
        if r[0] == pid:
            r[HEADER.index(col)] = value
    return _csv(HEADER, rows)


# data-dictionary rules: (kind, content, expected, spec)
RULE_CASES: list[tuple[str, bytes, Expected, dict]] = [
    ("dob_1890_age_over_110", _episode("101", "dob", "01/02/1890").encode(),
     (1, "dob", "over 110"), SPEC),
    ("appointment_in_2099", _cell(3, "appt", "24/02/2099").encode(),
     (3, "appt", "in the future"), SPEC),
    ("review_outside_window", _with_vtypes({2: "R", 3: "T"}).encode(),
     (2, "appt", "outside its window"), SPEC_V),
    ("two_reviews", _with_vtypes({2: "R"}).encode(), (3, "vtype", "second review"), SPEC_V),
    ("no_baseline", _with_vtypes({1: "T"}).encode(), (1, "vtype", "0 baseline"), SPEC_V),
    ("two_baselines", _with_vtypes({2: "B"}).encode(), (1, "vtype", "2 baseline"), SPEC_V),
    ("wide_age_150", _wide({2: {"age": "150"}}).encode(), (2, "age", "over 110"), SPEC_W),
    ("wide_patient_on_two_rows", _wide({3: {"patient": "1"}}).encode(),
     (3, "patient", "on row 1 too"), SPEC_W),
    ("wide_baseline_cells_empty", _wide({2: {"p0": ""}}).encode(),
     (2, "p0", "0 baseline"), SPEC_W),
    ("wide_pain_resolution", _wide({2: {"p1": "7.25"}}).encode(),
     (2, "p1", "Numeric Pain Rating Scale"), SPEC_W),
    ("wide_likert_zero", _wide({2: {"p1": "0"}}).encode(), (2, "p1", "from 1 to 5"),
     {**SPEC_W, "instruments": {"pain_nprs": "likert_1_5"}}),
    ("sessions_fractional", _csv(HEADER + ["sess"], [r + ["2.5"] for r in ROWS]).encode(),
     (1, "sess", "sessions attended do not match"),
     {**SPEC, "columns": {**SPEC["columns"], "sessions_attended": {"column": "sess"}}}),
    ("visit_day_column_fractional", _csv(HEADER + ["day"], [
        r + [d] for r, d in zip(ROWS, ["0", "3.5", "50", "0", "6", "0", "54", "0", "6"],
                                strict=True)]).encode(),
     (2, "day", "whole number"),
     {**SPEC, "columns": {**SPEC["columns"], "visit_day": {"column": "day"}}}),
]

BYTES_CASES = _bytes_cases() + [(k, c, e, "utf-8") for k, c, e, _ in RULE_CASES]
_RULE_SPECS = {k: spec for k, _, _, spec in RULE_CASES}


def _lossless_cases() -> list[tuple[str, bytes, str, Callable[..., None]]]:
    good = _good()

    def same(data) -> None:  # the good export's content, exactly
        assert len(data.episodes) == 4 and len(data.visits) == 9
        got = np.sort(data.visits["pain_nprs"].to_numpy())
        np.testing.assert_array_equal(got, np.sort([float(r[6]) for r in ROWS]))

    def lefs_missing(data) -> None:
        same(data)
        assert data.visits["function_lefs"].isna().sum() == 2
        assert any("'-9' read as missing" in n for n in data.notes), data.notes

    def normalised(data) -> None:
        same(data)
        assert any("normalised" in n for n in data.notes), data.notes

    rows_zw = [list(r) for r in ROWS]
    rows_zw[1][0] = "101\u200b"
    rows_fw = [list(r) for r in ROWS]
    rows_fw[2][0] = "１０１"
    rows_sp = [list(r) for r in ROWS]
    rows_sp[4][0] = " 102 "
    rows_extra = [r + ["free text, with a comma"] for r in ROWS]
    quoted = _csv(HEADER + ["notes"], [r + ['"said ""hi"", left"'] for r in ROWS])
    order = [HEADER[i] for i in (7, 6, 5, 4, 3, 2, 1, 0)]
    return [
        ("utf8_bom", b"\xef\xbb\xbf" + good.encode(), "utf-8", same),
        ("utf16_le_bom", good.encode("utf-16"), "utf-8", same),
        ("utf16_be_bom", b"\xfe\xff" + good.encode("utf-16-be"), "utf-8", same),
        ("crlf", _csv(HEADER, ROWS, nl="\r\n").encode(), "utf-8", same),
        ("cr_only", _csv(HEADER, ROWS, nl="\r").encode(), "utf-8", same),
        ("no_final_newline", good.rstrip("\n").encode(), "utf-8", same),
        ("latin1_declared", good.encode("latin-1"), "latin-1", same),
        ("cp1252_declared", good.encode("cp1252"), "cp1252", same),
        ("missing_code_lefs", _cell(2, "lefs", "-9").encode(), "utf-8", lefs_missing),
        ("zero_width_in_id", _csv(HEADER, rows_zw).encode(), "utf-8", normalised),
        ("fullwidth_id", _csv(HEADER, rows_fw).encode(), "utf-8", normalised),
        ("spaces_around_id", _csv(HEADER, rows_sp).encode(), "utf-8", normalised),
        ("extra_unused_column", _csv(HEADER + ["notes"], rows_extra).encode().replace(
            b"free text, with a comma", b'"free text, with a comma"'), "utf-8", same),
        ("quoted_field", quoted.encode(), "utf-8", same),
        ("columns_reordered", _csv(order, [[r[HEADER.index(c)] for c in order]
                                           for r in ROWS]).encode(), "utf-8", same),
        ("decimals_kept", _cell(1, "pain", "45.55").encode(), "utf-8",
         lambda d: 45.55 in set(d.visits["pain_nprs"])),
        # round 3
        ("trailing_empty_header_columns", _csv(HEADER + ["", ""], [r + ["", ""] for r in ROWS]
                                               ).encode(), "utf-8", same),
        ("visits_out_of_order", _csv(HEADER, [ROWS[2], ROWS[0], ROWS[1], *ROWS[3:]]).encode(),
         "utf-8", lambda d: (same(d), sorted(d.visits["visit_day"]) == sorted(
             [0, 7, 52, 0, 6, 0, 54, 0, 6]))[1]),
        ("mixed_crlf_and_lf", (_csv(HEADER, ROWS[:3], nl="\r\n")
                               + _csv(HEADER, ROWS[3:]).split("\n", 1)[1]).encode(), "utf-8",
         same),
        ("pain_minus_zero_is_zero", _cell(2, "pain", "-0").encode(), "utf-8",
         lambda d: str(d.visits["pain_nprs"].min()) == "0.0"),
        ("forty_digit_id", _episode("101", "pid", "1" * 40).encode(), "utf-8", same),
        ("single_digit_day_month", _cell(2, "appt", "1/1/2024").encode(), "utf-8",
         lambda d: 2 in set(d.visits["visit_day"])),
    ]


LOSSLESS = _lossless_cases()


def _spec(encoding: str, kind: str = "") -> dict:
    return {**_RULE_SPECS.get(kind, SPEC), "source": {"delimiter": ",", "encoding": encoding}}


def test_corpus_has_at_least_60_kinds():
    kinds = [c[0] for c in BYTES_CASES] + [c[0] for c in LOSSLESS]
    assert len(kinds) == len(set(kinds))
    assert len(BYTES_CASES) >= 60


def test_good_export_loads(tmp_path: Path):
    path = tmp_path / "good.csv"
    path.write_text(_good(), encoding="utf-8")
    data = load_export(path, _spec("utf-8"), seed=1)
    assert data.instruments["pain_nprs"].key == "vas_0_100"
    assert sorted(data.visits["pain_nprs"]) == sorted(float(r[6]) for r in ROWS)
    assert list(data.report["row"]) == []


@pytest.mark.parametrize("case", BYTES_CASES, ids=[c[0] for c in BYTES_CASES])
def test_malformed_export_is_named(case, tmp_path: Path):
    kind, content, (row, column, fragment), encoding = case
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content)
    with pytest.raises(DataValidationError) as info:
        load_export(path, _spec(encoding, kind), seed=1)
    err = info.value
    assert err.file == str(path)
    hits = [p for p in err.problems if p.row == row and p.column == column
            and fragment.lower() in f"{p.message} {p.expected}".lower()]
    assert hits, [str(p) for p in err.problems][:5]
    assert len(str(err)) < 20_000  # a 1 MB label is never echoed in full
    if kind.startswith("every_row"):
        assert isinstance(err, AllRowsRejectedError)


@pytest.mark.parametrize("case", LOSSLESS, ids=[c[0] for c in LOSSLESS])
def test_lossless_load(case, tmp_path: Path):
    kind, content, encoding, check = case
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content)
    data = load_export(path, _spec(encoding), seed=1)
    result = check(data)
    assert result is None or result is True


def _rule(col: str, **rule) -> dict:
    return {**SPEC, "columns": {**SPEC["columns"], col: rule}}


# a mapping of the wrong shape: named (file and key), never a crash or a key ignored
MAPPING_CASES: list[tuple[str, dict, str]] = [
    ("values_as_list", _rule("sex", column="gender", values=["F", "M"]), "'values' must be"),
    ("multiply_as_text", _rule("pain_nprs", column="pain", multiply="ten"),
     "'multiply' must be a finite number"),
    ("round_unknown", _rule("pain_nprs", column="pain", round="half_down"),
     "'round' must be 'half_up'"),
    ("dob_without_visit_date", _rule("age_band", column="dob", date_of_birth=True,
                                     date_format="%d/%m/%Y"), "needs 'visit_date'"),
    ("age_and_date_of_birth", _rule("age_band", column="dob", age=True, date_of_birth=True,
                                    visit_date="appt"), "not both"),
    ("date_format_number", _rule("visit_day", column="appt", date_format=5),
     "'date_format' must be text"),
    ("date_format_without_codes", _rule("visit_day", column="appt", date_format="dd/mm/yyyy"),
     "% codes"),
    ("label_maps_to_null", _rule("sex", column="gender", values={"F": None, "M": "male"}),
     "maps to None"),
    ("yaml_yes_no_labels", _rule("sex", column="gender", values={True: "female",
                                                                 False: "male"}),
     "read by YAML as true/false"),
    ("missing_codes_as_table", _rule("function_lefs", column="lefs", missing={"a": 1}),
     "'missing' must be a list"),
    ("delimiter_two_characters", {**SPEC, "source": {"delimiter": ";;"}}, "one character"),
    ("delimiter_empty", {**SPEC, "source": {"delimiter": ""}}, "one character"),
    ("source_as_text", {**SPEC, "source": "utf-8"}, "'source' must be a mapping"),
    ("columns_as_list", {**SPEC, "columns": ["pain"]}, "'columns' must map"),
    ("wide_entry_as_text", {**SPEC, "layout": "wide", "wide": ["pain"]},
     "'wide' must be a list of visits"),
    ("episode_as_table", {**SPEC, "episode": {"a": 1}}, "'episode' must be a list"),
    ("identifiers_as_number_list", {**SPEC, "identifiers": [["pid"]]},
     "'identifiers' must be a list"),
    ("top_level_typo", {**SPEC, "quasi_identifier": ["sex"]}, "unknown key(s) "
     "['quasi_identifier']"),
    ("source_key_typo", {**SPEC, "source": {"delimeter": ";"}}, "unknown key(s) ['delimeter']"),
]


def test_mapping_key_written_twice_is_named(tmp_path: Path):
    from gluteutils.errors import ContentError

    export = tmp_path / "e.csv"
    export.write_text(_good(), encoding="utf-8")
    text = yaml.safe_dump(SPEC, allow_unicode=True, sort_keys=False).replace(
        "  pain_nprs:\n    column: pain\n",
        "  pain_nprs:\n    column: pain\n  pain_nprs:\n    column: lefs\n")
    mapping = tmp_path / "twice.yaml"
    mapping.write_text(text, encoding="utf-8")
    assert text.count("pain_nprs:\n") == 2
    with pytest.raises(ContentError, match="'pain_nprs' is written twice"):
        load_export(export, mapping, seed=1)


@pytest.mark.parametrize("case", MAPPING_CASES, ids=[c[0] for c in MAPPING_CASES])
def test_malformed_mapping_is_named(case, tmp_path: Path):
    from gluteutils.errors import ContentError

    kind, spec, fragment = case
    export = tmp_path / "e.csv"
    export.write_text(_good(), encoding="utf-8")
    mapping = tmp_path / f"{kind}.yaml"
    mapping.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_export(export, mapping, seed=1)
    assert str(mapping) in str(info.value) and fragment in str(info.value), str(info.value)


def test_one_name_is_a_list_of_one_not_its_letters(tmp_path: Path):
    from gluteutils.outcomes.mapping import read_mapping

    m = read_mapping({**SPEC, "identifiers": "pid", "quasi_identifiers": "sex"})
    assert m.identifiers == ["pid"] and m.quasi_identifiers == ["sex"]


def _visits_lines() -> list[str]:
    from gluteutils._paths import data_path

    return data_path("outcomes", "visits.csv").read_text(encoding="utf-8").splitlines()[:30]


# the strict package loader (gluteutils data check): (kind, file text, expected)
STRICT_CASES: list[tuple[str, str, Expected]] = [
    ("strict_only_bom", "\ufeff", (None, None, "file is empty")),
    ("strict_blank_first_line", "\n" + "\n".join(_visits_lines()) + "\n",
     (0, None, "first line is blank")),
    ("strict_header_repeated", "\n".join(_visits_lines()[:5] + _visits_lines()[:1]
                                         + _visits_lines()[5:]) + "\n",
     (5, None, "header row is repeated")),
    ("strict_trailing_empty_columns", "\n".join(v + ",," for v in _visits_lines()) + "\n",
     (0, "(unnamed column 7)", "without a name")),
    ("strict_stray_carriage_return", "\n".join(_visits_lines()).replace(
        ",review,", ",review\r,", 1) + "\n", (None, None, "carriage return")),
]


@pytest.mark.parametrize("case", STRICT_CASES, ids=[c[0] for c in STRICT_CASES])
def test_strict_loader_names_the_problem(case, tmp_path: Path):
    from gluteutils.outcomes import load_table

    kind, text, (row, column, fragment) = case
    path = tmp_path / f"{kind}_visits.csv"
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(DataValidationError) as info:
        load_table(path, "visits")
    hits = [p for p in info.value.problems if (row is None or p.row == row)
            and p.column == column and fragment in p.message]
    assert hits, [str(p) for p in info.value.problems][:5]


@pytest.mark.slow
def test_cli_never_shows_a_traceback(tmp_path: Path):
    files = []
    for kind, content, _, encoding in BYTES_CASES:
        p = tmp_path / f"{kind}.csv"
        p.write_bytes(content)
        m = tmp_path / f"{kind}.yaml"
        m.write_text(yaml.safe_dump(_spec(encoding, kind), allow_unicode=True),
                     encoding="utf-8")
        files.append((str(p), str(m)))
    for kind, spec, _ in MAPPING_CASES:
        p = tmp_path / f"map_{kind}.csv"
        p.write_text(_good(), encoding="utf-8")
        m = tmp_path / f"map_{kind}.yaml"
        m.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        files.append((str(p), str(m)))
    driver = (
        "import json, sys\n"
        "from gluteutils.cli import main\n"
        "codes = {}\n"
        "for i, (f, m) in enumerate(json.loads(sys.argv[1])):\n"
        "    codes[f] = main(['anonymise', f, sys.argv[2] + f'/out{i}', '--mapping', m,"
        " '--k', '1', '--seed', '1'])\n"
        "print(json.dumps(codes))\n"
    )
    run = subprocess.run([sys.executable, "-c", driver, json.dumps(files), str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 0, run.stderr[-3000:]
    codes = json.loads(run.stdout.strip().splitlines()[-1])
    assert all(code == 1 for code in codes.values()), codes


def test_visit_day_equal_to_a_patient_number_is_not_an_identifier(tmp_path: Path):
    from gluteutils.outcomes.anonymise import anonymise

    rows = [["365", "Piriformis", "Advice", "F", "01/02/1980", "01/01/2023", "50", "40"],
            ["365", "Piriformis", "Advice", "F", "01/02/1980", "01/01/2024", "40", "45"]]
    path = tmp_path / "e.csv"
    path.write_text(_csv(HEADER, rows), encoding="utf-8")
    spec = {**SPEC, "columns": {**SPEC["columns"]}, "review_window": [49, 63]}
    data = load_export(path, spec, seed=1)
    assert 365 in set(data.visits["visit_day"])  # day 365 of patient 365
    out = anonymise(path, spec, k=1, seed=1)
    assert 365 in set(out.data.visits["visit_day"])


def test_identifier_scan_compares_whole_text_values():
    import pandas as pd

    from gluteutils.outcomes.anonymise import find_identifiers
    from gluteutils.outcomes.io import OutcomeData

    export = pd.DataFrame({"pid": ["365", "AB12345\u200b"], "name": ["Jo Bloggs", None]})
    episodes = pd.DataFrame({"episode_id": ["E000000001"], "site": ["clinic of Jo Bloggs"]})
    visits = pd.DataFrame({"episode_id": ["E000000001"], "visit_day": [365],
                           "note": ["AB12345"]})
    hits = find_identifiers(OutcomeData(episodes=episodes, visits=visits), export,
                            ["pid", "name"])
    assert "visits.note: 'AB12345'" in hits          # whole value, after normalisation
    assert "episodes.site: 'clinic of Jo Bloggs'" in hits  # a long id inside free text
    assert not any("visit_day" in h for h in hits)   # day 365 is a number, not patient 365


def test_own_therapy_labels_with_a_declared_reference(tmp_path: Path):
    path = tmp_path / "e.csv"
    path.write_text(_good().replace("Physiothérapie", "Laser").replace("Advice", "Sham"),
                    encoding="utf-8")
    spec = {**SPEC, "columns": {**SPEC["columns"], "therapy": {
        "column": "service", "labels": "own", "reference": "Sham"}}}
    data = load_export(path, spec, seed=1)
    assert list(data.episodes["therapy"].cat.categories) == ["Sham", "Laser"]
    assert data.reference_therapy == "Sham"
    bad = {**spec, "columns": {**spec["columns"], "therapy": {
        "column": "service", "labels": "own", "reference": "Placebo"}}}
    with pytest.raises(DataValidationError) as info:
        load_export(path, bad, seed=1)
    assert any(p.column == "service" and "reference" in p.message for p in info.value.problems)
