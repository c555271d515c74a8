"""The strict loader's quick path for a file with a few bad cells (issue 14): the suspect
rows are found in Arrow and only they are checked cell by cell. Its problems must be exactly
the ones the full check reports (the lenient report, which always checks every row)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gluteutils import cohort
from gluteutils.errors import DataValidationError
from gluteutils.outcomes import load_table
from gluteutils.outcomes.arrow_reader import fast_table, suspect_rows
from gluteutils.outcomes.io import write_table


@pytest.fixture(scope="module")
def visits_lines(tmp_path_factory) -> list[str]:
    path = tmp_path_factory.mktemp("clean") / "visits.csv"
    write_table(cohort.generate(400, 11).visits, path)
    return path.read_text(encoding="utf-8").splitlines()


def _edit(lines: list[str], edits: dict[tuple[int, str], str]) -> list[str]:
    header = lines[0].split(",")
    out = list(lines)
    for (row, column), value in edits.items():
        cells = out[row].split(",")
        cells[header.index(column)] = value
        out[row] = ",".join(cells)
    return out


def _strict_and_full(lines: list[str], tmp_path: Path) -> tuple[list, list]:
    path = tmp_path / "visits.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_table(path, "visits")
    strict = [(p.row, p.column, p.message, p.value) for p in err.value.problems]
    report = load_table(path, "visits", lenient=True).attrs["report"]
    full = [(int(r.row), r.column, r.message, None if r.value is None else str(r.value))
            for r in report.itertuples(index=False)]
    return strict, full


CASES = {
    "pain out of range": {(700, "pain_nprs"): "11"},
    "unknown visit type": {(20, "visit_type"): "follow-up"},
    "malformed id": {(5, "episode_id"): "E123"},
    "required value missing": {(300, "visit_day"): ""},
    "grc at baseline and a range error": {(1, "grc"): "3", (900, "function_lefs"): "81"},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_quick_path_reports_what_the_full_check_reports(visits_lines, tmp_path,
                                                           case) -> None:
    strict, full = _strict_and_full(_edit(visits_lines, CASES[case]), tmp_path)
    assert strict and strict == full


def test_suspects_are_the_edited_rows_and_a_repeated_key_checks_every_row(visits_lines) -> None:
    header = ",".join(visits_lines[:1])
    bad = _edit(visits_lines, {(700, "pain_nprs"): "11", (20, "visit_type"): "follow-up"})
    table = fast_table(("\n".join(bad) + "\n").encode(), "visits", ",")
    assert table is not None
    assert suspect_rows(table, "visits").tolist() == [19, 699]  # 0-based data rows
    repeated = [header, *visits_lines[1:], visits_lines[50]]
    table = fast_table(("\n".join(repeated) + "\n").encode(), "visits", ",")
    assert table is not None and suspect_rows(table, "visits") is None
    assert np.asarray(suspect_rows(fast_table(("\n".join(visits_lines) + "\n").encode(),
                                              "visits", ","), "visits")).size == 0


def test_a_repeated_key_is_still_reported(visits_lines, tmp_path) -> None:
    lines = _edit(visits_lines, {(700, "pain_nprs"): "11"}) + [visits_lines[50]]
    strict, full = _strict_and_full(lines, tmp_path)
    assert strict == full
    assert any(m.startswith("duplicate") for _, _, m, _ in strict)
