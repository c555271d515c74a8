"""``gluteutils notebooks rebuild``: re-execute every notebook in place."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("notebooks", help="work with the notebook collection")
    nb_sub = parser.add_subparsers(dest="notebooks_command", metavar="ACTION")
    rebuild = nb_sub.add_parser(
        "rebuild", help="re-execute notebooks in place (fresh kernel, seeded, no widget state)"
    )
    rebuild.add_argument("names", nargs="*", help="notebook files or name fragments (default: all)")
    rebuild.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    rebuild.set_defaults(handler=_rebuild)


def _rebuild(args: argparse.Namespace) -> int:
    from gluteutils.notebooks import rebuild

    for path, seconds in rebuild(args.names, timeout=args.timeout):
        print(f"executed {path.name} in {seconds:.1f} s")
    return 0
