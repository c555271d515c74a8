"""``gluteutils triage answers.json``: the symptom questionnaire without widgets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "triage", help="assess questionnaire answers (JSON: question id -> answer)",
        description="Assess buttock-pain questionnaire answers: red flags first, then ranked "
                    "likely causes, self-care plan and service. Educational, not a diagnosis.")
    parser.add_argument("answers", help="JSON file with an object of question id -> answer "
                                        "(null or missing = unknown)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="output format (default: text)")
    parser.set_defaults(handler=_triage)


def _triage(args: argparse.Namespace) -> int:
    from gluteutils.errors import GluteError
    from gluteutils.triage import assess

    path = Path(args.answers)
    try:
        answers = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"error: {path}: not valid JSON ({exc})", file=sys.stderr)
        return 2
    if not isinstance(answers, dict):
        print(f"error: {path}: expected a JSON object of question id -> answer",
              file=sys.stderr)
        return 2
    try:
        result = assess(answers)
    except GluteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    elif args.format == "markdown":
        print(result.to_markdown())
    else:
        print(result.to_text())
    return 0
