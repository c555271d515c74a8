"""The synthetic cohort's calibration is data (data/outcomes/calibration.csv), checked on read."""

from __future__ import annotations

from pathlib import Path

import pytest

from gluteutils.errors import DataValidationError
from gluteutils.synthetic import calibration as cal
from gluteutils.synthetic.calibration import read_calibration


def _write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "calibration.csv"
    path.write_text("\n".join([",".join(cal.COLUMNS), *rows]) + "\n", encoding="utf-8")
    return path


def test_shipped_calibration_reads_and_every_row_has_a_source() -> None:
    params = read_calibration()
    assert len(params) > 100
    assert all(p.source for p in params)
    sourced = [p for p in params if p.source != cal.ASSUMPTION]
    assert len(sourced) >= 20  # published figures, not only assumptions
    assert sum(p.value for p in params if p.name == "share") == pytest.approx(1.0)
    for condition, answers in cal.symptom_probabilities().items():
        assert set(answers) <= {"leg_pain_below_knee", "numbness_tingling", "leg_weakness",
                                "sitting_intolerance", "new_exercise_72h",
                                "pain_lying_on_side"}, condition


def test_bad_value_names_file_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, ["share,doms,*,0.15,fraction,assumption,",
                             "female,doms,*,about half,probability,assumption,"])
    with pytest.raises(DataValidationError) as err:
        read_calibration(path)
    problem = err.value.problems[0]
    assert (problem.file, problem.row, problem.column) == (str(path), 2, "value")
    assert "about half" in str(err.value)


@pytest.mark.parametrize(("row", "column"), [
    ("share,doms,*,0.15,fraction,,", "source"),
    ("share,lumbago,*,0.15,fraction,assumption,", "condition"),
    ("share,doms,*,inf,fraction,assumption,", "value"),
])
def test_missing_source_unknown_condition_and_inf_are_named(tmp_path: Path, row: str,
                                                            column: str) -> None:
    with pytest.raises(DataValidationError) as err:
        read_calibration(_write(tmp_path, [row]))
    assert err.value.problems[0].column == column


def test_duplicate_parameter_and_wrong_header_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="once"):
        read_calibration(_write(tmp_path, ["share,doms,*,0.1,f,assumption,",
                                           "share,doms,*,0.2,f,assumption,"]))
    bad = tmp_path / "header.csv"
    bad.write_text("parameter,value\nshare,0.1\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="header"):
        read_calibration(bad)
