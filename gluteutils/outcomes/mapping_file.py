"""Reading a column-mapping file (YAML) into a checked :class:`Mapping` (format: :mod:`gluteutils.outcomes.mapping`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gluteutils.errors import (
    ContentError,
)
from gluteutils.outcomes import instruments as INS
from gluteutils.outcomes import schema as S
from gluteutils.outcomes.instruments import Instrument

#: Encodings a mapping may declare (``source: {encoding: ...}``).
ENCODINGS: tuple[str, ...] = ("utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252")


EPISODE_LEVEL: tuple[str, ...] = tuple(c for c in S.EPISODE_COLUMNS if c != "episode_id")


VISIT_LEVEL: tuple[str, ...] = tuple(c for c in S.VISIT_COLUMNS if c != "episode_id")


_RULE_KEYS = {"column", "values", "multiply", "add", "round", "date_format", "age", "under_18",
              "date_of_birth", "visit_date", "derive", "note", "missing", "labels",
              "reference"}


#: Columns that may keep the export's own labels (``labels: own``).
OWN_LABEL_COLUMNS: tuple[str, ...] = ("condition", "therapy")


#: Visit columns read as numbers (outcome columns are checked against their instrument).
NUMERIC_VISIT: tuple[str, ...] = ("visit_day", "pain_nprs", "function_lefs", "grc")


#: Oldest plausible age (years) from a date of birth (data dictionary).
MAX_AGE: int = 110


@dataclass
class Mapping:
    """A parsed mapping file (see the module docstring for the format)."""

    name: str
    episode: list[str]
    columns: dict[str, dict[str, Any]]
    constants: dict[str, Any] = field(default_factory=dict)
    layout: str = "long"
    wide: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    quasi_identifiers: list[str] = field(default_factory=lambda: ["age_band", "sex", "site"])
    delimiter: str = ","
    encoding: str = "utf-8"
    file: str = "<mapping>"
    instruments: dict[str, Instrument] = field(default_factory=INS.default_instruments)
    review_window: tuple[int, int] | None = None

    def wide_columns(self) -> set[str]:
        """Schema columns given per visit by the ``wide`` list."""
        return {k for entry in self.wide for k in entry}

    def source_columns(self) -> set[str]:
        """Every export column a rule reads."""
        cols = set(self.episode)
        for col, rule in self.columns.items():
            if col in self.wide_columns():
                continue  # the wide list names the source columns
            for key in ("column", "visit_date"):
                if key in rule:
                    cols.add(str(rule[key]))
        for entry in self.wide:
            cols.update(str(v) for k, v in entry.items() if k not in ("visit_day", "visit_type"))
        return cols


def read_mapping(source: str | Path | dict[str, Any]) -> Mapping:
    """Read and check a mapping (a YAML/JSON file path or an already-parsed dict)."""
    if isinstance(source, dict):
        spec, file = source, "<mapping>"
    else:
        file = str(source)
        try:
            spec = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ContentError(file, f"cannot read the mapping: {exc}") from None
    if not isinstance(spec, dict):
        raise ContentError(file, "a mapping file must hold a mapping (key: value)")
    for key in ("name", "episode"):
        if key not in spec:
            raise ContentError(file, f"the mapping needs '{key}'")
    columns = spec.get("columns") or {}
    constants = spec.get("constants") or {}
    _check_rules(columns, constants, file)
    layout = spec.get("layout", "long")
    if layout not in ("long", "wide"):
        raise ContentError(file, "layout must be 'long' or 'wide'")
    if layout == "wide" and not spec.get("wide"):
        raise ContentError(file, "a wide layout needs a 'wide' list of visits")
    source = spec.get("source") or {}
    enc = str(source.get("encoding", "utf-8")).lower().replace("_", "-")
    if enc not in ENCODINGS + ("utf8", "latin1", "iso-8859-1", "windows-1252"):
        raise ContentError(file, f"encoding problem: source encoding {enc!r} is not "
                                 f"supported; expected one of {list(ENCODINGS)}")
    episode = spec["episode"]
    return Mapping(
        name=str(spec["name"]),
        episode=[episode] if isinstance(episode, str) else list(episode),
        columns={k: dict(v) for k, v in columns.items()},
        constants=dict(constants),
        layout=layout,
        wide=list(spec.get("wide") or []),
        identifiers=list(spec.get("identifiers") or []),
        quasi_identifiers=list(spec.get("quasi_identifiers") or ["age_band", "sex", "site"]),
        delimiter=str(source.get("delimiter", ",")),
        encoding=str(source.get("encoding", "utf-8")),
        file=file,
        instruments=_declared_instruments(spec.get("instruments") or {}, file),
        review_window=_review_window(spec.get("review_window"), file),
    )


def _check_rules(columns: dict[str, Any], constants: dict[str, Any], file: str) -> None:
    """Every mapped column is a schema column with a well-formed rule; a therapy with its
    own labels names its comparison group."""
    known = set(S.EPISODE_COLUMNS) | set(S.VISIT_COLUMNS)
    for col in [*columns, *constants]:
        if col not in known or col == "episode_id":
            raise ContentError(file, f"'{col}' is not a schema column (episode_id is always "
                                     f"random); expected one of {sorted(known - {'episode_id'})}")
    for col, rule in columns.items():
        if not isinstance(rule, dict):
            raise ContentError(file, f"rule for '{col}' must be a mapping")
        unknown = set(rule) - _RULE_KEYS
        if unknown:
            raise ContentError(file, f"rule for '{col}' has unknown keys {sorted(unknown)}")
        if "column" not in rule and "derive" not in rule:
            raise ContentError(file, f"rule for '{col}' needs 'column' or 'derive'")
        if "labels" in rule and (rule["labels"] != "own" or col not in OWN_LABEL_COLUMNS):
            raise ContentError(file, f"rule for '{col}': 'labels: own' is allowed for "
                                     f"{list(OWN_LABEL_COLUMNS)} only")
        if "reference" in rule and col != "therapy":
            raise ContentError(file, f"rule for '{col}': only therapy has a reference group")
    therapy_rule = columns.get("therapy", {})
    if therapy_rule.get("labels") == "own" and "reference" not in therapy_rule:
        raise ContentError(file, "therapy with 'labels: own' needs 'reference:' (the export's "
                                 "label of the comparison group, e.g. Placebo)")
    if ("reference" in therapy_rule and therapy_rule.get("labels") != "own"
            and therapy_rule["reference"] not in S.THERAPIES):
        raise ContentError(file, f"therapy reference {therapy_rule['reference']!r} is not one "
                                 f"of {list(S.THERAPIES)} (or declare labels: own)")


def _declared_instruments(declared: Any, file: str) -> dict[str, INS.Instrument]:
    """The default instrument of each outcome column, replaced where the mapping declares
    its own (``instruments: {pain_nprs: vas_0_1}``)."""
    if not isinstance(declared, dict):
        raise ContentError(file, "'instruments' must map outcome columns to instrument keys")
    instruments = INS.default_instruments()
    for col, key in declared.items():
        if col not in INS.OUTCOME_COLUMNS:
            raise ContentError(file, f"instruments: '{col}' is not an outcome column; expected "
                                     f"one of {list(INS.OUTCOME_COLUMNS)}")
        try:
            instruments[col] = INS.get_instrument(str(key))
        except KeyError as exc:
            raise ContentError(file, f"instruments: {exc.args[0]}") from None
    return instruments


def _review_window(value: Any, file: str) -> tuple[int, int] | None:
    """``review_window: [lo, hi]`` (days since the first visit, inclusive): the trial's own
    outcome visit, instead of the schema's per-condition window."""
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) for v in value) or value[0] > value[1]):
        raise ContentError(file, "review_window must be [first day, last day], whole days")
    return int(value[0]), int(value[1])
