"""The blosc stage: round trips, the pickle-free reader, the sweep table and its figures."""

import json
import math
import os
import pickle
import time
import xml.etree.ElementTree as ET

import blosc
import blosc2
import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from outofcore.blosc import bench as blosc_bench
from outofcore.blosc import figures as blosc_figures
from outofcore.blosc import filters as blosc_filters
from outofcore.blosc import rows as blosc_rows
from outofcore.blosc import tuned as blosc_tuned
from outofcore.core import contention
from outofcore.core.files import save_figure, write_csv
from outofcore.core.readable import MIN_TEXT_PX, readable, smallest_text_px
from outofcore.limits import memory as bandwidth
from outofcore.plan import jobs, sizing
from outofcore.plan.jobs import blosc_combinations
from outofcore.safety.blosc_bytes import (
    CODECS,
    FORMATS,
    UnsafeData,
    blosc_threads,
    make_header,
    pack_safe,
    unpack_safe,
)

SMALL_SIZES = [1, 10, 1000, 12345]


# -- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("method,codec", blosc_combinations(blosc_bench.METHODS, CODECS))
@pytest.mark.parametrize("size", SMALL_SIZES)
def test_every_method_and_codec_round_trips(method, codec, size):
    array = blosc_bench.seed_array(size)
    out = None if method == "pack_array" else np.full_like(array, np.nan)
    pack, unpack, result, compressed = blosc_bench.round_trip_calls(method, codec, 5, array, out)
    pack()
    unpack()
    restored = result()
    assert restored.dtype == np.float64 and restored.shape == (size,)
    np.testing.assert_array_equal(restored, np.linspace(0, 100, size))
    assert compressed() > 0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(
    "array",
    [
        np.linspace(0, 100, 1000).reshape(10, 100),
        np.arange(24, dtype=np.int16).reshape(2, 3, 4),
        np.arange(7, dtype=">i4"),  # big-endian stays big-endian
        np.array([True, False, True]),
        np.array([1 + 2j, 3 - 4j], dtype=np.complex64),
        np.array(3.5),  # zero-dimensional
        np.arange(100.0)[::3],  # not contiguous
    ],
    ids=["2d-f8", "3d-i2", "big-endian", "bool", "complex", "0d", "strided"],
)
def test_safe_pack_preserves_dtype_shape_values(fmt, codec, array):
    header, payload = pack_safe(array, codec, 5, fmt)
    restored = unpack_safe(header, payload)
    assert restored.dtype == array.dtype and restored.shape == array.shape
    np.testing.assert_array_equal(restored, array)


def test_unpack_into_a_reused_array():
    array = np.arange(1000, dtype=np.float32)
    header, payload = pack_safe(array, "zstd", 9, "blosc2")
    out = np.zeros_like(array)
    assert unpack_safe(header, payload, out=out) is out
    np.testing.assert_array_equal(out, array)
    with pytest.raises(ValueError, match="header says"):
        unpack_safe(header, payload, out=np.zeros(999, dtype=np.float32))


def test_a_wrong_round_trip_is_detected():
    array = blosc_bench.seed_array(100)
    wrong = array.copy()
    wrong[50] += 1e-9
    with pytest.raises(blosc_bench.RoundTripError, match="differ"):
        blosc_bench.check_round_trip(array, wrong, "test")
    with pytest.raises(blosc_bench.RoundTripError, match="float32"):
        blosc_bench.check_round_trip(array, array.astype(np.float32), "test")


def test_blosc_threads_sets_and_restores_both_libraries():
    before = (blosc.set_nthreads(1), blosc2.set_nthreads(1))
    with blosc_threads(2):
        assert blosc2.nthreads == 2
        assert blosc.set_nthreads(2) == 2  # returns the previous setting
    assert blosc2.nthreads == 1 and blosc.set_nthreads(before[0]) == 1
    blosc2.set_nthreads(before[1])


# -- no pickle on the safe path ----------------------------------------------------------


class CreatesAFile:
    """Unpickling this runs open(path, 'w'): the file appearing proves code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def malicious_pack_array(path) -> bytes:
    """Bytes shaped exactly like pack_array's output, whose unpacking creates `path`."""
    return blosc.compress(pickle.dumps(CreatesAFile(path)), typesize=8)


