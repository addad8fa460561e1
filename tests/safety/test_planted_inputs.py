"""Planted inputs, round two: link chains out of an HDF5 file, named pipes, symlinks at the
names the workflow writes, hostile labels and tables. Each is refused with one line that
names the file or the config key, nothing outside the named file is read, nothing outside
the output directory written."""

import os
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from outofcore.core.exclusive import timed_job
from outofcore.core.files import PlantedPath, atomic_output, log_to, open_own, write_csv
from outofcore.core.report_tables import table_html
from outofcore.data.sources import open_source, spec_of
from outofcore.plan import file_checks
from outofcore.plan.file_checks import check_file
from outofcore.plan.source_specs import MAX_LABEL, SourceError, default_label, parse_source
from outofcore.safety.hdf5_links import LinkRefused, resolve_dataset
from support import first_error, with_change


def source(item, max_bytes=None):
    spec = parse_source(item, 0)
    check_file(spec)
    return open_source(spec_of(spec.as_params()), 0, max_bytes)


def refused(item, match, max_bytes=None):
    with pytest.raises(SourceError, match=match) as error:
        source(item, max_bytes)
    assert "\n" not in str(error.value) and str(error.value).startswith("config error: data[0]")
    return error.value


def chains(tmp_path: Path) -> Path:
    """A file whose soft links lead, in one hop or several, to an external link."""
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as h5:
        h5["secret"] = np.full(10, 7.0)
    path = tmp_path / "chains.h5"
    with h5py.File(path, "w") as h5:
        h5["data"] = np.arange(10.0)
        h5["out"] = h5py.ExternalLink(str(other), "/secret")
        h5["soft_out"] = h5py.SoftLink("/out")
        h5["soft_soft_out"] = h5py.SoftLink("/soft_out")
        h5.create_group("g")
        h5["g/rel"] = h5py.SoftLink("../soft_out")  # HDF5 has no '..': a missing link
        h5["g/away"] = h5py.ExternalLink(str(other), "/")
        h5["inside"] = h5py.SoftLink("/data")
        h5["inside2"] = h5py.SoftLink("inside")
        h5["loop_a"] = h5py.SoftLink("/loop_b")
        h5["loop_b"] = h5py.SoftLink("/loop_a")
    return path


def test_soft_link_chains_end_inside_the_named_file_or_are_refused(tmp_path):
    path = chains(tmp_path)
    for name in ("out", "soft_out", "soft_soft_out"):
        refused({"file": f"{path}:/{name}"}, r"/out is a link to another file \(.*other.h5:/secret\)")
    refused({"file": f"{path}:/g/away/secret"}, r"/g/away is a link to another file")
    refused({"file": f"{path}:/loop_a"}, "more than 32 soft links")
    refused({"file": f"{path}:/g/rel"}, "no dataset")
    for name in ("inside", "inside2", "data"):  # soft links within the file are followed
        assert source({"file": f"{path}:/{name}"}).array(10).tolist() == list(range(10))


def test_a_chain_to_a_named_pipe_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    path = tmp_path / "to_pipe.h5"
    with h5py.File(path, "w") as h5:
        h5["ext"] = h5py.ExternalLink(str(fifo), "/x")
        h5["soft"] = h5py.SoftLink("/ext")
    done = []
    worker = threading.Thread(target=lambda: done.append(refused({"file": f"{path}:/soft"}, "another file")))
    worker.start()
    worker.join(20)
    assert done, "reading the link blocked on the named pipe"
    with h5py.File(path, "r") as h5, pytest.raises(LinkRefused):
        resolve_dataset(h5, "/soft")


def test_a_named_pipe_or_directory_as_the_file_is_refused_at_once(tmp_path):
    for suffix in ("csv", "npy", "parquet", "h5"):
        fifo = tmp_path / f"pipe.{suffix}"
        os.mkfifo(fifo)
        where = f"{fifo}:/x" if suffix == "h5" else str(fifo)
        started = time.monotonic()
        refused({"file": where}, "not a regular file")
        assert time.monotonic() - started < 30  # opened, it would block until a writer came
    (tmp_path / "dir.csv").mkdir()
    refused({"file": str(tmp_path / "dir.csv")}, "not a regular file")


