"""The data a stage compresses or stores: built-in generators and a user's file.

`open_source(spec, seed)` gives a `Source`: its dtype, and `block(size, start, stop)`,
the elements [start, stop) of the source made `size` elements long, so a stage that holds
the whole array calls `array(size)` and one that builds an array larger than memory asks
for one block at a time (`blocks`). Every source yields the same values whatever the
blocks asked for.

Generators (`GENERATORS` names them; seeded from the config's `seed`,
`outofcore.core.seeding`): `linspace`, the tutorial's `np.linspace(0, 100, size)` bit for
bit; `random_int`, integers uniform in [low, high] as an 8- to 64-bit integer dtype; and
the drawn ones of `GENERATOR_DRAWS`, each with its description.
A user's file (`.npy`, HDF5 dataset, Parquet or CSV numeric columns) is read flat
(C order; Parquet and CSV column after column), keeps its dtype (columns: their common
numeric type), and is cut or repeated (tiled) to each size. The readers refuse pickles,
object and text data, and HDF5 datasets whose bytes live outside the file.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from outofcore.core.seeding import rng_for
from outofcore.data.readers import FileTable, hdf5_table, npy_table, refuse
from outofcore.data.sample import spread
from outofcore.data.tables import table_table
from outofcore.plan.file_checks import check_file, csv_rows
from outofcore.plan.source_specs import (
    GENERATORS,
    RANDOM_INT,
    RANDOM_INT_DEFAULT,
    SourceError,
    SourceSpec,
)

CHUNK = 1 << 16  # generators draw in chunks of this many elements, each from its own stream


@dataclass(frozen=True)
class Source:
    """A data source: `read(size, start, stop)` gives elements [start, stop) at `size`."""

    label: str
    dtype: np.dtype
    length: int | None  # elements of a file source; None for a generator (any size)
    read: Callable[[int, int, int], np.ndarray]
    description: str
    table: FileTable | None = None  # a file's rows, columns and missing values

    def sample(self, size: int) -> tuple[np.ndarray, float, float]:
        """The `size` elements the sweep compresses, the share of the source's values they
        cover and how many times they repeat it (`outofcore.data.sample`)."""
        if self.length is None or self.table is None:  # a generator: drawn at the size
            return self.array(size), 1.0, 1.0
        if size >= self.length:  # the whole file, tiled
            return self.array(size), 1.0, size / self.length
        table = self.table
        segments = [(c * table.rows, table.rows) for c in range(table.width)] if table.column_major else None
        pieces = spread(self.length, size, segments)
        return np.concatenate([table.read_flat(a, b) for a, b in pieces]), size / self.length, 1.0

    def block(self, size: int, start: int, stop: int) -> np.ndarray:
        if not 0 <= start <= stop <= size:
            raise ValueError(f"block [{start}, {stop}) outside an array of {size}")
        return self.read(size, start, stop)

    def array(self, size: int) -> np.ndarray:
        return self.block(size, 0, size)

    def blocks(self, size: int, block: int) -> Iterator[np.ndarray]:
        """The array of `size` elements in consecutive blocks of at most `block` elements."""
        for start in range(0, size, block):
            yield self.block(size, start, min(start + block, size))


# --- generators ---


def linspace_block(size: int, start: int, stop: int) -> np.ndarray:
    """np.linspace(0, 100, size)[start:stop], computed the way numpy computes it."""
    if (start, stop) == (0, size) or size < 2:
        return np.linspace(0, 100, size)[start:stop]
    values = np.arange(start, stop, dtype=np.float64) * (100.0 / (size - 1))
    if stop == size and stop > start:
        values[-1] = 100.0  # linspace sets its endpoint exactly
    return values


def chunked(draw: Callable[[np.random.Generator, int, int], np.ndarray], seed: int, name: str):
    """A generator's read: chunk k of CHUNK elements comes from the stream `data/name/k`,
    so any block is the same values whatever the other blocks asked for."""

    def read(size: int, start: int, stop: int) -> np.ndarray:
        first, last = start // CHUNK, (stop - 1) // CHUNK if stop > start else start // CHUNK - 1
        parts = [draw(rng_for(seed, f"data/{name}/{k}"), k * CHUNK, CHUNK) for k in range(first, last + 1)]
        if not parts:
            return draw(rng_for(seed, f"data/{name}/0"), 0, 0)
        whole = np.concatenate(parts)
        return whole[start - first * CHUNK : stop - first * CHUNK]

    return read


def random_int_draw(low: int, high: int, dtype: str) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    """Integers uniform in [low, high] as `dtype`; the default [0, 1000] int32 draws exactly
    what the plain `random_int` always drew, so its values for a seed are unchanged."""

    def draw(rng: np.random.Generator, offset: int, count: int) -> np.ndarray:
        return rng.integers(low, high, size=count, endpoint=True, dtype=np.dtype(dtype))

    return draw


def draw_smooth(rng: np.random.Generator, offset: int, count: int) -> np.ndarray:
    t = np.arange(offset, offset + count, dtype=np.float64)
    signal = 20.0 + 5.0 * np.sin(t * (2 * np.pi / 86_400)) + 0.5 * np.sin(t * (2 * np.pi / 977))
    return np.round(signal + rng.normal(0.0, 0.05, count), 2)


def draw_noisy_float(rng: np.random.Generator, offset: int, count: int) -> np.ndarray:
    return rng.standard_normal(count)


def draw_sparse(rng: np.random.Generator, offset: int, count: int) -> np.ndarray:
    values = np.zeros(count)
    hits = rng.random(count) < 0.01
    values[hits] = rng.standard_normal(int(hits.sum()))
    return values


GENERATOR_DRAWS = {
    "smooth": (draw_smooth, np.float64, "two slow sines plus Gaussian noise (sd 0.05), rounded to 0.01"),
    "noisy_float": (draw_noisy_float, np.float64, "standard normal float64"),
    "sparse": (draw_sparse, np.float64, "99 % zeros, 1 % standard normal, float64"),
}


def generator(
    name: str, seed: int, int_range: tuple[int, int, str] = RANDOM_INT_DEFAULT, label: str = ""
) -> Source:
    """A built-in generator; `int_range` is random_int's (low, high, dtype). Every range
    draws from the same streams `data/random_int/<chunk>`: its values follow from the
    seed, the range and the dtype, not from the label."""
    label = label or name
    if name == "linspace":
        return Source(label, np.dtype(np.float64), None, linspace_block, "np.linspace(0, 100, n), float64")
    if name == RANDOM_INT:
        low, high, dtype = int_range
        description = f"integers uniform in [{low}, {high}], {dtype}"
        return Source(
            label, np.dtype(dtype), None, chunked(random_int_draw(*int_range), seed, name), description
        )
    draw, dtype, description = GENERATOR_DRAWS[name]
    return Source(label, np.dtype(dtype), None, chunked(draw, seed, name), description)


# --- files ---


def periodic(whole: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Elements (rows) [start, stop) of `whole` repeated without end, in a few copies: one
    period, then the filled part doubled (a whole number of periods) until it is full."""
    count, period = stop - start, len(whole)
    out = np.empty((count, *whole.shape[1:]), dtype=whole.dtype)
    offset = start % period
    head = min(count, period - offset)
    out[:head] = whole[offset : offset + head]
    rest = min(count - head, offset)
    out[head : head + rest] = whole[:rest]
    filled = head + rest  # one period, rotated, unless the block is shorter
    while filled < count:
        more = min(filled, count - filled)
        out[filled : filled + more] = out[:more]
        filled += more
    return out


