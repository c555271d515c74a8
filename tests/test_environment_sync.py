"""environment.yml, requirements/lock.txt and pyproject.toml agree; a broken copy fails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.envsync import lock_versions, sync_problems

ROOT = Path(__file__).resolve().parents[1]


def test_files_agree() -> None:
    assert sync_problems(ROOT) == []


def test_lock_pins_everything_exactly() -> None:
    pins = lock_versions(ROOT / "requirements" / "lock.txt")
    assert len(pins) > 50
    assert all(v and v[0].isdigit() for v in pins.values())


@pytest.fixture()
def copy_root(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", "environment.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "requirements").mkdir()
    shutil.copy(ROOT / "requirements" / "lock.txt", tmp_path / "requirements" / "lock.txt")
    return tmp_path


def test_version_drift_is_caught(copy_root: Path) -> None:
    env = copy_root / "environment.yml"
    text = env.read_text()
    pandas_line = next(line for line in text.splitlines() if "pandas==" in line and "stubs" not in line)
    env.write_text(text.replace(pandas_line, pandas_line.split("==")[0] + "==0.0.1"))
    problems = sync_problems(copy_root)
    assert any(p.startswith("pandas:") and "0.0.1" in p for p in problems), problems


def test_missing_dependency_is_caught(copy_root: Path) -> None:
    env = copy_root / "environment.yml"
    env.write_text("\n".join(line for line in env.read_text().splitlines()
                             if "statsmodels" not in line) + "\n")
    assert any(p.startswith("statsmodels:") for p in sync_problems(copy_root))


def test_extra_dependency_is_caught(copy_root: Path) -> None:
    env = copy_root / "environment.yml"
    env.write_text(env.read_text().replace("  - pip:\n", "  - seaborn==0.13.2\n  - pip:\n"))
    assert any(p.startswith("seaborn:") for p in sync_problems(copy_root))


def test_package_install_line_required(copy_root: Path) -> None:
    env = copy_root / "environment.yml"
    env.write_text(env.read_text().replace("      - -e .\n", ""))
    assert any("-e ." in p for p in sync_problems(copy_root))
