"""Benchmark: explorer update (filter + aggregation + figure update) vs DuckDB, same data, same run.

For 100 thousand and 1 million synthetic episodes (``cohort.generate``) this script times

* ``Explorer(...)``: the once-per-dataset precomputation;
* one explorer update = ``Explorer.update(filters)`` + in-place update of the three figures
  (``plots.outcomes.update_*`` on ``go.Figure`` objects; no browser);
* the same aggregations in DuckDB over the same precomputed per-episode / per-visit columns
  (denormalised tables registered from pandas): visit means/SD/count per therapy x time bin,
  responder counts and mean pain per therapy, event/censoring counts per therapy x day.

and prints median milliseconds over a set of typical filter changes and the ratio
explorer / DuckDB. Goal (issue 4): <= 100 ms at 100k, <= 1 s at 1M, within 2x of DuckDB.

Run: ``.venv/bin/python benchmarks/bench_explorer.py [--sizes 100000 1000000] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import duckdb
import numpy as np
import pandas as pd

from gluteutils import cohort
from gluteutils.outcomes.explorer import Explorer, Filters
from gluteutils.outcomes.schema import AGE_BANDS, CONDITIONS, SEXES, THERAPIES
from gluteutils.plots import outcomes as plots

FILTERS = [
    Filters("sciatica_disc"),
    Filters("gluteal_tendinopathy", sexes=("female",)),
    Filters("doms", therapies=("myotherapy_massage", "home_self_care", "physiotherapy")),
    Filters("piriformis_syndrome", age_bands=("40-49", "50-59")),
    Filters("sciatica_disc", outcome="function_lefs", sexes=("male",)),
]


def duckdb_tables(ex: Explorer) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The explorer's precomputed arrays as two denormalised tables (same inputs for DuckDB)."""
    ep = pd.DataFrame({
        "cond": ex._cond, "therapy": ex._therapy, "age": ex._age, "sex": ex._sex,
        "base": ex._baseline, "review": ex._review, "has_review": ex._has_review,
        "responder": ex._responder.astype(np.int8), "duration": ex._duration,
        "event": ex._event.astype(np.int8)})
    v = ex._v_ep
    vis = pd.DataFrame({"cond": ex._cond[v], "therapy": ex._therapy[v], "age": ex._age[v],
                        "sex": ex._sex[v], "bin": ex._v_bin,
                        "pain_nprs": ex._v_values["pain_nprs"],
                        "function_lefs": ex._v_values["function_lefs"]})
    return ep, vis


def _where(f: Filters) -> str:
    parts = [f"cond = {CONDITIONS.index(f.condition)}"]
    for sel, allowed, col in ((f.therapies, THERAPIES, "therapy"), (f.age_bands, AGE_BANDS, "age"),
                              (f.sexes, SEXES, "sex")):
        if sel:
            parts.append(f"{col} IN ({', '.join(str(allowed.index(s)) for s in sel)})")
    return " AND ".join(parts)


def duckdb_update(con: duckdb.DuckDBPyConnection, f: Filters) -> tuple[pd.DataFrame, ...]:
    w = _where(f)
    traj = con.execute(
        f"SELECT therapy, bin, count(*) AS n, avg({f.outcome}) AS mean, "
        f"stddev_samp({f.outcome}) AS sd FROM vis WHERE {w} AND {f.outcome} IS NOT NULL "
        "GROUP BY therapy, bin").df()
    resp = con.execute(
        "SELECT therapy, count(*) AS n, sum(has_review::INT) AS n_review, "
        "sum(responder * has_review::INT) AS responders, avg(base) AS base, "
        f"avg(review) AS review FROM ep WHERE {w} GROUP BY therapy").df()
    km = con.execute(
        f"SELECT therapy, duration, sum(event) AS events, count(*) AS n FROM ep WHERE {w} "
        "GROUP BY therapy, duration").df()
    return traj, resp, km


def explorer_update(ex: Explorer, figs: dict[str, object], f: Filters) -> None:
    view = ex.update(f)
    plots.update_trajectory(figs["trajectory"], view.trajectory)  # type: ignore[arg-type]
    plots.update_responders(figs["responders"], view.responders)  # type: ignore[arg-type]
    plots.update_km(figs["km"], view.km, view.at_risk)  # type: ignore[arg-type]


def _median_ms(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for f in FILTERS:
        fn(f)  # warm-up for this filter
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(f)
            times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def run(size: int, repeats: int) -> dict[str, float]:
    t0 = time.perf_counter()
    data = cohort.generate(size, seed=1)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ex = Explorer.from_data(data)
    pre_s = time.perf_counter() - t0
    view = ex.update(FILTERS[0])
    figs = {"trajectory": plots.trajectory_figure(view.trajectory, levels=THERAPIES),
            "responders": plots.responder_figure(view.responders),
            "km": plots.km_figure(view.km, view.at_risk, levels=THERAPIES)}
    aggregate_ms = _median_ms(ex.update, repeats)
    update_ms = _median_ms(lambda f: explorer_update(ex, figs, f), repeats)
    ep, vis = duckdb_tables(ex)
    con = duckdb.connect()
    con.register("ep_df", ep)
    con.register("vis_df", vis)
    con.execute("CREATE TABLE ep AS SELECT * FROM ep_df")
    con.execute("CREATE TABLE vis AS SELECT * FROM vis_df")
    threads = con.execute("SELECT current_setting('threads')").fetchone()
    duck_ms = _median_ms(lambda f: duckdb_update(con, f), repeats)
    con.close()
    return {"episodes": size, "visits": len(data.visits), "generate_s": gen_s,
            "precompute_s": pre_s, "aggregate_ms": aggregate_ms, "update_ms": update_ms,
            "duckdb_ms": duck_ms, "duckdb_threads": float(threads[0]) if threads else 0.0,
            "ratio": update_ms / duck_ms, "ratio_aggregate": aggregate_ms / duck_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("aggregate = Explorer.update only; update = aggregate + in-place figure update;\n"
          "ratios are explorer / DuckDB (DuckDB does the aggregation only, no figures)")
    print(f"{'episodes':>10} {'visits':>9} {'precompute s':>12} {'aggregate ms':>12} "
          f"{'update ms':>10} {'duckdb ms':>10} {'agg/duck':>8} {'upd/duck':>8}  goal")
    for size in args.sizes:
        r = run(size, args.repeats)
        goal_ms = 100 if size <= 100_000 else 1000
        ok = r["update_ms"] <= goal_ms and r["ratio"] <= 2.0
        print(f"{size:>10} {int(r['visits']):>9} {r['precompute_s']:>12.2f} "
              f"{r['aggregate_ms']:>12.1f} {r['update_ms']:>10.1f} {r['duckdb_ms']:>10.1f} "
              f"{r['ratio_aggregate']:>8.2f} {r['ratio']:>8.2f}  <= {goal_ms} ms and <= 2x DuckDB: "
              f"{'met' if ok else 'NOT met'} (DuckDB threads: {int(r['duckdb_threads'])})")


if __name__ == "__main__":
    main()
