"""The huge-array stage on small arrays (a few MiB, several blocks): exact out-of-core
statistics for every backend, files other libraries read back, bounded memory, the disk
space check, and the workflow's temporary files and artifacts."""

import itertools
import os
import shutil
import socket
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest
import tables

from conftest import REPO, load_config
from outofcore.hugearray import figures as hugearray_figures
from outofcore.hugearray import job as hugearray
from outofcore.hugearray.data import VALUE_BITS, column_reduce, generate_blocks
from outofcore.hugearray.job import HugeArrayJob
from outofcore.hugearray.stores import reading
from outofcore.hugearray.stores.hdf5_chunks import DATASET
from outofcore.hugearray.stores.layout import Layout
from outofcore.hugearray.stores.registry import BACKENDS

# 174,762 rows of 3 columns: 2,048-row chunks, 43,008-row blocks (21 chunks), so 5 blocks
# of which the last is partial, and a partial last chunk.
SMALL = {"size_mb": 4, "columns": 3, "block_mb": 1, "chunk_kb": 64}
SEED = 11
# the table's columns, as docs/outputs.md documents them
CSV_COLUMNS = [
    "backend", "engine", "size_mb", "rows", "columns", "compression", "file_bytes",
    "write_seconds", "write_gbps", "reduce_seconds", "reduce_gbps", "peak_rss_mb", "check",
    "write_spread", "reduce_spread", "spread", "stable", "others_busy", "data", "host", "missing",
    "setting", "memory_cap_mb", "cap", "needed_mb", "workers", "worker_nodes", "worker_peak_rss_mb",
    "cluster_start_seconds", "worker_threads",
]  # fmt: skip

# (backend, compression, direct_chunks): every backend, both HDF5 write/read paths, and
# the other codec families through the HDF5 filter pipeline.
CASES = [
    ("tables", "blosc2:lz4", True),
    ("tables", "blosc2:lz4", False),
    ("h5py", "blosc2:lz4", True),
    ("h5py", "blosc2:lz4", False),
    ("memmap", "blosc2:lz4", True),
    ("tables", "blosc2:zstd", True),
    ("h5py", "blosc2:blosclz", True),
    ("tables", "zlib", True),
    ("h5py", "zlib", True),
    ("tables", "blosc:lz4", True),
    ("h5py", "blosc:lz4", True),
    ("tables", "none", True),
    ("h5py", "none", True),
]


def small_layout() -> Layout:
    return Layout.from_sizes(SMALL["size_mb"], SMALL["columns"], SMALL["block_mb"], SMALL["chunk_kb"])


def whole_array(seed: int, layout: Layout) -> np.ndarray:
    """The array in memory (fine at this size): what the file must hold."""
    return np.concatenate(list(generate_blocks(seed, layout))).astype(np.float64)


def small_job(
    path, backend, compression="blosc2:lz4", direct=True, cold_read=True, threads=2
) -> HugeArrayJob:
    return HugeArrayJob(
        path, backend, **SMALL, compression=compression, seed=SEED, threads=threads,
        direct_chunks=direct, cold_read=cold_read,
    )  # fmt: skip


def run_small(path, backend, compression="blosc2:lz4", direct=True, cold_read=True):
    return hugearray.run(small_job(path, backend, compression, direct, cold_read))


def read_back(path, backend) -> list[np.ndarray]:
    """The stored array, read by every library that can open the file."""
    if backend == "memmap":
        return [np.load(path)]
    with h5py.File(path, "r") as h5, tables.open_file(str(path), "r") as pt:
        return [h5[DATASET][()], getattr(pt.root, DATASET).read()]


def test_layout_blocks_are_whole_chunks():
    layout = small_layout()
    assert (layout.rows, layout.columns) == (4 * 2**20 // 24, 3)
    assert layout.chunk_rows == 2048  # power of two <= 64 KiB / 24 bytes
    assert layout.block_rows == 21 * 2048  # whole chunks <= 1 MiB
    spans = list(layout.blocks())
    assert len(spans) == 5 and spans[0] == (0, layout.block_rows) and spans[-1][1] == layout.rows
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))


