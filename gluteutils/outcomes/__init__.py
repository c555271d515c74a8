"""Outcome data: the schema, loading and validation of CSV/Parquet files, clinic mappings.

``load(path=None, *, lenient=False) -> OutcomeData`` loads a data package (default: the shipped
synthetic cohort); ``load_table(file, resource)`` loads one table.
"""

from __future__ import annotations

from gluteutils.outcomes.io import OutcomeData, load, load_table

__all__ = ["OutcomeData", "load", "load_table"]
