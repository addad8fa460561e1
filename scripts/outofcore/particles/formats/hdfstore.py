"""pandas' HDFStore: the particle records as a `format="table"` store, the queried
columns as `data_columns` (the only ones its `where` can test), read by `HDFStore.select`.

Untrusted files: the file is refused if its attributes hold a code-running pickle
(PyTables, under pandas, unpickles them on opening).
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from outofcore.particles.engines import to_hdfstore
from outofcore.particles.formats.common import pandas_frame
from outofcore.particles.formats.table_format import Engine, TableFormat, WriteOptions, Writer
from outofcore.particles.table import PARTICLE_DTYPE
from outofcore.plan.query import Query, QueryError, columns_of
from outofcore.safety.hdf5 import refuse_unsafe

HDFSTORE_KEY = "detector/readout"  # the PyTables table's path, as a pandas key
NAME_BYTES = PARTICLE_DTYPE["name"].itemsize  # every name is this wide


def write_hdfstore(path: str | Path, records: np.ndarray, query: Query) -> None:
    """pandas' HDFStore as its docs advise for a bulk write: `format="table"` (the only
    one `where` can query), the queried columns as data columns (the only ones its `where`
    can test), no index during the write (`index=False`: built afterwards, timed apart
    like PyTables'), the names' width given (`min_itemsize`). No times in the file: same
    rows, same bytes."""
    frame = pandas_frame(records)
    with pd.HDFStore(path, mode="w") as store:
        store.put(
            HDFSTORE_KEY,
            frame,
            format="table",
            data_columns=columns_of(query),
            index=False,
            min_itemsize={"name": NAME_BYTES},
            track_times=False,
        )


def write_hdfstore_default(path: str | Path, records: np.ndarray, query: Query) -> None:
    """What a newcomer types to query the frame later: `to_hdf` in the table format with
    the queried columns as data columns, pandas indexing them as it writes."""
    pandas_frame(records).to_hdf(path, key=HDFSTORE_KEY, format="table", data_columns=columns_of(query))


def queries(path: Path, query: Query, threads: int) -> dict[str, Callable[[], Any]]:
    """`HDFStore.select` (pandas' read_hdf with `where`); none when its `where` cannot
    express the query (two columns compared)."""
    refuse_unsafe(path)  # pandas opens it with PyTables, which unpickles attributes
    try:
        where = to_hdfstore(query)
    except QueryError:
        return {}
    return {"hdfstore": lambda: pd.read_hdf(path, HDFSTORE_KEY, where=where)}


def _tuned(path: Path, records: np.ndarray, options: WriteOptions) -> None:
    write_hdfstore(path, records, options.query)


def _default(path: Path, records: np.ndarray, options: WriteOptions) -> None:
    write_hdfstore_default(path, records, options.query)


FORMAT = TableFormat(
    name="hdfstore",
    file="table_hdfstore.h5",
    title="HDFStore",
    writers=(  # the first writes table_hdfstore.h5, the file HDFStore.select queries
        Writer(
            "hdfstore_write",
            "tuned",
            "HDFStore format=table (tuned)",
            _tuned,
            'store.put(key, frame, format="table", data_columns=[...], index=False, '
            'min_itemsize={"name": 16})',
        ),
        Writer(
            "hdfstore_write",
            "default",
            "HDFStore format=table (default)",
            _default,
            'frame.to_hdf(path, key=key, format="table", data_columns=[...])',
        ),
    ),
    engines=(
        Engine(
            "hdfstore",
            "HDFStore.select",
            "HDFStore.select (pandas)",
            "HDFStore.select",
            "HDFStore.select query",
        ),
    ),
    queries=queries,
)
