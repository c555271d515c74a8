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


#: Top-level keys of a mapping file (anything else is a typo, never ignored).
TOP_KEYS: frozenset[str] = frozenset(
    {"name", "layout", "source", "episode", "instruments", "identifiers", "constants",
     "columns", "review_window", "wide", "quasi_identifiers", "note", "notes", "description"})


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (YAML would keep the
    last silently)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is written twice (lines {seen[key]} and "
                    f"{line}); YAML would keep only the last", key_node.start_mark)
            if isinstance(key, (str, int, float, bool)):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _source(value: Any, file: str) -> dict[str, Any]:
    """The mapping's ``source`` block: one-character delimiter, a supported encoding."""
    source = value or {}
    if not isinstance(source, dict):
        raise ContentError(file, "'source' must be a mapping like {delimiter: \",\", "
                                 "encoding: utf-8}")
    extra = sorted(str(k) for k in source if k not in ("delimiter", "encoding"))
    if extra:
        raise ContentError(file, f"unknown key(s) {extra} in 'source'; expected delimiter, "
                                 "encoding")
    delimiter = source.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
        raise ContentError(file, f"source delimiter must be one character such as ',' ';' "
                                 f"or a tab (found {delimiter!r})")
    enc = str(source.get("encoding", "utf-8")).lower().replace("_", "-")
    if enc not in ENCODINGS + ("utf8", "latin1", "iso-8859-1", "windows-1252"):
        raise ContentError(file, f"encoding problem: source encoding {enc!r} is not "
                                 f"supported; expected one of {list(ENCODINGS)}")
    return source


def read_mapping(source: str | Path | dict[str, Any]) -> Mapping:
    """Read and check a mapping (a YAML/JSON file path or an already-parsed dict)."""
    if isinstance(source, dict):
        spec, file = source, "<mapping>"
    else:
        file = str(source)
        try:
            spec = yaml.load(Path(source).read_text(encoding="utf-8"),  # noqa: S506
                             Loader=_UniqueKeyLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ContentError(file, f"cannot read the mapping: {exc}") from None
    if not isinstance(spec, dict):
        raise ContentError(file, "a mapping file must hold a mapping (key: value)")
    for key in ("name", "episode"):
        if key not in spec:
            raise ContentError(file, f"the mapping needs '{key}'")
    unknown = sorted(str(k) for k in spec if k not in TOP_KEYS)
    if unknown:
        raise ContentError(file, f"unknown key(s) {unknown} in the mapping; expected some of "
                                 f"{sorted(TOP_KEYS)}")
    columns = spec.get("columns") or {}
    constants = spec.get("constants") or {}
    for key, value in (("columns", columns), ("constants", constants)):
        if not isinstance(value, dict):
            raise ContentError(file, f"'{key}' must map schema columns to "
                                     f"{'rules' if key == 'columns' else 'values'} "
                                     f"(found a {type(value).__name__})")
    _check_rules(columns, constants, file)
    layout = spec.get("layout", "long")
    if layout not in ("long", "wide"):
        raise ContentError(file, "layout must be 'long' or 'wide'")
    if layout == "wide" and not spec.get("wide"):
        raise ContentError(file, "a wide layout needs a 'wide' list of visits")
    wide = spec.get("wide") or []
    if not isinstance(wide, list) or not all(isinstance(e, dict) and e for e in wide):
        raise ContentError(file, "'wide' must be a list of visits, each a mapping like "
                                 "{visit_day: 0, visit_type: baseline, pain_nprs: R1}")
    source = _source(spec.get("source"), file)
    delimiter = source.get("delimiter", ",")
    return Mapping(
        name=str(spec["name"]),
        episode=_names(spec["episode"], "episode", file, required=True),
        columns={k: dict(v) for k, v in columns.items()},
        constants=dict(constants),
        layout=layout,
        wide=list(wide),
        identifiers=_names(spec.get("identifiers"), "identifiers", file),
        quasi_identifiers=_names(spec.get("quasi_identifiers"), "quasi_identifiers", file)
        or ["age_band", "sex", "site"],
        delimiter=delimiter,
        encoding=str(source.get("encoding", "utf-8")),
        file=file,
        instruments=_declared_instruments(spec.get("instruments") or {}, file),
        review_window=_review_window(spec.get("review_window"), file),
    )


def _names(value: Any, key: str, file: str, *, required: bool = False) -> list[str]:
    """A list of column names (one name alone is a list of one, never its letters)."""
    if value is None or value == []:
        if required:
            raise ContentError(file, f"'{key}' must name at least one export column")
        return []
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                       and str(v).strip() for v in value):
        return [str(v) for v in value]
    raise ContentError(file, f"'{key}' must be a list of column names (found {value!r})")


