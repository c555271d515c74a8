"""One mask format and one labelling for every hidden count the collection publishes.

A hidden count is a *small* cell (1 to ``threshold - 1``, shown ``"<5"``) or a
*complementary* cell hidden so a small one cannot be derived (shown ``"n.p."``, not
published). Zeros are shown. Masks travel as nested tuples of booleans in
``DataFrame.attrs["suppressed"]`` (one tuple per row, one flag per count column): a
DataFrame there breaks pandas' repr of wide tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

#: What a complementary (not small itself) hidden count shows.
NOT_PUBLISHED: str = "n.p."
#: What a hidden count shows in a figure's numbers-at-risk row when it is small.
MaskAttr = tuple[tuple[bool, ...], ...]


def small_label(threshold: int) -> str:
    """The label of a hidden count from 1 to ``threshold - 1``: ``"<5"`` for 5."""
    return f"<{int(threshold)}"


def is_small(values: Any, threshold: int) -> np.ndarray:
    """True where a count is 1..threshold-1 (a count that must not be shown or derivable)."""
    v = np.asarray(values)
    return (v > 0) & (v < threshold)


def label(value: Any, threshold: int, marker: str = NOT_PUBLISHED) -> str:
    """The label a hidden ``value`` shows: ``"<threshold"`` when small, else ``marker``."""
    try:
        v = int(value)
    except (TypeError, ValueError):
        return marker
    return small_label(threshold) if 0 < v < threshold else marker


def labelled(values: Iterable[Any], hidden: Iterable[bool], threshold: int,
             marker: str = NOT_PUBLISHED) -> list[Any]:
    """``values`` with every hidden one replaced by its label (shown ones as ``int``)."""
    out: list[Any] = []
    for v, h in zip(values, hidden, strict=True):
        out.append(label(v, threshold, marker) if h else (int(v) if pd.notna(v) else v))
    return out


def mask_attr(mask: pd.DataFrame | np.ndarray) -> MaskAttr:
    """A boolean mask as nested tuples (safe in ``DataFrame.attrs``)."""
    arr = mask.to_numpy() if isinstance(mask, pd.DataFrame) else np.asarray(mask)
    if arr.ndim == 1:
        arr = arr[:, None]
    return tuple(tuple(bool(v) for v in row) for row in arr)


def mask_frame(attr: MaskAttr, index: pd.Index, columns: list[Any]) -> pd.DataFrame:
    """The nested-tuple mask back as a boolean DataFrame."""
    return pd.DataFrame(list(attr), index=index, columns=columns, dtype=bool)
