"""``gluteutils triage answers.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gluteutils.cli import main


def _write(tmp_path: Path, answers: object) -> str:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers), encoding="utf-8")
    return str(path)


def test_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["triage", _write(tmp_path, {"location": "side_of_hip", "age": 55,
                                             "pain_lying_on_side": True})])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("Routine") and "Gluteal tendinopathy" in out


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["triage", _write(tmp_path, {"rf_bladder_bowel": True}), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["level"] == "emergency"
    assert data["fired_rules"][0]["id"] == "ces_bladder_bowel"


def test_markdown_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["triage", _write(tmp_path, {}), "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("# Buttock pain questionnaire")


@pytest.mark.parametrize(("content", "message"), [
    ({"nprs": 12}, "question 'nprs'"), ([1, 2], "JSON object"), ("{", "not valid JSON")])
def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, content: object, message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "answers.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content),
                    encoding="utf-8")
    assert main(["triage", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["triage", str(tmp_path / "nope.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_text_output_lists_unanswered_warning_questions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = {"onset": "day_after_exercise", "new_exercise_72h": True,
               "duration": "under_3_days", "location": "whole_muscle",
               "tender_on_pressing": True, "nprs": 4}
    assert main(["triage", _write(tmp_path, answers)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Routine")
    assert "Warning questions not answered" in out and "trouble passing urine" in out
    assert "rf_bladder_bowel" not in out  # words, not ids, for a person
    assert "No warning signs" not in out
