"""The tutorial's particle table: the `Particle` record, its rows generated vectorized,
the ways to write them into `/detector/readout`, and the check that a file holds them.

Writers: the tutorial's row-by-row `table.row` loop, block appends (`table.append`, a
user's natural way) and direct chunk writes (the table the stage delivers when it is
uncompressed); all write the same bytes.
"""

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import tables

from outofcore.safety.hdf5 import refuse_unsafe


class Particle(tables.IsDescription):
    """The tutorial's record, exactly (PyTables stores the columns in name order)."""

    name = tables.StringCol(16)  # 16-character String
    idnumber = tables.Int64Col()  # Signed 64-bit integer
    pressure = tables.Float32Col()  # float (single-precision)
    energy = tables.Float64Col()  # double (double-precision)


PARTICLE_DTYPE = tables.description.dtype_from_descr(Particle)
RECORD_BYTES = PARTICLE_DTYPE.itemsize  # 36; the rules use its copy, plan.sizing.PARTICLE_BYTES
TABLE_PATH = "/detector/readout"
MAX_ROWS = 2**29 - 1  # idnumber = i * 2**34 must fit in int64
COMPLEVEL = 5

# Tuned at 10 million rows on a 2-core machine:
GENERATE_CHUNK = 2**15  # rows generated at a time: the temporaries stay in the CPU cache
BLOCK_ROWS = 2**20  # rows per table.append: a whole number of chunks, few HDF5 calls
CHUNK_ROWS = 2**16  # rows per HDF5 chunk (2.25 MiB); PyTables would choose ~7000 at 10^7

NAME_PREFIX = b"Particle: "
NAME_DIGITS = 6  # 'Particle: %6d' fills the 16 bytes up to 999999; longer names are cut


def check_rows(nrows: int) -> None:
    if not 1 <= nrows <= MAX_ROWS:
        raise ValueError(f"rows must be in 1..{MAX_ROWS} (idnumber = i * 2**34 fits int64), got {nrows}")


# -- the rows ----------------------------------------------------------------------------


def tutorial_name(i: int) -> bytes:
    """Row i's name as the tutorial's loop stores it: PyTables cuts it to 16 bytes."""
    return ("Particle: %6d" % i).encode()[:16]  # noqa: UP031 - the tutorial's format