def test_the_malicious_payload_really_runs_code_in_unpack_array(tmp_path):
    marker = tmp_path / "unpack_array-ran-code"
    blosc.unpack_array(malicious_pack_array(marker))
    assert marker.exists()  # this is what the safe path must never do


@pytest.mark.parametrize("fmt", FORMATS)
def test_safe_path_rejects_a_malicious_pickle_and_runs_nothing(tmp_path, fmt):
    marker = tmp_path / "safe-path-ran-code"
    pickled = pickle.dumps(CreatesAFile(marker))
    payloads = {
        "pack_array bytes": malicious_pack_array(marker),
        "raw pickle": pickled,
        "pickle in a blosc2 chunk": blosc2.compress(pickled, typesize=1),
    }
    header = make_header(fmt, np.dtype("<f8"), (1000,))
    for name, payload in payloads.items():
        with pytest.raises(UnsafeData):
            unpack_safe(header, payload)
        assert not marker.exists(), name
    with pytest.raises(UnsafeData, match="not JSON"):
        unpack_safe(pickled, blosc.compress(b"\0" * 8000, typesize=8))
    assert not marker.exists()


def test_pickle_bytes_under_a_matching_header_stay_numbers(tmp_path):
    """Even a header sized to the pickle only yields its bytes as uint8, never a call."""
    marker = tmp_path / "ran"
    pickled = pickle.dumps(CreatesAFile(marker))
    payload = blosc.compress(pickled, typesize=1)
    restored = unpack_safe(make_header("blosc1", np.dtype("|u1"), (len(pickled),)), payload)
    assert restored.tobytes() == pickled
    assert not marker.exists()


@pytest.mark.parametrize(
    "header",
    [
        {"format": "blosc1", "dtype": "|O", "shape": [3]},  # object arrays hold pointers
        {"format": "blosc1", "dtype": "<U4", "shape": [3]},
        {"format": "blosc1", "dtype": "[('a', '<f8')]", "shape": [3]},
        {"format": "blosc1", "dtype": "<f8", "shape": [-3]},
        {"format": "blosc1", "dtype": "<f8", "shape": [True]},
        {"format": "blosc1", "dtype": "<f8", "shape": "3"},
        {"format": "blosc1", "dtype": "<f8", "shape": [2**40]},  # larger than one buffer
        {"format": "blosc1", "dtype": "<f3", "shape": [3]},
        {"format": "pickle", "dtype": "<f8", "shape": [3]},
        {"format": "blosc1", "dtype": "<f8", "shape": [3], "class": "os.system"},
        ["blosc1", "<f8", [3]],
    ],
)
def test_headers_other_than_plain_numbers_are_rejected(header):
    with pytest.raises(UnsafeData):
        unpack_safe(json.dumps(header), blosc.compress(b"\0" * 24, typesize=8))


@pytest.mark.parametrize("fmt", FORMATS)
def test_payloads_that_do_not_fit_the_header_are_rejected_before_decompressing(fmt):
    header, payload = pack_safe(np.arange(1000.0), "lz4", 5, fmt)
    other = "blosc2" if fmt == "blosc1" else "blosc1"
    small = make_header(fmt, np.dtype("<f8"), (10,))  # decompressing would overflow it
    cases = {
        "too long for the array": (small, payload),
        "truncated": (header, payload[:-1]),
        "shorter than a header": (header, payload[:8]),
        "other library's format": (make_header(other, np.dtype("<f8"), (1000,)), payload),
        "not bytes": (header, "a string"),
    }
    for name, (head, body) in cases.items():
        with pytest.raises(UnsafeData):
            unpack_safe(head, body)
            pytest.fail(name)


@pytest.mark.parametrize("fmt", FORMATS)
def test_corrupt_payloads_raise_unsafe_data_or_give_plain_numbers(fmt):
    """Bytes changed behind a valid header: a clean UnsafeData, or an array of the header's shape."""
    header, payload = pack_safe(np.linspace(0, 100, 10_000), "lz4", 5, fmt)
    rng = np.random.default_rng(0)
    outcomes = set()
    for _ in range(300):
        corrupt = bytearray(payload)
        for position in rng.integers(16, len(corrupt), size=3):  # the sizes are checked apart
            corrupt[position] = rng.integers(0, 256)
        try:
            restored = unpack_safe(header, bytes(corrupt))
        except UnsafeData:
            outcomes.add("rejected")
        else:
            assert restored.shape == (10_000,) and restored.dtype == np.float64
            outcomes.add("numbers")
    assert "rejected" in outcomes


