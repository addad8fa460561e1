"""Store a table with pandas' HDFStore (`format="table"`, queryable columns as
`data_columns`). Run: python hdfstore_write.py [rows]"""

import sys

import pandas as pd

from particles import make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
records = make_particles(n)
frame = pd.DataFrame({name: records[name] for name in records.dtype.names})
frame["name"] = frame["name"].str.decode("ascii")  # HDFStore stores str, not bytes

frame.to_hdf("particles_store.h5", key="readout", mode="w", format="table",
             data_columns=["pressure", "energy"])  # fmt: skip
print(pd.read_hdf("particles_store.h5", "readout", stop=3))
