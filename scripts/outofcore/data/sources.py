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

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from outofcore.core.seeding import rng_for
from outofcore.plan.source_specs import (
    GENERATORS,
    RANDOM_INT,
    RANDOM_INT_DEFAULT,
    SourceError,
    SourceSpec,
    check_file,
)
from outofcore.safety.hdf5 import dataset_layout_problems

CHUNK = 1 << 16  # generators draw in chunks of this many elements, each from its own stream
NUMERIC_KINDS = "biuf"


@dataclass(frozen=True)
class Source:
    """A data source: `read(size, start, stop)` gives elements [start, stop) at `size`."""

    label: str
    dtype: np.dtype
    length: int | None  # elements of a file source; None for a generator (any size)
    read: Callable[[int, int, int], np.ndarray]
    description: str

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
    """Elements [start, stop) of `whole` repeated without end, in a few copies: one
    period, then the filled part doubled (a whole number of periods) until it is full."""
    count, period = stop - start, len(whole)
    out = np.empty(count, dtype=whole.dtype)
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


def refuse(spec: SourceSpec, reason: str) -> SourceError:
    return SourceError(spec.key, spec.where, reason)


def numeric(spec: SourceSpec, dtype: np.dtype, what: str = "data") -> np.dtype:
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in NUMERIC_KINDS:
        raise refuse(spec, f"{what} of dtype {dtype} is not plain numbers")
    return dtype


def npy_reader(
    spec: SourceSpec, max_bytes: int | None = None
) -> tuple[np.dtype, int, Callable[[int, int], np.ndarray]]:
    with open(spec.path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(handle)
    numeric(spec, dtype)
    # allow_pickle=False: numpy itself refuses object arrays and pickle streams too.
    flat = np.load(spec.path, mmap_mode="r", allow_pickle=False).ravel(order="K")
    return dtype, int(np.prod(shape, dtype=np.int64)), lambda start, stop: flat[start:stop]


def hdf5_dataset(spec: SourceSpec, h5: Any) -> Any:
    """The dataset, reached only through links inside the file, with its bytes in the file."""
    import h5py

    node, walked = h5, ""
    for part in [p for p in spec.dataset.split("/") if p]:
        walked += f"/{part}"
        if not isinstance(node, h5py.Group) or part not in node:
            raise refuse(spec, f"no dataset {walked} in the file")
        link = node.get(part, getlink=True)
        if isinstance(link, h5py.ExternalLink):
            raise refuse(spec, f"{walked} is a link to another file ({link.filename}); refusing it")
        node = node[part]
    if not isinstance(node, h5py.Dataset):
        raise refuse(spec, f"{spec.dataset} is a group, not a dataset")
    problems = dataset_layout_problems(node, os.path.getsize(spec.path))
    if problems:  # the same checks as every reader of the workflow's own HDF5 files
        raise refuse(spec, f"{problems[0]}; refusing it")
    if node.shape is None or node.size == 0:
        raise refuse(spec, "an empty dataset")
    return node


def hdf5_reader(
    spec: SourceSpec, max_bytes: int | None = None
) -> tuple[np.dtype, int, Callable[[int, int], np.ndarray]]:
    import h5py
    import hdf5plugin  # noqa: F401 - registers the compression filters a dataset may use

    with h5py.File(spec.path, "r") as h5:
        dataset = hdf5_dataset(spec, h5)
        dtype, shape = numeric(spec, dataset.dtype), dataset.shape
    row = int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1
    if max_bytes is not None and row * dtype.itemsize > max_bytes:  # a read covers whole rows
        raise refuse(
            spec,
            f"one row along the first axis holds {row * dtype.itemsize:,} bytes, more than {max_bytes:,}",
        )

    def read(start: int, stop: int) -> np.ndarray:
        """Whole rows covering [start, stop) along the first axis, then the elements asked."""
        with h5py.File(spec.path, "r") as h5:
            data = hdf5_dataset(spec, h5)
            if not shape:
                return np.asarray(data[()]).reshape(1)[start:stop]
            first, last = start // row, -(-stop // row)
            rows = data[first:last].reshape(-1)
        return rows[start - first * row : stop - first * row]

    return dtype, int(np.prod(shape, dtype=np.int64)), read


def table_reader(
    spec: SourceSpec, max_bytes: int | None = None
) -> tuple[np.dtype, int, Callable[[int, int], np.ndarray]]:
    """Parquet or CSV numeric columns, column after column, in their common dtype (in
    memory: refused, naming the file, beyond `max_bytes` on disk or in memory)."""
    import pandas as pd

    on_disk = os.path.getsize(spec.path)
    if max_bytes is not None and on_disk > max_bytes:
        raise refuse(
            spec,
            f"{on_disk:,} bytes on disk, more than the {max_bytes:,} a job may hold (read whole; "
            "a .npy or HDF5 file is read in slices)",
        )

    columns = list(spec.columns) or None
    if spec.kind == "csv":
        frame = pd.read_csv(spec.path, usecols=columns)
    else:
        import pyarrow.parquet as pq

        frame = pq.read_table(spec.path, columns=columns).to_pandas()
    if frame.empty:
        raise refuse(spec, "no rows")
    for name in frame.columns:
        kind = frame[name].dtype
        if not pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_bool_dtype(kind):
            raise refuse(spec, f"column {name!r} is not numbers ({kind})")
    dtype = np.result_type(*[np.dtype(frame[name].dtype) for name in frame.columns])
    if max_bytes is not None and frame.shape[0] * frame.shape[1] * dtype.itemsize > max_bytes:
        raise refuse(
            spec,
            f"{frame.size:,} {dtype} values, more than the {max_bytes:,} bytes a job may hold (read whole; "
            "a .npy or HDF5 file is read in slices)",
        )
    flat = np.concatenate([frame[name].to_numpy(dtype=dtype) for name in frame.columns])
    return numeric(spec, flat.dtype), flat.size, lambda start, stop: flat[start:stop]


READERS = {"npy": npy_reader, "hdf5": hdf5_reader, "parquet": table_reader, "csv": table_reader}


def open_file(spec: SourceSpec, max_bytes: int | None = None) -> Source:
    check_file(spec)  # the checks the config check made, again: the file may have changed
    try:
        dtype, length, flat_read = READERS[spec.kind](spec, max_bytes)
    except SourceError:
        raise
    except Exception as error:  # a library's own error: say which file and what it said
        raise refuse(spec, f"unreadable: {type(error).__name__}: {error}") from None
    if length == 0:
        raise refuse(spec, "no elements")
    name = Path(spec.path).name + (f":{spec.dataset}" if spec.dataset else "")
    description = f"{name}: {length:,} {dtype} elements" + (
        f", columns {', '.join(spec.columns)}" if spec.columns else ""
    )
    return Source(spec.label, np.dtype(dtype), length, tiled(flat_read, length), description)


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