# -- the sweep table ---------------------------------------------------------------------

TINY = {"sizes": [10, 1000], "clevel": 5, "threads": [1, 2], "repeats": 2, "min_time": 0.0005}


@pytest.fixture(scope="module")
def sweep_table(tmp_path_factory) -> pd.DataFrame:
    """A real sweep of three jobs gathered by `collect`, as the workflow does."""
    folder = tmp_path_factory.mktemp("parts")
    parts = []
    for method, codec in [("pack_array", "blosclz"), ("compress_ptr", "lz4"), ("blosc2", "zstd")]:
        part = blosc_bench.sweep(method, codec, **TINY, memcpy_size=2**20)
        path = folder / f"{method}-{codec}.csv"
        write_csv(part, path)
        parts.append(path)
    return blosc_rows.collect(parts)


def test_sweep_job_rows(tmp_path):
    part = blosc_bench.sweep("compress_ptr", "zstd", **TINY, memcpy_size=1000)
    assert list(part.columns) == blosc_rows.COLUMNS
    memory, rows = part.iloc[:6], part.iloc[6:]  # copy, write, read over 1 and 2 threads first
    assert set(memory["method"]) == {"memcpy"} and set(memory["codec"]) == {"none"}
    assert sorted(zip(memory["operation"], memory["threads"], strict=True)) == [
        (kind, t) for kind in ("copy", "read", "write") for t in (1, 2)
    ]
    assert (
        (memory["size"] == 1000).all() and (memory["nbytes"] == 8000).all() and (memory["ratio"] == 1).all()
    )
    assert len(rows) == 2 * 2 * 2  # sizes x threads x operations
    assert np.allclose(part["spread"], (part["seconds_max"] - part["seconds_min"]) / part["seconds"])
    assert (part["stable"] == (part["spread"] <= 0.15)).all()
    assert set(rows["operation"]) == {"compress", "decompress"}
    assert (rows["nbytes"] == 8 * rows["size"]).all()
    assert np.allclose(rows["ratio"], rows["nbytes"] / rows["compressed_nbytes"])
    assert np.allclose(rows["gbps"], rows["nbytes"] / rows["seconds"] / 1e9)
    assert (rows["seconds_min"] <= rows["seconds"]).all() and (rows["seconds"] <= rows["seconds_max"]).all()
    assert (rows["repeats"] == 2).all()
    # both operations of a point see the same compressed bytes
    for _, point in rows.groupby(["threads", "size"]):
        assert point["compressed_nbytes"].nunique() == 1


def test_sweep_rejects_unknown_method_and_codec():
    with pytest.raises(ValueError, match="unknown method"):
        blosc_bench.sweep("pickle", "lz4", **TINY)
    with pytest.raises(ValueError, match="unknown codec"):
        blosc_bench.sweep("blosc2", "snappy", **TINY)


def test_sweep_resolves_all_threads_to_the_job_cores():
    assert jobs.resolve_threads([1, "all"], 2) == [1, 2]
    assert jobs.resolve_threads([1, "all"], 1) == [1]  # one core: measured once
    assert jobs.resolve_threads([4, "all", 2], 16) == [2, 4, 16]
    assert jobs.threads_request([1, "all"], 8) == 8 and jobs.threads_request([1, 2], 8) == 2
    assert jobs.fixed_threads([1, "all", 4]) == [1, 4]


def test_collected_csv_schema_and_one_row_per_bandwidth(sweep_table, tmp_path):
    path = tmp_path / "sweep.csv"
    write_csv(sweep_table, path)
    table = pd.read_csv(path)
    assert list(table.columns) == [
        "data",
        "method",
        "codec",
        "filters",
        "threads",
        "size",
        "nbytes",
        "operation",
        "seconds",
        "seconds_min",
        "seconds_max",
        "repeats",
        "compressed_nbytes",
        "ratio",
        "gbps",
        "spread",
        "stable",
        "dtype",
        "max_error",
        "others_busy",
        "coverage",
        "file_repeats",
        "setting",
    ]
    memcpy = table[table["method"] == "memcpy"]
    assert len(memcpy) == 3 * 2 and list(memcpy.index) == list(range(6))  # kinds x threads, first
    assert (memcpy["repeats"] == 3 * 2).all()  # every job's samples
    rows = table[table["method"] != "memcpy"]
    assert len(rows) == 5 * 2 * 2 * 2  # blosc2 as typed and compress2; pack_array and pack_tensor
    assert not rows.duplicated(["method", "codec", "threads", "size", "operation"]).any()
    settings = dict(zip(table["method"], table["setting"], strict=True))
    assert settings == {"memcpy": "pipeline", "pack_array": "default", "compress_ptr": "tuned",
                        "blosc2": "default", "compress2": "tuned", "pack_tensor": "tuned"}  # fmt: skip
    assert set(rows["operation"]) == {"compress", "decompress"}


