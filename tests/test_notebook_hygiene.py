"""Every committed notebook follows the hygiene rules; broken copies prove each rule bites."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.notebook_rules import hygiene_problems

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_collection_has_start_here() -> None:
    assert (ROOT / "notebooks" / "00_start_here.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_hygiene(path: Path) -> None:
    assert hygiene_problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_numbered(path: Path) -> None:
    assert path.name[:2].isdigit() and path.name[2] == "_"


def _good() -> dict:
    return json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text())


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _break_counts(nb: dict) -> None:
    _code_cells(nb)[0]["execution_count"] = 7


def _break_error(nb: dict) -> None:
    _code_cells(nb)[0]["outputs"].append(
        {"output_type": "error", "ename": "ValueError", "evalue": "x", "traceback": []})


def _break_kernel(nb: dict) -> None:
    nb["metadata"]["kernelspec"]["name"] = "python-venv"


def _break_outputs(nb: dict) -> None:
    for cell in _code_cells(nb):
        cell["outputs"] = []


def _break_path(nb: dict) -> None:
    _code_cells(nb)[0]["outputs"].append(
        {"output_type": "stream", "name": "stdout", "text": ["/home/someone/project/x.csv\n"]})


def _break_intro(nb: dict) -> None:
    nb["cells"][0]["source"] = "# A notebook\n\nSome text."


def _break_size(nb: dict) -> None:
    _code_cells(nb)[0]["outputs"].append(
        {"output_type": "stream", "name": "stdout", "text": ["x" * 1_100_000]})


def _break_unexecuted(nb: dict) -> None:
    _code_cells(nb)[-1]["execution_count"] = None


BREAKERS = {
    "execution counts": _break_counts,
    "error output": _break_error,
    "kernelspec": _break_kernel,
    "no code cell has outputs": _break_outputs,
    "absolute machine path": _break_path,
    "does not say who it is for": _break_intro,
    "exceeds": _break_size,
    "expected 1..": _break_unexecuted,
}


@pytest.mark.parametrize("expected", sorted(BREAKERS))
def test_each_rule_fails_on_a_broken_copy(tmp_path: Path, expected: str) -> None:
    nb = copy.deepcopy(_good())
    BREAKERS[expected](nb)
    broken = tmp_path / "broken.ipynb"
    broken.write_text(json.dumps(nb))
    problems = hygiene_problems(broken)
    assert any(expected in p for p in problems), problems


def test_good_copy_passes(tmp_path: Path) -> None:
    copy_path = tmp_path / "00_start_here.ipynb"
    copy_path.write_text(json.dumps(_good()))
    assert hygiene_problems(copy_path) == []
