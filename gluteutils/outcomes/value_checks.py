"""Value checks on parsed columns (vectorised; index = 1-based data row number) and the typed
frame they produce."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gluteutils.outcomes import schema as S
from gluteutils.outcomes.instruments import Instrument
from gluteutils.outcomes.problems import ProblemLog
from gluteutils.outcomes.typed import as_category, schema_dtype


def fields_with(resource: str, categories: dict[str, tuple[str, ...]] | None
                 ) -> tuple[S.Field, ...]:
    """The schema's fields, with a mapping's own label lists for ``condition``/``therapy``."""
    if not categories:
        return S.fields(resource)
    return tuple(replace(f, values=categories[f.name]) if f.name in categories else f
                 for f in S.fields(resource))


def check_values(frame: pd.DataFrame, resource: str, probs: ProblemLog,
                 skip: set[int], custom: dict[str, Instrument] | None = None,
                 categories: dict[str, tuple[str, ...]] | None = None) -> None:
    """Log every bad cell of ``frame`` (index = 1-based data row) in ``probs``: missing
    required values, values off their instrument's scale or range, unknown labels, malformed
    ids, duplicate keys and the visit-level rules. Rows in ``skip`` (already rejected while
    parsing) are not reported again."""
    rows = frame.index.to_numpy()
    skip_mask = np.isin(rows, np.fromiter(skip, dtype=np.int64)) if skip else np.zeros(
        len(rows), bool)
    for f in fields_with(resource, categories):
        _check_column(f, frame[f.name], rows, skip_mask, probs, (custom or {}).get(f.name))
    _check_keys(frame, resource, rows, probs)
    if resource == "visits":
        _check_visit_rules(frame, rows, skip_mask, probs)


def _check_column(f: S.Field, col: pd.Series, rows: np.ndarray, skip_mask: np.ndarray,
                  probs: ProblemLog, inst: Instrument | None) -> None:
    """One column's cell checks (required, then by kind: instrument, integer, label, id)."""
    isna = col.isna().to_numpy()
    if f.required:
        bad = isna & ~skip_mask
        if bad.any():
            probs.add_rows(rows[bad], f.name, "required value is missing", f.expected,
                           [None] * int(bad.sum()))
    present = ~isna & ~skip_mask
    if inst is not None:
        vals = col.to_numpy(dtype="float64", na_value=np.nan)
        bad = present & ~inst.valid(vals)
        if bad.any():
            probs.add_rows(rows[bad], f.name, f"value not on the {inst.name} scale",
                           inst.expected, vals[bad])
    elif f.kind == "integer":
        vals = col.to_numpy(dtype="float64", na_value=np.nan)
        lo = f.minimum if f.minimum is not None else -np.inf
        hi = f.maximum if f.maximum is not None else np.inf
        with np.errstate(invalid="ignore"):
            bad = present & ((vals < lo) | (vals > hi))
        if bad.any():
            probs.add_rows(rows[bad], f.name, "value out of range", f.expected,
                           vals[bad].astype(np.int64))
    elif f.kind == "category":
        _check_labels(f, col, rows, skip_mask, present, probs)
    elif f.kind == "id":
        assert f.pattern is not None
        arr = pa.array(col.astype(object).where(col.notna(), None), type=pa.string())  # type: ignore[call-overload]
        ok = pc.match_substring_regex(arr, f.pattern).to_numpy(zero_copy_only=False)
        bad = present & ~np.asarray(ok, dtype=bool)
        if bad.any():
            probs.add_rows(rows[bad], f.name, "malformed episode id", f.expected,
                           col.to_numpy()[bad])


def _check_labels(f: S.Field, col: pd.Series, rows: np.ndarray, skip_mask: np.ndarray,
                  present: np.ndarray, probs: ProblemLog) -> None:
    """Labels outside the field's list (a categorical column: only its unknown categories)."""
    assert f.values is not None
    if isinstance(col.dtype, pd.CategoricalDtype):
        unknown = [c for c in col.cat.categories if c not in f.values]
        if not unknown:
            return
        bad = col.isin(unknown).to_numpy() & ~skip_mask
    else:
        bad = present & ~col.isin(list(f.values)).to_numpy()
    if bad.any():
        probs.add_rows(rows[bad], f.name, "unknown label", f.expected, col.to_numpy()[bad])


def _check_keys(frame: pd.DataFrame, resource: str, rows: np.ndarray,
                probs: ProblemLog) -> None:
    """Each primary key once."""
    key = list(S.PRIMARY_KEYS[resource])
    dup = frame.duplicated(subset=key, keep=False).to_numpy() & frame[key].notna().all(
        axis=1).to_numpy()
    if dup.any():
        probs.add_rows(rows[dup], key[-1], f"duplicate ({', '.join(key)})",
                       "each " + " + ".join(key) + " once", frame[key[-1]].to_numpy()[dup])


def _check_visit_rules(frame: pd.DataFrame, rows: np.ndarray, skip_mask: np.ndarray,
                       probs: ProblemLog) -> None:
    """Baseline exactly on day 0, and no global rating of change at baseline."""
    day = frame["visit_day"].to_numpy(dtype="float64", na_value=np.nan)
    vtype = frame["visit_type"].astype(object).to_numpy()
    base = vtype == "baseline"
    bad = ((base & (day != 0)) | (~base & (day == 0))) & ~skip_mask & ~np.isnan(day)
    bad &= pd.notna(vtype)
    if bad.any():
        probs.add_rows(rows[bad], "visit_type", "the baseline visit must be day 0 and "
                       "day 0 must be the baseline visit",
                       "visit_type 'baseline' exactly when visit_day is 0", vtype[bad])
    bad = base & frame["grc"].notna().to_numpy() & ~skip_mask
    if bad.any():
        given = frame["grc"].to_numpy(dtype="float64", na_value=np.nan)[bad]
        probs.add_rows(rows[bad], "grc", "global rating of change given at baseline",
                       "an empty grc at the baseline visit",
                       [int(v) if float(v).is_integer() else v for v in given])


def finish_frame(frame: pd.DataFrame, resource: str,
                 custom: dict[str, Instrument] | None = None,
                 categories: dict[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """The checked rows as the schema's dtypes (instrument columns as floats on their own
    scale), index reset."""
    out = {}
    for f in fields_with(resource, categories):
        col = frame[f.name]
        dtype = schema_dtype(f)
        inst = (custom or {}).get(f.name)
        if inst is not None:
            col = pd.Series(col.to_numpy(dtype="float64", na_value=np.nan), index=frame.index)
            if inst.integer and inst.low >= -30000 and inst.high <= 30000:
                col = col.astype("int16" if f.required and col.notna().all() else "Int16")
        elif f.kind == "integer":
            col = pd.Series(col.to_numpy(dtype="float64", na_value=np.nan), index=frame.index)
            if f.required:
                col = col.astype(dtype)
            else:
                col = col.astype("Int16")
        elif f.kind == "boolean":
            col = col.astype("boolean") if not f.required else col.astype(bool)
        elif f.kind == "category":
            col = as_category(col, f)
        else:
            col = col.astype(dtype)
        out[f.name] = col
    return pd.DataFrame(out).reset_index(drop=True)