@pytest.mark.parametrize("plant", ["symlink", "hardlink"])
def test_the_timing_lock_never_writes_through_a_planted_link(tmp_path, plant):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    results = tmp_path / "results"
    results.mkdir()
    from outofcore.core.exclusive import lock_path

    lock = lock_path(results)
    (os.symlink if plant == "symlink" else os.link)(outside, lock)
    with pytest.raises(PlantedPath, match=str(lock)), timed_job("x", _Log(), results):
        pass
    assert outside.read_text() == "precious\n"


def test_the_timing_lock_still_locks(tmp_path):
    with timed_job("x", _Log(), tmp_path):
        assert (tmp_path / os.listdir(tmp_path)[0]).read_text().startswith("x (pid")


def test_outputs_and_logs_never_write_through_a_planted_symlink(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    out = tmp_path / "results" / "t.csv"
    out.parent.mkdir()
    os.symlink(outside, out)  # the output itself: replaced, the target untouched
    for pid_guess in range(os.getpid() - 2, os.getpid() + 3):  # its partial name too
        os.symlink(outside, out.with_name(f".t.csv.partial-{os.uname().nodename}-{pid_guess}"))
    write_csv(pd.DataFrame({"a": [1]}), out)
    assert not out.is_symlink() and out.read_text() == "a\n1\n"
    assert outside.read_text() == "precious\n"
    log = tmp_path / "logs" / "x.log"
    log.parent.mkdir()
    os.symlink(outside, log)
    with pytest.raises(SystemExit, match=r"x\.log is a symbolic link"):
        log_to(log)
    assert outside.read_text() == "precious\n"
    with pytest.raises(PlantedPath):
        open_own(log)
    with atomic_output(tmp_path / "results" / "store", directory=True) as tmp:
        assert tmp.is_dir() and not tmp.is_symlink()


class _Log:
    def info(self, *args):
        pass


def test_labels_whole_string_bounded_and_made_short():
    for name in ("abc\n", "a b", "x" * (MAX_LABEL + 1), "<img>"):
        error = first_error(with_change("data", [{"file": "x.csv", "name": name}]))
        assert error is not None and error.key == "data[0].name", name
        assert "\n" not in str(error)
    long = default_label("/d/" + "x" * 250 + ".csv", "")
    assert len(long) == MAX_LABEL
    assert len(default_label("f.h5", "/" + "g/" * 100 + "y" * 300)) <= MAX_LABEL


def test_every_report_table_escapes_names(tmp_path):
    hostile = "<img src=x onerror=alert(1)>.csv"
    page = table_html(pd.DataFrame({"file": [hostile], "<b>": [1]}), "Data sources")
    assert "<img" not in page and "<b>" not in page and "&lt;img src=x onerror=alert(1)&gt;.csv" in page


def test_repeated_blosc_filters_are_refused_at_config_check():
    for pipeline in ("delta+delta", "shuffle+delta+shuffle", "shuffle+bytedelta+bytedelta"):
        error = first_error(with_change("blosc.filters", [pipeline]))
        assert error is not None and error.key == "blosc.filters[0]" and "twice" in str(error)
    error = first_error(with_change("blosc.filters", ["shuffle\n"]))  # passes the schema's `$`
    assert error is not None and error.key == "blosc.filters[0]" and "nothing else" in str(error)


def test_csv_read_strictly(tmp_path):
    extra = tmp_path / "extra.csv"
    extra.write_text("a,b\n1,2,3\n4,5\n")
    refused({"file": str(extra)}, "line 2 has 3 fields, the header 2")
    short = tmp_path / "short.csv"
    short.write_text("a,b\n1,2\n4\n")
    refused({"file": str(short)}, "line 3 has 1 fields, the header 2")
    twice = tmp_path / "twice.csv"
    twice.write_text("a,a\n1,2\n")
    refused({"file": str(twice)}, "column 'a' appears twice")
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n3,4\n")
    assert source({"file": str(bom), "columns": ["a"]}).array(2).tolist() == [1, 3]
    wide = tmp_path / "field.csv"
    wide.write_text("a,b\n1," + "9" * 131_073 + "\n")
    refused({"file": str(wide)}, "data\\[0\\].file")  # one line, whatever the parser said


def test_csv_with_more_fields_past_the_checked_bytes_is_refused_by_the_job(tmp_path, monkeypatch):
    monkeypatch.setattr(file_checks, "CSV_CHECK_BYTES", 1000)
    path = tmp_path / "late.csv"
    rows = "\n".join(f"{i},{i}" for i in range(1000))
    path.write_text(f"a,b\n{rows}\n1,2,3\n")
    check_file(parse_source({"file": str(path)}, 0))  # past what the check before the jobs reads
    refused({"file": str(path)}, "more fields than the header")


def test_a_40000_column_csv_is_checked_in_linear_time(tmp_path):
    path = tmp_path / "wide.csv"
    columns = 40_000
    header = ",".join(f"c{i}" for i in range(columns))
    row = ",".join("1" for _ in range(columns))
    path.write_text(f"{header}\n" + f"{row}\n" * 50)
    started = time.process_time()  # this process's CPU: a loaded machine does not count
    assert first_error(with_change("data", [{"file": str(path)}])) is None
    error = first_error(with_change("data", [{"file": str(path), "columns": ["c1", "nope"]}]))
    assert error is not None and "no column 'nope'" in str(error) and "40,000 columns" in str(error)
    assert time.process_time() - started < 5  # both checks: ~0.6 s here; quadratic, it was 17-85 s


def test_npy_headers_that_break_the_parser_or_floats_not_measured(tmp_path):
    deep = tmp_path / "deep.npy"
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (" + b"-" * 5000 + b"1,), }"
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    deep.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 8)
    refused({"file": str(deep)}, "unreadable .npy header")
    wide = tmp_path / "f128.npy"
    np.save(wide, np.zeros(4, dtype=np.longdouble))
    refused({"file": str(wide)}, "not plain numbers")
    half = tmp_path / "f16.h5"
    with h5py.File(half, "w") as h5:
        h5["x"] = np.zeros(4, dtype=np.float16)
    refused({"file": f"{half}:/x"}, "only float32 and float64")


