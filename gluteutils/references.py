"""The collection's reference list.

Every fact or number shown to a user carries a source key (e.g. ``"delp1999"``) that must
resolve here. References live in ``data/references/*.yaml`` (one file per part of the
collection), each entry with ``key``, ``authors``, ``year``, ``title``, ``journal`` (or
``publisher``), and optionally ``volume``, ``pages``, ``doi``, ``url`` and ``note``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from gluteutils._paths import data_path
from gluteutils.errors import ContentError, UnknownReferenceError

REQUIRED_FIELDS: tuple[str, ...] = ("key", "authors", "year", "title")
COLUMNS: tuple[str, ...] = (
    "key", "authors", "year", "title", "journal", "volume", "pages", "doi", "url", "note",
    "file",
)


def _read_file(path: Path) -> list[dict[str, Any]]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(entries, list):
        raise ContentError(path, "a reference file must hold a list of entries")
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ContentError(path, f"entry {i} is not a mapping")
        missing = [f for f in REQUIRED_FIELDS if not entry.get(f)]
        if missing:
            raise ContentError(path, f"entry {i} ({entry.get('key')!r}) lacks {missing}")
        if not (entry.get("journal") or entry.get("publisher")):
            raise ContentError(path, f"entry {entry['key']!r} needs a journal or publisher")
        entry["file"] = path.name
    return entries


@lru_cache(maxsize=1)
def _load_all(folder: str) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        for entry in _read_file(path):
            key = str(entry["key"])
            if key in seen:
                raise ContentError(path, f"reference key {key!r} already defined in {seen[key]}")
            seen[key] = path.name
            rows.append({c: entry.get(c, entry.get("publisher") if c == "journal" else None)
                         for c in COLUMNS})
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.set_index("key", drop=False)


def reference_table() -> pd.DataFrame:
    """Return every reference as a DataFrame indexed by key."""
    return _load_all(str(data_path("references"))).copy()


def resolve(key: str) -> dict[str, Any]:
    """Return the reference entry for ``key`` or raise :class:`UnknownReferenceError`."""
    table = _load_all(str(data_path("references")))
    if key not in table.index:
        raise UnknownReferenceError(f"source key {key!r} is not in data/references/*.yaml")
    row: dict[str, Any] = {str(k): v for k, v in table.loc[key].to_dict().items()}
    return {k: v for k, v in row.items() if v is not None and v == v}


def cite(key: str) -> str:
    """Return a short citation, e.g. ``"Delp SL et al. 1999, J Biomech"``."""
    ref = resolve(key)
    authors = str(ref["authors"])
    first = authors.split(",")[0].strip()
    short = f"{first} et al." if "," in authors else first
    return f"{short} {ref['year']}, {ref.get('journal', '')}".rstrip(", ")


def format_reference(key: str) -> str:
    """Return the full reference as one line of text."""
    ref = resolve(key)
    parts = [f"{ref['authors']} ({ref['year']}). {ref['title']}."]
    if ref.get("journal"):
        journal = str(ref["journal"])
        if ref.get("volume"):
            journal += f" {ref['volume']}"
        if ref.get("pages"):
            journal += f":{ref['pages']}"
        parts.append(journal + ".")
    if ref.get("doi"):
        parts.append(f"doi:{ref['doi']}")
    return " ".join(parts)


def reference_list_markdown(keys: Iterable[str]) -> str:
    """Return a numbered Markdown reference list for the given keys (in first-use order)."""
    ordered = list(dict.fromkeys(keys))
    lines = [f"{i}. **[{k}]** {format_reference(k)}" for i, k in enumerate(ordered, start=1)]
    return "\n".join(lines)


def check_keys(keys: Iterable[str]) -> list[str]:
    """Return the keys among ``keys`` that do not resolve (empty list when all do)."""
    table = _load_all(str(data_path("references")))
    return sorted({k for k in keys if k not in table.index})