@pytest.mark.parametrize("backend,compression,direct", CASES)
def test_out_of_core_statistics_are_exact(tmp_path, backend, compression, direct):
    path = tmp_path / f"array.{backend}"
    measurement, stats, exact = run_small(path, backend, compression, direct)
    data = whole_array(SEED, small_layout())
    assert measurement.check == "ok"
    assert (measurement.rows, measurement.columns) == data.shape
    np.testing.assert_array_equal(stats.total, data.sum(axis=0))
    np.testing.assert_array_equal(stats.mean, data.sum(axis=0) / len(data))
    np.testing.assert_array_equal(stats.low, data.min(axis=0))
    np.testing.assert_array_equal(stats.high, data.max(axis=0))
    np.testing.assert_array_equal(exact.total, data.sum(axis=0).astype(np.int64))
    for stored in read_back(path, backend):  # a file other tools read: same array
        np.testing.assert_array_equal(stored, data)
    expected = "none" if backend == "memmap" else compression
    assert measurement.compression == expected
    if expected == "none":
        assert measurement.file_bytes >= data.nbytes
    else:
        assert measurement.file_bytes < data.nbytes / 1.5  # the data compresses somewhat...
    assert measurement.file_bytes > data.nbytes / 8  # ...but not trivially


@pytest.mark.parametrize("backend", ["tables", "h5py", "memmap"])
def test_warm_read_gives_the_same_result(tmp_path, backend):
    cold = run_small(tmp_path / "cold", backend, cold_read=True)
    warm = run_small(tmp_path / "warm", backend, cold_read=False)
    assert cold[0].check == warm[0].check == "ok"
    np.testing.assert_array_equal(cold[1].total, warm[1].total)


def test_data_compresses_about_threefold(tmp_path):
    """What the docs state: 16-bit integers as float64, blosc2 lz4 + shuffle, ratio ~2.9."""
    measurement = run_small(tmp_path / "a.h5", "tables")[0]
    assert 2.5 < measurement.rows * measurement.columns * 8 / measurement.file_bytes < 3.5


@pytest.mark.parametrize("backend", ["tables", "h5py", "memmap"])
def test_check_catches_a_changed_value(tmp_path, backend):
    """The check is not vacuous: one value changed in the file makes it fail."""
    layout, job = small_layout(), small_job(tmp_path / "array", backend, cold_read=False, threads=1)
    path = job.path
    _, exact = hugearray.write_array(job)
    row = layout.rows - 5  # in the partial last chunk
    if backend == "memmap":
        stored = np.load(path, mmap_mode="r+")
        stored[row, 1] += 1
        stored.flush()
        del stored
    else:
        with h5py.File(path, "r+") as h5:
            h5[DATASET][row, 1] += 1
    _, stats, _ = hugearray.reduce_array(job)
    assert not stats.matches(exact)
    assert stats.total[1] == exact.total[1] + 1 and stats.total[0] == exact.total[0]
    wrong = hugearray.Measurement(backend, "threads", 4, layout.rows, 3, "none", 1, 1, 1, 1, 1, 1, "mismatch")
    with pytest.raises(hugearray.WrongAnswer, match="differ from the exact ones"):
        hugearray.require_exact(wrong, path)  # what the job's script calls: the job fails


def test_a_wrong_row_fails_the_plots(tmp_path):
    """A per-job table that says `mismatch` (never written by the job) is refused too."""
    path = tmp_path / "tables.csv"
    hugearray.write_measurement(
        hugearray.Measurement("tables", "threads", 2, 1, 3, "none", 1, 1, 1, 1, 1, 1, "mismatch"), path
    )
    with pytest.raises(ValueError, match=r"tables\.csv: check = \['mismatch'\]"):
        hugearray_figures.load_measurements([path])


@pytest.mark.parametrize(
    "target",
    [
        "results/hugearray/0/uniform_int16/threads/tables.csv",
        "results/hugearray/2/linspace/threads/tables.csv",
        "results/particles/7/timings.csv",
    ],
)
def test_targets_outside_the_config_match_no_rule(workflow_runner, target):
    """Sizes and row counts come only from the checked config, never from a target's name."""
    proc = workflow_runner(TINY, target, "--dry-run", check=False)
    assert proc.returncode != 0
    assert (
        "MissingRuleException" in proc.stdout + proc.stderr
        or "No rule to produce" in proc.stdout + proc.stderr
    )


