"""Where the huge array's values come from: the stage's own integers or any data source.

`open_blocks(seed, layout, source)` gives the array's blocks, one at a time, and the
empty reference statistics the job folds them into before they are written.

- The stage's own `uniform_int16` (`hugearray_data.generate_blocks`): the default,
  unchanged.
- Any source of `data:` (`outofcore.data.sources`: a generator, or a user's .npy, HDF5
  dataset, Parquet or CSV columns, through the same refusing readers as the blosc sweep).
  **Columns**: the source's values, flat (C order; table columns one after another), are
  laid out row-major: value k is row k // columns, column k % columns. A (n, columns)
  array keeps its columns; a 1-D signal is spread across them. **Size**: the source made
  rows x columns long, as the sweep makes it to each size: a generator at that size (the
  same values whatever the blocks), a file tiled (repeated from its start).
- **Dtype**: every store holds float64 (its layout, chunks and engines are float64), so
  the values are converted when copied into the block. That is exact for bool, integers
  up to 32 bits and float16/32/64; 64-bit integers are checked block by block to lie
  within +-2**53 (else refused: float64 cannot hold them), longer floats are refused.
  The reference statistics are computed from the values as stored.
- **Memory**: one block of values at a time. A file of at most one block is read once
  and tiled in memory; a larger .npy or HDF5 dataset is read in slices (one or two per
  block); CSV and Parquet are read whole, so they may be at most one block (refused,
  naming the file, otherwise: the config check refuses them by size on disk first).
"""

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from outofcore.data.sources import Source, open_source, periodic, spec_of
from outofcore.hugearray.data import ColumnStats, generate_blocks
from outofcore.hugearray.stores.layout import Layout
from outofcore.plan.hugearray_inputs import EXACT_INTEGERS, OWN_DATA
from outofcore.plan.source_specs import SourceError, SourceSpec


def storable(spec: SourceSpec, dtype: np.dtype) -> None:
    """Refuse a dtype float64 cannot hold exactly at all (longer floats)."""
    if dtype.kind == "f" and dtype.itemsize > 8:
        raise SourceError(spec.key, spec.where, f"{dtype} values do not fit float64, which the stores hold")


def exact_in_float64(spec: SourceSpec, values: np.ndarray) -> np.ndarray:
    """64-bit integers within +-2**53 (as int64), refused naming the file otherwise."""
    if values.dtype.kind not in "iu" or values.dtype.itemsize < 8 or values.size == 0:
        return values
    low, high = int(values.min()), int(values.max())
    if low < -EXACT_INTEGERS or high > EXACT_INTEGERS:
        raise SourceError(
            spec.key,
            spec.where or spec.label,
            f"value {high if high > EXACT_INTEGERS else low} is beyond +-2**53: float64, which the "
            "stores hold, cannot represent every such integer",
        )
    return values.astype(np.int64, copy=False)


def source_reader(source: Source, size: int, block_bytes: int) -> Any:
    """read(start, stop) of the source at `size` elements: a file of at most one block is
    read once and tiled in memory; anything else reads each block from the source."""
    if source.length is not None and source.length * source.dtype.itemsize <= block_bytes:
        whole = source.array(source.length)
        return lambda start, stop: periodic(whole, start, stop)
    return lambda start, stop: source.block(size, start, stop)


def source_blocks(spec: SourceSpec, source: Source, layout: Layout) -> Iterator[np.ndarray]:
    """The array's blocks, (rows, columns), the source's values laid out row-major."""
    columns = layout.columns
    read = source_reader(source, layout.rows * columns, layout.block_nbytes)
    for start, stop in layout.blocks():
        values = exact_in_float64(spec, read(start * columns, stop * columns))
        yield values.reshape(stop - start, columns)


def reference_dtype(dtype: np.dtype) -> type:
    """Integer sources are summed exactly in int64; floats in float64 (with a tolerance)."""
    return np.int64 if dtype.kind in "biu" else np.float64


def open_blocks(
    seed: int, layout: Layout, source: Mapping[str, Any] | None, budget: int | None = None
) -> tuple[Iterator[np.ndarray], ColumnStats]:
    """The blocks of the job's data source (None: the stage's own) and its empty reference
    statistics; a file is opened (and refused, naming it, if unusable) here. `budget`:
    bytes of a file held whole at most (block_mb; default the layout's block)."""
    spec = spec_of(source) if source else SourceSpec(label=OWN_DATA, kind=OWN_DATA, key="hugearray.data")
    if spec.kind == OWN_DATA:
        return generate_blocks(seed, layout), ColumnStats(layout.columns, dtype=np.int64)
    opened = open_source(spec, seed, max_bytes=budget or layout.block_nbytes)
    storable(spec, opened.dtype)
    return source_blocks(spec, opened, layout), ColumnStats(
        layout.columns, dtype=reference_dtype(opened.dtype)
    )
