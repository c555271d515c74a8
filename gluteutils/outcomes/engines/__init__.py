"""One analysis layer, several engines: DuckDB (default, out of core on Parquet), Spark.

* :mod:`~gluteutils.outcomes.engines.sql` - the queries, written once;
* :mod:`~gluteutils.outcomes.engines.backends` - DuckDB and Spark engines;
* :mod:`~gluteutils.outcomes.engines.fit` - ANCOVA (HC1) and GEE from sufficient statistics;
* :mod:`~gluteutils.outcomes.engines.explorer` - the explorer's aggregates from cubes;
* :mod:`~gluteutils.outcomes.engines.analysis` - Table 1, ANCOVA, repeated measures;
* :mod:`~gluteutils.outcomes.engines.federated` - site summaries and pooling;
* :mod:`~gluteutils.outcomes.engines.reference` - the pandas reference.

Everything here returns raw aggregates; publish through :mod:`gluteutils.privacy`.
"""

from gluteutils.outcomes.engines.analysis import (
    ancova,
    repeated_measures,
    table_one_counts,
    table_one_summary,
)
from gluteutils.outcomes.engines.backends import DuckDBEngine, SparkEngine, write_parquet
from gluteutils.outcomes.engines.explorer import compute_cubes, explorer_counts

__all__ = ["DuckDBEngine", "SparkEngine", "ancova", "compute_cubes", "explorer_counts",
           "repeated_measures", "table_one_counts", "table_one_summary", "write_parquet"]