def test_same_seed_same_array_other_seed_differs():
    layout = small_layout()
    one, two, other = whole_array(1, layout), whole_array(1, layout), whole_array(2, layout)
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, other)
    assert one.min() >= 0 and one.max() < 2**VALUE_BITS
    assert np.array_equal(one, np.round(one))  # integers: sums are exact in float64


def test_column_reduce_matches_numpy_for_any_shape():
    rng = np.random.default_rng(0)
    for rows, columns in [(1, 1), (7, 3), (64, 3), (4096, 8), (1000, 100), (16, 5)]:
        block = rng.integers(0, 1000, size=(rows, columns)).astype(np.float64)
        for ufunc in (np.add, np.minimum, np.maximum):
            np.testing.assert_array_equal(column_reduce(ufunc, block), ufunc.reduce(block, axis=0))


class CountingReader(reading.PieceReader):
    """Pieces 0..n-1 whose rows all hold the piece's number; fails on `fail_at`."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.pieces, self.shape, self.fail_at = range(n), (3, 2), fail_at
        self.closers = []

    def fetch(self, piece, buffer):
        if piece == self.fail_at:
            raise ValueError("read failed")
        return piece

    def finish(self, piece, fetched, buffer):
        buffer[...] = fetched
        return buffer


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_parallel_read_hands_every_piece_once(workers):
    seen = [[] for _ in range(workers)]
    sinks = [lambda block, mine=mine: mine.append(int(block[0, 0])) for mine in seen]
    reading.read_in_parallel(CountingReader(50), sinks)
    assert sorted(piece for mine in seen for piece in mine) == list(range(50))


def test_parallel_read_raises_a_workers_failure():
    with pytest.raises(ValueError, match="read failed"):
        reading.read_in_parallel(CountingReader(50, fail_at=7), [lambda block: None] * 2)


PEAK_RSS = """
import sys
from outofcore.hugearray import job as hugearray
from outofcore.hugearray import figures as hugearray_figures
path, backend, size_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
job = hugearray.HugeArrayJob(path, backend, size_mb, 8, 1, 256, "blosc2:lz4", 1, threads=2)
m, _, _ = hugearray.run(job)
assert m.check == "ok", m
print(m.peak_rss_mb)
"""


def peak_rss_mb(path, backend: str, size_mb: int) -> float:
    """Peak RSS (ru_maxrss) of a fresh process that builds and reduces one array."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "scripts")}
    cmd = [sys.executable, "-c", PEAK_RSS, str(path), backend, str(size_mb)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, timeout=300)
    return float(proc.stdout.split()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tables", "h5py", "memmap"])
def test_memory_is_bounded_by_the_block_not_the_array(tmp_path, backend):
    """12x the array (8 -> 96 MiB, 1 MiB blocks): the peak RSS grows by less than 4 blocks."""
    small = peak_rss_mb(tmp_path / "small", backend, 8)
    large = peak_rss_mb(tmp_path / "large", backend, 96)
    assert large - small < 4, (small, large)


def test_not_enough_disk_space_fails_before_writing(tmp_path):
    """The real check against the real free space: ask for twice what is free."""
    free_mib = shutil.disk_usage(tmp_path).free // 2**20
    path = tmp_path / "out" / "huge.h5"
    with pytest.raises(hugearray.NotEnoughDiskSpace, match=r"not enough free disk space for .*huge\.h5"):
        hugearray.run(HugeArrayJob(path, "tables", 2 * free_mib, 8, 64, 4096, "blosc2:lz4", 1))
    assert list(path.parent.iterdir()) == []  # no file, no partial file


# --- the workflow ----------------------------------------------------------------------------

TINY = load_config("hugearray_tiny.yaml")


def test_stage_end_to_end_removes_the_large_files(workflow_runner):
    workflow_runner(TINY, "hugearray_plots")
    out = workflow_runner.workdir / "results" / "hugearray"
    for size in (2, 4):
        for backend in ("tables", "h5py", "memmap"):
            row = pd.read_csv(out / str(size) / "uniform_int16" / "threads" / f"{backend}.csv")
            assert list(row.columns) == CSV_COLUMNS
            assert len(row) == 1
            row = row.iloc[0]
            assert (row["backend"], row["engine"], row["size_mb"], row["columns"]) == (
                backend,
                "threads",
                size,
                3,
            )
            assert row["rows"] == size * 2**20 // 24 and row["data"] == "uniform_int16"
            assert row["setting"] == "pipeline"  # the workflow's own direct chunks and reduce
            assert row["check"] == "ok"
            assert row["write_seconds"] > 0 and row["reduce_gbps"] > 0 and row["peak_rss_mb"] > 0
            assert row["spread"] == max(row["write_spread"], row["reduce_spread"]) >= 0
            assert row["stable"] == (row["spread"] <= 0.15) and 0 <= row["others_busy"] <= 1
            assert row["host"] == socket.gethostname()  # the limits job's node: nothing more measured
            assert pd.read_csv(
                out / str(size) / "uniform_int16" / "threads" / f"{backend}.node_limits.csv"
            ).empty
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 6 and set(summary["check"]) == {"ok"}
    assert set(summary["bounded"]) == {"yes"}  # 2 -> 4 MiB: memory did not follow the array
    for png in ("memory.png", "throughput.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    suffixes = {store.suffix for store in BACKENDS.values()}
    leftovers = [p.name for p in out.rglob("*") if p.suffix in suffixes or ".partial-" in p.name]
    assert leftovers == []  # temp(): the arrays are gone once their job is done
    log = workflow_runner.workdir / "logs" / "hugearray_4_uniform_int16_threads_tables.log"
    assert log.stat().st_size > 0
    # every job under the default config's cap; the h5py job of each size also loaded its
    # store whole under it (tiny arrays: it fits, and its statistics are exact)
    assert set(summary["memory_cap_mb"]) == {512} and set(summary["cap"]) == {"rlimit_data"}
    assert "enforced by RLIMIT_DATA" in log.read_text()
    capped = pd.read_csv(out / "memory_cap.csv")
    naive = capped[capped["engine"] == "naive"]
    assert naive[["size_mb", "backend", "check"]].values.tolist() == [[2, "h5py", "ok"], [4, "h5py", "ok"]]
    assert (naive["peak_rss_mb"] < 512).all() and (naive["needed_mb"] > naive["size_mb"]).all()
    assert len(capped) == 8 and (out / "memory_cap.png").read_bytes()[:4] == b"\x89PNG"
    assert pd.read_csv(out / "2" / "uniform_int16" / "threads" / "tables.naive.csv").empty


def test_keep_data_keeps_the_arrays(workflow_runner):
    stage = {**TINY["hugearray"], "sizes_mb": [2], "backends": ["h5py", "memmap"], "keep_data": True}
    config = {"limits": TINY["limits"], "hugearray": stage}
    workflow_runner(config, "hugearray_plots")
    out = workflow_runner.workdir / "results" / "hugearray" / "2" / "uniform_int16" / "threads"
    layout = Layout.from_sizes(2, 3, 1, 64)
    data = whole_array(42, layout)  # the default seed
    np.testing.assert_array_equal(read_back(out / "h5py.h5", "h5py")[0], data)
    np.testing.assert_array_equal(np.load(out / "memmap.npy"), data)


def test_workflow_reports_missing_disk_space(workflow_runner):
    """An array larger than the free disk is refused before any job starts (the huge-array
    job checks the free space again before writing: `ensure_free_space`)."""
    free_mib = shutil.disk_usage(workflow_runner.workdir).free // 2**20
    size = 2 * free_mib
    if size > 1_000_000:
        pytest.skip("more free disk than the largest size the config accepts")
    config = {"hugearray": {**TINY["hugearray"], "sizes_mb": [size], "backends": ["tables"]}}
    proc = workflow_runner(config, "hugearray_plots", check=False)
    assert proc.returncode != 0
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("config error")]
    assert lines[0].startswith(f"config error: hugearray.sizes_mb[0] = {size}: the hugearray {size} MiB job")
    assert "MiB of disk, more than the" in lines[0]
    assert not (workflow_runner.workdir / "results" / "hugearray").exists()  # nothing started


def test_a_store_asked_for_by_name_is_removed_too(workflow_runner):
    """Snakemake keeps the temporary outputs of a job named as the target: the run removes
    them when it ends (one huge-array CSV asked for directly leaves no GiB store)."""
    stage = {**TINY["hugearray"], "sizes_mb": [2], "backends": ["memmap"]}
    config = {"limits": TINY["limits"], "hugearray": stage}
    target = "results/hugearray/2/uniform_int16/threads/memmap.csv"
    proc = workflow_runner(config, target)
    out = workflow_runner.workdir / "results" / "hugearray" / "2" / "uniform_int16" / "threads"
    assert (out / "memmap.csv").exists() and not (out / "memmap.npy").exists()
    assert "memmap.npy: temporary" in proc.stderr


def measured_frame(tmp_path) -> pd.DataFrame:
    """Two sizes of tables (3x compressed) and memmap (stored raw), as the jobs write them."""
    paths = []
    for size in (2, 4):
        rows = size * 2**20 // 24
        for backend, stored in (("tables", 3.0), ("memmap", 1.0)):
            path = tmp_path / f"{size}-{backend}.csv"
            nbytes = rows * 3 * 8
            hugearray.write_measurement(
                hugearray.Measurement(backend, "threads", size, rows, 3, "x", int(nbytes / stored), 1.0, 0.5,
                                      1.0, 0.9, 50, "ok", data="uniform_int16"), path)  # fmt: skip
            paths.append(path)
    return hugearray_figures.load_measurements(paths)


def test_throughput_plot_draws_every_limit_the_summary_divides_by(tmp_path):
    from outofcore.core.readable import MIN_TEXT_PX, readable, smallest_text_px
    from outofcore.summary.headline import headline_frame
    from outofcore.summary.table import summarize

    frame = measured_frame(tmp_path)
    limits = pd.DataFrame(
        [("durable_write", 1.0, "GB/s", "fsync"), ("cold_read", 2.0, "GB/s", "device"),
         ("copy_1t", 4.0, "GB/s", "copy"), ("copy_2t", 5.0, "GB/s", "copy")],
        columns=["name", "value", "unit", "how"],
    )  # fmt: skip
    lines = hugearray_figures.limit_lines(frame, 2, True, limits)
    fig = readable(hugearray_figures.plot_throughput(frame, True, lines))
    summary = summarize(limits, headline_frame(hugearray_figures.headline(frame, 2, True)))
    drawn = {}
    for ax, step in zip(fig.axes, ("write", "reduce"), strict=True):
        for line in ax.get_lines():
            if len(set(line.get_ydata())) == 1 and "GB/s" in line.get_label():  # a horizontal limit
                drawn[(step, line.get_ydata()[0])] = line.get_label().replace("\n", " ")
    expected = {
        ("write", 3.0): "min(durable write (fsync) x 3.00, memory copy, 2 threads (copy_2t)) = 3 GB/s: "
        "tables",
        ("write", 1.0): "durable write (fsync) = 1 GB/s: memmap",
        ("reduce", 5.0): "min(cold read (device) x 3.00, memory copy, 2 threads (copy_2t)) = 5 GB/s: tables",
        ("reduce", 2.0): "cold read (device) = 2 GB/s: memmap",
    }
    assert drawn == expected
    # the same names and values as the summary's rows
    assert {(r.limit, r.limit_value) for r in summary.itertuples()} == {
        (label.split(" = ")[0], value) for (_, value), label in expected.items()
    }
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    stores, named = fig.legends  # the stores; each limit, named under the panels
    assert [t.get_text() for t in named.get_texts()] == [
        "write, memmap: 1 GB/s", "write, tables: 3 GB/s (x 3.00)", "reduce, memmap: 2 GB/s",
        "reduce, tables: 5 GB/s (x 3.00)",
    ]  # fmt: skip
    boxes = [fig._suptitle, stores, named, *fig.axes, *(ax.title for ax in fig.axes)]
    for first, second in itertools.combinations(boxes, 2):
        assert not first.get_window_extent(renderer).overlaps(second.get_window_extent(renderer))
    assert smallest_text_px(fig) >= MIN_TEXT_PX - 0.01
