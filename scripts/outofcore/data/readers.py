"""A user's file as rows and columns: a `.npy`, an HDF5 or NetCDF4 dataset, Parquet or CSV
columns.

Every reader gives a `FileTable`: the file's dtype, rows and columns, `read_rows(first,
last)` (whole rows as a C-ordered (k, width) array and the mask of missing integers) and
`read_flat(start, stop)` (the values in the order the sweep compresses them: C order for
an array, as it is stored; column after column for a table, as a column store holds it).
An array of one dimension has one column; a 2-D array keeps its columns, as does a table;
more dimensions are rows of the first axis.

**Missing values** are one thing through the whole file, wherever they are:
- NaN in a float column;
- a null in Parquet; in CSV an empty cell or one of `CSV_MISSING` (`NA`, `NaN`, `null`, ...);
- in HDF5 and NetCDF4 a value equal to the dataset's `_FillValue` or `missing_value`
  attribute (the CF conventions); in NetCDF4 also the dataset's fill value, which is what
  chunks never written read as (9.97e36 for a float by default).
A missing float is NaN; a missing integer keeps the column's dtype, with 0 in its place
and True in the mask (a null never turns an integer column into floats).

**Exact or refused**: columns share one dtype (their common type); integers that float64
cannot hold (beyond +-2**53) are refused when the columns' common type is a float, naming
the column. Text, booleans, dates and structured values are refused naming the column.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from outofcore.plan.file_checks import regular_file
from outofcore.plan.sizing import INTERPRETER_MB
from outofcore.plan.source_specs import SourceError, SourceSpec
from outofcore.safety.hdf5 import dataset_layout_problems
from outofcore.safety.hdf5_decode import DecodeFailed, prove_decodable
from outofcore.safety.hdf5_links import LinkRefused, resolve_dataset

NUMERIC_KINDS = "biuf"
EXACT_INTEGERS = 2**53  # float64 holds every integer up to this

Rows = Callable[[int, int], tuple[np.ndarray, np.ndarray | None]]


@dataclass(frozen=True)
class FileTable:
    """A file's values: `rows` rows of `len(names)` columns of `dtype`."""

    dtype: np.dtype
    rows: int
    names: tuple[str, ...]  # a 1-D array: ("values",)
    read_rows: Rows  # rows [first, last): (values (k, width), missing integers or None)
    read_flat: Callable[[int, int], np.ndarray]  # values [start, stop) in the sweep's order
    columns_kept: bool  # a table or a 2-D array: the huge array keeps its columns
    column_major: bool = False  # read_flat goes column after column (a table)

    @property
    def width(self) -> int:
        return len(self.names)

    @property
    def length(self) -> int:
        return self.rows * self.width


def refuse(spec: SourceSpec, reason: str) -> SourceError:
    return SourceError(spec.key, spec.where, reason)


def numeric(spec: SourceSpec, dtype: np.dtype, what: str = "data") -> np.dtype:
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in NUMERIC_KINDS:
        raise refuse(spec, f"{what} of dtype {dtype} is not plain numbers")
    if dtype.kind == "f" and dtype.itemsize not in (4, 8):  # blosc's trunc_prec and the stores
        raise refuse(spec, f"{what} of dtype {dtype}: only float32 and float64 floats are measured")
    return dtype


def flat_of_rows(read_rows: Rows, width: int) -> Callable[[int, int], np.ndarray]:
    """C-order values [start, stop) from the whole rows covering them."""

    def read(start: int, stop: int) -> np.ndarray:
        first, last = start // width, -(-stop // width)
        values = read_rows(first, last)[0].reshape(-1)
        return values[start - first * width : stop - first * width]

    return read


def shape_2d(shape: tuple[int, ...]) -> tuple[int, int]:
    """(rows, width) of an array: its first axis, and everything else per row."""
    if not shape:
        return 1, 1
    return int(shape[0]), int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1


