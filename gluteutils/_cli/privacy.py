"""``gluteutils anonymise IN OUT --mapping M``: anonymise a clinic export into a data package."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("anonymise", help="anonymise a clinic export (k-anonymity, no ids)")
    parser.add_argument("input", type=Path, help="the clinic's export (CSV)")
    parser.add_argument("output", type=Path, help="output folder (a data package)")
    parser.add_argument("--mapping", type=Path, required=True,
                        help="column mapping (YAML), e.g. data/mappings/demo_clinic.yaml")
    parser.add_argument("--k", type=int, default=5, help="target k-anonymity (default 5)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed for the random ids (default: fresh entropy)")
    parser.set_defaults(handler=_anonymise)


def _anonymise(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gluteutils.errors import DataValidationError, GluteError, PrivacyError
    from gluteutils.outcomes.anonymise import anonymise
    from gluteutils.outcomes.io import write_package

    steps = tqdm(total=3, desc="anonymising", unit="step", file=sys.stderr)
    try:
        result = anonymise(args.input, args.mapping, k=args.k, seed=args.seed)
    except (DataValidationError, PrivacyError) as exc:
        steps.close()
        print(f"FAILED: {exc}")
        return 1
    except (GluteError, ValueError, OSError) as exc:  # bad mapping, --k 0, unreadable file
        steps.close()
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    steps.update(1)
    out: Path = args.output
    steps.update(1)
    # write_package declares each outcome column's instrument (e.g. a 0-100 VAS), so the
    # package loads back on its own scale instead of being checked as NPRS 0-10.
    write_package(result.data, out, name="glute-outcomes-anonymised",
                  title="Anonymised clinic outcome data",
                  description=f"Anonymised with gluteutils from a clinic export; "
                              f"{result.summary()}")
    steps.update(1)
    steps.close()
    print(result.summary())
    for rec in result.actions.to_dict("records"):
        what = rec["column"] if isinstance(rec["column"], str) else "whole record"
        print(f"  step {rec['step']}: {rec['action']} ({what}) for {rec['records']} record(s)")
    print(f"dropped export columns: {', '.join(result.dropped_columns)}")
    print(f"wrote {out}")
    return 0
