"""Stage 2 of the tutorial: the PyTables particle table, filled and queried, every way timed.

One job per table size. It builds the tutorial's `Particle` rows in memory, vectorized,
and writes them to `/detector/readout` with block appends (`table.append`), the table
the stage delivers; it times that against the tutorial's row-by-row `table.row` loop
(capped), direct chunk writes and `np.save` of the same array. Then it runs the
configured query with every method (the tutorial's Python loop over `iterrows`,
in-kernel `where`, `read_where`, `where` on an indexed copy, pandas, a NumPy mask),
checks that they all find the same rows and writes them with the timings.
"""

import functools
import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tables

from outofcore.hdf5_safety import refuse_pickles
from outofcore.plan.query import Query, evaluate, indexable_columns, row_filter, to_numexpr
from outofcore.timing import Timing, measure


class Particle(tables.IsDescription):
    """The tutorial's record, exactly (PyTables stores the columns in name order)."""

    name = tables.StringCol(16)  # 16-character String
    idnumber = tables.Int64Col()  # Signed 64-bit integer
    pressure = tables.Float32Col()  # float (single-precision)
    energy = tables.Float64Col()  # double (double-precision)


# PyTables' index search compares a float32 column's bounds with float64 open-range
# limits; NumPy 2 casts the limit to float32 and warns of the (harmless) overflow to inf.
warnings.filterwarnings("ignore", "overflow encountered in cast", RuntimeWarning, "tables.index")

PARTICLE_DTYPE = tables.description.dtype_from_descr(Particle)
TABLE_PATH = "/detector/readout"
MAX_ROWS = 2**29 - 1  # idnumber = i * 2**34 must fit in int64
COMPLEVEL = 5
REPEATS = 3  # timed samples per method (median, min, max reported)

# Tuned at 10 million rows on a 2-core machine (see README.md, "The particle table"):
GENERATE_CHUNK = 2**15  # rows generated at a time: the temporaries stay in the CPU cache
BLOCK_ROWS = 2**20  # rows per table.append: a whole number of chunks, few HDF5 calls
CHUNK_ROWS = 2**16  # rows per HDF5 chunk (2.25 MiB); PyTables would choose ~7000 at 10^7
QUERY_BUFFER = 2**20  # bytes PyTables reads per step of a scan: 1 chunk, stays in cache

NAME_PREFIX = b"Particle: "
NAME_DIGITS = 6  # 'Particle: %6d' fills the 16 bytes up to 999999; longer names are cut

TIMINGS_COLUMNS = [
    "step",
    "method",
    "rows",
    "matches",
    "seconds",
    "seconds_min",
    "seconds_max",
    "repeats",
    "rows_per_s",
]
QUERY_COLUMNS = ["name", "idnumber", "pressure", "energy"]


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


# -- filling the table -----------------------------------------------------------------


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


def fill_chunks(path: str | Path, particles: np.ndarray) -> None:
    """Direct chunk writes (PyTables >= 3.10): grow the empty table with `truncate`, then
    hand HDF5 each chunk's bytes, which skip its chunk pipeline entirely. Uncompressed
    tables only: a compressed chunk would have to be compressed here first."""
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


