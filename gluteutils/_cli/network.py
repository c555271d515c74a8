"""``gluteutils network summarise|pool``: federated pooling across clinics (aggregates only).

Round 1 at each clinic: ``gluteutils network summarise EXPORT --mapping M --site NAME -o
site.json`` (EXPORT a clinic export read through the mapping and anonymised, or a data-package
folder without ``--mapping``). The coordinating centre: ``gluteutils network pool site*.json
-o pooled.json`` writes the pooled counts and coefficients. Round 2 at each clinic:
``summarise ... --betas pooled.json -o site.r2.json`` adds the HC1 meat; ``pool`` on all files
then reports HC1 standard errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("network", help="federated pooling across clinics (aggregates only)")
    nsub = parser.add_subparsers(dest="network_command", metavar="STEP")
    s = nsub.add_parser("summarise", help="one clinic's disclosure-checked aggregate file")
    s.add_argument("export", type=Path, help="clinic export (CSV) or data-package folder")
    s.add_argument("--mapping", type=Path, default=None, help="column mapping (YAML)")
    s.add_argument("--site", required=True, help="the clinic's name in the network")
    s.add_argument("--betas", type=Path, default=None,
                   help="pooled.json from round 1: add the round-2 residual statistics")
    s.add_argument("--threshold", type=int, default=5, help="small-cell threshold (5)")
    s.add_argument("-o", "--output", type=Path, required=True, help="aggregate file (JSON)")
    s.set_defaults(handler=_summarise)
    p = nsub.add_parser("pool", help="pool clinics' aggregate files")
    p.add_argument("files", type=Path, nargs="+", help="site aggregate files (JSON)")
    p.add_argument("--site-effects", action="store_true", help="one intercept per site")
    p.add_argument("-o", "--output", type=Path, required=True, help="pooled result (JSON)")
    p.set_defaults(handler=_pool)
    parser.set_defaults(handler=lambda a: parser.print_help() or 2)


def _engine(args: argparse.Namespace) -> Any:
    from gluteutils.outcomes import load
    from gluteutils.outcomes.engines import DuckDBEngine

    if args.mapping is None:
        data = load(args.export)
    else:
        from gluteutils.outcomes.anonymise import anonymise

        data = anonymise(args.export, args.mapping).data
    return DuckDBEngine.from_frames(data.episodes, data.visits)


def _summarise(args: argparse.Namespace) -> int:
    from gluteutils.errors import GluteError
    from gluteutils.outcomes.engines import federated as fed

    try:
        engine = _engine(args)
        previous = (json.loads(args.output.read_text(encoding="utf-8"))
                    if args.betas is not None and args.output.exists() else None)
        if previous is not None and previous.get("site") == args.site:
            out = previous  # round 2 adds to this site's round-1 file
        else:
            out = fed.site_summary(engine, args.site, threshold=args.threshold)
        if args.betas is not None:
            pooled = json.loads(args.betas.read_text(encoding="utf-8"))
            betas = {c: {int(i): float(b) for i, b in v.items()}
                     for c, v in pooled["site_betas"][args.site].items()}
            out["residuals"] = fed.site_residuals(engine, args.site, betas)["residuals"]
            out["residual_betas"] = pooled["site_betas"][args.site]
    except (GluteError, ValueError, OSError, KeyError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    args.output.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.output}: site {args.site}, {out['suppressed_cells']} cell(s) "
          "suppressed, no row-level data")
    return 0


def _pool(args: argparse.Namespace) -> int:
    from gluteutils.errors import GluteError
    from gluteutils.outcomes.engines import federated as fed

    try:
        sums = [json.loads(f.read_text(encoding="utf-8")) for f in args.files]
        for s in sums:
            fed.check_disclosure(s)
        result = fed.pool_files(sums, site_effects=args.site_effects)
    except (GluteError, ValueError, OSError, KeyError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    kind = "HC1" if result["ancova_cov_type"] == "HC1" else "classical (run round 2 for HC1)"
    print(f"pooled {len(sums)} site(s); ANCOVA standard errors: {kind}; wrote {args.output}")
    return 0