def test_parquet_sizes_checked_from_the_footer_and_the_index_kept(tmp_path):
    bomb = tmp_path / "zeros.parquet"
    pq.write_table(pa.table({"z": np.zeros(4_000_000)}), bomb, compression="zstd")
    assert bomb.stat().st_size < 100_000
    refused({"file": str(bomb)}, r"4,000,000 rows of 8 bytes \(32,000,000 bytes decoded", max_bytes=1 << 20)
    indexed = tmp_path / "indexed.parquet"
    pd.DataFrame({"v": [1.0, 2.0]}, index=pd.Index([10, 20], name="idx")).to_parquet(indexed)
    assert source({"file": str(indexed), "columns": ["idx"]}).array(2).tolist() == [10, 20]
    assert source({"file": str(indexed)}).length == 4  # v and idx: nothing dropped
    refused({"file": str(indexed), "columns": ["nope"]}, "no column 'nope' \\(columns: v, idx\\)")


# --- files whose chunks do not decode: refused by the first job that reads them ---


def bitshuffle_crash(path: Path) -> None:
    """A bitshuffle/LZ4 dataset whose 5th chunk header declares ~1 TB: the codec writes
    out of bounds and the reading process dies of SIGSEGV (found by fuzzing 40 files)."""
    import hdf5plugin

    with h5py.File(path, "w") as h5:
        data = np.arange(1 << 16, dtype=np.float64)
        ds = h5.create_dataset("x", data=data, chunks=(1 << 13,), **hdf5plugin.Bitshuffle())
        mask, raw = ds.id.read_direct_chunk((4 << 13,))
        ds.id.write_direct_chunk((4 << 13,), bytes(raw[:4]) + b"\xed" + bytes(raw[5:]), mask)


