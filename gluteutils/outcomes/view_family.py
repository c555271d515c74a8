"""The filter views of one condition as one family of counts (issue 10: differencing).

The outcomes explorer shows, for one condition, each therapy's episode count under every
filter it offers: all, each sex, each age band and each sex x age band, i.e. a sex x age
table with its margins. Table 1 shows the same margins (``n``, sex, age band per therapy).
Each count is rounded with small ones hidden, yet integer reasoning across the views can pin
a hidden count (a shown 10 over two hidden sexes of at most 4 each forces 4 + 4).
:func:`view_family_mask` says which views of which therapy to hide as well
(:func:`gluteutils.privacy.families.family_hidden`), and both the explorer and Table 1 hide
them, so two views on one screen never undo each other.

Level codes follow the explorer: index into SEXES / AGE_BANDS, with ``len(SEXES)`` /
``len(AGE_BANDS)`` for the ``suppressed`` level of an anonymised package (counted under
"all" only: the widget offers no such choice).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gluteutils.outcomes.schema import AGE_BANDS, CONDITIONS, SEXES, THERAPIES
from gluteutils.privacy import Policy
from gluteutils.privacy.families import family_hidden


def family_views(n_sexes: int = len(SEXES), n_ages: int = len(AGE_BANDS)
                 ) -> list[tuple[int, int]]:
    """The views as (sex, age band) indices (-1: all): all, each sex, each age band, each
    sex x age band."""
    return ([(-1, -1)] + [(s, -1) for s in range(n_sexes)] + [(-1, a) for a in range(n_ages)]
            + [(s, a) for s in range(n_sexes) for a in range(n_ages)])


def family_selectors(sex_levels: int, age_levels: int) -> np.ndarray:
    """0/1 matrix (views x sex-by-age cells): which cells each of :func:`family_views` sums
    (cells over ``sex_levels`` x ``age_levels`` codes, the ``suppressed`` level included
    when the data has it)."""
    sex = np.repeat(np.arange(sex_levels), age_levels)
    age = np.tile(np.arange(age_levels), sex_levels)
    return np.array([((s < 0) | (sex == s)) & ((a < 0) | (age == a))
                     for s, a in family_views()], dtype=float)


def view_index(sexes: Sequence[str], age_bands: Sequence[str]) -> int | None:
    """The index of a sex and age-band choice in :func:`family_views`; None for a choice
    outside them (several levels but not all, or the ``suppressed`` level)."""
    def level(selected: Sequence[str], real: Sequence[str]) -> int | None:
        if not selected or set(real) <= set(selected):
            return -1
        one = set(selected)
        return real.index(selected[0]) if len(one) == 1 and selected[0] in real else None

    s, a = level(sexes, SEXES), level(age_bands, AGE_BANDS)
    if s is None or a is None:
        return None
    return family_views().index((s, a))


def view_family_mask(sex: np.ndarray, age: np.ndarray, therapy: np.ndarray,
                     in_condition: np.ndarray, *, table_hidden: np.ndarray,
                     policy: Policy) -> np.ndarray:
    """Views x THERAPIES: the episode counts of one condition to hide beyond the small ones.

    ``sex``, ``age`` and ``therapy`` are level codes for every episode of the dataset
    (a ``suppressed`` level is modelled only when some episode has it); ``in_condition``
    selects the condition's episodes; ``table_hidden`` (per therapy) marks groups the
    episode-count table already hides (their "all" view publishes nothing)."""
    n_s = len(SEXES) + 1 if (sex == len(SEXES)).any() else len(SEXES)
    n_a = len(AGE_BANDS) + 1 if (age == len(AGE_BANDS)).any() else len(AGE_BANDS)
    cell = sex[in_condition].astype(np.int64) * n_a + age[in_condition]
    ther = therapy[in_condition]
    sel = family_selectors(n_s, n_a)
    out = np.zeros((len(sel), len(THERAPIES)), dtype=bool)
    for t in range(len(THERAPIES)):
        cells = np.bincount(cell[ther == t], minlength=n_s * n_a)
        pre = np.zeros(len(sel), dtype=bool)
        pre[0] = bool(table_hidden[t])
        out[:, t] = family_hidden(sel, cells, threshold=policy.threshold,
                                  base=policy.rounding, already_hidden=pre)
    return out


def level_codes(values: pd.Series, levels: Sequence[str]) -> np.ndarray:
    """Codes into ``levels``, a missing or blanked value coded ``len(levels)``
    (the ``suppressed`` level)."""
    cat = pd.Categorical(values.astype(object), categories=list(levels))
    codes = np.asarray(cat.codes, dtype=np.int64)
    return np.where(codes < 0, len(levels), codes)


def count_table(episodes: pd.DataFrame) -> pd.DataFrame:
    """RAW episodes per condition (rows) and therapy (columns), in the schema's order."""
    table = pd.crosstab(episodes["condition"].astype(str), episodes["therapy"].astype(str))
    return table.reindex(index=[c for c in CONDITIONS if c in table.index],
                         columns=[t for t in THERAPIES if t in table.columns])


def count_table_mask(episodes: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Which condition x therapy counts the published episode-count table hides
    (CONDITIONS x THERAPIES; small cells and their complementary cells)."""
    hidden = policy.table(count_table(episodes)).attrs["suppressed"]
    full = hidden.reindex(index=list(CONDITIONS), columns=list(THERAPIES), fill_value=False)
    return np.asarray(full.to_numpy(dtype=bool))


def episode_family_mask(episodes: pd.DataFrame, condition: str, policy: Policy) -> np.ndarray:
    """:func:`view_family_mask` from an episode table (one row per episode), the same
    answer the explorer gives for the same episodes."""
    in_condition = (episodes["condition"].astype(str) == condition).to_numpy()
    return view_family_mask(
        level_codes(episodes["sex"], SEXES), level_codes(episodes["age_band"], AGE_BANDS),
        level_codes(episodes["therapy"], THERAPIES), in_condition,
        table_hidden=count_table_mask(episodes, policy)[CONDITIONS.index(condition)],
        policy=policy)