def test_single_samples_are_collected_as_unknown_spread_and_still_make_a_headline(tmp_path):
    """One sample per point: its spread is unknown (an empty cell in the part), read back
    as NaN, never called stable; the headline takes the figures with that NaN spread."""
    part = blosc_bench.sweep("compress_ptr", "lz4", **{**TINY, "repeats": 1}, memcpy_size=2**20)
    write_csv(part, tmp_path / "part.csv")
    table = blosc_rows.collect([tmp_path / "part.csv"])
    assert table["spread"].isna().all() and not table["stable"].astype(str).eq("True").any()
    rows = blosc_figures.headline(table)
    assert rows and all(math.isnan(row.spread) for row in rows)


def test_collect_refuses_points_measured_twice(sweep_table, tmp_path):
    path = tmp_path / "part.csv"
    write_csv(sweep_table, path)
    with pytest.raises(ValueError, match="twice"):
        blosc_rows.collect([path, path])


def test_sweep_resource_requests_at_the_default_sizes():
    """pack_array holds six copies of every size's array (its job's pack_tensor one of
    them; all are timed in the same rounds: 848 MiB of float64 at the default sizes),
    the safe methods three, and small sweeps still reserve the memcpy's 2 x 256 MB."""
    sizes = [10**k for k in range(1, 9)]
    assert sizing.blosc_sweep_mem_mb(sizes, "pack_array") == 300 + int(6 * 847.7)
    assert sizing.blosc_sweep_mem_mb(sizes, "blosc2") == 300 + int(3 * 847.7)
    assert sizing.blosc_sweep_mem_mb([10, 1000], "pack_array") == 812
    assert sizing.blosc_sweep_runtime(sizes, [1, 2], 3, 0.02) == 6
    assert sizing.blosc_sweep_runtime(sizes, [1, 2], 3, 0.02, pipelines=5) == 26  # five times the timed part


def test_combinations_give_pack_array_its_own_codec():
    assert blosc_combinations(["pack_array", "blosc2"], ["lz4", "zstd"]) == [
        ("pack_array", "blosclz"),
        ("blosc2", "lz4"),
        ("blosc2", "zstd"),
    ]


def test_memcpy_bandwidth():
    timing = bandwidth.memcpy_timing(2**20, repeats=2, min_time=0.001)
    assert timing.repeats == 2 and timing.number >= 1
    assert 0 < bandwidth.memcpy_gbps(2**20, repeats=1, min_time=0.001) < 10_000
    with pytest.raises(ValueError):
        bandwidth.memcpy_gbps(0)


# -- performance ratios (exact arithmetic on a made-up table) ----------------------------


def made_up_sweep() -> pd.DataFrame:
    rows = [("memcpy", "none", 1, 100, "copy", 6.0), ("memcpy", "none", 2, 100, "copy", 10.0)]
    for method, codec, compress, decompress in [
        ("pack_array", "blosclz", 1.0, 0.5),
        ("compress_ptr", "lz4", 4.0, 9.0),
        ("blosc2", "zstd", 2.0, 6.0),
    ]:
        for threads in (1, 2):
            for size in (10, 100):
                rows.append((method, codec, threads, size, "compress", compress * threads))
                rows.append((method, codec, threads, size, "decompress", decompress * threads))
    table = pd.DataFrame(rows, columns=["method", "codec", "threads", "size", "operation", "gbps"])
    table["nbytes"] = 8 * table["size"]
    table["seconds"] = table["nbytes"] / table["gbps"] / 1e9
    return table