def unregistered_filter(path: Path) -> None:
    with h5py.File(path, "w") as h5:
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((100,))
        dcpl.set_filter(55555, h5py.h5z.FLAG_OPTIONAL)
        space = h5py.h5s.create_simple((1000,))
        ds = h5py.h5d.create(h5.id, b"x", h5py.h5t.IEEE_F64LE, space, dcpl=dcpl)
        for i in range(10):
            ds.write_direct_chunk((i * 100,), np.arange(100.0).tobytes(), 0)


def corrupt_chunk(path: Path, **filters) -> None:
    """A dataset whose last chunk has one byte changed after it was written."""
    with h5py.File(path, "w") as h5:
        ds = h5.create_dataset("x", data=np.arange(1000.0), chunks=(100,), **filters)
        mask, raw = ds.id.read_direct_chunk((900,))
        ds.id.write_direct_chunk((900,), raw[:50] + bytes([raw[50] ^ 0xFF]) + raw[51:], mask)


PLANTED_CHUNKS = {
    "crash.h5": (bitshuffle_crash, "chunk 5: decoding crashed the reader (SIGSEGV)"),
    "unregistered.h5": (unregistered_filter, "chunk 1: cannot be decoded with the filters installed here"),
    "gzip.h5": (lambda p: corrupt_chunk(p, compression="gzip"), "chunk 10: cannot be decoded"),
    "fletcher.h5": (lambda p: corrupt_chunk(p, fletcher32=True), "chunk 10: cannot be decoded"),
}


@pytest.mark.slow  # a child process per file; the workflow test below plants the same files
def test_every_chunk_is_decoded_once_in_a_child(tmp_path):
    from outofcore.data.readers import prove_readable

    for name, (build, reason) in PLANTED_CHUNKS.items():
        build(tmp_path / name)
        spec = parse_source({"file": f"{tmp_path / name}:/x"}, 0)
        source({"file": f"{tmp_path / name}:/x"})  # the layout is the writer's: it opens
        with pytest.raises(SourceError) as error:
            prove_readable(spec, 1 << 30)
        assert reason in str(error.value) and f"{name}:/x" in str(error.value), name
        assert "\n" not in str(error.value)
    good = tmp_path / "good.h5"
    with h5py.File(good, "w") as h5:
        h5.create_dataset("x", data=np.arange(1000.0), chunks=(100,), compression="gzip", fletcher32=True)
    prove_readable(parse_source({"file": f"{good}:/x"}, 0), 1 << 30)
    with pytest.raises(SourceError, match="one chunk decodes to 800 bytes, more than the 100 allowed"):
        prove_readable(parse_source({"file": f"{good}:/x"}, 0), 100)


def zeros_parquet(path: Path, rows: int) -> None:
    """`rows` float64 zeros in a file of a few hundred KB (row groups of 8 M rows)."""
    batch = pa.table({"z": np.zeros(min(rows, 8 << 20))})
    with pq.ParquetWriter(path, batch.schema, compression="zstd") as writer:
        for start in range(0, rows, batch.num_rows):
            writer.write_table(batch.slice(0, min(batch.num_rows, rows - start)))


