"""Untrusted bytes: no reader of the project unpickles anything it reads back.

Every file is fed a malicious pickle (one whose unpickling would create a marker file)
where its format can carry one: HDF5 attributes and opaque datasets for h5py, a pickled
PyTables attribute on the table and its file for PyTables, raw bytes for the blosc
reader. Each reader then runs; the marker must never appear.
"""

import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest
import tables

from outofcore.datasets import named_arrays as h5_datasets
from outofcore.particles import bench as particle_bench
from outofcore.particles import table as particle_table
from outofcore.plan.query import parse_query
from outofcore.safety import blosc_bytes as safe_blosc
from outofcore.safety.hdf5 import UnsafeFile, pickled_attributes


class Payload:
    """Unpickling this creates (opens for writing) the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def marker(tmp_path) -> Path:
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(Payload(marker))).close()  # the payload works when unpickled
    assert marker.exists()
    marker.unlink()
    return marker


def test_h5py_readers_never_unpickle(tmp_path, marker):
    path = tmp_path / "random.h5"
    h5_datasets.write_datasets(path, [{"name": "r/a", "low": 0, "high": 9, "size": 100}], seed=1)
    evil = np.void(pickle.dumps(Payload(marker)))
    with h5py.File(path, "a") as h5:
        h5["r/a"].attrs["evil"] = evil
        h5.attrs["evil"] = evil
        payload = np.frombuffer(pickle.dumps(Payload(marker)), dtype=np.uint8)
        h5.create_dataset("r/evil", data=payload, chunks=True, fletcher32=True)  # as the writer does
    listing = h5_datasets.summarize(path)
    h5_datasets.partial_read(path, 0, 5)
    assert set(listing["dataset"]) == {"r/a", "r/evil"}
    assert not marker.exists()


def test_pytables_readers_never_unpickle(tmp_path, marker):
    path = tmp_path / "table.h5"
    data = particle_table.make_particles(0, 100)
    particle_table.fill_blocks(path, data, particle_table.filters_for("none"))
    with tables.open_file(path, "a") as h5:  # PyTables pickles what is not a plain value
        h5.get_node(particle_table.TABLE_PATH).attrs.evil = Payload(marker)
        h5.root._v_attrs.evil = Payload(marker)
    assert not marker.exists()

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    query = parse_query("(20 <= pressure) & (pressure < 50)")
    readers = {
        "check_table": lambda: particle_table.check_table(path, data, "block"),
        "run_queries": lambda: particle_bench.run_queries(path, scratch, query, repeats=1),
    }
    for name, read in readers.items():
        with pytest.raises(UnsafeFile, match=r"table\.h5: attributes .*evil"):
            read()
        assert not marker.exists(), name


def test_safety_check_passes_real_pytables_files(tmp_path):
    """No false alarm: the stage's own files, indexed and compressed, with plain attributes."""
    path = tmp_path / "table.h5"
    data = particle_table.make_particles(0, 100)
    particle_table.fill_blocks(path, data, particle_table.filters_for("blosc2:zstd"))
    with tables.open_file(path, "a") as h5:
        table = h5.get_node(particle_table.TABLE_PATH)
        table.cols.pressure.create_csindex()
        table.attrs.numbers = [1, 2, 3]  # pickled by PyTables, but plain data: no code
        table.attrs.note = "Readout example."  # text that ends like a pickle
    assert pickled_attributes(path) == []
    particle_table.check_table(path, data, "block")


def test_blosc_reader_rejects_pickles(tmp_path, marker):
    payloads = [
        pickle.dumps(Payload(marker)),
        pickle.dumps(Payload(marker), protocol=0),
    ]
    header = safe_blosc.pack_safe(np.arange(10.0), "lz4", 5, "blosc1")[0]
    for payload in payloads:
        for bad_header in (header, payload):
            with pytest.raises(safe_blosc.UnsafeData):
                safe_blosc.unpack_safe(bad_header, payload)
    assert not marker.exists()
