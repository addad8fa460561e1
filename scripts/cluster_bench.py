"""The dask_distributed benchmark: `python scripts/cluster_bench.py <table.csv>`.

A command-line tool, not a rule (`make bench` runs it after the workflow): reduce GB/s
against the number of worker processes (1, 2, 4, ... up to the cores) beside the threads
engine, each worker's peak RSS, per array size and store (outofcore.hugearray.cluster_bench).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pandas as pd

from outofcore.core.files import write_csv
from outofcore.hugearray.cluster_bench import rss_growth, sweep


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", help="the CSV to write (its folder also holds the temporary stores)")
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--backends", nargs="+", default=["h5py", "zarr"])
    parser.add_argument("--cores", type=int, default=None, help="the largest worker count (default: all)")
    args = parser.parse_args(argv)
    table = Path(args.table)
    frame = sweep(table.parent / "cluster_bench", args.sizes_mb, args.backends, args.cores)
    write_csv(frame, table)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(frame.round(3).to_string(index=False))
        if len(args.sizes_mb) > 1:
            print(rss_growth(frame).round(1).to_string(index=False))
    return 0


if __name__ == "__main__":  # dask's worker processes import this file again as __mp_main__
    sys.exit(main())
