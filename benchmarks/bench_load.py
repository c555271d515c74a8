"""Benchmark: load + validate visit tables of 1 million and 10 million rows.

For each size, a synthetic visits CSV is generated once (``gluteutils.cohort``), then each
method runs in its own fresh Python process (so peak memory is measured per method) in the same
benchmark run:

* ``pyarrow``  - plain typed ``pyarrow.csv.read_csv`` + ``to_pandas`` (baseline),
* ``pandas``   - plain ``pandas.read_csv`` with explicit dtypes (baseline),
* ``gluteutils`` - ``gluteutils.outcomes.load_table(file, "visits")``: typed read + every
  schema check + categoricals.

Printed: seconds, peak RSS (MB) of the process, and the ratio vs each baseline.
Goal (issue 3): validation costs at most 2x a plain typed read; 10 million rows fit in 4 GB.

Usage::

    .venv/bin/python benchmarks/bench_load.py                     # small default (200k rows)
    .venv/bin/python benchmarks/bench_load.py --rows 1000000 10000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VISITS_PER_EPISODE = 6.9  # about, in the synthetic cohort


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; reset by exec, unlike ru_maxrss which a
    child inherits from the process that forked it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(method: str, file: str) -> None:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if method == "idle":
        t0 = time.perf_counter()
        n = 0
    elif method == "pyarrow":
        types = {"episode_id": pa.string(), "visit_day": pa.int32(), "visit_type": pa.string(),
                 "pain_nprs": pa.int32(), "function_lefs": pa.int32(), "grc": pa.int32()}
        t0 = time.perf_counter()
        table = pacsv.read_csv(file, convert_options=pacsv.ConvertOptions(column_types=types))
        frame = table.to_pandas()
        n = len(frame)
    elif method == "pandas":
        dtypes = {"episode_id": "string[pyarrow]", "visit_day": "int32", "visit_type": "category",
                  "pain_nprs": "int16", "function_lefs": "Int16", "grc": "Int16"}
        t0 = time.perf_counter()
        frame = pd.read_csv(file, dtype=dtypes)
        n = len(frame)
    elif method == "gluteutils":
        from gluteutils.outcomes import load_table

        t0 = time.perf_counter()
        frame = load_table(file, "visits")
        n = len(frame)
    elif method == "gluteutils-bad-cell":  # the same file with one bad pain score
        from gluteutils.errors import DataValidationError
        from gluteutils.outcomes import load_table

        t0 = time.perf_counter()
        try:
            load_table(file, "visits")
        except DataValidationError as err:
            seconds = time.perf_counter() - t0
            first = err.problems[0]
            print(json.dumps({"method": method, "rows": 0, "seconds": seconds,
                              "peak_mb": _peak_rss_mb(), "found": [first.row, first.column],
                              "problems": len(err.problems)}))
            return
        raise SystemExit("the bad cell was not found")
    else:
        raise SystemExit(f"unknown method {method}")
    seconds = time.perf_counter() - t0
    peak_mb = _peak_rss_mb()
    print(json.dumps({"method": method, "rows": n, "seconds": seconds, "peak_mb": peak_mb}))


def _with_one_bad_cell(path: Path) -> tuple[Path, int]:
    """A copy of ``path`` whose middle data row has pain_nprs 11 (outside 0-10)."""
    with open(path, encoding="utf-8") as fh:
        header = fh.readline()
        n = sum(1 for _ in fh)
    target = n // 2 + 1  # 1-based data row
    col = header.rstrip("\n").split(",").index("pain_nprs")
    bad = path.with_name(path.stem + "_bad.csv")
    with open(path, encoding="utf-8") as src, open(bad, "w", encoding="utf-8") as out:
        out.write(src.readline())
        for i, line in enumerate(src, start=1):
            if i == target:
                cells = line.rstrip("\n").split(",")
                cells[col] = "11"
                line = ",".join(cells) + "\n"
            out.write(line)
    return bad, target


def _run(method: str, file: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", method, str(file)],
                         check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000],
                        help="approximate visit rows per run (default 200000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per method (best kept)")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    from tqdm import tqdm

    from gluteutils import cohort
    from gluteutils.outcomes.io import write_table

    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            n_episodes = max(1, int(rows / VISITS_PER_EPISODE))
            t0 = time.perf_counter()
            data = cohort.generate(n_episodes, 1)
            path = Path(tmp) / f"visits_{rows}.csv"
            write_table(data.visits, path)
            n_rows = len(data.visits)
            del data
            bad_path, bad_row = _with_one_bad_cell(path)
            print(f"\n== {n_rows:,} visit rows ({path.stat().st_size / 1e6:.0f} MB CSV; "
                  f"generated + written in {time.perf_counter() - t0:.1f} s)")
            results: dict[str, dict[str, float]] = {}
            methods = ["idle", "pyarrow", "pandas", "gluteutils", "gluteutils-bad-cell"]
            for method in tqdm(methods * args.repeat, desc="methods", file=sys.stderr):
                res = _run(method, bad_path if method.endswith("bad-cell") else path)
                best = results.get(method)
                if best is None or res["seconds"] < best["seconds"]:
                    results[method] = res
            for method in methods[1:]:
                r = results[method]
                print(f"{method:>11}: {r['seconds']:7.2f} s   peak RSS {r['peak_mb']:7.0f} MB")
            g = results["gluteutils"]
            for base in ("pyarrow", "pandas"):
                b = results[base]
                print(f"ratio gluteutils / {base:<7}: time {g['seconds'] / b['seconds']:.2f}x, "
                      f"peak memory {g['peak_mb'] / b['peak_mb']:.2f}x")
            bad = results["gluteutils-bad-cell"]
            print(f"one bad cell (data row {bad_row}, pain_nprs = 11): found at row "
                  f"{bad['found'][0]}, column {bad['found'][1]!r} in {bad['seconds']:.2f} s, "
                  f"peak {bad['peak_mb']:.0f} MB; ratio to the clean load: time "
                  f"{bad['seconds'] / g['seconds']:.2f}x, peak memory "
                  f"{bad['peak_mb'] / g['peak_mb']:.2f}x")
            print(f"(idle interpreter peak RSS {results['idle']['peak_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
