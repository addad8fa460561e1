"""Print a run's headline table: `python scripts/headline_table.py results/summary.csv`.

A command-line tool, not a rule (`make bench` ends with it): every figure of the summary
beside its limit and the fraction, and the contention each job logged (`others_busy`).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pandas as pd

from outofcore.summary.table import headline_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("summary", help="a run's summary.csv (e.g. bench/results/summary.csv)")
    args = parser.parse_args(argv)
    try:
        summary = pd.read_csv(args.summary, dtype={"flags": object})
    except FileNotFoundError as error:
        print(f"headline_table: {error}", file=sys.stderr)
        return 2
    with pd.option_context("display.width", 250, "display.max_colwidth", 90):
        print(headline_text(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
