"""Where the huge array's values come from: the stage's own integers or any data source.

`open_blocks(seed, layout, source)` gives the array's blocks, one at a time, and the
empty reference statistics the job folds them into before they are written.

- The stage's own `uniform_int16` (`hugearray_data.generate_blocks`): the default,
  unchanged.
- Any source of `data:` (`outofcore.data.sources`: a generator, or a user's .npy, HDF5
  dataset, Parquet or CSV columns, through the same refusing readers as the blosc sweep).
  **Columns**: a source with columns of its own (CSV or Parquet columns, a 2-D array, in
  C or Fortran order) keeps them: the array has the file's columns (`hugearray.columns`
  is for the other sources), row r is the file's row r modulo its rows. Any other source's
  values, flat, are laid out row-major: value k is row k // columns, column k % columns.
  **Size**: rows x columns, as the sweep makes it to each size: a generator at that size
  (the same values whatever the blocks), a file tiled (repeated from its start).
- **Missing values** (`outofcore.data.readers`: NaN, nulls, CSV markers, HDF5/NetCDF fill
  values) are NaN in the store; a missing integer travels as 0 with its mask until then.
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

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from outofcore.data.readers import FileTable
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


Block = tuple[np.ndarray, np.ndarray | None]  # (rows, columns) values, the missing integers


def file_rows(table: FileTable, block_bytes: int) -> Callable[[int, int], Block]:
    """Rows [first, last) of the file repeated without end: a file of at most one block is
    read once and tiled in memory; a larger one is read a block at a time."""
    if table.length * table.dtype.itemsize <= block_bytes:
        whole, mask = table.read_rows(0, table.rows)
        return lambda first, last: (
            periodic(whole, first, last),
            None if mask is None else periodic(mask, first, last),
        )

    def read(first: int, last: int) -> Block:
        parts, position = [], first
        while position < last:
            offset = position % table.rows
            count = min(last - position, table.rows - offset)
            parts.append(table.read_rows(offset, offset + count))
            position += count
        values = np.concatenate([v for v, _ in parts])
        if all(m is None for _, m in parts):
            return values, None
        return values, np.concatenate([np.zeros(v.shape, bool) if m is None else m for v, m in parts])

    return read


def source_blocks(spec: SourceSpec, source: Source, layout: Layout) -> Iterator[Block]:
    """The array's blocks, (rows, columns), and their missing integers (None: none). A
    source with columns (a table, a 2-D array) fills the array column for column, row r
    being the file's row r modulo its rows; any other is laid out row-major."""
    columns, table = layout.columns, source.table
    if table is None:  # a generator: flat values at the array's size
        for start, stop in layout.blocks():
            values = source.block(layout.rows * columns, start * columns, stop * columns)
            yield exact_in_float64(spec, values).reshape(stop - start, columns), None
        return
    rows = file_rows(table, layout.block_nbytes)
    per_row = columns if not table.columns_kept else 1  # a 1-D file: one value per array element
    for start, stop in layout.blocks():
        values, mask = rows(start * per_row, stop * per_row)
        shape = (stop - start, columns)
        yield exact_in_float64(spec, values).reshape(shape), None if mask is None else mask.reshape(shape)


def reference_dtype(dtype: np.dtype) -> type:
    """Integer sources are summed exactly in int64; floats in float64 (with a tolerance)."""
    return np.int64 if dtype.kind in "biu" else np.float64


def open_blocks(
    seed: int, layout: Layout, source: Mapping[str, Any] | None, budget: int | None = None
) -> tuple[Iterator[Block], ColumnStats]:
    """The blocks of the job's data source (None: the stage's own) and its empty reference
    statistics; a file is opened (and refused, naming it, if unusable) here. `budget`:
    bytes of a file held whole at most (block_mb; default the layout's block)."""
    spec = spec_of(source) if source else SourceSpec(label=OWN_DATA, kind=OWN_DATA, key="hugearray.data")
    if spec.kind == OWN_DATA:
        own = ((block, None) for block in generate_blocks(seed, layout))
        return own, ColumnStats(layout.columns, dtype=np.int64)
    opened = open_source(spec, seed, max_bytes=budget or layout.block_nbytes)
    storable(spec, opened.dtype)
    if opened.table is not None and opened.table.columns_kept and opened.table.width != layout.columns:
        raise ValueError(f"{spec.where}: {opened.table.width} columns, the array has {layout.columns}")
    return source_blocks(spec, opened, layout), ColumnStats(
        layout.columns, dtype=reference_dtype(opened.dtype)
    )
