"""Outcome instruments as data: range, resolution, direction and MCID of each measure.

The registry is ``data/instruments/instruments.csv`` (one row per instrument, each MCID with
its source or ``expert_judgement``; see ``data/instruments/README.md``). A mapping file
declares the instrument of each outcome column (``instruments: {pain_nprs: vas_0_1}``); the
loaded :class:`~gluteutils.outcomes.io.OutcomeData` carries ``instruments`` (column ->
:class:`Instrument`) and keeps the values on the instrument's own scale.

Direction matters everywhere: ``improvement`` is positive when the patient got better
whatever way the scale runs (pain: down; LEFS: up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from gluteutils._paths import data_path
from gluteutils.errors import ContentError

#: Default instrument of each outcome column of the synthetic cohort (and of any package
#: whose mapping declares none).
DEFAULT_INSTRUMENTS: dict[str, str] = {
    "pain_nprs": "nprs_0_10",
    "function_lefs": "lefs_0_80",
    "grc": "grc_m5_p5",
}
#: The outcome columns of the visits table that carry an instrument.
OUTCOME_COLUMNS: tuple[str, ...] = tuple(DEFAULT_INSTRUMENTS)
_DIRECTIONS = ("worse", "better")
_TOL = 1e-9


@dataclass(frozen=True)
class Instrument:
    """One outcome measure.

    ``resolution`` is the step of the scale (1 = whole points, 0.01 = two decimals) or
    ``None`` for a continuous score; ``higher_is`` is ``"worse"`` (pain, disability) or
    ``"better"`` (function, self-efficacy, global change, utility). ``mcid`` is the minimal
    clinically important change in the scale's points and ``mcid_percent`` the relative
    criterion (percent of the baseline's distance from the best score), either ``None`` when
    no figure is established. ``any_symptom_threshold``: a value above it means "any pain"
    (pain scales only, else ``None``).
    """

    key: str
    name: str
    low: float
    high: float
    resolution: float | None
    higher_is: str
    unit: str
    domain: str
    mcid: float | None
    mcid_percent: float | None
    mcid_source: str
    mcid_verified: bool
    any_symptom_threshold: float | None
    range_source: str
    note: str = ""

    @property
    def integer(self) -> bool:
        """True when every valid value is a whole number (resolution 1, whole bounds)."""
        return (self.resolution is not None and float(self.resolution).is_integer()
                and float(self.low).is_integer())

    @property
    def best(self) -> float:
        """The best possible score (``low`` when higher is worse)."""
        return self.low if self.higher_is == "worse" else self.high

    @property
    def expected(self) -> str:
        """A short description of a valid value, for error messages."""
        step = ("any value" if self.resolution is None else
                "a whole number" if self.integer else f"a multiple of {self.resolution:g}")
        return f"{step} from {self.low:g} to {self.high:g} ({self.name})"

    def valid(self, values: Any) -> np.ndarray:
        """Boolean array: value present, finite, inside ``[low, high]`` and on the
        resolution grid. Missing values are ``False`` (check them separately)."""
        x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype="float64")
        ok = np.isfinite(x) & (x >= self.low - _TOL) & (x <= self.high + _TOL)
        if self.resolution is not None:
            with np.errstate(invalid="ignore"):
                steps = (x - self.low) / self.resolution
                ok &= np.abs(steps - np.round(steps)) < 1e-6
        return np.asarray(ok)

    def improvement(self, baseline: Any, follow_up: Any) -> np.ndarray:
        """Change towards the better end (positive = better), in the scale's points."""
        b = np.asarray(baseline, dtype="float64")
        f = np.asarray(follow_up, dtype="float64")
        return np.asarray(b - f if self.higher_is == "worse" else f - b)


def _opt_float(v: Any) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
        return None
    return float(v)


def _from_row(row: dict[Any, Any], file: str) -> Instrument:
    key = str(row["key"])
    higher = str(row["higher_is"])
    if higher not in _DIRECTIONS:
        raise ContentError(file, f"instrument {key!r}: higher_is must be 'worse' or 'better'")
    low, high = float(row["low"]), float(row["high"])
    if not low < high:
        raise ContentError(file, f"instrument {key!r}: low must be below high")
    mcid = _opt_float(row.get("mcid"))
    source = str(row.get("mcid_source") or "")
    if mcid is not None and not source:
        raise ContentError(file, f"instrument {key!r}: an mcid needs its mcid_source")
    verified = str(row.get("mcid_verified")).strip().lower() == "true"
    return Instrument(
        key=key, name=str(row["name"]), low=low, high=high,
        resolution=_opt_float(row.get("resolution")), higher_is=higher,
        unit=str(row.get("unit") or "points"), domain=str(row.get("domain") or ""),
        mcid=mcid, mcid_percent=_opt_float(row.get("mcid_percent")), mcid_source=source,
        mcid_verified=verified,
        any_symptom_threshold=_opt_float(row.get("any_symptom_threshold")),
        range_source=str(row.get("range_source") or ""), note=str(row.get("note") or ""),
    )


@lru_cache(maxsize=4)
def _registry(path: str) -> dict[str, Instrument]:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise ContentError(path, f"cannot read the instrument registry: {exc}") from None
    out: dict[str, Instrument] = {}
    for row in table.to_dict("records"):
        inst = _from_row(row, path)
        if inst.key in out:
            raise ContentError(path, f"instrument {inst.key!r} is listed twice")
        out[inst.key] = inst
    return out


def registry() -> dict[str, Instrument]:
    """Every instrument of ``data/instruments/instruments.csv``, by key."""
    return dict(_registry(str(data_path("instruments", "instruments.csv"))))


def get_instrument(key: str | Instrument) -> Instrument:
    """The instrument ``key`` (an :class:`Instrument` is returned as is); an unknown key is a
    :class:`KeyError` listing the known keys."""
    if isinstance(key, Instrument):
        return key
    reg = registry()
    try:
        return reg[str(key)]
    except KeyError:
        raise KeyError(f"unknown instrument {key!r}; known instruments: "
                       f"{', '.join(sorted(reg))}") from None


def default_instruments() -> dict[str, Instrument]:
    """Column -> instrument of the synthetic cohort (NPRS, LEFS, 11-point GRC)."""
    return {col: get_instrument(k) for col, k in DEFAULT_INSTRUMENTS.items()}


def instruments_table() -> pd.DataFrame:
    """The registry as a table (one row per instrument, the registry's columns)."""
    rows = [vars(i) for i in registry().values()]
    return pd.DataFrame(rows).set_index("key")


def is_improvement(baseline: Any, follow_up: Any, instrument: str | Instrument) -> np.ndarray:
    """True where the follow-up is better than the baseline on ``instrument``'s direction."""
    return np.asarray(get_instrument(instrument).improvement(baseline, follow_up) > 0)


def responder(baseline: Any, follow_up: Any, instrument: str | Instrument, *,
              points: float | None = None, percent: float | None = None,
              rule: str = "either") -> np.ndarray:
    """Responder: improvement of at least ``points`` (default: the instrument's MCID) and/or
    at least ``percent`` of the baseline's distance from the best score (default: the
    instrument's ``mcid_percent``). ``rule`` = ``"either"``, ``"both"``, ``"points"`` or
    ``"percent"``. Raises :class:`ValueError` when the rule needs a figure the instrument
    does not have (declare it). Missing baseline or follow-up gives ``False``."""
    inst = get_instrument(instrument)
    if rule not in ("either", "both", "points", "percent"):
        raise ValueError("rule must be 'either', 'both', 'points' or 'percent'")
    pts = inst.mcid if points is None else points
    pct = inst.mcid_percent if percent is None else percent
    missing = {"points": pts is None, "percent": pct is None}
    needed = {"points": ["points"], "percent": ["percent"], "both": ["points", "percent"],
              "either": [] if (pts is not None or pct is not None) else ["points"]}[rule]
    for what in needed:
        if missing[what]:
            raise ValueError(f"{inst.name} has no established {what} criterion "
                             f"(source: {inst.mcid_source or 'none'}): declare {what}=...")
    b = np.asarray(baseline, dtype="float64")
    gain = inst.improvement(b, follow_up)
    present = np.isfinite(gain)
    by_pts = gain >= (pts - _TOL) if pts is not None else np.zeros(gain.shape, dtype=bool)
    room = np.abs(b - inst.best)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(room > 0, gain / room * 100.0, np.nan)
    by_pct = frac >= (pct - _TOL) if pct is not None else np.zeros(gain.shape, dtype=bool)
    out = {"points": by_pts, "percent": by_pct, "both": by_pts & by_pct,
           "either": by_pts | by_pct}[rule]
    return np.asarray(out & present)


def any_symptom(values: Any, instrument: str | Instrument) -> np.ndarray:
    """True where the value means "any pain" (above the instrument's threshold); raises
    :class:`ValueError` for an instrument without one (not a pain scale)."""
    inst = get_instrument(instrument)
    if inst.any_symptom_threshold is None:
        raise ValueError(f"{inst.name} has no 'any symptom' threshold (not a pain scale)")
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype="float64")
    return np.asarray(x > inst.any_symptom_threshold + _TOL)
