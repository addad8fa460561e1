"""The huge-array stores: every registered backend writes and reads back the same array,
the registry agrees with what the rules know of the stores, and a store that is a
directory goes through the job like a file (atomic rename, sync, eviction, size)."""

import re

import numpy as np
import pytest
import yaml

from conftest import REPO
from outofcore.core.files import OutputWriteError
from outofcore.hugearray import job as hugearray
from outofcore.hugearray.data import generate_blocks
from outofcore.hugearray.job import HugeArrayJob
from outofcore.hugearray.stores import reading, registry
from outofcore.hugearray.stores.backend import Backend
from outofcore.hugearray.stores.layout import Layout
from outofcore.hugearray.stores.registry import BACKENDS
from outofcore.plan import hugearray_stores, sizing, units

SMALL = {"size_mb": 4, "columns": 3, "block_mb": 1, "chunk_kb": 64}  # 5 blocks, the last partial


def small_job(path, backend: str, **options) -> HugeArrayJob:
    return HugeArrayJob(path, backend, **SMALL, compression="blosc2:lz4", seed=7, threads=2, **options)


def expected_array(job: HugeArrayJob) -> np.ndarray:
    return np.concatenate(list(generate_blocks(job.seed, job.layout))).astype(np.float64)


def read_whole(job: HugeArrayJob) -> np.ndarray:
    """The stored array through the backend's own reader, pieces in order (one worker)."""
    pieces: list[np.ndarray] = []
    reader = job.store.reader(job.path, job.spec)
    try:
        reading.read_in_parallel(reader, [lambda piece: pieces.append(piece.copy())])
    finally:
        reader.close()
    return np.concatenate(pieces)


@pytest.mark.parametrize("name", list(BACKENDS))
def test_every_backend_round_trips(tmp_path, name):
    store = BACKENDS[name]
    job = small_job(tmp_path / f"array{store.suffix}", name)
    hugearray.write_array(job)
    assert job.path.is_dir() == store.directory and job.path.exists()
    np.testing.assert_array_equal(read_whole(job), expected_array(job))
    files = store.files(job.path)
    assert files and all(f.is_file() for f in files)
    assert store.bytes_on_disk(job.path) == sum(f.stat().st_size for f in files) > 0
    store.sync(job.path)
    store.evict(job.path)  # the store stays readable after being dropped from the cache
    np.testing.assert_array_equal(read_whole(job), expected_array(job))
    assert [p.name for p in tmp_path.iterdir()] == [job.path.name]  # no partial left


def test_what_each_backend_applies():
    layout = Layout.from_sizes(**SMALL)
    tables, memmap = BACKENDS["tables"], BACKENDS["memmap"]
    assert tables.spec(layout, "blosc2:lz4", 2, True).direct
    assert not tables.spec(layout, "blosc2:lz4", 2, False).direct  # direct chunks turned off
    assert not tables.spec(layout, "zlib", 2, True).direct  # only blosc2 chunks are written directly
    raw = memmap.spec(layout, "blosc2:lz4", 2, True)
    assert (raw.compression, raw.direct) == ("none", False)  # a memmap stores raw bytes


def test_registry_agrees_with_the_rules_description():
    assert registry.disagreements(BACKENDS, hugearray_stores.STORES) == []


def test_a_disagreement_is_named():
    described = {**hugearray_stores.STORES, "memmap": hugearray_stores.StoreKind(".npz", False)}
    described["netcdf"] = hugearray_stores.StoreKind(".nc", False)
    problems = registry.disagreements(BACKENDS, described)
    assert len(problems) == 2
    assert problems[0].startswith("memmap: registry .npy") and "rules .npz" in problems[0]
    assert problems[1] == "netcdf: in the rules' description only"


def test_config_schema_and_rules_know_every_backend():
    """The schema accepts exactly the registered backends, and hugearray.smk has a rule
    whose data output has each suffix they are stored as, a directory() for a directory."""
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert schema["properties"]["hugearray"]["properties"]["backends"]["items"]["enum"] == list(BACKENDS)
    rules = (REPO / "workflow" / "rules" / "hugearray.smk").read_text()
    outputs = re.findall(
        r'data=data_output\(\s*f"\{HUGEARRAY_JOB\}(\.[\w.]+)",'
        r'\s*keep=HUGEARRAY\["keep_data"\],'
        r'\s*is_directory=hugearray_stores\.stored_as_directory\("([^"]+)"\),',
        rules,
    )
    assert all(path_suffix == kind_suffix for path_suffix, kind_suffix in outputs)
    assert sorted(suffix for suffix, _ in outputs) == sorted({store.suffix for store in BACKENDS.values()})
    for store in BACKENDS.values():
        pattern = hugearray_stores.backends_stored_as(store.suffix)
        assert re.fullmatch(pattern, store.name) and re.fullmatch(pattern, f"{store.name}.tuned")
        assert hugearray_stores.stored_as_directory(store.suffix) == store.directory


