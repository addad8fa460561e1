"""Query a PyTables table through a column index: build it once (`create_csindex`), and
`where`/`read_where` use it by themselves. Pays off for selective queries asked many
times. Run: python pytables_indexed_where.py [rows]"""

import sys

import tables

from particles import make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
with tables.open_file("particles.h5", "w") as h5:
    table = h5.create_table("/detector", "readout", obj=make_particles(n), createparents=True)
    table.cols.pressure.create_csindex()  # completely sorted index: once, after writing

query = "(20 <= pressure) & (pressure < 50)"
with tables.open_file("particles.h5") as h5:
    table = h5.root.detector.readout
    assert table.will_query_use_indexing(query)  # the index is used
    found = table.read_where(query)
    print(f"{len(found):,} of {table.nrows:,} rows match {query}")
