"""Real-shaped files for the data-source tests: what people feed the workflow, with the
traits that broke it (text beside numbers, `NA` late in a CSV, NetCDF4 groups, fill values
and unwritten chunks, Parquet integers with nulls, a Fortran-order .npy, a constant column)."""

from pathlib import Path

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

NC_DEFAULT_FLOAT = np.float32(9.969209968386869e36)  # netCDF's default fill value of a float
NC_DEFAULT_DOUBLE = 9.969209968386869e36
BIG = 2**60 + 1  # an integer float64 cannot hold


def weather_csv(path: Path, rows: int = 3000) -> Path:
    """Numbers and text; `NA` first at row 1500 (past the rows checked before the run), a
    constant year, an integer column with a missing value."""
    lines = ["year,month,day,hour,temp,station,count,humidity"]
    for i in range(rows):
        temp = "" if i % 500 == 7 else f"{10 + (i % 37) * 0.5:.1f}"
        count = "NA" if i == 1500 else str(i % 11)
        humidity = "NA" if i in (2500, 2600) else f"{40 + i % 50}"
        lines.append(f"2013,{1 + i // 250 % 12},{1 + i % 28},{i % 24},{temp},S{i % 3},{count},{humidity}")
    path.write_text("\n".join(lines) + "\n")
    return path


def netcdf4(path: Path) -> Path:
    """An HDF5 file as netCDF-4 writes it: dimension scales, a group, `_FillValue` and the
    dataset's fill value, chunks never written (they read as the fill value)."""
    with h5py.File(path, "w") as h5:
        h5.attrs["_NCProperties"] = np.bytes_("version=2,netcdf=4.9.2,hdf5=1.14.3")
        obs = h5.create_group("obs")
        time = obs.create_dataset("time", data=np.arange(100, dtype=np.float64))
        time.make_scale("time")
        temp = obs.create_dataset("temp", shape=(100, 4), dtype=np.float32, chunks=(10, 4), fillvalue=-9999.0)
        temp.attrs["_FillValue"] = np.float32(-9999.0)
        temp[:60] = np.arange(240, dtype=np.float32).reshape(60, 4) / 4  # rows 60-99: never written
        temp[5, 1] = -9999.0  # written as missing
        temp.dims[0].attach_scale(time)
        counts = obs.create_dataset("counts", shape=(100,), dtype=np.int16, chunks=(25,), fillvalue=-1)
        counts.attrs["missing_value"] = np.int16(-1)
        counts[:50] = np.arange(50, dtype=np.int16)
        # no attribute: netCDF-C sets its default fill value as the dataset's fill value
        pressure = obs.create_dataset(
            "pressure", shape=(100,), dtype=np.float64, chunks=(20,), fillvalue=NC_DEFAULT_DOUBLE
        )
        pressure[:40] = np.linspace(1000, 1010, 40)
    return path


def parquet_with_nulls(path: Path) -> Path:
    """int64 with nulls and a value beyond 2**53; a float column beside it."""
    ids = pa.array([BIG, 5, None, 7, None, 9], type=pa.int64())
    level = pa.array([0.5, None, 1.5, float("nan"), 2.5, 3.0], type=pa.float64())
    pq.write_table(pa.table({"ids": ids, "level": level}), path)
    return path


def fortran_npy(path: Path, rows: int = 1000, columns: int = 3) -> np.ndarray:
    values = np.asfortranarray(np.arange(rows * columns, dtype=np.float64).reshape(rows, columns))
    np.save(path, values)
    return values


def constant_npy(path: Path, rows: int = 1000) -> Path:
    np.save(path, np.full(rows, 2013, dtype=np.int64))
    return path