@pytest.mark.parametrize("size_mb", [1, 2, 256, 1024, 99_999, 1_000_000])
def test_disk_request_covers_the_jobs_own_check(size_mb):
    nbytes = Layout.from_sizes(size_mb, 8, 1, 64).nbytes
    assert sizing.hugearray_disk_mb(size_mb) * units.MiB >= sizing.array_disk_bytes(nbytes)


def test_resource_requests_of_the_default_config():
    """1 % and 16 MiB over the array; memory for 3 blocks of 64 MiB and 2 threads' chunks."""
    assert [sizing.hugearray_disk_mb(size) for size in (256, 1024)] == [275, 1051]
    assert sizing.hugearray_mem_mb(threads=2, block_mb=64, chunk_kb=4096) == 358
    # dask: its import and 3 chunks in flight (128 MiB: dask's own size and the tuned one);
    # zarr: a block of decoded chunks per thread
    assert sizing.hugearray_mem_mb(2, 64, 4096, "memmap", "dask") == 358 + 50 + 3 * 128
    assert sizing.hugearray_mem_mb(2, 64, 4096, "zarr", "threads") == 358 + 128
    assert [sizing.hugearray_runtime(size) for size in (256, 1024)] == [3, 4]
    # another data source: its values, the pieces they come from, a CSV or Parquet held whole
    assert sizing.hugearray_mem_mb(2, 64, 4096, own_data=False) == 358 + 192


# --- a store that is a directory: one .npy file per block ---------------------------------------


class BlockFilesWriter:
    def __init__(self, path, spec) -> None:
        self.path, self.count = path, 0

    def append(self, block: np.ndarray) -> None:
        np.save(self.path / f"{self.count:06d}.npy", block)
        self.count += 1

    def close(self) -> None:
        pass


class FailingBlockFilesWriter(BlockFilesWriter):
    def append(self, block: np.ndarray) -> None:
        if self.count == 2:
            raise OSError("disk full")
        super().append(block)


class BlockFilesReader(reading.PieceReader):
    def __init__(self, path, spec) -> None:
        super().__init__(spec.layout, ahead_of=None)
        self.path = path
        self.pieces = enumerate(spec.layout.blocks())
        self.shape = (spec.layout.block_rows, spec.layout.columns)

    def fetch(self, piece, buffer: np.ndarray) -> np.ndarray:
        index, (start, stop) = piece
        block = buffer[: stop - start]
        block[...] = np.load(self.path / f"{index:06d}.npy")
        return block


BLOCK_FILES = Backend("blockfiles", ".blocks", True, False, False, BlockFilesWriter, BlockFilesReader)


def test_a_directory_store_goes_through_the_job(tmp_path, monkeypatch):
    monkeypatch.setitem(BACKENDS, "blockfiles", BLOCK_FILES)
    job = small_job(tmp_path / "array.blocks", "blockfiles")
    measurement, stats, exact = hugearray.run(job)
    assert measurement.check == "ok" and stats.matches(exact)
    files = sorted(job.path.iterdir())
    assert [f.name for f in files] == [f"{i:06d}.npy" for i in range(5)]
    assert measurement.file_bytes == sum(f.stat().st_size for f in files)
    assert measurement.compression == "none"
    assert [p.name for p in tmp_path.iterdir()] == ["array.blocks"]  # no partial directory left


def test_a_directory_store_failing_mid_write_leaves_nothing(tmp_path, monkeypatch):
    failing = Backend("blockfiles", ".blocks", True, False, False, FailingBlockFilesWriter, BlockFilesReader)
    monkeypatch.setitem(BACKENDS, "blockfiles", failing)
    with pytest.raises(OutputWriteError, match=r"could not write .*array\.blocks: OSError: disk full"):
        hugearray.run(small_job(tmp_path / "array.blocks", "blockfiles"))
    assert list(tmp_path.iterdir()) == []
