"""Query pandas' HDFStore: `select` with a `where` on the `data_columns`.
Run: python hdfstore_select.py [rows]"""

import sys

import pandas as pd

from particles import make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
records = make_particles(n)
frame = pd.DataFrame({name: records[name] for name in records.dtype.names})
frame["name"] = frame["name"].str.decode("ascii")  # HDFStore stores str, not bytes
frame.to_hdf("particles_store.h5", key="readout", mode="w", format="table", data_columns=["pressure"])

with pd.HDFStore("particles_store.h5", mode="r") as store:
    found = store.select("readout", where="(pressure >= 20) & (pressure < 50)")
print(f"{len(found):,} of {n:,} rows match")
