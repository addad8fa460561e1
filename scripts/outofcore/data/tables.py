"""Parquet and CSV columns as a `FileTable`, read whole: a column store in memory (each
column contiguous), its values as the config lists the columns (missing values and the
common dtype as `outofcore.data.readers` says)."""

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from outofcore.data.readers import EXACT_INTEGERS, FileTable, numeric, refuse
from outofcore.plan.source_specs import CSV_MISSING, SourceError, SourceSpec

Columns = dict[str, tuple[np.ndarray, np.ndarray | None]]  # name -> (values, missing integers)


def in_memory(spec: SourceSpec, size: int, itemsize: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size * itemsize > max_bytes:
        raise refuse(
            spec,
            f"{size:,} values of {itemsize} bytes, more than the {max_bytes:,} bytes a job may hold "
            "(read whole; save it as .npy or HDF5 to be read in slices)",
        )


def not_numbers(spec: SourceSpec, name: str, kind: Any, numeric_names: Sequence[str]) -> SourceError:
    listed = f"numeric here: {', '.join(numeric_names)}" if numeric_names else "none is numeric"
    return refuse(
        spec, f"column {name!r} is not numbers ({kind}); list the numeric columns under `columns:` ({listed})"
    )


def parquet_columns(spec: SourceSpec, max_bytes: int | None = None) -> Columns:
    """The columns asked for (every column by default, a pandas index included), checked
    from the footer before any value is read: present, numbers, and rows x widths within
    `max_bytes` (a file of a few MB may decode to GiBs of zeros)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    footer = pq.ParquetFile(spec.path)
    schema, rows = footer.schema_arrow, footer.metadata.num_rows
    wanted = list(spec.columns) or list(schema.names)
    absent = [name for name in wanted if name not in schema.names]
    if absent:
        shown = ", ".join(schema.names[:20]) + (
            f", ... ({len(schema.names):,} columns)" if len(schema.names) > 20 else ""
        )
        raise refuse(spec, f"no column {absent[0]!r} (columns: {shown})")
    numbers = [f.name for f in schema if pa_numeric(f.type)]
    for name in wanted:
        if not pa_numeric(schema.field(name).type):
            raise not_numbers(spec, name, schema.field(name).type, numbers)
    width = sum(schema.field(name).type.bit_width // 8 for name in wanted)
    if max_bytes is not None and rows * width > max_bytes:
        raise refuse(
            spec,
            f"{rows:,} rows of {width} bytes ({rows * width:,} bytes decoded, from "
            f"{os.path.getsize(spec.path):,} on disk), more than the {max_bytes:,} a job may hold",
        )
    table = pq.read_table(spec.path, columns=wanted)
    found = {}
    for name in wanted:
        column = table.column(name)
        nulls = column.null_count
        if nulls and not pa_float(column.type):  # an integer null: 0 in place, and the mask
            mask = column.is_null().to_numpy(zero_copy_only=False)
            found[name] = (pc.fill_null(column, 0).to_numpy(), mask)
        else:
            found[name] = (column.to_numpy(), None)  # a float null is NaN
    return found


def pa_numeric(kind: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def pa_float(kind: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_floating(kind)


def read_csv_strictly(spec: SourceSpec) -> Any:
    """The CSV as a frame, refused if a line has more fields than the header (pandas would
    take the first field as the row's index and shift the others without a word)."""
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            return pd.read_csv(
                spec.path,
                usecols=list(spec.columns) or None,
                index_col=False,  # every field is a column's
                na_values=list(CSV_MISSING),
                keep_default_na=False,  # exactly the markers the check before the run knows
                dtype_backend="numpy_nullable",  # an integer column with a missing value stays integers
            )
        except pd.errors.ParserWarning:
            raise refuse(spec, "a line has more fields than the header") from None
        except pd.errors.ParserError as error:  # "Expected 2 fields in line 9, saw 3"
            said = " ".join(str(error).split()).removeprefix("Error tokenizing data. C error: ")
            raise refuse(spec, f"a line has more fields than the header ({said})") from None


def csv_columns(spec: SourceSpec) -> Columns:
    frame = read_csv_strictly(spec)
    if spec.columns:  # in the order the config lists them, not the file's
        frame = frame[list(spec.columns)]
    numbers = [n for n in frame.columns if is_number(frame[n].dtype)]
    found = {}
    for name in frame.columns:
        column = frame[name]
        if not is_number(column.dtype):
            raise not_numbers(spec, name, column.dtype, numbers)
        dtype = np.dtype(column.dtype.numpy_dtype if hasattr(column.dtype, "numpy_dtype") else column.dtype)
        mask = column.isna().to_numpy()
        if dtype.kind == "f":
            found[name] = (column.to_numpy(dtype=dtype, na_value=np.nan), None)
        else:
            found[name] = (column.to_numpy(dtype=dtype, na_value=0), mask if mask.any() else None)
    return found


def is_number(kind: Any) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind)


def common_dtype(spec: SourceSpec, found: Columns) -> np.dtype:
    """The columns' common type; refused if it is a float and an integer column holds a
    value float64 cannot (beyond +-2**53)."""
    dtype = np.result_type(*[values.dtype for values, _ in found.values()])
    if dtype.kind == "f":
        for name, (values, _) in found.items():
            if values.dtype.kind in "iu" and values.dtype.itemsize >= 8 and values.size:
                low, high = int(values.min()), int(values.max())
                if low < -EXACT_INTEGERS or high > EXACT_INTEGERS:
                    worst = high if high > EXACT_INTEGERS else low
                    raise refuse(
                        spec,
                        f"column {name!r} holds the integer {worst}, beyond +-2**53: the columns' common "
                        f"type {dtype} cannot hold it (list the integer columns alone under `columns:`)",
                    )
    return numeric(spec, dtype)


def table_table(spec: SourceSpec, max_bytes: int | None = None) -> FileTable:
    """Parquet or CSV numeric columns, read whole (refused, naming the file, beyond
    `max_bytes` on disk or in memory)."""
    on_disk = os.path.getsize(spec.path)
    if max_bytes is not None and on_disk > max_bytes:
        raise refuse(
            spec,
            f"{on_disk:,} bytes on disk, more than the {max_bytes:,} a job may hold (read whole; "
            "save it as .npy or HDF5 to be read in slices)",
        )
    found = parquet_columns(spec, max_bytes) if spec.kind == "parquet" else csv_columns(spec)
    rows = len(next(iter(found.values()))[0]) if found else 0
    if rows == 0:
        raise refuse(spec, "no rows")
    dtype = common_dtype(spec, found)
    in_memory(spec, rows * len(found), dtype.itemsize, max_bytes)
    whole = np.empty((rows, len(found)), dtype=dtype, order="F")  # a column store: columns contiguous
    masks = [mask for _, mask in found.values()]
    missing = (
        np.zeros((rows, len(found)), dtype=bool, order="F") if any(m is not None for m in masks) else None
    )
    for place, (values, mask) in enumerate(found.values()):
        whole[:, place] = values
        if mask is not None and missing is not None:
            missing[:, place] = mask
    flat = whole.ravel(order="F")

    def read_rows(first: int, last: int) -> tuple[np.ndarray, np.ndarray | None]:
        part = None if missing is None else np.ascontiguousarray(missing[first:last])
        return np.ascontiguousarray(whole[first:last]), part

    names = tuple(str(name) for name in found)
    return FileTable(dtype, rows, names, read_rows, lambda a, b: flat[a:b], True, column_major=True)
