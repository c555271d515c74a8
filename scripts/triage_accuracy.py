"""Print the questionnaire's accuracy on the project's vignettes (for the closing note).

Usage: ``.venv/bin/python scripts/triage_accuracy.py [--details]``
"""

from __future__ import annotations

import argparse

from gluteutils.triage import accuracy_summary, evaluate_vignettes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--details", action="store_true", help="also print every vignette")
    args = parser.parse_args()
    table = evaluate_vignettes()
    summary = accuracy_summary(table)
    print(f"Vignettes: {len(table)} ({int(table['red_flag_expected'].sum())} with a red flag, "
          f"{int(table['ambiguous'].sum())} marked ambiguous)")
    for metric, row in summary.iterrows():
        print(f"{metric}: {row['value']:.1%} (n={int(row['n'])})")
    if args.details:
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
