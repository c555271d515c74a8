"""Print the questionnaire's audit on the project's vignettes, beside the published audits.

Usage: ``.venv/bin/python scripts/triage_accuracy.py [--details] [--calibrate]``

Every figure comes with a Wilson 95% confidence interval (Wilson 1927). ``--calibrate``
prints the fit (evidence for the best cause) of the vignettes inside and outside the list,
which is how ``FIT_MIN_LR`` in ``gluteutils/triage/engine.py`` was chosen.
"""

from __future__ import annotations

import argparse
import math

from gluteutils.triage import (
    FIT_THRESHOLD,
    accuracy_summary,
    evaluate_vignettes,
    published_anchors,
    sourced_share,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--details", action="store_true", help="also print every vignette")
    parser.add_argument("--calibrate", action="store_true",
                        help="print the fit of vignettes inside / outside the list")
    args = parser.parse_args()
    table = evaluate_vignettes()
    summary = accuracy_summary(table)
    print(f"Vignettes: {len(table)} ({int(table['red_flag_expected'].sum())} with a red flag, "
          f"{int(table['ambiguous'].sum())} marked ambiguous, "
          f"{int(table['expected_cannot_tell'].sum())} outside the list)")
    for metric, row in summary.iterrows():
        print(f"{metric}: {row['value']:.1%} ({int(row['successes'])}/{int(row['n'])}; "
              f"95% CI {row['ci_low']:.1%} to {row['ci_high']:.1%})")
    print("\nPublished anchors:")
    for _, row in published_anchors().iterrows():
        print(f"  {row['source']} ({row['who']}): {row['metric']} {row['value']:.1%}")
    share = sourced_share()
    print(f"\nWeights with a published figure: {share['sourced']} of {share['weights']} "
          f"({share['share']:.1%}); the rest are expert_judgement")
    if args.calibrate:
        inside = table[table["expected_top"].notna()]["fit"]
        outside = table[table["expected_cannot_tell"]]["fit"]
        print(f"\nfit threshold ln(LR) = {FIT_THRESHOLD:.3f} (LR {math.exp(FIT_THRESHOLD):g}); "
              f"inside the list min {inside.min():.3f}, outside max {outside.max():.3f}")
    if args.details:
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