def test_workflow_refuses_every_planted_source_and_the_planted_lock(tmp_path):
    """One run: every planted file is refused by the first job that reads it, each with
    its line; the links point at named pipes, so following one would hang the job; the
    timing lock is a symlink to a file outside results/, which stays as it was."""
    import subprocess

    from conftest import load_config, workflow_command

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    os.mkfifo(inputs / "pipe.h5")
    with h5py.File(inputs / "chain.h5", "w") as h5:
        h5["data"] = np.arange(10.0)
        h5["ext"] = h5py.ExternalLink(str(inputs / "pipe.h5"), "/secret")
        h5["soft"] = h5py.SoftLink("/ext")
        h5["softer"] = h5py.SoftLink("/soft")
    for name, (build, _) in PLANTED_CHUNKS.items():
        build(inputs / name)
    with h5py.File(inputs / "half.h5", "w") as h5:
        h5["x"] = np.zeros(10, dtype=np.float16)
    zeros_parquet(inputs / "zeros.parquet", 48 << 20)  # 384 MiB decoded: past the job's 350
    expected = {
        "chain.h5:/softer": "/ext is a link to another file",
        **{f"{name}:/x": reason for name, (_, reason) in PLANTED_CHUNKS.items()},
        "half.h5:/x": "only float32 and float64",
        "zeros.parquet": "(402,653,184 bytes decoded",
    }
    config = load_config("tiny.yaml")
    config["data"] = [{"file": f"inputs/{where}"} for where in expected]
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (tmp_path / "results").mkdir()
    os.symlink(outside, tmp_path / "results" / f".timing-lock-{os.uname().nodename}")
    before = {p for p in tmp_path.rglob("*")}
    targets = ["results/data/sources.csv", "results/limits.csv"]
    command = workflow_command(tmp_path, config, *targets, "--keep-going")
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.returncode != 0
    console = run.stdout + run.stderr
    for where, reason in expected.items():
        lines = [line for line in console.splitlines() if f"inputs/{where}':" in line]
        assert lines and reason in lines[0], (where, console[-3000:])
    lock_line = [line for line in console.splitlines() if "timing-lock" in line and "symbolic link" in line]
    assert lock_line, console[-3000:]
    assert outside.read_text() == "precious\n"
    written = {p for p in tmp_path.rglob("*")} - before
    places = {"results", "logs", ".snakemake", "benchmarks", "test-config.yaml"}
    assert {p.relative_to(tmp_path).parts[0] for p in written} <= places
    assert not [p for p in (tmp_path / "results").rglob("*") if ".partial-" in p.name]
    assert not (tmp_path / "results/data/sources.csv").exists()


def test_a_timed_table_write_that_fails_names_its_file(tmp_path):
    import errno

    from outofcore.core.files import OutputWriteError
    from outofcore.particles.format_bench import named_write

    class FullDisk:
        def write(self, path, records, options):
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputWriteError, match=r"could not write .*table\.parquet: OSError: \[Errno 28\]"):
        named_write(FullDisk(), tmp_path / "table.parquet", np.zeros(1), None)


def test_the_disk_probe_and_scratch_never_write_through_planted_links(tmp_path):
    from outofcore.core.files import owner_tag
    from outofcore.limits import disk as disk_limits
    from outofcore.particles.bench import scratch_dir

    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    results = tmp_path / "results"
    results.mkdir()
    os.symlink(outside, results / f".bandwidth-probe-{owner_tag()}")
    assert disk_limits.disk_gbps(results, 1 << 20, repeats=1)["durable_write"] > 0
    os.symlink(tmp_path, results / ".scratch-elsewhere-1")  # a planted directory link goes
    with scratch_dir(results / "t.h5") as scratch:
        assert not scratch.is_symlink() and scratch.parent == results
    assert outside.read_text() == "precious\n" and list(results.iterdir()) == []


def test_a_named_pipe_in_place_of_the_workflows_own_hdf5_file_is_refused(tmp_path):
    from outofcore.safety.hdf5 import UnsafeFile, refuse_unsafe

    fifo = tmp_path / "random.h5"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeFile, match=r"random\.h5: /: not a regular file; refusing to read the file"):
        refuse_unsafe(fifo)


def test_a_header_field_past_the_csv_modules_limit_is_read_like_the_others(tmp_path):
    from outofcore.data.sources import kept_columns

    path = tmp_path / "long_name.csv"
    path.write_text("a," + "x" * 200_000 + "\n1,2\n")
    spec = parse_source({"file": str(path)}, 0)
    check_file(spec)
    assert kept_columns(spec) == 2
