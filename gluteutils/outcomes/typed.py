"""Schema dtypes for validated frames (``to_typed``) and the CSV writer of a package table."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from gluteutils.outcomes import schema as S


def schema_dtype(f: S.Field) -> Any:
    """The pandas dtype a validated column of field ``f`` gets."""
    if f.kind == "category":
        assert f.values is not None
        return pd.CategoricalDtype(list(f.values), ordered=f.ordered)
    if f.kind == "id":
        return pd.StringDtype("pyarrow")
    return f.pandas_dtype


def as_category(col: pd.Series, f: S.Field) -> pd.Series:
    """Return ``col`` as a categorical with exactly the schema's categories, in order.

    (``astype`` is a no-op between unordered categoricals with the same categories in a
    different order, so the categories are set explicitly.)"""
    assert f.values is not None
    if not isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object).astype("category")
    col = col.cat.remove_unused_categories()
    extra = [c for c in col.cat.categories if c not in f.values]
    if extra:
        raise ValueError(f"column {f.name!r} has labels {extra} outside the schema")
    return col.cat.set_categories(list(f.values), ordered=f.ordered)


def to_typed(frame: pd.DataFrame, resource: str) -> pd.DataFrame:
    """Return ``frame`` with the schema's column order and dtypes (categoricals with the
    schema's categories; ``age_band`` ordered; optional integers/booleans nullable)."""
    out = {}
    for f in S.fields(resource):
        col = frame[f.name]
        dtype = schema_dtype(f)
        out[f.name] = as_category(col, f) if f.kind == "category" else col.astype(dtype)
    return pd.DataFrame(out, index=frame.index)


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write one table as CSV (UTF-8, ',', missing = empty, booleans true/false, '\\n' line
    ends) or Parquet, chosen by the file suffix. Deterministic bytes for the same frame."""
    path = Path(path)
    arrays = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            arrays[name] = pa.array(col.astype(object).where(col.notna(), None), type=pa.string())  # type: ignore[call-overload]
        elif str(col.dtype).startswith("string"):
            arrays[name] = pa.array(col.astype(object).where(col.notna(), None), type=pa.string())  # type: ignore[call-overload]
        else:
            arrays[name] = pa.array(col, from_pandas=True)
    table = pa.table(arrays)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
        return
    needs_quotes = any(
        pa.types.is_string(table.column(c).type)
        and pc.any(pc.match_substring_regex(table.column(c), '[,"\\r\\n]')).as_py()
        for c in table.column_names
    )
    if needs_quotes:  # pragma: no cover - the schema's values never need quoting
        frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        return
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    buf = io.BytesIO()
    buf.write((",".join(table.column_names) + "\n").encode("utf-8"))
    pacsv.write_csv(table, buf, write_options=opts)
    path.write_bytes(buf.getvalue())
