"""The checks of a user's data file the standard library can make before any job runs:
a regular file (never a named pipe or device, opened without blocking), its kind from its
first bytes, a .npy header's dtype (parsed with bounded length and recursion), and a CSV
read strictly over its first rows: a BOM dropped, as many fields on every line as in the
header, the columns asked for present, their first cells numbers; the time
linear in the columns (a 40,000-column file adds a fraction of a second, not minutes).
"""

import ast
import csv
import io
import itertools
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from outofcore.plan.source_specs import CSV_MISSING, HDF5_KINDS, SourceError, SourceSpec

NPY_MAGIC = b"\x93NUMPY"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
PARQUET_MAGIC = b"PAR1"
NETCDF3_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05")  # classic formats: not HDF5
# Plain numbers only (bool, signed and unsigned ints, float32 and float64: blosc's
# trunc_prec and the stores know no float16 or float128), one field, any byte order.
NUMERIC_DESCR = re.compile(r"[<>|=]?(b1|[iu][1248]|f[48])")
NPY_MAX_HEADER = 10_000  # numpy's own limit on a .npy header it parses (max_header_size)
CSV_ROWS_CHECKED = 1000  # before any job: the header and the first rows; the job reads all
CSV_CELLS_CHECKED = 100_000  # ... and at most this many cells, however many columns
CSV_CHECK_BYTES = 1 << 20  # every line of the first MiB has as many fields as the header


def npy_dtype(head: bytes) -> str | None:
    """The dtype text a .npy header announces (None if the header cannot be parsed)."""
    if len(head) < 10:
        return None
    major = head[6]
    size_bytes = 2 if major == 1 else 4
    start = 8 + size_bytes
    length = int.from_bytes(head[8:start], "little")
    if length > NPY_MAX_HEADER:
        return None
    try:  # thousands of nested brackets or signs exhaust the parser's recursion
        header = ast.literal_eval(head[start : start + length].decode("latin-1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    if not isinstance(header, dict) or "descr" not in header:
        return None
    return header["descr"] if isinstance(header["descr"], str) else repr(header["descr"])


def check_npy(spec: SourceSpec, head: bytes) -> None:
    if not head.startswith(NPY_MAGIC):
        # A pickle (what np.save of an object writes under allow_pickle) starts with 0x80.
        what = "a pickle, not a .npy array" if head[:1] == b"\x80" else "not a .npy file"
        raise SourceError(spec.key, spec.where, f"{what}; refusing to read it")
    descr = npy_dtype(head)
    if descr is None:
        raise SourceError(spec.key, spec.where, "unreadable .npy header")
    if not NUMERIC_DESCR.fullmatch(descr):
        reason = f"dtype {descr[:40]} is not plain numbers (bool, integers, float32 or float64)"
        raise SourceError(spec.key, spec.where, reason)


def csv_head(spec: SourceSpec) -> tuple[str, bool]:
    """The first CSV_CHECK_BYTES of the file as text (a UTF-8 BOM dropped), cut after its
    last whole line; and whether that is the whole file."""
    with open_regular(spec) as handle:
        raw = handle.read(CSV_CHECK_BYTES + 1)
    whole = len(raw) <= CSV_CHECK_BYTES
    if not whole:
        raw = raw[: raw.rfind(b"\n", 0, CSV_CHECK_BYTES) + 1]
        if not raw:
            raise SourceError(spec.key, spec.where, f"a first line longer than {CSV_CHECK_BYTES:,} bytes")
    return raw.decode("utf-8-sig", errors="replace"), whole


NUMERIC_ONLY = "list the numeric columns under `columns:`"


def csv_rows(spec: SourceSpec, count: int) -> list[list[str]]:
    """The first `count` rows (the header first) of the file's first CSV_CHECK_BYTES,
    parsed by the csv module with fields as long as the bytes read; a parser error is
    one line naming the file."""
    text, _ = csv_head(spec)
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, CSV_CHECK_BYTES))  # a field is bounded by the bytes read
    try:  # at most `count` rows: the time stays bounded
        return list(itertools.islice(csv.reader(io.StringIO(text, newline="")), count))
    except csv.Error as error:
        raise SourceError(spec.key, spec.where, f"not a readable CSV file: {error}") from None
    finally:
        csv.field_size_limit(limit)


