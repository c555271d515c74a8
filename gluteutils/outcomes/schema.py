"""The outcome data model: the two tables (``episodes``, ``visits``), their columns and values.

This module is the single source of truth for the schema. The Frictionless descriptor
(``data/outcomes/datapackage.json``), the loader's checks and the README's data dictionary are
all generated from, or tested against, the definitions here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

CONDITIONS: tuple[str, ...] = (
    "doms",
    "piriformis_syndrome",
    "sciatica_disc",
    "sciatica_stenosis",
    "gluteal_tendinopathy",
)
CONDITION_LABELS: dict[str, str] = {
    "doms": "Delayed-onset muscle soreness (DOMS)",
    "piriformis_syndrome": "Piriformis syndrome",
    "sciatica_disc": "Sciatica from disc herniation",
    "sciatica_stenosis": "Sciatica from spinal stenosis",
    "gluteal_tendinopathy": "Gluteal tendinopathy (gluteus medius/minimus)",
}

THERAPIES: tuple[str, ...] = (
    "physiotherapy",
    "sports_physiotherapy",
    "pelvic_floor_physiotherapy",
    "exercise_physiology",
    "myotherapy_massage",
    "physio_plus_massage",
    "home_self_care",
)
REFERENCE_THERAPY: str = "home_self_care"
THERAPY_LABELS: dict[str, str] = {
    "physiotherapy": "Physiotherapy",
    "sports_physiotherapy": "Sports physiotherapy",
    "pelvic_floor_physiotherapy": "Pelvic floor physiotherapy",
    "exercise_physiology": "Exercise physiology",
    "myotherapy_massage": "Myotherapy / remedial massage",
    "physio_plus_massage": "Physiotherapy plus massage",
    "home_self_care": "Home self-care only",
}

AGE_BANDS: tuple[str, ...] = ("18-29", "30-39", "40-49", "50-59", "60-69", "70+")
#: Lower bound (years) of each age band, in the order of :data:`AGE_BANDS`.
AGE_BAND_LOWER: tuple[int, ...] = (18, 30, 40, 50, 60, 70)
SEXES: tuple[str, ...] = ("female", "male")
SITES: tuple[str, ...] = ("site_a", "site_b", "site_c", "site_d")
SYMPTOM_COLUMNS: tuple[str, ...] = (
    "leg_pain_below_knee",
    "numbness_tingling",
    "leg_weakness",
    "sitting_intolerance",
    "new_exercise_72h",
    "pain_lying_on_side",
)
DISCHARGE_REASONS: tuple[str, ...] = (
    "goals_met",
    "self_discharged",
    "lost_to_follow_up",
    "referred_on",
    "ongoing",
)
VISIT_TYPES: tuple[str, ...] = ("baseline", "treatment", "review")

#: Review window (days since first visit) of the primary outcome visit.
REVIEW_WINDOW: dict[str, tuple[int, int]] = {c: (49, 63) for c in CONDITIONS}
REVIEW_WINDOW["doms"] = (5, 9)

#: Regular expression of a random episode id (Crockford-like alphabet without I and O).
EPISODE_ID_PATTERN: str = "^E[0-9A-HJ-NP-Z]{9}$"
EPISODE_ID_ALPHABET: str = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

#: Missing-value code of both CSVs.
MISSING_VALUES: tuple[str, ...] = ("",)
DELIMITER: str = ","
ENCODING: str = "utf-8"


@dataclass(frozen=True)
class Field:
    """One column of a table.

    ``kind`` is one of ``"id"``, ``"category"``, ``"integer"``, ``"boolean"``.
    ``values`` lists the allowed values of a category; ``minimum``/``maximum`` bound integers.
    """

    name: str
    kind: str
    description: str
    required: bool = True
    values: tuple[str, ...] | None = None
    ordered: bool = False
    minimum: int | None = None
    maximum: int | None = None
    unit: str | None = None
    pattern: str | None = None

    @property
    def expected(self) -> str:
        """A short human description of what a valid value looks like."""
        if self.kind == "category":
            assert self.values is not None
            return "one of " + ", ".join(repr(v) for v in self.values)
        if self.kind == "boolean":
            return "'true' or 'false'"
        if self.kind == "integer":
            lo = "" if self.minimum is None else f" >= {self.minimum}"
            hi = "" if self.maximum is None else f" <= {self.maximum}"
            both = f" from {self.minimum} to {self.maximum}" if lo and hi else lo or hi
            return f"a whole number{both}"
        if self.kind == "id":
            return f"an id matching {self.pattern}"
        return self.kind

    @property
    def pandas_dtype(self) -> str:
        """The pandas dtype of the loaded column (categoricals are built separately)."""
        if self.kind == "integer":
            if self.required:
                return "int16" if (self.maximum is not None and self.maximum < 30000) else "int32"
            return "Int16"
        if self.kind == "boolean":
            return "bool" if self.required else "boolean"
        return "object"


_ID = Field(
    "episode_id", "id", "Random treatment-episode id; never derived from any identifier.",
    pattern=EPISODE_ID_PATTERN,
)

EPISODE_FIELDS: tuple[Field, ...] = (
    _ID,
    Field("condition", "category", "Working diagnosis at the first visit.", values=CONDITIONS),
    Field("therapy", "category", "Therapy type of the episode (home_self_care = reference).",
          values=THERAPIES),
    Field("age_band", "category", "Age band at the first visit (top-coded at 70+).",
          values=AGE_BANDS, ordered=True, required=False, unit="years"),
    Field("sex", "category", "Sex.", values=SEXES, required=False),
    Field("site", "category", "Clinic site (a quasi-identifier).", values=SITES,
          required=False),
    Field("symptom_duration_weeks", "integer", "Symptom duration at the first visit.",
          minimum=0, maximum=1040, unit="weeks", required=False),
    Field("leg_pain_below_knee", "boolean", "Baseline: pain radiating below the knee.",
          required=False),
    Field("numbness_tingling", "boolean", "Baseline: numbness or tingling in the leg.",
          required=False),
    Field("leg_weakness", "boolean", "Baseline: weakness in the leg.", required=False),
    Field("sitting_intolerance", "boolean", "Baseline: pain made worse by sitting.",
          required=False),
    Field("new_exercise_72h", "boolean", "Baseline: new or unusual exercise in the last 72 h.",
          required=False),
    Field("pain_lying_on_side", "boolean", "Baseline: pain when lying on the affected side.",
          required=False),
    Field("sessions_attended", "integer", "Number of visits attended (incl. the first).",
          minimum=1, maximum=500, required=False, unit="visits"),
    Field("discharge_reason", "category", "Why the episode ended.", values=DISCHARGE_REASONS,
          required=False),
)

VISIT_FIELDS: tuple[Field, ...] = (
    _ID,
    Field("visit_day", "integer", "Days since the episode's first visit (first visit = 0).",
          minimum=0, maximum=3650, unit="days"),
    Field("visit_type", "category",
          "baseline (day 0), treatment, or review (outcome visit: day 49-63; DOMS day 5-9).",
          values=VISIT_TYPES),
    Field("pain_nprs", "integer", "Pain, Numeric Pain Rating Scale (0 = none, 10 = worst).",
          minimum=0, maximum=10, unit="points"),
    Field("function_lefs", "integer",
          "Lower Extremity Functional Scale (0-80, higher = better); may be missing.",
          minimum=0, maximum=80, required=False, unit="points"),
    Field("grc", "integer",
          "Global rating of change, 11 points (-5 much worse .. +5 completely recovered); "
          "missing at baseline.", minimum=-5, maximum=5, required=False, unit="points"),
)

TABLES: dict[str, tuple[Field, ...]] = {"episodes": EPISODE_FIELDS, "visits": VISIT_FIELDS}
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "episodes": ("episode_id",),
    "visits": ("episode_id", "visit_day"),
}
EPISODE_COLUMNS: tuple[str, ...] = tuple(f.name for f in EPISODE_FIELDS)
VISIT_COLUMNS: tuple[str, ...] = tuple(f.name for f in VISIT_FIELDS)


def random_episode_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct random episode ids (``E`` + 9 characters of
    :data:`EPISODE_ID_ALPHABET`) drawn from ``rng``: never derived from any identifier.
    The synthetic cohort and the export mapping both draw ids here."""
    alphabet = np.frombuffer(EPISODE_ID_ALPHABET.encode("ascii"), dtype="S1")
    ids = np.empty(n, dtype="S10")
    todo = np.arange(n)
    while todo.size:
        codes = rng.integers(0, len(alphabet), size=(todo.size, 9))
        chars = np.concatenate([np.full((todo.size, 1), b"E", dtype="S1"), alphabet[codes]],
                               axis=1)
        ids[todo] = chars.view("S10").ravel()
        _, first = np.unique(ids, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        todo = np.flatnonzero(dup)
    return ids.astype("U10")

#: Episode columns every package must fill (never blanked by k-anonymity).
REQUIRED_EPISODE_COLUMNS: tuple[str, ...] = tuple(f.name for f in EPISODE_FIELDS if f.required)


def fields(resource: str) -> tuple[Field, ...]:
    """Return the fields of ``resource`` (``"episodes"`` or ``"visits"``)."""
    try:
        return TABLES[resource]
    except KeyError:
        raise ValueError(f"unknown resource {resource!r}; expected one of {sorted(TABLES)}") from None


def field_map(resource: str) -> dict[str, Field]:
    """Return ``{column name: Field}`` for ``resource``."""
    return {f.name: f for f in fields(resource)}


def _frictionless_field(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "description": f.description}
    constraints: dict[str, Any] = {}
    if f.kind in ("id", "category"):
        out["type"] = "string"
    elif f.kind == "integer":
        out["type"] = "integer"
    elif f.kind == "boolean":
        out["type"] = "boolean"
        out["trueValues"] = ["true"]
        out["falseValues"] = ["false"]
    if f.values is not None:
        constraints["enum"] = list(f.values)
    if f.pattern is not None:
        constraints["pattern"] = f.pattern.strip("^$")
    if f.minimum is not None:
        constraints["minimum"] = f.minimum
    if f.maximum is not None:
        constraints["maximum"] = f.maximum
    if f.required:
        constraints["required"] = True
    if constraints:
        out["constraints"] = constraints
    if f.unit is not None:
        out["unit"] = f.unit
    return out


_SYNTHETIC_TITLE = "Glute Notebooks synthetic treatment-outcome cohort (SYNTHETIC DATA)"
_SYNTHETIC_DESCRIPTION = (
    "SYNTHETIC DATA: simulated by gluteutils.cohort, calibrated to published results; "
    "no real patient is described. See README.md."
)


def _instrument_field(f: Field, key: str) -> dict[str, Any]:
    """A visits outcome field on a declared instrument's own scale (``instrument`` names the
    row of ``data/instruments/instruments.csv``; read back by ``io.load``)."""
    from gluteutils.outcomes.instruments import get_instrument

    inst = get_instrument(key)
    out = _frictionless_field(f)
    out["type"] = "integer" if inst.integer else "number"
    out["instrument"] = inst.key
    out["description"] = f"{inst.name} ({inst.higher_is} when higher); column {f.name}."
    out["unit"] = inst.unit
    cons = dict(out.get("constraints", {}))
    cons["minimum"], cons["maximum"] = inst.low, inst.high
    out["constraints"] = cons
    return out


def datapackage_descriptor(*, name: str = "glute-outcomes-synthetic",
                           title: str = _SYNTHETIC_TITLE,
                           description: str = _SYNTHETIC_DESCRIPTION,
                           instruments: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the Frictionless data-package descriptor (default: the shipped cohort's).

    ``instruments`` (visits column -> instrument key) declares outcome columns that are not
    on the default NPRS / LEFS / GRC scales."""
    resources = []
    inst = instruments or {}
    for table, flds in TABLES.items():
        schema: dict[str, Any] = {
            "fields": [_instrument_field(f, inst[f.name])
                       if table == "visits" and f.name in inst else _frictionless_field(f)
                       for f in flds],
            "missingValues": list(MISSING_VALUES),
            "primaryKey": list(PRIMARY_KEYS[table]),
        }
        if table == "visits":
            schema["foreignKeys"] = [
                {"fields": "episode_id", "reference": {"resource": "episodes",
                                                       "fields": "episode_id"}}
            ]
        resources.append({
            "name": table,
            "path": f"{table}.csv",
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": ENCODING,
            "dialect": {"delimiter": DELIMITER, "header": True},
            "schema": schema,
        })
    return {
        "name": name,
        "title": title,
        "description": description,
        "licenses": [{"name": "CC0-1.0", "title": "CC0 1.0"}],
        "resources": resources,
    }


def data_dictionary_markdown() -> str:
    """Return the data dictionary of both tables as Markdown tables (used in the README)."""
    lines: list[str] = []
    for name, flds in TABLES.items():
        lines.append(f"### `{name}.csv` (primary key: {', '.join(PRIMARY_KEYS[name])})")
        lines.append("")
        lines.append("| column | type | unit | allowed values | required | description |")
        lines.append("|---|---|---|---|---|---|")
        for f in flds:
            kind = {"id": "string", "category": "string (categorical)"}.get(f.kind, f.kind)
            if f.ordered:
                kind = "string (ordered categorical)"
            lines.append(
                f"| `{f.name}` | {kind} | {f.unit or ''} | {f.expected} | "
                f"{'yes' if f.required else 'no (empty = missing)'} | {f.description} |"
            )
        lines.append("")
    return "\n".join(lines)
