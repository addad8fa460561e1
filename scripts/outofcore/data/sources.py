"""The data a stage compresses or stores: built-in generators (`outofcore.data.generators`)
and a user's file.

`open_source(spec, seed)` gives a `Source`: its dtype, and `block(size, start, stop)`,
the elements [start, stop) of the source made `size` elements long, so a stage that holds
the whole array calls `array(size)` and one that builds an array larger than memory asks
for one block at a time (`blocks`). Every source yields the same values whatever the
blocks asked for.

Generators (seeded from the config's `seed`, `outofcore.core.seeding`):
- `linspace`: the tutorial's `np.linspace(0, 100, size)`, float64 (bit for bit);
- `random_int`: integers uniform in [low, high] (inclusive) as an 8- to 64-bit integer
  dtype; by default [0, 1000], int32;
- `smooth`: a sensor-like float64 signal: two slow sines plus small Gaussian noise,
  quantized to 0.01;
- `noisy_float`: standard normal float64 (every mantissa bit random);
- `sparse`: float64, 99 % zeros, the rest standard normal.
A user's file (`.npy`, HDF5 dataset, Parquet or CSV numeric columns) is read flat
(C order; Parquet and CSV column after column), keeps its dtype (columns: their common
numeric type), and is cut or repeated (tiled) to each size. The readers refuse pickles,
object and text data, and HDF5 datasets whose bytes live outside the file.
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from outofcore.data.generators import Source, generator
from outofcore.plan.file_checks import check_file, regular_file
from outofcore.plan.sizing import INTERPRETER_MB
from outofcore.plan.source_specs import GENERATORS, SourceError, SourceSpec
from outofcore.safety.hdf5 import dataset_layout_problems
from outofcore.safety.hdf5_decode import DecodeFailed, prove_decodable
from outofcore.safety.hdf5_links import LinkRefused, resolve_dataset

NUMERIC_KINDS = "biuf"


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
    if dtype.kind == "f" and dtype.itemsize not in (4, 8):  # blosc's trunc_prec and the stores
        raise refuse(spec, f"{what} of dtype {dtype}: only float32 and float64 floats are measured")
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
    try:
        node = resolve_dataset(h5, spec.dataset)
    except LinkRefused as error:
        raise refuse(spec, str(error)) from None
    problems = dataset_layout_problems(node, os.path.getsize(spec.path))
    if problems:  # the same checks as every reader of the workflow's own HDF5 files
        raise refuse(spec, f"{problems[0]}; refusing it")
    if node.shape is None or node.size == 0:
        raise refuse(spec, "an empty dataset")
    return node


def open_hdf5(spec: SourceSpec) -> Any:
    """The user's HDF5 file, opened read-only if it is (still) a regular file: HDF5 opens
    whatever the name is, and a named pipe would block the job for ever."""
    import h5py

    regular_file(spec)
    return h5py.File(spec.path, "r")


def hdf5_reader(
    spec: SourceSpec, max_bytes: int | None = None
) -> tuple[np.dtype, int, Callable[[int, int], np.ndarray]]:
    import hdf5plugin  # noqa: F401 - registers the compression filters a dataset may use

    with open_hdf5(spec) as h5:
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
        with open_hdf5(spec) as h5:
            data = hdf5_dataset(spec, h5)
            if not shape:
                return np.asarray(data[()]).reshape(1)[start:stop]
            first, last = start // row, -(-stop // row)
            rows = data[first:last].reshape(-1)
        return rows[start - first * row : stop - first * row]

    return dtype, int(np.prod(shape, dtype=np.int64)), read


def parquet_columns(spec: SourceSpec, max_bytes: int | None) -> list[str]:
    """The Parquet columns to read, checked from the file's footer before any value is
    read: present, fixed-width numbers, and rows x widths within `max_bytes` (a file of a
    few MB may decode to GiBs of zeros). Every column counts, a pandas index included."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    footer = pq.ParquetFile(spec.path)
    schema, rows = footer.schema_arrow, footer.metadata.num_rows
    names = list(spec.columns) or schema.names
    width = 0
    for name in names:
        if schema.get_field_index(name) < 0:
            shown = ", ".join(schema.names[:20]) + (", ..." if len(schema.names) > 20 else "")
            raise refuse(spec, f"no column {name!r} (columns: {shown})")
        kind = schema.field(name).type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            raise refuse(spec, f"column {name!r} is not numbers ({kind})")
        width += kind.bit_width // 8
    if max_bytes is not None and rows * width > max_bytes:
        raise refuse(
            spec,
            f"{rows:,} rows of {width} bytes ({rows * width:,} bytes decoded, from "
            f"{os.path.getsize(spec.path):,} on disk), more than the {max_bytes:,} a job may hold",
        )
    return names


def read_csv_strictly(spec: SourceSpec) -> Any:
    """The CSV as a frame, refused if a line has more fields than the header (pandas would
    take the first field as the row's index and shift the others)."""
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            return pd.read_csv(spec.path, usecols=list(spec.columns) or None, index_col=False)
        except pd.errors.ParserWarning:
            raise refuse(spec, "a line has more fields than the header") from None
        except pd.errors.ParserError as error:  # "Expected 2 fields in line 9, saw 3"
            said = " ".join(str(error).split()).removeprefix("Error tokenizing data. C error: ")
            raise refuse(spec, f"a line has more fields than the header ({said})") from None


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

    if spec.kind == "csv":
        frame = read_csv_strictly(spec)
    else:
        import pyarrow.parquet as pq

        columns = parquet_columns(spec, max_bytes)
        # ignore_metadata: a pandas index stays a column (by its stored name), not dropped
        frame = pq.read_table(spec.path, columns=columns).to_pandas(ignore_metadata=True)
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
        said = " ".join(str(error).split())[:300]  # one line, however the library wrote it
        raise refuse(spec, f"unreadable: {type(error).__name__}: {said}") from None
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


def job_budget(mem_mb: int) -> int:
    """Bytes of data a job declared `mem_mb` may hold at once: what is left once the
    interpreter is loaded, halved (a library's copy beside the values)."""
    return max(mem_mb - INTERPRETER_MB, 16) * 2**20 // 2


def prove_readable(spec: SourceSpec, max_bytes: int) -> None:
    """An HDF5 source decoded end to end, every chunk once, in a child process
    (`safety.hdf5_decode`): a chunk its filters cannot decode, or that crashes a codec,
    is refused here, naming the file, rather than in every job that reads it."""
    if spec.kind != "hdf5":
        return
    try:
        prove_decodable(spec.path, spec.dataset, max_bytes)
    except DecodeFailed as error:
        raise refuse(spec, error.reason) from None


def spec_of(params: dict[str, Any]) -> SourceSpec:
    """A spec back from a rule's params (`SourceSpec.as_params`)."""
    return SourceSpec(**{**params, "columns": tuple(params.get("columns", ()))})