def tiled(flat_read: Callable[[int, int], np.ndarray], length: int):
    """A read that repeats the file's `length` elements as often as a size needs: a range
    of several periods reads the file once and doubles it (`periodic`), not one read and
    one part per period."""

    def read(size: int, start: int, stop: int) -> np.ndarray:
        if stop - start >= 2 * length:
            return periodic(np.asarray(flat_read(0, length)), start, stop)
        parts, position = [], start
        while position < stop:
            offset = position % length
            count = min(stop - position, length - offset)
            parts.append(np.asarray(flat_read(offset, offset + count)))
            position += count
        return np.concatenate(parts) if len(parts) != 1 else parts[0].copy()

    return read


READERS = {
    "npy": npy_table,
    "hdf5": hdf5_table,
    "netcdf": hdf5_table,
    "parquet": table_table,
    "csv": table_table,
}


def kept_columns(spec: SourceSpec) -> int | None:
    """How many columns a file keeps in the huge array (a table, a 2-D array), None if it
    has none of its own: from its header or schema, without reading its values."""
    if spec.kind == "csv":  # the header as the check before the run parsed it (a BOM dropped)
        return len(spec.columns) or len((csv_rows(spec, 1) or [[]])[0])
    if spec.kind == "parquet":
        import pyarrow.parquet as pq

        return len(spec.columns) or len(pq.read_schema(spec.path).names)
    if spec.kind in READERS:
        table = READERS[spec.kind](spec, None)  # an array: its header, no values read
        return table.width if table.columns_kept else None
    return None


def open_file(spec: SourceSpec, max_bytes: int | None = None) -> Source:
    check_file(spec)  # the checks the config check made, again: the file may have changed
    try:
        table = READERS[spec.kind](spec, max_bytes)
    except SourceError:
        raise
    except Exception as error:  # a library's own error: say which file and what it said
        said = " ".join(str(error).split())[:300]  # one line, however the library wrote it
        raise refuse(spec, f"unreadable: {type(error).__name__}: {said}") from None
    if table.length == 0:
        raise refuse(spec, "no elements")
    name = Path(spec.path).name + (f":{spec.dataset}" if spec.dataset else "")
    shape = f"{table.rows:,} rows x {table.width} columns" if table.columns_kept else f"{table.length:,}"
    description = f"{name}: {shape} {table.dtype} elements" + (
        f", columns {', '.join(spec.columns)}" if spec.columns else ""
    )
    return Source(
        spec.label,
        np.dtype(table.dtype),
        table.length,
        tiled(table.read_flat, table.length),
        description,
        table,
    )


def open_source(spec: SourceSpec, seed: int, max_bytes: int | None = None) -> Source:
    """The source of a spec; a file is checked and refused here, naming it, if unusable.
    `max_bytes` bounds what a reader holds at once: a CSV or Parquet file (read whole) and
    one row of an HDF5 dataset (reads cover whole rows); None: no bound."""
    if spec.kind in GENERATORS:
        return generator(spec.kind, seed, spec.int_range, spec.label)
    return open_file(spec, max_bytes)


def spec_of(params: dict[str, Any]) -> SourceSpec:
    """A spec back from a rule's params (`SourceSpec.as_params`)."""
    return SourceSpec(**{**params, "columns": tuple(params.get("columns", ()))})