def test_targets_are_ratios_at_the_largest_size_and_most_threads():
    table = blosc_figures.targets(made_up_sweep()).set_index("quantity")
    assert table.loc["best safe compress / memcpy", "value"] == pytest.approx(0.8)
    assert table.loc["best safe compress / pack_array", "value"] == pytest.approx(4.0)
    assert table.loc["best safe decompress / memcpy", "value"] == pytest.approx(1.8)
    assert table.loc["best safe decompress / pack_array", "value"] == pytest.approx(18.0)
    assert table.loc["best safe decompress / memcpy", "method"] == "compress_ptr/lz4"
    assert table["meets_target"].all()


def test_agreement_of_two_sweeps():
    first = made_up_sweep()
    second = first.copy()
    second.loc[second["size"] == 100, "seconds"] *= 1.1
    second.loc[second["size"] == 10, "seconds"] *= 3  # small sizes are left out
    both = blosc_figures.agreement(first, second, min_size=100)
    assert set(both["size"]) == {100}
    assert np.allclose(both["relative_difference"], 0.1)


# -- figures -----------------------------------------------------------------------------


def test_seed_figure_is_log_log_in_seconds(sweep_table):
    fig = blosc_figures.seed_loglog(sweep_table)
    (ax,) = fig.axes
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert "(s)" in ax.get_ylabel() and "ms" not in ax.get_ylabel()
    labels = [line.get_label() for line in ax.get_lines()]
    assert len(labels) == 4  # two operations x two thread counts
    pack = sweep_table[(sweep_table["method"] == "pack_array") & (sweep_table["threads"] == 1)]
    line = ax.get_lines()[labels.index("compression (pack_array), 1 thread")]
    expected = pack[pack["operation"] == "compress"].sort_values("size")
    np.testing.assert_allclose(line.get_ydata(), expected["seconds"])
    np.testing.assert_array_equal(line.get_xdata(), [10, 1000])


def test_throughput_figure_has_memcpy_line_and_log_axes(sweep_table):
    fig = blosc_figures.throughput(sweep_table)
    assert len(fig.axes) == 2
    copies = sweep_table[(sweep_table["method"] == "memcpy") & (sweep_table["operation"] == "copy")]
    copy_rate = copies.sort_values("threads")["gbps"].iloc[-1]  # over the most threads
    for ax in fig.axes:
        assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
        labels = [line.get_label() for line in ax.get_lines()]
        memcpy = ax.get_lines()[next(i for i, label in enumerate(labels) if label.startswith("memcpy"))]
        assert set(memcpy.get_ydata()) == {copy_rate}  # horizontal, at the measured value
        assert len(labels) == 5 + 1  # every method/codec (compress2, pack_tensor too) + memcpy
    assert "GB/s" in fig.axes[0].get_ylabel()
    # each point is the best thread count
    best = blosc_figures.best_threads(sweep_table)
    lz4 = best[(best["codec"] == "lz4") & (best["operation"] == "compress")]
    rows = sweep_table[(sweep_table["codec"] == "lz4") & (sweep_table["operation"] == "compress")]
    assert list(lz4["gbps"]) == list(rows.groupby("size")["gbps"].max())


def test_ratio_figure_has_log_axes(sweep_table):
    fig = blosc_figures.ratio(sweep_table)
    (ax,) = fig.axes
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert "ratio" in ax.get_ylabel()


