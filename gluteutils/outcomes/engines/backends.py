"""The engines that run :mod:`gluteutils.outcomes.engines.sql`: DuckDB (default) and Spark.

Each engine exposes the two views ``episodes`` and ``visits`` and one method,
``sql(query) -> pandas.DataFrame`` (small aggregates only). DuckDB reads Parquet straight
from disk (out of core: a query streams the files and keeps only its groups in memory);
Spark runs the same text in local mode or on a cluster.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gluteutils.outcomes.schema import EPISODE_COLUMNS, VISIT_COLUMNS

TABLES = ("episodes", "visits")


class Engine(Protocol):
    """Anything that runs a query over the ``episodes`` / ``visits`` views."""

    name: str

    def sql(self, query: str) -> pd.DataFrame:
        """Run ``query`` and return its (small) result as a DataFrame."""
        ...


def to_arrow(frame: pd.DataFrame, columns: tuple[str, ...]) -> pa.Table:
    """A loaded table as Arrow with plain string categories (so every engine sees strings)."""
    out = {}
    for c in columns:
        if c not in frame.columns:
            continue
        s = frame[c]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object:
            out[c] = pa.array(s.astype(object).where(s.notna(), None), type=pa.string())  # type: ignore[call-overload]
        else:
            out[c] = pa.array(s, from_pandas=True)
    return pa.table(out)


def write_parquet(episodes: pd.DataFrame, visits: pd.DataFrame, folder: str | Path,
                  *, row_group_size: int = 1_000_000) -> dict[str, Path]:
    """Write both tables as Parquet (``episodes.parquet``, ``visits.parquet``) in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame, cols in (("episodes", episodes, EPISODE_COLUMNS),
                              ("visits", visits, VISIT_COLUMNS)):
        path = folder / f"{name}.parquet"
        pq.write_table(to_arrow(frame, cols), path, row_group_size=row_group_size)
        paths[name] = path
    return paths


class DuckDBEngine:
    """DuckDB embedded: views over Parquet files (or in-memory Arrow tables)."""

    name = "duckdb"

    def __init__(self, con: Any) -> None:
        self.con = con

    @classmethod
    def from_parquet(cls, episodes: str | Path, visits: str | Path, *,
                     memory_limit: str | None = None, threads: int | None = None
                     ) -> DuckDBEngine:
        """Views over two Parquet files (nothing is read until a query runs)."""
        import duckdb

        con = duckdb.connect()
        if memory_limit:
            con.execute(f"SET memory_limit = '{memory_limit}'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        for name, path in (("episodes", episodes), ("visits", visits)):
            p = str(Path(path)).replace("'", "''")
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{p}')")
        return cls(con)

    @classmethod
    def from_frames(cls, episodes: pd.DataFrame, visits: pd.DataFrame) -> DuckDBEngine:
        """Views over in-memory tables (converted to Arrow once)."""
        import duckdb

        con = duckdb.connect()
        con.register("episodes", to_arrow(episodes, EPISODE_COLUMNS))
        con.register("visits", to_arrow(visits, VISIT_COLUMNS))
        return cls(con)

    def sql(self, query: str) -> pd.DataFrame:
        return self.con.execute(query).fetch_df()

    def close(self) -> None:
        self.con.close()


def local_spark(app: str = "gluteutils", cores: int = 2) -> Any:
    """A small local-mode SparkSession (no UI, few shuffle partitions, Arrow transfers)."""
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(f"local[{cores}]").appName(app)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(cores))
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.driver.memory", "1g")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate())


class SparkEngine:
    """Spark SQL over Parquet files (local mode here; the same text runs on a cluster)."""

    name = "spark"

    def __init__(self, spark: Any, episodes: str | Path, visits: str | Path) -> None:
        self.spark = spark
        for name, path in (("episodes", episodes), ("visits", visits)):
            spark.read.parquet(str(path)).createOrReplaceTempView(name)

    @classmethod
    def from_frames(cls, spark: Any, episodes: pd.DataFrame, visits: pd.DataFrame,
                    folder: str | Path | None = None) -> SparkEngine:
        """Write the frames as Parquet (to ``folder`` or a temporary folder) and view them."""
        folder = Path(folder or tempfile.mkdtemp(prefix="glute-spark-"))
        paths = write_parquet(episodes, visits, folder)
        return cls(spark, paths["episodes"], paths["visits"])

    def sql(self, query: str) -> pd.DataFrame:
        return self.spark.sql(query).toPandas()
