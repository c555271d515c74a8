"""The collection's one disclosure policy: every count shown to a user passes through it.

:data:`POLICY` (threshold 5, rounding base 5) is used by the explorer and by every analysis
table (Table 1, responders, follow-up, the bring-your-own-data result), so two views on one
screen follow one rule and cannot undo each other:

* tables: counts 1-4 hidden (``"<5"``), complementary cells (``"n.p."``) chosen by the margin
  audit (:mod:`gluteutils.privacy.audit`) so no hidden cell can be pinned;
* counts a user can difference (the explorer under any filter, numbers at risk, events):
  rounded to the nearest 5 and 1-4 hidden - stated on the page (:attr:`Policy.rounding_note`);
* Kaplan-Meier: coarsened counts (:func:`gluteutils.privacy.rounding.coarsen_km`), no step
  of 1-4 people;
* a cell hidden in a table stays hidden in every other view of the same data.

Estimators keep raw results; only display copies come from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gluteutils.privacy.labels import NOT_PUBLISHED, is_small, labelled, small_label
from gluteutils.privacy.rounding import coarsen_km, round_counts
from gluteutils.privacy.suppression import suppress_small_cells


@dataclass(frozen=True)
class Policy:
    """Threshold for small counts, rounding base for differencing-prone counts, and the
    number of values a hidden cell must keep open under the margin audit."""

    threshold: int = 5
    rounding: int = 5
    min_values: int = 2
    marker: str = NOT_PUBLISHED

    @property
    def small_label(self) -> str:
        """``"<5"``."""
        return small_label(self.threshold)

    @property
    def rounding_note(self) -> str:
        """The sentence every page with rounded counts shows."""
        return (f"Counts are rounded to the nearest {self.rounding} and counts from 1 to "
                f"{self.threshold - 1} are shown as '{self.small_label}' (disclosure control); "
                "rates and curves are computed from the rounded counts.")

    def with_threshold(self, threshold: int) -> Policy:
        """The same policy with another small-count threshold."""
        return Policy(int(threshold), self.rounding, self.min_values, self.marker)

    def table(self, table: pd.DataFrame, *, columns: list[str] | None = None,
              total_column: str | None = None) -> pd.DataFrame:
        """Audited small-cell suppression of a count table, labelled."""
        masked = suppress_small_cells(table, self.threshold, columns=columns,
                                      total_column=total_column)
        mask = masked.attrs["suppressed"]
        # one label for every hidden cell when "<5" vs "n.p." would let the margins pin one
        thr = self.threshold if masked.attrs.get("two_labels", True) else 1
        out = table.copy()
        for c in mask.columns:
            out[c] = pd.Series(labelled(table[c], mask[c], thr, self.marker),
                               index=table.index, dtype=object)
        out.attrs["suppressed"] = mask
        out.attrs["two_labels"] = thr != 1
        return out

    def rounded_masked(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(rounded, hidden)``: counts rounded to the base, hidden where the TRUE count is
        1..threshold-1 or the rounded one is below the threshold."""
        c = np.asarray(counts, dtype="int64")
        r = round_counts(c, self.rounding)
        hidden = is_small(c, self.threshold) | is_small(r, self.threshold)
        return np.where(hidden, 0, r), hidden

    def km(self, start: np.ndarray, events: np.ndarray, censored: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coarsened Kaplan-Meier ``(at_risk, events, survival)``."""
        return coarsen_km(start, events, censored, threshold=self.threshold,
                          base=self.rounding)


#: The policy every published view uses.
POLICY = Policy()
