"""Planted HDF5 files: a reader of the project reads only bytes of the file it was given.

Each bad layout is built with h5py's low-level API (an external raw file, a virtual
dataset, links out of the file, a small file declaring a huge dataset, chunks without
their checksum) and fed to the readers, and to the real workflow in place of a file one
job wrote and the next reads.
"""

import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import tables

from conftest import load_config, run_workflow
from outofcore.core.files import InputReadError
from outofcore.datasets import named_arrays as h5_datasets
from outofcore.hugearray.job import HugeArrayJob, reduce_array, write_array
from outofcore.hugearray.stores.hdf5_chunks import DATASET
from outofcore.particles import table as particle_table
from outofcore.safety.hdf5 import UnsafeFile, layout_problems, refuse_unsafe

SECRET = Path("/etc/passwd")  # a file outside results/ that no reader may return
INT64 = h5py.h5t.NATIVE_INT64


def low_level_dataset(group: h5py.Group, name: str, shape: tuple[int, ...], dcpl) -> None:
    space = h5py.h5s.create_simple(shape, tuple(h5py.h5s.UNLIMITED for _ in shape))
    h5py.h5d.create(group.id, name.encode(), INT64, space, dcpl=dcpl)


def external_raw(h5: h5py.File, name: str) -> None:
    """A dataset whose elements are the bytes of SECRET (HDF5 reads them from there)."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_external(str(SECRET).encode(), 0, SECRET.stat().st_size)
    space = h5py.h5s.create_simple((SECRET.stat().st_size // 8,))
    h5py.h5d.create(h5.id, name.encode(), INT64, space, dcpl=dcpl)


def virtual(h5: h5py.File, name: str, source: Path) -> None:
    """A virtual dataset mapping `source`'s /data (another HDF5 file)."""
    with h5py.File(source, "w") as other:
        other["data"] = np.arange(100, dtype=np.int64)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    space = h5py.h5s.create_simple((100,))
    dcpl.set_virtual(space, str(source).encode(), b"/data", h5py.h5s.create_simple((100,)))
    h5py.h5d.create(h5.id, name.encode(), INT64, space, dcpl=dcpl)


def declared_huge(h5: h5py.File, name: str) -> None:
    """Chunked and checksummed as the writer makes it, 8 TB declared, nothing stored."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((1 << 16,))
    dcpl.set_fletcher32()
    space = h5py.h5s.create_simple((10**12,))
    h5py.h5d.create(h5.id, name.encode(), INT64, space, dcpl=dcpl)


def unchecked_chunk(h5: h5py.File, name: str) -> None:
    """Chunked with Fletcher-32, but its one chunk written raw with the checksum skipped."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((4,))
    dcpl.set_fletcher32()
    h5py.h5d.create(h5.id, name.encode(), INT64, h5py.h5s.create_simple((4,)), dcpl=dcpl)
    h5[name].id.write_direct_chunk((0,), np.arange(4, dtype=np.int64).tobytes(), filter_mask=1)


def plant(path: Path, kind: str) -> None:
    """The writer's own file with one bad dataset or link added under `random/`."""
    with h5py.File(path, "a") as h5:
        group = h5.require_group("random")
        if kind == "external":
            external_raw(h5, "random/passwd")
        elif kind == "virtual":
            virtual(h5, "random/mapped", path.with_name("other.h5"))
        elif kind == "huge":
            declared_huge(h5, "random/huge")
        elif kind == "unchecked":
            unchecked_chunk(h5, "random/raw")
        elif kind == "external_link":
            group["elsewhere"] = h5py.ExternalLink(str(path.with_name("other.h5")), "/data")
        elif kind == "soft_link":
            group["alias"] = h5py.SoftLink("/random/small")


KINDS = ["external", "virtual", "huge", "unchecked", "external_link", "soft_link"]
REASONS = {
    "external": "external raw file '/etc/passwd'",
    "virtual": "virtual dataset",
    "huge": "declares 15,258,790 chunks, 0 stored",
    "unchecked": "without their checksum",
    "external_link": "ExternalLink",
    "soft_link": "SoftLink",
}


