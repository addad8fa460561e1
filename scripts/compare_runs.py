"""Compare the timings of two results folders: `python scripts/compare_runs.py A B`.

A command-line tool, not a rule: prints the share of stable points (n >= 10^4) whose
medians agree within 15 %, and the largest disagreements (`make compare A=... B=...`).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from outofcore.summary.compare import report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="first results folder (e.g. results)")
    parser.add_argument("b", help="second results folder")
    parser.add_argument("--worst", type=int, default=10, help="disagreements listed (default 10)")
    args = parser.parse_args(argv)
    try:
        print(report(args.a, args.b, args.worst))
    except FileNotFoundError as error:
        print(f"compare_runs: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