def test_figures_are_written_as_valid_images(sweep_table, tmp_path):
    png, svg = tmp_path / "f.png", tmp_path / "f.svg"
    save_figure(blosc_figures.throughput(sweep_table), png, svg)
    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert ET.parse(svg).getroot().tag.endswith("svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "f.svg"]  # no partial files left


def test_scaling_figure_has_every_series_and_the_bandwidths_over_threads(sweep_table):
    fig = blosc_figures.scaling(sweep_table)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        labels = [line.get_label() for line in ax.get_lines()]
        assert len(labels) == 5 + 3  # every method/codec (compress2, pack_tensor too) + copy, write, read
        copy = ax.get_lines()[labels.index("memory copy")]
        np.testing.assert_array_equal(copy.get_xdata(), [1, 2])
        assert ax.get_xlabel() == "threads"
    assert "memory read (the bound)" in [line.get_label() for line in fig.axes[0].get_lines()]
    assert "memory write (the bound)" in [line.get_label() for line in fig.axes[1].get_lines()]


def test_unstable_points_are_drawn_hollow(sweep_table):
    table = sweep_table.copy()
    table["stable"] = table["size"] != 1000  # the largest size unstable everywhere
    fig = blosc_figures.scaling(table)
    hollow = [c for c in fig.axes[0].collections if len(c.get_offsets()) and not c.get_facecolors().size]
    assert hollow  # every point of the plot is at the largest size: all hollow


def test_seed_figure_without_pack_array_says_so(sweep_table):
    fig = blosc_figures.seed_loglog(sweep_table[sweep_table["method"] != "pack_array"])
    assert "not in blosc.methods" in fig.axes[0].texts[0].get_text()


def test_contention_watch_reports_shares_of_the_machine():
    with contention.watch() as busy:
        sum(range(200_000))
        time.sleep(0.2)
    assert busy.seconds >= 0.2
    assert 0 <= busy.others <= 1 and 0 <= busy.steal <= 1
    assert "cores busy" in str(busy)


def test_tuned_blosc2_writes_its_block_size_and_type_size_into_the_buffer():
    """compress2 with the CParams python-blosc2's docs advise: the buffer's header says
    L2-sized blocks and 8-byte items; the call's threads are the library's current ones;
    the bytes round-trip exactly, checked as any blosc2 buffer."""
    array = np.linspace(0, 100, 2_000_000)
    with blosc_threads(2):
        payload = blosc_tuned.compressor(blosc_filters.parse("shuffle"), "lz4", 5)(array)
        params = blosc_tuned.cparams(blosc_filters.parse("shuffle"), "lz4", 5, 8, blosc2.nthreads)
    nbytes, _, blocksize = blosc2.get_cbuffer_sizes(payload)
    assert (nbytes, blocksize, payload[3]) == (array.nbytes, blosc_tuned.BLOCK_BYTES, 8)  # byte 3: typesize
    assert params.nthreads == 2 and params.blocksize == blosc_tuned.BLOCK_BYTES
    out = np.zeros_like(array)
    np.testing.assert_array_equal(blosc_tuned.decompress_into(payload, out), array)
    with pytest.raises(UnsafeData):
        blosc_tuned.decompress_into(payload, np.zeros(len(array) - 1))


def test_pack_tensor_row_is_a_pack_tensor_frame_with_the_configured_codec():
    """python-blosc2's counterpart of pack_array: the bytes the pack_tensor row times are a
    contiguous frame carrying pack_tensor's own metalayer (not a pickle), with the codec,
    level, shuffle and type size asked for; its unpack gives the array back bit for bit."""
    array = np.linspace(0, 100, 300_000)
    with blosc_threads(2):
        pack, unpack, result, compressed = blosc_bench.round_trip_calls("pack_tensor", "lz4", 5, array, None)
        pack()
        unpack()
    np.testing.assert_array_equal(result(), array)
    frame = blosc_tuned.pack_tensor(array, "lz4", 5)
    assert compressed() == len(frame) and frame[:1] != b"\x80"  # a pickle starts with 0x80
    schunk = blosc2.schunk_from_cframe(frame)
    assert tuple(schunk.vlmeta["__pack_tensor__"]) == ("numpy", (300_000,), "<f8")
    params = schunk.cparams
    wanted = (blosc2.Codec.LZ4, 5, blosc2.Filter.SHUFFLE, 8)
    assert (params.codec, params.clevel, params.filters[0], params.typesize) == wanted


def test_l2_cache_size_read_from_sysfs_when_sysconf_is_silent(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sysconf", lambda name: 0)  # as in many VMs
    (tmp_path / "size").write_text("512K\n")
    assert blosc_tuned.l2_cache_bytes(tmp_path / "size") == 512 * 1024
    assert blosc_tuned.l2_cache_bytes(tmp_path / "missing") == blosc_tuned.FALLBACK_L2


def overlaps(first, second) -> bool:
    return first.overlaps(second) and first.width > 0 and second.width > 0


def test_throughput_legend_stays_clear_of_the_title_at_the_size_the_report_shows(sweep_table):
    fig = readable(blosc_figures.throughput(sweep_table))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends
    title = fig._suptitle.get_window_extent(renderer)
    box = legend.get_window_extent(renderer)
    assert not overlaps(box, title), (box, title)
    for ax in fig.axes:  # nor over a panel's title or its data
        assert not overlaps(box, ax.title.get_window_extent(renderer))
        assert not overlaps(box, ax.get_window_extent(renderer))
    assert smallest_text_px(fig) >= MIN_TEXT_PX - 0.01
