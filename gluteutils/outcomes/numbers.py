"""The one number parser: every path (strict loader, export mapping) reads numbers the same way."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

_DECIMAL = r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)"
_INTEGER = r"-?[0-9]+"
_EXPONENT = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+"
_DECIMAL_COMMA = r"-?[0-9]+,[0-9]+"
_NON_FINITE = r"[-+]?(?:inf|infinity|nan)"
#: More significant digits than a float64 holds exactly.
MAX_DIGITS: int = 15


def parse_numbers(values: Any, *, integer: bool = False) -> tuple[np.ndarray, list[str | None]]:
    """Parse text cells as numbers, the same way on every path (strict loader, mappings).

    Accepted: plain decimals (``7``, ``-2``, ``4.5``, ``.5``; with ``integer=True`` whole
    numbers only). Refused with a reason: scientific notation (``1e1`` is not read as 10),
    ``inf``/``nan``, a decimal comma, more than :data:`MAX_DIGITS` digits (no silent rounding
    or integer overflow), anything else. Missing (``None``/NaN/empty) gives NaN and no reason.
    Returns ``(float64 values with NaN where missing or refused, reasons)``."""
    s = pd.Series(values, dtype=object).reset_index(drop=True)
    missing = s.isna() | (s.astype(str) == "")
    text = s.where(~missing, "").astype(str)
    ok = text.str.fullmatch(_INTEGER if integer else _DECIMAL)
    digits = text.str.count(r"[0-9]")
    too_long = ok & (digits > MAX_DIGITS)
    good = ok & ~too_long & ~missing
    out = np.full(len(s), np.nan)
    if good.any():
        out[good.to_numpy()] = text[good].astype("float64").to_numpy() + 0.0  # -0 is 0
    reasons: list[str | None] = [None] * len(s)
    bad = (~good & ~missing).to_numpy()
    if bad.any():
        for i in (int(j) for j in np.flatnonzero(bad)):
            t = text.iat[i]
            if too_long.iat[i]:
                why = (f"number has {digits.iat[i]} digits, more than the {MAX_DIGITS} that "
                       "can be held exactly")
            elif pd.Series([t]).str.fullmatch(_EXPONENT).iat[0]:
                why = "number in scientific notation (write it out, e.g. 10 not 1e1)"
            elif pd.Series([t]).str.fullmatch(_NON_FINITE, case=False).iat[0]:
                why = "not a finite number"
            elif pd.Series([t]).str.fullmatch(_DECIMAL_COMMA).iat[0]:
                why = "decimal comma (use a point, e.g. 4.5)"
            elif integer and pd.Series([t]).str.fullmatch(_DECIMAL).iat[0]:
                why = "not a whole number"
            else:
                why = "not a number"
            reasons[i] = why
    return out, reasons
