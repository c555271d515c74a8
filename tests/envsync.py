"""Compare pyproject.toml, requirements/lock.txt and environment.yml (used by tests and tasks).

Rules: every direct dependency (pyproject ``dependencies`` plus the ``test`` extra) is pinned
with ``==`` in the lock file; environment.yml lists exactly those direct dependencies (as
conda packages or in its ``pip:`` section) at the lock file's versions, plus python and pip,
and installs the package itself with ``-e .`` through pip.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

#: conda-forge spells a few packages differently from PyPI.
CONDA_NAMES = {"jupyter_server": "jupyter_server", "pyyaml": "pyyaml"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_dependencies(pyproject: Path) -> set[str]:
    data = tomllib.loads(pyproject.read_text())
    project = data["project"]
    names = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    return {normalise(re.split(r"[<>=!~;\[ ]", n, maxsplit=1)[0]) for n in names}


def lock_versions(lock: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if "==" not in line:
            raise ValueError(f"{lock.name}: {line!r} is not pinned with ==")
        name, version = line.split("==", 1)
        pins[normalise(name)] = version.strip()
    return pins


def environment_versions(env_file: Path) -> tuple[dict[str, str], list[str]]:
    """Return ({package: version}, [other pip lines]) from environment.yml."""
    env = yaml.safe_load(env_file.read_text())
    pins: dict[str, str] = {}
    other: list[str] = []
    for dep in env.get("dependencies", []):
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*==?\s*([^\s]+)\s*", str(item))
            if match:
                pins[normalise(match.group(1))] = match.group(2)
            else:
                other.append(str(item))
    return pins, other


def sync_problems(root: Path) -> list[str]:
    """Return every disagreement between the three files (empty when they agree)."""
    problems: list[str] = []
    direct = direct_dependencies(root / "pyproject.toml")
    lock = lock_versions(root / "requirements" / "lock.txt")
    env, other = environment_versions(root / "environment.yml")
    for name in sorted(direct):
        if name not in lock:
            problems.append(f"{name}: a direct dependency missing from requirements/lock.txt")
        elif name not in env:
            problems.append(f"{name}: in pyproject.toml but not in environment.yml")
        elif env[name] != lock[name]:
            problems.append(f"{name}: environment.yml has {env[name]}, lock.txt has {lock[name]}")
    for name in sorted(set(env) - direct - {"python", "pip"}):
        problems.append(f"{name}: in environment.yml but not a dependency in pyproject.toml")
    if "-e ." not in [o.strip() for o in other]:
        problems.append("environment.yml does not install the package with `-e .` in its pip section")
    return problems
