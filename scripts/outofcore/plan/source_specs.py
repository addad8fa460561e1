"""The `data:` entries of the config as source specs, and the file checks the standard
library can do before any job runs.

An entry is a built-in generator's name (`GENERATORS`, the one list of them; the schema's
enum is checked against it), a configured `random_int`: `{random_int: {low, high, dtype}}`
(inclusive range, any 8- to 64-bit integer dtype; defaults [0, 1000] int32, the plain
`random_int`), or a user's file: `{file: path}`, both with an optional `name` (the label in
tables, figures and file names) and, for Parquet and CSV, `columns`. HDF5 datasets are
written `path.h5:/group/dataset`, NetCDF4 variables (HDF5 underneath) `path.nc:/group/variable`.

What needs numpy, h5py or pandas (an HDF5 layout, every value of a CSV column) is checked
by the first job that reads the file (`outofcore.data.sources`); what the bytes' headers
already say (a .npy header's dtype, a pickle instead of a .npy, a missing CSV column) is
checked before any job starts (`outofcore.plan.file_checks`), so a bad file stops the run.

`hugearray.data` names its sources among these (`outofcore.plan.hugearray_inputs`).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

GENERATORS = ("linspace", "random_int", "smooth", "noisy_float", "sparse")
SUFFIXES = {
    ".npy": "npy",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".he5": "hdf5",
    ".nc": "netcdf",
    ".nc4": "netcdf",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
}
HDF5_PATH = re.compile(r"^(?P<path>.+\.(?:h5|hdf5|he5|nc|nc4)):(?P<dataset>/.*)$", re.IGNORECASE)
HDF5_KINDS = ("hdf5", "netcdf")  # a NetCDF4 file is an HDF5 file
# The cells of a CSV that are missing values, wherever they are (the job reads them so too).
CSV_MISSING = ("", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "None", "#N/A", "<NA>")
# A label names files and wildcards: the whole string (fullmatch; `$` would let a final
# newline through) of at most MAX_LABEL characters (a file name holds 255 bytes).
LABEL = re.compile(r"[A-Za-z0-9_-]+")
MAX_LABEL = 64
RANDOM_INT = "random_int"
# The plain `random_int`: integers uniform in [0, 1000], int32 (same values for a seed).
RANDOM_INT_DEFAULT = (0, 1000, "int32")
INT_DTYPES = {
    f"{kind}{bits}": ((-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if kind == "int" else (0, 2**bits - 1))
    for kind in ("int", "uint")
    for bits in (8, 16, 32, 64)
}


class SourceError(ValueError):
    """A data entry is unusable; `key`, `value`, `reason` as in a config error."""

    def __init__(self, key: str, value: Any, reason: str) -> None:
        self.key, self.value, self.reason = key, value, reason
        super().__init__(f"config error: {key} = {value!r}: {reason}")


@dataclass(frozen=True)
class SourceSpec:
    """One data source: a generator (`kind` is its name) or a file (`kind` is its format)."""

    label: str
    kind: str
    key: str  # the config key that names it, for error messages: data[2] or data[2].file
    path: str = ""
    dataset: str = ""  # HDF5 only: the dataset's path inside the file
    columns: tuple[str, ...] = ()  # Parquet and CSV: the columns read (empty: all)
    low: int | None = None  # random_int only: its inclusive range and dtype (None: the default)
    high: int | None = None
    dtype: str = ""

    @property
    def is_file(self) -> bool:
        return bool(self.path)

    @property
    def where(self) -> str:
        """The file as the user wrote it (path:/dataset for HDF5)."""
        return f"{self.path}:{self.dataset}" if self.dataset else self.path

    @property
    def int_range(self) -> tuple[int, int, str]:
        """random_int's (low, high, dtype), the defaults where not configured."""
        low, high, dtype = RANDOM_INT_DEFAULT
        return (
            low if self.low is None else self.low,
            high if self.high is None else self.high,
            self.dtype or dtype,
        )

    @property
    def inputs(self) -> list[str]:
        """The user's file as a rule input (none for a generator): a changed file reruns
        every job that reads it."""
        return [self.path] if self.is_file else []

    def as_params(self) -> dict[str, Any]:
        """Plain values for a rule's params (Snakemake passes them to the job's script)."""
        params = asdict(self)
        params["columns"] = list(self.columns)
        return params


def default_label(path: str, dataset: str) -> str:
    """A label from the file's name (and the HDF5 dataset's), safe in a file name: other
    characters become `_`, and a long name keeps its first MAX_LABEL characters."""
    name = Path(path).stem + (f"_{dataset.rstrip('/').rsplit('/', 1)[-1]}" if dataset else "")
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:MAX_LABEL].strip("_") or "file"


def check_label(key: str, label: Any) -> str:
    """A configured `name`: letters, digits, _ and -, the whole string, at most MAX_LABEL."""
    if not isinstance(label, str) or not LABEL.fullmatch(label):
        raise SourceError(key, label, "letters, digits, _ and - only")
    if len(label) > MAX_LABEL:
        raise SourceError(key, label[:MAX_LABEL] + "...", f"at most {MAX_LABEL} characters")
    return label


