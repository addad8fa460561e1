"""Each tuned setting is applied, read back from the file itself: Parquet's metadata (no
dictionary on the unique names, the row groups and codec asked for), the HDFStore's
table (no index, the names' width), PyTables' chunks; and every writer's file holds
the same rows."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import tables

from outofcore.particles import table as particle_table
from outofcore.particles.formats import common, hdfstore, parquet
from outofcore.particles.formats.registry import FORMATS
from outofcore.particles.formats.table_format import WriteOptions
from outofcore.plan.query import parse_query

ROWS, GROUP_ROWS = 40_000, 16_384
OPTIONS = WriteOptions(parse_query("(20 <= pressure) & (pressure < 50)"), "lz4", GROUP_ROWS)


@pytest.fixture(scope="module")
def records() -> np.ndarray:
    return particle_table.make_particles(0, ROWS)


@pytest.fixture(scope="module")
def files(records, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """(method, setting) -> the file each registered writer made of the same records."""
    out, made = tmp_path_factory.mktemp("tuned"), {}
    for entry in FORMATS.values():
        for writer in entry.writers:
            path = out / f"{writer.method}.{writer.setting}{entry.suffix}"
            writer.write(path, records, OPTIONS)
            made[writer.method, writer.setting] = path
    return made


def column_chunks(path: Path, column: str) -> list:
    metadata = pq.ParquetFile(path).metadata
    index = metadata.schema.names.index(column)
    return [metadata.row_group(i).column(index) for i in range(metadata.num_row_groups)]


@pytest.mark.parametrize("method", ["parquet_write", "polars_write", "duckdb_write"])
def test_tuned_parquet_has_the_codec_and_row_groups_asked_for(files, method):
    metadata = pq.ParquetFile(files[method, "tuned"]).metadata
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert sizes == [GROUP_ROWS] * (ROWS // GROUP_ROWS) + [ROWS % GROUP_ROWS]
    codecs = {
        chunk.compression for name in common.COLUMNS for chunk in column_chunks(files[method, "tuned"], name)
    }
    assert codecs == {"LZ4"} or codecs == {"LZ4_RAW"}  # Polars and DuckDB write the raw framing
    assert all(chunk.is_stats_set for chunk in column_chunks(files[method, "tuned"], "pressure"))


@pytest.mark.parametrize("method", ["parquet_write", "duckdb_write"])
def test_tuned_parquet_has_no_dictionary_on_the_unique_names(files, method):
    for chunk in column_chunks(files[method, "tuned"], "name"):
        assert not chunk.has_dictionary_page and "RLE_DICTIONARY" not in chunk.encodings


def test_tuned_pyarrow_keeps_statistics_only_where_a_query_filters(files):
    """No min/max on the unique names (no query filters on them); the numbers keep theirs."""
    path = files["parquet_write", "tuned"]
    assert not any(chunk.is_stats_set for chunk in column_chunks(path, "name"))
    for column in ("idnumber", "pressure", "energy"):
        assert all(chunk.is_stats_set for chunk in column_chunks(path, column))


def test_pyarrow_default_is_as_shipped(files):
    """What tuning changed: pyarrow's own defaults encode the names with a dictionary,
    snappy, one row group up to 2^20 rows."""
    chunks = column_chunks(files["parquet_write", "default"], "name")
    assert len(chunks) == 1 and chunks[0].has_dictionary_page and chunks[0].compression == "SNAPPY"
    polars = column_chunks(files["polars_write", "default"], "energy")
    assert {chunk.compression for chunk in polars} == {"ZSTD"}  # Polars' default codec


def test_tuned_hdfstore_is_unindexed_with_the_names_width(files):
    with tables.open_file(files["hdfstore_write", "tuned"]) as h5:
        table = h5.get_node("/" + hdfstore.HDFSTORE_KEY + "/table")
        assert not table.indexed  # index=False: built after the write, timed apart
        assert table.coldtypes["name"].itemsize == hdfstore.NAME_BYTES
        assert set(table.colnames) >= {"pressure"}  # the queried column is a data column
    with tables.open_file(files["hdfstore_write", "default"]) as h5:
        table = h5.get_node("/" + hdfstore.HDFSTORE_KEY + "/table")
        assert table.colindexed["pressure"]  # to_hdf indexes its data columns as it writes


def test_tuned_block_appends_size_their_chunks_for_the_table(records, tmp_path):
    """PyTables' block appends with expectedrows get larger chunks than the same
    appends as typed (PyTables' default of 10,000 expected rows)."""
    filters = particle_table.filters_for("none")
    particle_table.fill_blocks(tmp_path / "block.h5", records, filters)
    particle_table.fill_appends(tmp_path / "append.h5", records, filters)
    shapes = {}
    for name in ("block", "append"):
        particle_table.check_table(tmp_path / f"{name}.h5", records, name)  # the same rows
        with tables.open_file(tmp_path / f"{name}.h5") as h5:
            shapes[name] = h5.get_node(particle_table.TABLE_PATH).chunkshape[0]
    assert shapes["block"] > shapes["append"]


def test_every_writers_file_holds_the_same_rows(files, records):
    """Not only the query's rows: every file read back whole is the records, byte for byte."""
    for (method, setting), path in files.items():
        if path.suffix == ".parquet":
            parquet.check_parquet(path)
            found = common.to_records(pq.read_table(path))
        else:
            found = common.to_records(pd.read_hdf(path, hdfstore.HDFSTORE_KEY))
        assert found.tobytes() == records.tobytes(), f"{method} ({setting})"


def test_names_become_strings_with_or_without_a_copy():
    """Names filling their 16 bytes with ASCII are used as they lie; shorter or non-ASCII
    ones go through Arrow's checked cast: both give the same strings as Python does."""
    records = particle_table.make_particles(0, 5)
    records["name"][1] = b"short"
    records["name"][2] = "é".encode() * 8
    names = common.arrow_table(records).column("name").to_pylist()
    assert names[0] == "Particle:      0" and names[1] == "short" + "\x00" * 11 and names[2] == "é" * 8
    whole = common.arrow_table(particle_table.make_particles(0, 3)).column("name")
    whole.validate(full=True)
    assert whole.to_pylist() == [f"Particle: {i:6d}" for i in range(3)]