def _check_rule_values(col: str, rule: dict[str, Any], file: str) -> None:
    """The types of a rule's keys (a wrong type is named, never a crash or ignored)."""
    def bad(key: str, expected: str) -> ContentError:
        return ContentError(file, f"rule for '{col}': '{key}' must be {expected} "
                                  f"(found {rule[key]!r})")

    if "column" in rule and (not isinstance(rule["column"], (str, int))
                             or isinstance(rule["column"], bool)
                             or not str(rule["column"]).strip()):
        raise bad("column", "an export column name")
    if "values" in rule:
        table = rule["values"]
        if not isinstance(table, dict) or not table:
            raise bad("values", "a table of export label: schema label")
        for k, v in table.items():
            if isinstance(k, bool):
                raise ContentError(file, f"rule for '{col}': the label {k!r} in 'values' was "
                                         "read by YAML as true/false (yes/no/on/off): quote "
                                         "it, e.g. \"yes\": ...")
            if k is None or isinstance(k, (dict, list)):
                raise ContentError(file, f"rule for '{col}': 'values' has the label {k!r}; "
                                         "quote each export label")
            if (isinstance(v, bool) or not isinstance(v, (str, int, float))
                    or (isinstance(v, str) and not v.strip())):
                raise ContentError(file, f"rule for '{col}': the export label {k!r} maps to "
                                         f"{v!r}; expected a schema label (or a number)")
    for key in ("multiply", "add"):
        if key in rule and (isinstance(rule[key], bool)
                            or not isinstance(rule[key], (int, float))
                            or rule[key] != rule[key] or abs(rule[key]) == float("inf")):
            raise bad(key, "a finite number")
    if "round" in rule and rule["round"] != "half_up":
        raise bad("round", "'half_up'")
    for key in ("date_format", "visit_date"):
        if key in rule and (not isinstance(rule[key], str) or not rule[key].strip()):
            raise bad(key, "text" + (" with % codes, e.g. \"%d/%m/%Y\"" if key ==
                                     "date_format" else " (an export column name)"))
    if "date_format" in rule and "%" not in rule["date_format"]:
        raise bad("date_format", "text with % codes, e.g. \"%d/%m/%Y\"")
    if rule.get("date_of_birth") and "visit_date" not in rule:
        raise ContentError(file, f"rule for '{col}': date_of_birth needs 'visit_date' (the "
                                 "export column of the visit dates)")
    if rule.get("date_of_birth") and rule.get("age"):
        raise ContentError(file, f"rule for '{col}': declare 'age: true' (years) or "
                                 "'date_of_birth: true' (dates), not both")
    if "missing" in rule:
        codes = rule["missing"] if isinstance(rule["missing"], list) else [rule["missing"]]
        if not all(isinstance(c, (str, int, float)) and not isinstance(c, bool)
                   for c in codes):
            raise bad("missing", "a list of missing-value codes, e.g. [-9, \"NA\"]")
    for key in ("age", "date_of_birth"):
        if key in rule and not isinstance(rule[key], bool):
            raise bad(key, "true or false")


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
        _check_rule_values(col, rule, file)
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