@pytest.fixture
def written(tmp_path) -> Path:
    path = tmp_path / "random.h5"
    h5_datasets.write_datasets(path, [{"name": "random/small", "low": 0, "high": 9, "size": 50}], seed=3)
    with h5py.File(path.with_name("other.h5"), "w") as other:
        other["data"] = np.arange(10)
    return path


@pytest.mark.parametrize("kind", KINDS)
def test_listing_refuses_a_planted_layout(written, kind):
    plant(written, kind)
    for read in (h5_datasets.summarize, lambda p: h5_datasets.partial_read(p, 0, 5)):
        with pytest.raises(UnsafeFile) as refused:
            read(written)
        message = str(refused.value)
        assert "\n" not in message and message.startswith(f"{written}: /random/")
        assert REASONS[kind] in message
        assert isinstance(refused.value, InputReadError)  # the stage's one-line input error


def test_the_writers_own_files_pass(written, tmp_path):
    """No false alarm: h5py datasets, PyTables tables with indexes, every huge-array store."""
    assert layout_problems(written, checksummed=True, complete=True) == []
    table = tmp_path / "table.h5"
    data = particle_table.make_particles(0, 1000)
    particle_table.fill_blocks(table, data, particle_table.filters_for("blosc2:lz4"))
    with tables.open_file(table, "a") as h5:
        h5.get_node(particle_table.TABLE_PATH).cols.pressure.create_csindex()
    refuse_unsafe(table)


@pytest.mark.parametrize("kind", ["external", "virtual", "huge"])
def test_pytables_and_huge_array_readers_refuse_a_planted_layout(tmp_path, kind):
    table = tmp_path / "table.h5"
    rows = particle_table.make_particles(0, 100)
    particle_table.fill_blocks(table, rows, particle_table.filters_for("none"))
    plant(table, kind)
    with pytest.raises(UnsafeFile, match=r"table\.h5: /random/"):
        particle_table.check_table(table, rows, "block")

    for backend in ("h5py", "tables"):
        job = HugeArrayJob(
            tmp_path / f"{backend}.h5", backend, size_mb=1, columns=2, block_mb=1, chunk_kb=64,
            compression="none", seed=1, cold_read=False,
        )  # fmt: skip
        write_array(job)
        plant(job.path, kind)
        with pytest.raises(UnsafeFile, match=rf"{backend}\.h5: /random/"):
            reduce_array(job)
    with h5py.File(tmp_path / "h5py.h5", "r") as h5:
        assert DATASET in h5  # the store itself was untouched


def test_workflow_refuses_a_planted_file_and_reads_nothing_outside(tmp_path):
    """random.h5 replaced between the writing job and the listing job: the listing fails
    with one line naming the file, and no output holds a byte of the planted sources."""
    config = {k: v for k, v in load_config("tiny.yaml").items() if k in ("seed", "datasets")}
    run_workflow(tmp_path, config, "results/datasets/partial_read.csv")
    h5, log = tmp_path / "results/datasets/random.h5", tmp_path / "logs/datasets_listing.log"
    good = h5.with_name("good.h5")
    shutil.copy(h5, good)
    secret_words = [word for word in SECRET.read_text().split(":") if len(word) > 3][:3]
    for kind in ("external", "huge"):  # the others: test_listing_refuses_a_planted_layout
        shutil.copy(good, h5)
        plant(h5, kind)
        os.utime(h5)  # newer than the listing: it reruns on the planted file
        run = run_workflow(tmp_path, config, "results/datasets/partial_read.csv", check=False)
        assert run.returncode != 0, kind
        errors = [line for line in log.read_text().splitlines() if "UnsafeFile" in line]
        assert errors and errors[-1].endswith("refusing to read the file"), log.read_text()
        assert "results/datasets/random.h5: /random/" in errors[-1] and REASONS[kind] in errors[-1]
        for output in (tmp_path / "results").rglob("*.csv"):
            text = output.read_text()
            assert not any(word in text for word in secret_words), output