@functools.cache
def name_table() -> np.ndarray:
    """'Particle: %6d' % v for v in 0..999999, as S16, built from digit patterns (16 MB)."""
    count = 10**NAME_DIGITS
    names = np.empty((count, 16), dtype=np.uint8)
    names[:, : len(NAME_PREFIX)] = np.frombuffer(NAME_PREFIX, dtype=np.uint8)
    digits = np.arange(ord("0"), ord("9") + 1, dtype=np.uint8)
    for place in range(NAME_DIGITS):  # the 10**place digit of v, for every v in order
        names[:, 15 - place] = np.tile(np.repeat(digits, 10**place), count // 10 ** (place + 1))
        if place:  # %6d pads with spaces: v < 10**place has no digit there
            names[: 10**place, 15 - place] = ord(" ")
    return names.view("S16").ravel()


def names_into(out: np.ndarray, start: int) -> None:
    """Names of rows start, start+1, ... into the S16 array `out`, without Python formatting.

    Below 10**6 the name is an entry of `name_table`; above, the 16-byte cut keeps the
    first 6 digits, so rows i..i+10**k-1 share the entry i // 10**k (k = digits - 6).
    """
    table, stop, pos = name_table(), start + len(out), start
    while pos < stop:
        digits = len(str(pos))
        end = min(stop, 10**digits)
        if digits <= NAME_DIGITS:
            out[pos - start : end - start] = table[pos:end]
        else:
            run = 10 ** (digits - NAME_DIGITS)
            first, last = pos // run, (end - 1) // run
            repeated = np.repeat(table[first : last + 1], run)
            offset = pos - first * run
            out[pos - start : end - start] = repeated[offset : offset + end - pos]
        pos = end


def _fill_chunk(out: np.ndarray, start: int) -> None:
    i = np.arange(start, start + len(out), dtype=np.int64)
    out["idnumber"] = i << 34  # i * 2**34, exact: i < 2**29
    square = i.astype(np.float64)
    square *= square  # == float(i*i): a product of exact doubles is correctly rounded
    out["pressure"] = square  # to float32, rounded as when the row loop stores a float
    energy = out["pressure"].astype(np.float64)
    energy *= energy  # exact: a float32 has 24 significant bits, its square fits in 53
    energy *= energy  # pressure**4 rounded once: the correctly rounded value
    out["energy"] = energy
    names_into(out["name"], start)


def fill_particles(out: np.ndarray, start: int = 0) -> None:
    """Rows start, start+1, ... of the table into the structured array `out`, vectorized.

    Row i: name 'Particle: %6d' % i (cut to 16 bytes), idnumber i * 2**34, pressure
    float(i*i) as float32, energy pressure**4 correctly rounded. (The tutorial writes
    `float(pressure ** 4)`, libm's pow, which is one unit in the last place off for about
    0.1 % of rows on glibc and differs between platforms; `(p*p)*(p*p)` is exact then
    rounded once, everywhere. Both fills here use it, so their tables are identical.)
    """
    for offset in range(0, len(out), GENERATE_CHUNK):
        _fill_chunk(out[offset : offset + GENERATE_CHUNK], start + offset)


def make_particles(start: int, stop: int) -> np.ndarray:
    out = np.empty(stop - start, dtype=PARTICLE_DTYPE)
    fill_particles(out, start)
    return out


# -- writing the table -----------------------------------------------------------------


def filters_for(compression: str) -> tables.Filters:
    """`none` or a PyTables complib ('blosc:lz4', 'zlib', ...), at level 5."""
    if compression == "none":
        return tables.Filters(complevel=0)
    if compression not in tables.filters.all_complibs or not tables.which_lib_version(
        compression.split(":")[0]
    ):
        raise ValueError(f"compression {compression!r} is not available in this PyTables")
    return tables.Filters(complevel=COMPLEVEL, complib=compression, shuffle=True)


def create_readout(h5: tables.File, expectedrows: int, filters: tables.Filters) -> tables.Table:
    group = h5.create_group("/", "detector", "Detector information")
    return h5.create_table(
        group,
        "readout",
        Particle,
        "Readout example",
        filters=filters,
        expectedrows=expectedrows,
        chunkshape=None if CHUNK_ROWS is None else (min(CHUNK_ROWS, expectedrows),),
        track_times=False,  # same rows, same bytes: the file is reproducible
    )


def fill_row_by_row(path: str | Path, nrows: int, filters: tables.Filters) -> None:
    """The tutorial's loop: one `table.row` assignment and `append()` per particle."""
    with tables.open_file(path, mode="w", title="Test file") as h5:
        table = create_readout(h5, nrows, filters)
        particle = table.row
        for i in range(nrows):
            particle["name"] = "Particle: %6d" % (i)  # noqa: UP031 - the tutorial's code
            particle["pressure"] = float(i * i)
            pressure = particle["pressure"]  # the stored float32, as a Python float
            particle["energy"] = (pressure * pressure) * (pressure * pressure)  # see fill_particles
            particle["idnumber"] = i * (2**34)
            particle.append()  # Insert a new particle record
        table.flush()


def preallocate(path: Path, nbytes: int) -> None:
    """Reserve `nbytes` of disk beyond the file's end, as np.save does (NumPy's tofile
    calls fallocate): the file system then maps the blocks once instead of page by page.
    HDF5 cuts the file back to its real end when it closes it."""
    fallocate = getattr(os, "posix_fallocate", None)
    if fallocate is None:
        return
    fd = os.open(path, os.O_WRONLY)
    try:
        fallocate(fd, os.fstat(fd).st_size, nbytes)
    except OSError:  # not supported by this file system: just slower
        pass
    finally:
        os.close(fd)


@contextmanager
def new_readout(path: str | Path, nrows: int, filters: tables.Filters) -> Iterator[tables.Table]:
    """A new file with the empty table, ready for `nrows` rows written in whole chunks.

    HDF5's chunk cache is off: with it every chunk would be copied once more on its way
    to the disk, and whole chunks gain nothing from caching."""
    with tables.open_file(path, mode="w", title="Test file", chunk_cache_size=0) as h5:
        table = create_readout(h5, nrows, filters)
        if filters.complevel == 0:
            h5.flush()
            preallocate(Path(path), nrows * table.rowsize)
        yield table


def fill_blocks(
    path: str | Path, particles: np.ndarray, filters: tables.Filters, block_rows: int = BLOCK_ROWS
) -> None:
    """Block appends: `table.append` of the structured array, `block_rows` rows at a time."""
    with new_readout(path, len(particles), filters) as table:
        for start in range(0, len(particles), block_rows):
            table.append(particles[start : start + block_rows])  # table's dtype: no conversion


def fill_appends(
    path: str | Path, particles: np.ndarray, filters: tables.Filters, block_rows: int = BLOCK_ROWS
) -> None:
    """Block appends as a user types them: `create_table` with the filters and nothing
    else (PyTables' default expectedrows, so its chunk size; HDF5's chunk cache), then
    `table.append` of `block_rows` rows at a time."""
    with tables.open_file(path, mode="w") as h5:
        table = h5.create_table("/detector", "readout", Particle, filters=filters, createparents=True)
        for start in range(0, len(particles), block_rows):
            table.append(particles[start : start + block_rows])


def fill_chunks(path: str | Path, particles: np.ndarray) -> None:
    """Direct chunk writes (PyTables >= 3.10): grow the empty table with `truncate`, then
    hand HDF5 each chunk's bytes, which skip its chunk pipeline entirely. Uncompressed
    tables only: a compressed chunk would have to be compressed here first.

    Why faster than `table.append` of the same rows: the table has a fill value, so HDF5
    sends every new chunk through its chunk cache (to fill what the write would not
    cover) and copies each byte once more before writing it; here it writes the
    caller's bytes directly."""
    with new_readout(path, len(particles), tables.Filters(complevel=0)) as table:
        table.truncate(len(particles))  # sets the size; writes no row
        chunk_rows = table.chunkshape[0]
        last = np.zeros(chunk_rows, dtype=table.dtype)  # the default row is all zero bytes
        for start in range(0, len(particles), chunk_rows):
            chunk = particles[start : start + chunk_rows]
            if len(chunk) < chunk_rows:  # the last chunk is stored whole: pad it
                last[: len(chunk)] = chunk
                chunk = last
            table.write_chunk((start,), chunk.view(np.uint8))


def delivered_fill(filters: tables.Filters) -> str:
    """The fill that writes the table the stage delivers: direct chunk writes where the
    table is uncompressed (the fastest), block appends where chunks must be compressed."""
    return "chunks" if filters.complevel == 0 else "block"


def table_blocks(path: str | Path, block_rows: int = BLOCK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """(start, rows) of the table in consecutive blocks."""
    refuse_unsafe(path)  # PyTables would unpickle attributes on opening the table
    with tables.open_file(path, mode="r") as h5:
        table = h5.get_node(TABLE_PATH)
        for start in range(0, table.nrows, block_rows):
            yield start, table.read(start, start + block_rows)


def check_table(path: str | Path, expected: np.ndarray, method: str) -> None:
    """Fail unless the table at `path` holds exactly `expected`, byte for byte."""
    seen = 0
    for start, rows in table_blocks(path):
        want = expected[start : start + len(rows)]
        if rows.dtype != want.dtype or rows.tobytes() != want.tobytes():
            bad = start + int(np.flatnonzero(rows != want)[0]) if len(rows) == len(want) else start
            raise RuntimeError(f"the {method} fill wrote a different table: first bad row {bad}")
        seen += len(rows)
    if seen != len(expected):
        raise RuntimeError(f"the {method} fill wrote {seen} rows, expected {len(expected)}")
