"""A suite of malformed outcome files: each must raise DataValidationError naming the file, the
row (1-based data row; header = row 0; None = whole file) and the column."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from gluteutils import cohort
from gluteutils.errors import DataValidationError
from gluteutils.outcomes import load, load_table, schema
from gluteutils.outcomes.io import write_table

Lines = list[str]


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict[str, Lines]:
    folder = tmp_path_factory.mktemp("clean")
    data = cohort.generate(30, 7)
    out = {}
    for name, frame in (("episodes", data.episodes), ("visits", data.visits)):
        path = folder / f"{name}.csv"
        write_table(frame, path)
        out[name] = path.read_text(encoding="utf-8").splitlines()
    return out


def _set(lines: Lines, row: int, column: str, value: str) -> Lines:
    header = lines[0].split(",")
    parts = lines[row].split(",")
    parts[header.index(column)] = value
    lines = list(lines)
    lines[row] = ",".join(parts)
    return lines


def _first_row(lines: Lines, column: str, value: str) -> int:
    header = lines[0].split(",")
    i = header.index(column)
    return next(r for r in range(1, len(lines)) if lines[r].split(",")[i] == value)


def _drop_column(lines: Lines, column: str) -> Lines:
    i = lines[0].split(",").index(column)
    return [",".join(p for j, p in enumerate(line.split(",")) if j != i) for line in lines]


def _rename(lines: Lines, old: str, new: str) -> Lines:
    return [lines[0].replace(old, new, 1), *lines[1:]]


def _baseline_row(lines: Lines) -> int:
    return _first_row(lines, "visit_type", "baseline")


def _treatment_row(lines: Lines) -> int:
    return _first_row(lines, "visit_type", "treatment")


# (id, resource, mutate(lines) -> (lines or bytes, row, column), message fragment)
Mutation = Callable[[Lines], tuple[Lines | bytes, int | None, str | None]]
CASES: list[tuple[str, str, Mutation, str]] = [
    ("empty_file", "visits", lambda ls: (b"", None, None), "empty"),
    ("whitespace_only", "visits", lambda ls: (b"\n\n  \n", None, None), "empty"),
    ("header_only", "visits", lambda ls: ([ls[0]], None, None), "no data rows"),
    ("missing_column", "visits", lambda ls: (_drop_column(ls, "grc"), 0, "grc"), "missing"),
    ("misspelt_column", "visits",
     lambda ls: (_rename(ls, "pain_nprs", "pain_nrps"), 0, "pain_nrps"), "pain_nprs"),
    ("duplicate_column", "visits",
     lambda ls: ([ls[0] + ",grc"] + [line + ",1" for line in ls[1:]], 0, "grc"),
     "more than once"),
    ("extra_column", "visits",
     lambda ls: ([ls[0] + ",notes"] + [line + ",x" for line in ls[1:]], 0, "notes"),
     "unknown column"),
    ("pain_11", "visits", lambda ls: (_set(ls, 3, "pain_nprs", "11"), 3, "pain_nprs"),
     "out of range"),
    ("pain_minus_1", "visits", lambda ls: (_set(ls, 4, "pain_nprs", "-1"), 4, "pain_nprs"),
     "out of range"),
    ("text_in_pain", "visits", lambda ls: (_set(ls, 5, "pain_nprs", "seven"), 5, "pain_nprs"),
     "whole number"),
    ("decimal_pain", "visits", lambda ls: (_set(ls, 6, "pain_nprs", "3.5"), 6, "pain_nprs"),
     "whole number"),
    ("padded_number", "visits", lambda ls: (_set(ls, 6, "pain_nprs", " 5"), 6, "pain_nprs"),
     "whole number"),
    ("hex_number", "visits", lambda ls: (_set(ls, 6, "pain_nprs", "0x5"), 6, "pain_nprs"),
     "whole number"),
    ("na_text_as_missing", "visits",
     lambda ls: (_set(ls, 7, "function_lefs", "NA"), 7, "function_lefs"), "whole number"),
    ("pain_missing", "visits", lambda ls: (_set(ls, 8, "pain_nprs", ""), 8, "pain_nprs"),
     "missing"),
    ("lefs_81", "visits", lambda ls: (_set(ls, 9, "function_lefs", "81"), 9, "function_lefs"),
     "out of range"),
    ("grc_6", "visits",
     lambda ls: (_set(ls, _treatment_row(ls), "grc", "6"), _treatment_row(ls), "grc"),
     "out of range"),
    ("grc_at_baseline", "visits",
     lambda ls: (_set(ls, _baseline_row(ls), "grc", "2"), _baseline_row(ls), "grc"),
     "baseline"),
    ("unknown_visit_type", "visits",
     lambda ls: (_set(ls, _treatment_row(ls), "visit_type", "followup"), _treatment_row(ls),
                 "visit_type"), "unknown label"),
    ("visit_before_day_0", "visits",
     lambda ls: (_set(ls, _treatment_row(ls), "visit_day", "-3"), _treatment_row(ls),
                 "visit_day"), "out of range"),
    ("text_in_visit_day", "visits",
     lambda ls: (_set(ls, 2, "visit_day", "day 3"), 2, "visit_day"), "whole number"),
    ("duplicate_episode_visit_day", "visits",
     lambda ls: (ls[:3] + [ls[2]] + ls[3:], 3, "visit_day"), "duplicate"),
    ("baseline_not_day_0", "visits",
     lambda ls: (_set(ls, _treatment_row(ls), "visit_type", "baseline"), _treatment_row(ls),
                 "visit_type"), "day 0"),
    ("malformed_episode_id", "visits",
     lambda ls: (_set(ls, 2, "episode_id", "e12345"), 2, "episode_id"), "episode id"),
    ("missing_episode_id", "visits",
     lambda ls: (_set(ls, 2, "episode_id", ""), 2, "episode_id"), "missing"),
    ("latin1_encoding", "visits",
     lambda ls: ("\n".join(ls[:4]).encode() + b"\n" + ls[4].encode().replace(b",", b"\xe9,", 1)
                 + b"\n" + "\n".join(ls[5:]).encode() + b"\n", 4, None), "UTF-8"),
    ("semicolon_delimiter", "visits",
     lambda ls: ([line.replace(",", ";") for line in ls], 0, None), "delimiter"),
    ("tab_delimiter", "visits",
     lambda ls: ([line.replace(",", "\t") for line in ls], 0, None), "delimiter"),
    ("extra_field_in_row", "visits", lambda ls: (ls[:3] + [ls[3] + ",9"] + ls[4:], 3, None),
     "fields"),
    ("short_row", "visits",
     lambda ls: (ls[:3] + [ls[3].rsplit(",", 1)[0]] + ls[4:], 3, None), "fields"),
    ("blank_line", "visits", lambda ls: (ls[:3] + [""] + ls[3:], 3, None), "blank"),
    ("unknown_therapy", "episodes",
     lambda ls: (_set(ls, 2, "therapy", "chiropractic"), 2, "therapy"), "unknown label"),
    ("misspelt_condition", "episodes",
     lambda ls: (_set(ls, 3, "condition", "piriformis"), 3, "condition"), "unknown label"),
    ("label_wrong_case", "episodes",
     lambda ls: (_set(ls, 3, "sex", "Female"), 3, "sex"), "unknown label"),
    ("boolean_yes", "episodes",
     lambda ls: (_set(ls, 4, "leg_weakness", "yes"), 4, "leg_weakness"), "boolean"),
    ("sessions_zero", "episodes",
     lambda ls: (_set(ls, 5, "sessions_attended", "0"), 5, "sessions_attended"), "range"),
    ("unknown_age_band", "episodes",
     lambda ls: (_set(ls, 6, "age_band", "71+"), 6, "age_band"), "unknown label"),
    ("duplicate_episode", "episodes", lambda ls: (ls + [ls[1]], len(ls), "episode_id"),
     "duplicate"),
    ("missing_therapy", "episodes",
     lambda ls: (_set(ls, 7, "therapy", ""), 7, "therapy"), "missing"),
]


def _write(tmp_path: Path, resource: str, content: Lines | bytes) -> Path:
    path = tmp_path / f"{resource}.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text("\n".join(content) + ("\n" if content else ""), encoding="utf-8")
    return path


def test_at_least_25_kinds():
    assert len(CASES) >= 25
    assert len({c[0] for c in CASES}) == len(CASES)


def test_clean_files_load(clean, tmp_path):
    for resource in ("episodes", "visits"):
        frame = load_table(_write(tmp_path, resource, clean[resource]), resource)
        assert len(frame) == len(clean[resource]) - 1


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_file_names_row_and_column(case, clean, tmp_path):
    _, resource, mutate, fragment = case
    content, row, column = mutate(clean[resource])
    path = _write(tmp_path, resource, content)
    with pytest.raises(DataValidationError) as info:
        load_table(path, resource)
    err = info.value
    assert err.file == str(path)
    match = [p for p in err.problems if p.row == row and p.column == column]
    assert match, [str(p) for p in err.problems]
    text = " ".join(f"{p.message} {p.expected}" for p in match)
    assert fragment.lower() in text.lower(), text
    assert str(path) in str(err)


FILE_LEVEL = {"empty_file", "whitespace_only", "header_only", "missing_column",
              "misspelt_column", "duplicate_column", "extra_column", "latin1_encoding",
              "semicolon_delimiter", "tab_delimiter"}


@pytest.mark.parametrize("case", [c for c in CASES if c[0] not in FILE_LEVEL],
                         ids=lambda c: c[0])
def test_lenient_mode_reports_every_rejected_row(case, clean, tmp_path):
    _, resource, mutate, _ = case
    content, row, column = mutate(clean[resource])
    path = _write(tmp_path, resource, content)
    frame = load_table(path, resource, lenient=True)
    report = frame.attrs["report"]
    assert row in set(report["row"])
    n_rows = len(content) - 1 if isinstance(content, list) else None
    rejected = report["row"].nunique()
    if n_rows is not None and "" not in content:
        assert len(frame) + rejected == n_rows  # nothing silently dropped


def test_whole_file_problems_raise_even_in_lenient_mode(clean, tmp_path):
    path = _write(tmp_path, "visits", _drop_column(clean["visits"], "grc"))
    with pytest.raises(DataValidationError):
        load_table(path, "visits", lenient=True)


def test_error_message_lists_problems_readably(clean, tmp_path):
    lines = _set(_set(clean["visits"], 3, "pain_nprs", "11"), 5, "visit_type", "later")
    path = _write(tmp_path, "visits", lines)
    with pytest.raises(DataValidationError) as info:
        load_table(path, "visits")
    msg = str(info.value)
    assert "row 3" in msg and "'pain_nprs'" in msg and "from 0 to 10" in msg
    assert "row 5" in msg and "'visit_type'" in msg


def test_bom_and_crlf_are_accepted(clean, tmp_path):
    path = tmp_path / "visits.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(clean["visits"]).encode() + b"\r\n")
    assert len(load_table(path, "visits")) == len(clean["visits"]) - 1


def _package(tmp_path: Path, clean: dict[str, Lines]) -> Path:
    for resource in ("episodes", "visits"):
        _write(tmp_path, resource, clean[resource])
    dp = tmp_path / "datapackage.json"
    dp.write_text(json.dumps(schema.datapackage_descriptor()), encoding="utf-8")
    return dp


def test_package_foreign_key(clean, tmp_path):
    bad = dict(clean)
    bad["visits"] = _set(clean["visits"], 2, "episode_id", "EZZZZZZZZZ")
    dp = _package(tmp_path, bad)
    with pytest.raises(DataValidationError) as info:
        load(dp)
    p = info.value.problems[0]
    assert (p.row, p.column) == (2, "episode_id") and "episodes" in p.message
    data = load(dp, lenient=True)
    in_visits = data.report[data.report["file"].str.endswith("visits.csv")]
    assert list(in_visits["row"]) == [2]
    # the episode whose visit was left out is reported by the dictionary rules, not hidden
    in_episodes = data.report[data.report["file"].str.endswith("episodes.csv")]
    assert set(in_episodes["message"]) <= {"episode has 0 baseline visits",
                                            "sessions attended do not match the visits"}
    assert len(data.visits) == len(clean["visits"]) - 2


def test_package_collects_problems_of_both_tables(clean, tmp_path):
    bad = {"episodes": _set(clean["episodes"], 2, "sex", "x"),
           "visits": _set(clean["visits"], 3, "pain_nprs", "12")}
    dp = _package(tmp_path, bad)
    with pytest.raises(DataValidationError) as info:
        load(tmp_path)
    files = {Path(p.file).name for p in info.value.problems}
    assert files == {"episodes.csv", "visits.csv"}
    assert dp.exists()


def test_declared_delimiter_is_used(clean, tmp_path):
    desc = schema.datapackage_descriptor()
    for res in desc["resources"]:
        res["dialect"]["delimiter"] = ";"
    for resource in ("episodes", "visits"):
        _write(tmp_path, resource, [line.replace(",", ";") for line in clean[resource]])
    (tmp_path / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    data = load(tmp_path)
    assert len(data.visits) == len(clean["visits"]) - 1


def test_parquet_round_trip_and_wrong_types(tmp_path):
    data = cohort.generate(40, 2)
    path = tmp_path / "visits.parquet"
    write_table(data.visits, path)
    pd.testing.assert_frame_equal(load_table(path, "visits"), data.visits)
    bad = data.visits.astype({"pain_nprs": "float64"})
    bad.loc[4, "pain_nprs"] = 2.5
    bad.loc[6, "pain_nprs"] = 12
    bad.to_parquet(path)
    with pytest.raises(DataValidationError) as info:
        load_table(path, "visits")
    rows = {(p.row, p.column) for p in info.value.problems}
    assert rows == {(5, "pain_nprs"), (7, "pain_nprs")}
    text = data.visits.astype({"visit_day": str})
    text.loc[0, "visit_day"] = "zero"
    text.to_parquet(path)
    with pytest.raises(DataValidationError) as info:
        load_table(path, "visits")
    assert (info.value.problems[0].row, info.value.problems[0].column) == (1, "visit_day")


def test_missing_file_and_bad_resource(tmp_path):
    with pytest.raises(DataValidationError):
        load_table(tmp_path / "nope.csv", "visits")
    with pytest.raises(ValueError):
        load_table(tmp_path / "nope.csv", "patients")


def test_suspicious_bytes_found_across_chunk_borders():
    from gluteutils.outcomes.arrow_reader import needs_cell_reader

    clean = b"a,b\n" + b"E1,2\n" * 50
    assert not needs_cell_reader(clean, ",", chunk=7)
    for bad in (b"E1,2\n\nE1,2\n", b"E1,2\n\r\nE1,2\n", b"E1, 2\n", b"E1,0x2\n", b"E1,0X2\n",
                b"E1\t2\n"):
        for cut in range(1, 12):
            data = b"a,b\n" + b"E1,2\n" * cut + bad + b"E1,2\n" * 3
            assert needs_cell_reader(data, ",", chunk=7), (bad, cut)
    assert not needs_cell_reader(b"a,b\nE0X,2\n", ",", chunk=5)  # 0X inside an id is fine


def _visit_lines_with(clean, row: int, col: str, value: str) -> Lines:
    return _set(clean["visits"], row, col, value)


def test_package_dictionary_rules(clean, tmp_path):
    # a review turned into a second baseline: baseline must be day 0 and one per episode
    header = clean["visits"][0].split(",")
    body = [line.split(",") for line in clean["visits"][1:]]
    it, ie, id_ = header.index("visit_type"), header.index("episode_id"), header.index(
        "visit_day")
    first = body[0][ie]
    rows = [i + 1 for i, r in enumerate(body) if r[ie] == first]
    bad = dict(clean)
    # duplicate the episode's last visit as a second review on another day
    last = list(body[rows[-1] - 1])
    last[it], last[id_] = "review", str(int(last[id_]) + 1 if last[id_] else 99)
    extra = body[: rows[-1]] + [last] + body[rows[-1]:]
    bad["visits"] = [clean["visits"][0]] + [",".join(r) for r in extra]
    dp = _package(tmp_path, bad)
    with pytest.raises(DataValidationError) as info:
        load(dp)
    msgs = {p.message for p in info.value.problems}
    assert msgs & {"a second review visit in one episode", "review visit outside its window",
                   "sessions attended do not match the visits"}, msgs


def test_strict_loader_encodings_and_line_ends(clean, tmp_path):
    text = "\n".join(clean["visits"]) + "\n"
    n = len(clean["visits"]) - 1
    for kind, content in (("utf16_bom", text.encode("utf-16")),
                          ("cr_only", text.replace("\n", "\r").encode())):
        path = tmp_path / f"{kind}_visits.csv"
        path.write_bytes(content)
        assert len(load_table(path, "visits")) == n, kind
    for kind, content, fragment in (
            ("utf16_no_bom", text.encode("utf-16-le"), "UTF-16 without"),
            ("xlsx", b"PK\x03\x04" + b"\x00" * 26 + b"[Content_Types].xml xl/", "an .xlsx"),
            ("xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "an .xls")):
        path = tmp_path / f"{kind}_visits.csv"
        path.write_bytes(content)
        with pytest.raises(DataValidationError) as info:
            load_table(path, "visits")
        assert fragment in str(info.value), kind