def table_blocks(path: str | Path, block_rows: int = BLOCK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """(start, rows) of the table in consecutive blocks."""
    refuse_pickles(path)  # PyTables would unpickle attributes on opening the table
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


# -- timings ---------------------------------------------------------------------------


def timing_row(step: str, method: str, rows: int, timing: Timing, matches: int | None = None) -> dict:
    return {
        "step": step,
        "method": method,
        "rows": rows,
        "matches": matches,
        "seconds": timing.seconds,
        "seconds_min": timing.seconds_min,
        "seconds_max": timing.seconds_max,
        "repeats": timing.repeats,
        "rows_per_s": rows / timing.seconds,
    }


def fresh(path: Path) -> Callable[[], None]:
    """A timing setup that deletes `path`: each sample writes a new file instead of
    truncating the last (ext4 then flushes the old one, which would be timed)."""
    return lambda: path.unlink(missing_ok=True)


def time_fills(
    table_path: Path, scratch: Path, nrows: int, filters: tables.Filters, row_max: int, log: Any
) -> list[dict]:
    """Time every fill; leave the block-filled table at `table_path`; check contents.

    The rows are generated once into memory (timed as `generate`); `block`, `chunks` and
    `limit` (np.save) then write that same array, so they compare writing alone."""
    data = np.empty(nrows, dtype=PARTICLE_DTYPE)
    generate = measure(lambda: fill_particles(data), REPEATS)
    results = [timing_row("fill", "generate", nrows, generate)]
    log.info("generate: %.0f rows/s", nrows / generate.seconds)

    baseline_rows = min(nrows, row_max)
    row_path = scratch / "row.h5"
    row = measure(lambda: fill_row_by_row(row_path, baseline_rows, filters), REPEATS, setup=fresh(row_path))
    check_table(row_path, data[:baseline_rows], "row-by-row")
    row_path.unlink()
    results.append(timing_row("fill", "row", baseline_rows, row))
    if baseline_rows < nrows:  # marked: a linear extrapolation, not a measurement
        scale = nrows / baseline_rows
        extrapolated = Timing(
            row.seconds * scale, row.seconds_min * scale, row.seconds_max * scale, row.repeats, 1
        )
        results.append(timing_row("fill", "row_extrapolated", nrows, extrapolated))

    npy_path = scratch / "limit.npy"
    limit = measure(lambda: np.save(npy_path, data), REPEATS, setup=fresh(npy_path))
    npy_path.unlink()
    results.append(timing_row("fill", "limit", nrows, limit))

    block = measure(lambda: fill_blocks(table_path, data, filters), REPEATS, setup=fresh(table_path))
    check_table(table_path, data, "block")
    results.append(timing_row("fill", "block", nrows, block))
    if filters.complevel == 0:
        chunks_path = scratch / "chunks.h5"
        chunks = measure(lambda: fill_chunks(chunks_path, data), REPEATS, setup=fresh(chunks_path))
        check_table(chunks_path, data, "chunks")
        chunks_path.unlink()
        results.append(timing_row("fill", "chunks", nrows, chunks))
    log.info(
        "fill rows/s: row %.3g, block %.3g, np.save %.3g; block / np.save = %.2f",
        baseline_rows / row.seconds,
        nrows / block.seconds,
        nrows / limit.seconds,
        limit.seconds / block.seconds,
    )
    return results


# -- queries ---------------------------------------------------------------------------


def open_table(path: str | Path, mode: str = "r", threads: int = 1) -> tables.File:
    """Open for querying. PyTables caches the rows an indexed query found (and its index
    bounds) per condition string: a repeated query then costs a dictionary lookup, not a
    query. Those caches are off, so each timed call does the whole lookup. Scans read
    `QUERY_BUFFER` bytes at a time (16 MiB by default: evicted from the CPU cache before
    numexpr reads it again). A file with pickled attributes is refused first."""
    refuse_pickles(path)
    return tables.open_file(
        path,
        mode=mode,
        max_numexpr_threads=threads,
        max_blosc_threads=threads,
        iterseq_max_slots=0,
        limbounds_max_slots=0,
        io_buffer_size=QUERY_BUFFER,
    )


def query_methods(
    table: tables.Table, indexed: tables.Table, path: str | Path, data: np.ndarray, query: Query
) -> dict[str, Callable[[], np.ndarray]]:
    """Every way to find the matching rows: each returns row numbers, or (read_where) the rows."""
    condition = to_numexpr(query)  # rebuilt from the checked tree, never the config text
    loop = row_filter(query)

    def pandas_query() -> np.ndarray:
        frame = pd.read_hdf(path, TABLE_PATH)  # what a pandas user does with an HDF5 table
        return frame.query(condition).index.to_numpy(dtype=np.int64)

    return {
        "iterrows": lambda: np.asarray(loop(table.iterrows()), dtype=np.int64),
        "where": lambda: np.asarray([row.nrow for row in table.where(condition)], dtype=np.int64),
        "read_where": lambda: table.read_where(condition),
        "indexed": lambda: np.asarray([row.nrow for row in indexed.where(condition)], dtype=np.int64),
        "pandas": pandas_query,
        "numpy": lambda: np.flatnonzero(evaluate(query, data)),
    }


def matching_rows(results: dict[str, np.ndarray], table: tables.Table) -> np.ndarray:
    """The rows every method found; RuntimeError naming the methods if any two disagree."""
    reference_method, coordinates = next(iter(results.items()))
    expected = table.read_coordinates(coordinates)
    for method, found in results.items():
        if found.dtype.names is None:  # row numbers
            if not np.array_equal(found, coordinates):
                raise RuntimeError(
                    f"query methods disagree: {method} found rows {found[:10].tolist()}... "
                    f"({len(found)}), {reference_method} found {coordinates[:10].tolist()}... "
                    f"({len(coordinates)})"
                )
        elif found.dtype != expected.dtype or found.tobytes() != expected.tobytes():
            raise RuntimeError(
                f"query methods disagree: {method} returned {len(found)} rows, "
                f"{reference_method} found {len(expected)}"
            )
    return expected


def drop_indexes(table: tables.Table) -> None:
    for column in table.colinstances.values():
        if column.is_indexed:
            column.remove_index()


def create_indexes(table: tables.Table, names: list[str]) -> None:
    """A completely sorted index (the best for queries) on each named column."""
    for name in names:
        table.cols._f_col(name).create_csindex()


@contextmanager
def indexed_copy(path: Path, scratch: Path, threads: int) -> Iterator[tables.File]:
    """A copy of the table file to index (the output table stays as the tutorial built it)."""
    copy = scratch / "indexed.h5"
    shutil.copyfile(path, copy)
    try:
        with open_table(copy, "a", threads) as h5:
            yield h5
    finally:
        copy.unlink(missing_ok=True)


def run_queries(
    path: Path, scratch: Path, query: Query, threads: int = 1, repeats: int = REPEATS, log: Any = None
) -> tuple[np.ndarray, list[dict]]:
    """Time every query method on the table at `path`: (matching rows, timing rows)."""
    condition = to_numexpr(query)
    with open_table(path, "r", threads) as h5, indexed_copy(path, scratch, threads) as h5_indexed:
        table, indexed = h5.get_node(TABLE_PATH), h5_indexed.get_node(TABLE_PATH)
        nrows, timings = table.nrows, []
        names = indexable_columns(query)
        if names:  # one index build per sample: each sample starts from no index
            build = measure(
                lambda: create_indexes(indexed, names),
                repeats,
                min_time=0,
                setup=lambda: drop_indexes(indexed),
            )
            timings.append(timing_row("query", "create_csindex", nrows, build))
        if log is not None and not indexed.will_query_use_indexing(condition):
            log.warning(
                "no index used for %s (column against column, only !=, or a nested (A & B) | (C & D) "
                "that PyTables' index planner gets wrong): 'indexed' scans the table",
                condition,
            )

        data = table.read()  # the in-memory copy the numpy method masks (not timed)
        read = measure(table.read, repeats)
        methods = query_methods(table, indexed, path, data, query)
        results = {method: func() for method, func in methods.items()}
        rows = matching_rows(results, table)  # before timing: a disagreement fails fast
        for method, func in methods.items():
            timing = measure(func, repeats)
            timings.append(timing_row("query", method, nrows, timing, matches=len(rows)))
            if log is not None:
                log.info("%s: %.3g s (%d matches)", method, timing.seconds, len(rows))
        timings.append(timing_row("query", "read", nrows, read))
    return rows, timings


def query_frame(rows: np.ndarray) -> pd.DataFrame:
    """The matching rows as a table: name as text, pressure as the exact float64 of its float32."""
    return pd.DataFrame(
        {
            "name": np.char.decode(rows["name"], "ascii"),
            "idnumber": rows["idnumber"],
            "pressure": rows["pressure"].astype(np.float64),
            "energy": rows["energy"],
        },
        columns=QUERY_COLUMNS,
    )


def log_ratios(timings: pd.DataFrame, log: Any) -> None:
    """The comparisons a user choosing a method needs, as speed-up factors."""
    seconds = timings.set_index(["step", "method"])["seconds"]
    rates = timings.set_index(["step", "method"])["rows_per_s"]
    log.info(
        "ratios: block/np.save throughput %.2f; where vs iterrows %.1fx; indexed vs iterrows %.0fx; "
        "where / read time %.2f; generate %.3g rows/s",
        rates["fill", "block"] / rates["fill", "limit"],
        seconds["query", "iterrows"] / seconds["query", "where"],
        seconds["query", "iterrows"] / seconds["query", "indexed"],
        seconds["query", "where"] / seconds["query", "read"],
        rates["fill", "generate"],
    )


@contextmanager
def scratch_dir(near: Path) -> Iterator[Path]:
    """A private directory beside the outputs for files the job deletes itself."""
    near.parent.mkdir(parents=True, exist_ok=True)
    for stale in near.parent.glob(".scratch-*"):  # left by a killed job
        shutil.rmtree(stale, ignore_errors=True)
    path = near.with_name(f".scratch-{os.getpid()}")
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
