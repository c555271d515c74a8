"""``gluteutils`` on the command line.

Each part of the collection registers its own sub-commands in ``gluteutils/_cli/<part>.py``
(a module with ``register(subparsers)``), imported lazily here so the CLI starts fast:

* ``gluteutils data make`` / ``gluteutils data check FILE`` - the outcome data (cohort);
* ``gluteutils anonymise IN OUT --mapping M`` - anonymise a clinic export (privacy);
* ``gluteutils triage answers.json`` - the symptom questionnaire without widgets;
* ``gluteutils notebooks rebuild`` - re-execute every notebook in place;
* ``gluteutils network summarise|pool`` - federated pooling across clinics.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from gluteutils import __version__

#: Modules under ``gluteutils._cli`` that register sub-commands, in help order.
COMMAND_MODULES: tuple[str, ...] = ("data", "privacy", "triage", "notebooks", "network")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every available sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="gluteutils", description="Glute Notebooks helper commands."
    )
    parser.add_argument("--version", action="version", version=f"gluteutils {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"gluteutils._cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"gluteutils._cli.{name}":
                continue  # that part of the collection is not installed yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return int(handler(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