def check_csv(spec: SourceSpec) -> None:
    """The header, the columns asked for, the first CSV_ROWS_CHECKED rows (within the
    first CSV_CHECK_BYTES) with as many fields as the header, and their cells numbers (at
    most CSV_CELLS_CHECKED cells: the time stays linear in the columns). The job reads
    every row, and refuses one with more fields than the header."""
    rows = csv_rows(spec, CSV_ROWS_CHECKED + 1)
    if not rows or not rows[0]:
        raise SourceError(spec.key, spec.where, "empty CSV file (no header)")
    header = rows[0]
    places: dict[str, int] = {}
    for place, name in enumerate(header):
        if name in places:
            raise SourceError(spec.key, spec.where, f"column {name!r} appears twice in the header")
        places[name] = place
    wanted = spec.columns or tuple(header)
    missing = [name for name in wanted if name not in places]
    if missing:
        shown = ", ".join(header[:20]) + (f", ... ({len(header):,} columns)" if len(header) > 20 else "")
        raise SourceError(spec.key, spec.where, f"no column {missing[0]!r} (columns: {shown})")
    checked_rows = min(CSV_ROWS_CHECKED, max(1, CSV_CELLS_CHECKED // len(wanted)))
    for number, row in enumerate(rows[1:], start=2):
        if row and len(row) != len(header):  # a blank line is skipped by every reader
            raise SourceError(
                spec.key, spec.where, f"line {number} has {len(row)} fields, the header {len(header)}"
            )
        if number - 1 > checked_rows or not row:
            continue
        for name in wanted:
            cell = row[places[name]].strip()
            if cell not in CSV_MISSING:  # a missing value, not text
                try:
                    float(cell)
                except ValueError:
                    reason = f"column {name!r} is not numbers (line {number}: {cell[:40]!r})"
                    raise SourceError(spec.key, spec.where, f"{reason}; {NUMERIC_ONLY}") from None


def regular_file(spec: SourceSpec) -> None:
    """Refuse anything but an existing regular file (a named pipe blocks its reader for
    ever, a device or directory is no data file); the user's own symlinks are followed."""
    try:
        mode = os.stat(spec.path).st_mode
    except FileNotFoundError:
        where = "" if os.path.isabs(spec.path) else f" (relative to {os.getcwd()}, where the workflow runs)"
        raise SourceError(spec.key, spec.where, f"no such file{where}") from None
    except OSError as error:
        raise SourceError(spec.key, spec.where, f"cannot open it: {error.strerror}") from None
    if not stat.S_ISREG(mode):
        raise SourceError(spec.key, spec.where, "not a regular file")


@contextmanager
def open_regular(spec: SourceSpec) -> Iterator[BinaryIO]:
    """The file opened for reading without ever blocking (O_NONBLOCK: a named pipe swapped
    in after `regular_file` returns at once) and refused unless the opened file is regular."""
    try:
        fd = os.open(spec.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise SourceError(spec.key, spec.where, f"cannot open it: {error.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SourceError(spec.key, spec.where, "not a regular file")
    with os.fdopen(fd, "rb") as handle:
        yield handle


def check_file(spec: SourceSpec) -> None:
    """What can be known about a file source without numpy: it exists, its kind, its header."""
    regular_file(spec)
    with open_regular(spec) as handle:
        head = handle.read(65536 + 12)
    if spec.kind == "npy":
        check_npy(spec, head)
    elif spec.kind == "netcdf" and head.startswith(NETCDF3_MAGIC):
        reason = "a NetCDF classic file, not NetCDF4 (HDF5): convert it with `nccopy -k nc4 in.nc out.nc`"
        raise SourceError(spec.key, spec.where, reason)
    elif spec.kind in HDF5_KINDS and not any(
        head[offset : offset + 8] == HDF5_MAGIC for offset in (0, 512, 1024, 2048, 4096, 8192, 16384, 32768)
    ):
        raise SourceError(spec.key, spec.where, "not an HDF5 file")
    elif spec.kind == "parquet" and not head.startswith(PARQUET_MAGIC):
        raise SourceError(spec.key, spec.where, "not a Parquet file")
    elif spec.kind == "csv":
        check_csv(spec)
