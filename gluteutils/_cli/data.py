"""``gluteutils data make`` (regenerate the synthetic cohort) and ``gluteutils data check FILE``
(validate a data package, CSV or Parquet file; non-zero exit on failure)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("data", help="make or check outcome data")
    data_sub = parser.add_subparsers(dest="data_command", metavar="ACTION")
    make = data_sub.add_parser("make", help="regenerate the synthetic cohort (byte for byte)")
    make.add_argument("--out", type=Path, default=None,
                      help="output folder (default: the shipped data/outcomes)")
    make.add_argument("--n-episodes", type=int, default=None, help="number of episodes")
    make.add_argument("--seed", type=int, default=None, help="random seed")
    make.add_argument("--format", choices=("csv", "parquet"), default="csv")
    make.set_defaults(handler=_make)
    check = data_sub.add_parser("check", help="validate a data package, CSV or Parquet file")
    check.add_argument("file", type=Path,
                       help="datapackage.json, a folder holding one, or one CSV/Parquet table")
    check.add_argument("--resource", choices=("episodes", "visits"), default=None,
                       help="table type of a single file (default: guessed from its name)")
    check.add_argument("--lenient", action="store_true",
                       help="report rejected rows and count the good ones")
    check.add_argument("--max-problems", type=int, default=20, help="problems to print")
    check.set_defaults(handler=_check)
    parser.set_defaults(handler=lambda args: (parser.print_help(), 2)[1])


def _make(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gluteutils import cohort
    from gluteutils._paths import data_path

    out = args.out if args.out is not None else data_path("outcomes")
    n = args.n_episodes if args.n_episodes is not None else cohort.SHIPPED_N_EPISODES
    seed = args.seed if args.seed is not None else cohort.SHIPPED_SEED
    with tqdm(total=1, desc="generating cohort", unit="cohort", file=sys.stderr) as bar:
        paths = cohort.write_cohort(out, n_episodes=n, seed=seed, fmt=args.format)
        bar.update(1)
    for key, path in paths.items():
        print(f"wrote {key}: {path} ({path.stat().st_size} bytes)")
    return 0


def _guess_resource(path: Path) -> str | None:
    name = path.name.lower()
    if "episode" in name:
        return "episodes"
    if "visit" in name:
        return "visits"
    return None


def _check(args: argparse.Namespace) -> int:
    from gluteutils.errors import DataValidationError
    from gluteutils.outcomes import load, load_table

    path: Path = args.file
    report: pd.DataFrame | None
    is_package = path.is_dir() or path.name.endswith(".json")
    try:
        if is_package:
            data = load(path, lenient=args.lenient)
            print(f"{path}: {len(data.episodes)} episodes, {len(data.visits)} visits valid")
            report = data.report
        else:
            resource = args.resource or _guess_resource(path)
            if resource is None:
                print(f"{path}: cannot tell whether this is 'episodes' or 'visits'; "
                      "pass --resource", file=sys.stderr)
                return 2
            frame = load_table(path, resource, lenient=args.lenient)
            print(f"{path}: {len(frame)} valid {resource} rows")
            report = frame.attrs.get("report")
    except DataValidationError as exc:
        print(f"INVALID: {len(exc.problems)} problem(s)")
        for problem in exc.problems[: args.max_problems]:
            print(f"  {problem}")
        if len(exc.problems) > args.max_problems:
            print(f"  ... and {len(exc.problems) - args.max_problems} more")
        return 1
    if report is not None and len(report):
        print(f"REJECTED ROWS: {report['row'].nunique()} row(s), {len(report)} problem(s)")
        for rec in report.head(args.max_problems).itertuples():
            print(f"  {rec.file}, row {rec.row}, column {rec.column!r}: {rec.message} "
                  f"(found {rec.value!r}); expected {rec.expected}")
        return 1
    print("OK")
    return 0