def parse_source(item: Any, index: int) -> SourceSpec:
    """The config's data[index] entry (already valid against the schema) as a spec."""
    key = f"data[{index}]"
    if isinstance(item, str):
        if item not in GENERATORS:
            raise SourceError(key, item, f"unknown generator (known: {', '.join(GENERATORS)})")
        return SourceSpec(label=item, kind=item, key=key)
    if RANDOM_INT in item:
        return parse_random_int(item, index)
    text = str(item["file"])
    key = f"{key}.file"
    match = HDF5_PATH.match(text)
    path, dataset = (match["path"], match["dataset"]) if match else (text, "")
    kind = SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        raise SourceError(key, text, f"unknown file type (known: {', '.join(sorted(SUFFIXES))})")
    if kind in HDF5_KINDS and not dataset.strip("/"):
        example = "path.nc:/group/variable" if kind == "netcdf" else "path.h5:/group/dataset"
        raise SourceError(key, text, f"name the dataset: {example}")
    columns = tuple(item.get("columns", ()))
    if columns and kind not in ("parquet", "csv", *HDF5_KINDS):
        reason = "only Parquet, CSV and HDF5 compound datasets have columns"
        raise SourceError(f"data[{index}].columns", list(columns), reason)
    name = item.get("name")
    label = check_label(f"data[{index}].name", name) if name else default_label(path, dataset)
    return SourceSpec(label=label, kind=kind, key=key, path=path, dataset=dataset, columns=columns)


def integer(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SourceError(key, value, "must be a whole number")
    return value


def parse_random_int(item: Mapping[str, Any], index: int) -> SourceSpec:
    """{random_int: {low, high, dtype}, name}: integers uniform in [low, high] as dtype."""
    key = f"data[{index}].{RANDOM_INT}"
    unknown = sorted(set(item) - {RANDOM_INT, "name"})
    if unknown:
        raise SourceError(
            f"data[{index}].{unknown[0]}", item[unknown[0]], "unknown key (allowed: name, random_int)"
        )
    options = item[RANDOM_INT] if item[RANDOM_INT] is not None else {}
    if not isinstance(options, Mapping):
        raise SourceError(key, options, "must be a mapping with low, high, dtype (each optional)")
    unknown = sorted(set(options) - {"low", "high", "dtype"})
    if unknown:
        raise SourceError(
            f"{key}.{unknown[0]}", options[unknown[0]], "unknown key (allowed: dtype, high, low)"
        )
    default_low, default_high, default_dtype = RANDOM_INT_DEFAULT
    dtype = options.get("dtype", default_dtype)
    if not isinstance(dtype, str) or dtype not in INT_DTYPES:
        raise SourceError(f"{key}.dtype", dtype, f"unknown integer dtype (known: {', '.join(INT_DTYPES)})")
    low = integer(f"{key}.low", options.get("low", default_low))
    high = integer(f"{key}.high", options.get("high", default_high))
    if low > high:
        raise SourceError(f"{key}.high", high, f"must be >= low ({low})")
    smallest, largest = INT_DTYPES[dtype]
    for bound, value in (("low", low), ("high", high)):
        if not smallest <= value <= largest:
            raise SourceError(f"{key}.{bound}", value, f"outside {dtype} [{smallest}, {largest}]")
    name = item.get("name")
    label = check_label(f"data[{index}].name", name) if name else f"{RANDOM_INT}_{low}_{high}_{dtype}"
    return SourceSpec(label=label, kind=RANDOM_INT, key=key, low=low, high=high, dtype=dtype)


def parse_sources(items: Sequence[Any]) -> list[SourceSpec]:
    """Every data entry as a spec; labels must be unique (they name files and columns)."""
    specs: list[SourceSpec] = []
    for index, item in enumerate(items):
        spec = parse_source(item, index)
        if any(other.label == spec.label for other in specs):
            if isinstance(item, Mapping):
                reason = "two entries with the same label (give one a different `name`)"
                raise SourceError(f"data[{index}].name", spec.label, reason)
            raise SourceError(f"data[{index}]", spec.label, "listed twice")
        same = [
            other
            for other in specs
            if spec.kind == other.kind == RANDOM_INT and spec.int_range == other.int_range
        ]
        if same:  # the values depend on range and dtype only: the same data twice
            low, high, dtype = spec.int_range
            raise SourceError(
                spec.key, spec.label, f"the same values as {same[0].label} ([{low}, {high}], {dtype})"
            )
        specs.append(spec)
    return specs


def check_sources(items: Sequence[Any]) -> list[SourceSpec]:
    """Parse every entry and check every file as far as the standard library can."""
    from outofcore.plan.file_checks import check_file  # it builds on this module

    specs = parse_sources(items)
    for spec in specs:
        if spec.is_file:
            check_file(spec)
    return specs
