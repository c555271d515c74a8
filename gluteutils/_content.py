"""Reading the collection's content files (YAML validated by JSON Schema), shared by parts.

Used by :mod:`gluteutils.anatomy` (muscle cards) and :mod:`gluteutils.triage` (questionnaire
content), so both report unreadable files and schema problems the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gluteutils.errors import ContentError


def read_yaml(path: Path) -> Any:
    """Parse a YAML content file; raise :class:`ContentError` naming it when that fails."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ContentError(path, "file is missing") from exc
    except OSError as exc:
        raise ContentError(path, f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ContentError(path, f"is not valid YAML: {exc}") from exc


def check_schema(doc: Any, schema: dict[str, Any], file: str | Path) -> None:
    """Validate ``doc`` against a JSON Schema (draft 2020-12); raise on the first problem."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ContentError(file, f"schema problem at {where}: {err.message}{more}")