def array_table(
    spec: SourceSpec, dtype: np.dtype, shape: tuple[int, ...], read_rows: Rows, max_bytes: int | None
) -> FileTable:
    rows, width = shape_2d(shape)
    if max_bytes is not None and width * dtype.itemsize > max_bytes:  # a read covers whole rows
        raise refuse(
            spec,
            f"one row along the first axis holds {width * dtype.itemsize:,} bytes, more than {max_bytes:,}",
        )
    names = tuple(str(i) for i in range(width)) if len(shape) == 2 else ("values",)
    return FileTable(dtype, rows, names, read_rows, flat_of_rows(read_rows, width), len(shape) == 2)


def npy_table(spec: SourceSpec, max_bytes: int | None = None) -> FileTable:
    with open(spec.path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(handle)
    numeric(spec, dtype)
    # allow_pickle=False: numpy itself refuses object arrays and pickle streams too. A
    # Fortran-ordered file is read in C order like any other (rows, then columns).
    array = np.load(spec.path, mmap_mode="r", allow_pickle=False)
    width = shape_2d(shape)[1]

    def read_rows(first: int, last: int) -> tuple[np.ndarray, None]:
        rows = array.reshape(1)[first:last] if not shape else array[first:last]
        return np.ascontiguousarray(rows).reshape(-1, width), None

    return array_table(spec, dtype, shape, read_rows, max_bytes)


# --- HDF5 and NetCDF4 ---


def hdf5_dataset(spec: SourceSpec, h5: Any) -> Any:
    """The dataset, reached only through links inside the file (every hop checked:
    `safety.hdf5_links`), with its bytes in the file."""
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


def fill_markers(spec: SourceSpec, dataset: Any) -> np.ndarray:
    """The values that mean missing in this dataset: `_FillValue` and `missing_value`
    attributes, and for NetCDF4 the dataset's fill value (unwritten chunks)."""
    import h5py

    found: list[Any] = []
    for name in ("_FillValue", "missing_value"):
        if name in dataset.attrs:
            value = np.asarray(dataset.attrs[name])
            if value.dtype.kind in NUMERIC_KINDS:  # text or references mean nothing here
                found.extend(value.ravel().tolist())
    plist = dataset.id.get_create_plist()
    if spec.kind == "netcdf" and plist.fill_value_defined() == h5py.h5d.FILL_VALUE_USER_DEFINED:
        found.append(np.asarray(dataset.fillvalue).item())
    markers = np.array(found, dtype=dataset.dtype) if found else np.empty(0, dtype=dataset.dtype)
    return markers[~np.isnan(markers)] if markers.dtype.kind == "f" else markers


def marked(values: np.ndarray, markers: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Values equal to a marker made missing: NaN for floats, 0 and the mask for integers."""
    if not markers.size:
        return values, None
    hit = np.isin(values, markers)
    if not hit.any():
        return values, None
    values = values.copy()
    if values.dtype.kind == "f":
        values[hit] = np.nan
        return values, None
    values[hit] = 0
    return values, hit


def open_hdf5(spec: SourceSpec) -> Any:
    """The user's HDF5 file, opened read-only if it is (still) a regular file: HDF5 opens
    whatever the name is, and a named pipe would block the job for ever."""
    import h5py

    regular_file(spec)
    return h5py.File(spec.path, "r")


def hdf5_table(spec: SourceSpec, max_bytes: int | None = None) -> FileTable:
    import hdf5plugin  # noqa: F401 - registers the compression filters a dataset may use

    with open_hdf5(spec) as h5:
        dataset = hdf5_dataset(spec, h5)
        if dataset.dtype.fields is not None and len(dataset.shape) == 1:  # a table: fields are columns
            return compound_table(spec, dataset.dtype, dataset.shape[0], max_bytes)
        if spec.columns:
            raise refuse(spec, "only a compound dataset (a table) has columns to choose")
        dtype, shape = numeric(spec, dataset.dtype), dataset.shape
        markers = fill_markers(spec, dataset)
    width = shape_2d(shape)[1]

    def read_rows(first: int, last: int) -> tuple[np.ndarray, np.ndarray | None]:
        with open_hdf5(spec) as h5:
            data = hdf5_dataset(spec, h5)
            rows = np.asarray(data[()]).reshape(1)[first:last] if not shape else data[first:last]
        return marked(np.ascontiguousarray(rows).reshape(-1, width), markers)

    return array_table(spec, dtype, shape, read_rows, max_bytes)


def compound_table(spec: SourceSpec, stored: np.dtype, rows: int, max_bytes: int | None) -> FileTable:
    """A 1-D compound dataset (a PyTables or h5py table): its numeric fields (or those of
    `columns`) as columns, in their common dtype; integers it cannot hold refused."""
    fields = dict(stored.fields or {})
    names = list(spec.columns) or list(fields)
    absent = [name for name in names if name not in fields]
    if absent:
        raise refuse(spec, f"no field {absent[0]!r} (fields: {', '.join(fields)})")
    for name in names:
        numeric(spec, fields[name][0], f"field {name!r}")
    dtype = numeric(spec, np.result_type(*[fields[name][0] for name in names]))
    if max_bytes is not None and len(names) * dtype.itemsize > max_bytes:
        raise refuse(spec, f"one row holds {len(names) * dtype.itemsize:,} bytes, more than {max_bytes:,}")
    wide = [n for n in names if fields[n][0].kind in "iu" and fields[n][0].itemsize >= 8]

    def read_rows(first: int, last: int) -> tuple[np.ndarray, None]:
        with open_hdf5(spec) as h5:
            records = hdf5_dataset(spec, h5)[first:last]
        out = np.empty((len(records), len(names)), dtype=dtype)
        for place, name in enumerate(names):
            if dtype.kind == "f" and name in wide and len(records):
                values = records[name]
                worst = int(values.max()) if int(values.max()) > EXACT_INTEGERS else int(values.min())
                if abs(worst) > EXACT_INTEGERS:
                    reason = f"field {name!r} holds the integer {worst}, beyond +-2**53: the fields' common"
                    raise refuse(
                        spec, f"{reason} type {dtype} cannot hold it (list the integer fields alone)"
                    )
            out[:, place] = records[name]
        return out, None

    return FileTable(dtype, rows, tuple(names), read_rows, flat_of_rows(read_rows, len(names)), True)


def missing_counts(table: FileTable, piece_bytes: int = 16 << 20) -> np.ndarray:
    """Missing values per column, the file read once in pieces of whole rows."""
    counts = np.zeros(table.width, dtype=np.int64)
    step = max(1, piece_bytes // max(1, table.width * table.dtype.itemsize))
    for first in range(0, table.rows, step):
        values, mask = table.read_rows(first, min(first + step, table.rows))
        if values.dtype.kind == "f":
            counts += np.isnan(values).sum(axis=0)
        if mask is not None:
            counts += mask.sum(axis=0)
    return counts


def job_budget(mem_mb: int) -> int:
    """Bytes of data a job declared `mem_mb` may hold at once: what is left once the
    interpreter is loaded, halved (a library's copy beside the values)."""
    return max(mem_mb - INTERPRETER_MB, 16) * 2**20 // 2


def prove_readable(spec: SourceSpec, max_bytes: int) -> None:
    """An HDF5 source decoded end to end, every chunk once, in a child process
    (`safety.hdf5_decode`): a chunk its filters cannot decode, or that crashes a codec,
    is refused here, naming the file, rather than in every job that reads it."""
    if spec.kind not in ("hdf5", "netcdf"):
        return
    try:
        prove_decodable(spec.path, spec.dataset, max_bytes)
    except DecodeFailed as error:
        raise refuse(spec, error.reason) from None
