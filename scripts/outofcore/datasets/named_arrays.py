"""Stage 1 of the tutorial: named random integer arrays in one HDF5 file (h5py).

Writes every configured array, lists the file back (the tutorial's listing, on h5py 3:
`ds[()]`/`ds.shape` instead of the removed `ds.value`) and reads a slice of each dataset
without loading it whole.
"""

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from outofcore.core.files import atomic_output, reading
from outofcore.core.seeding import rng_for
from outofcore.safety.hdf5 import refuse_foreign_layout

BLOCK = 1 << 20  # elements per block when reading back: bounded memory for any size


def draw_array(seed: int, name: str, low: int, high: int, size: int) -> np.ndarray:
    """Ints uniform in [low, high] inclusive, from the generator keyed by `name`."""
    return rng_for(seed, name).integers(low, high, size=size, endpoint=True, dtype=np.int64)


def write_datasets(path: str | Path, arrays: Sequence[Mapping[str, Any]], seed: int) -> None:
    """Write every array spec ({name, low, high, size}) at its name (groups created)."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as h5:
        for spec in arrays:
            data = draw_array(seed, spec["name"], spec["low"], spec["high"], spec["size"])
            # chunked with Fletcher-32 checksums: a corrupted block is an error on read,
            # never a silently wrong value; no timestamps: same config, same bytes
            h5.create_dataset(spec["name"], data=data, chunks=True, fletcher32=True, track_times=False)


def iter_datasets(h5: h5py.File) -> Iterator[tuple[str, h5py.Dataset]]:
    """Every dataset in the file with its full name, in name order."""
    found: list[tuple[str, h5py.Dataset]] = []
    h5.visititems(lambda name, obj: found.append((name, obj)) if isinstance(obj, h5py.Dataset) else None)
    yield from found


def blocks(ds: h5py.Dataset) -> Iterator[np.ndarray]:
    """The dataset in consecutive blocks read from disk, never the whole array at once."""
    for start in range(0, ds.shape[0], BLOCK):
        yield ds[start : start + BLOCK]


def open_checked(path: str | Path) -> h5py.File:
    """The file, once every dataset is known to be what `write_datasets` makes: chunked and
    checksummed, all its bytes in this file (no external, virtual or linked data)."""
    refuse_foreign_layout(path, checksummed=True, complete=True)  # h5py never unpickles: attributes may stay
    return h5py.File(path, "r")


def summarize(path: str | Path) -> pd.DataFrame:
    """One row per dataset read back from the file: dataset,size,dtype,min,max,mean."""
    rows = []
    with reading(path), open_checked(path) as h5:
        for name, ds in iter_datasets(h5):
            lo, hi, total = None, None, 0.0
            for block in blocks(ds):
                lo = block.min() if lo is None else min(lo, block.min())
                hi = block.max() if hi is None else max(hi, block.max())
                total += float(block.sum(dtype=np.float64))
            rows.append(
                {
                    "dataset": name,
                    "size": ds.shape[0],
                    "dtype": str(ds.dtype),
                    "min": int(lo),
                    "max": int(hi),
                    "mean": total / ds.shape[0],
                }
            )
    return pd.DataFrame(rows, columns=["dataset", "size", "dtype", "min", "max", "mean"])


def partial_read(path: str | Path, start: int, stop: int) -> pd.DataFrame:
    """The slice [start, stop) of every dataset, read by h5py slicing (no full load)."""
    rows = []
    with reading(path), open_checked(path) as h5:
        for name, ds in iter_datasets(h5):
            values = ds[start:stop]  # a hyperslab read: only these elements leave the disk
            rows += [{"dataset": name, "index": start + i, "value": int(v)} for i, v in enumerate(values)]
    return pd.DataFrame(rows, columns=["dataset", "index", "value"])
