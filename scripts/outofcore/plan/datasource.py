"""The `data:` entries of the config as source specs, and the file checks the standard
library can do before any job runs.

An entry is a built-in generator's name (`linspace`, `random_int`, `smooth`,
`noisy_float`, `sparse`) or a user's file: `{file: path}` with an optional `name` (the
label in tables, figures and file names) and, for Parquet and CSV, `columns`. HDF5
datasets are written `path.h5:/group/dataset`.

What needs numpy, h5py or pandas (an HDF5 layout, every value of a CSV column) is checked
by the first job that reads the file (`outofcore.data_sources`); what the bytes' headers
already say (a .npy header's dtype, a pickle instead of a .npy, a missing CSV column) is
checked here, so a bad file stops the run before any job starts.

`hugearray.data` names its sources (`stage_sources`): the huge-array stage's own
`uniform_int16`, a generator, or an entry of `data:` by its label.
"""

import ast
import csv
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
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
}
HDF5_PATH = re.compile(r"^(?P<path>.+\.(?:h5|hdf5|he5)):(?P<dataset>/.*)$")
LABEL = re.compile(r"^[A-Za-z0-9_-]+$")
NPY_MAGIC = b"\x93NUMPY"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
PARQUET_MAGIC = b"PAR1"
# Plain numbers only (bool, signed and unsigned ints, floats), one field, any byte order.
NUMERIC_DESCR = re.compile(r"^[<>|=]?[biuf][0-9]{1,2}$")
CSV_ROWS_CHECKED = 1000  # before any job: the header and the first rows; the job reads all


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

    @property
    def is_file(self) -> bool:
        return bool(self.path)

    @property
    def where(self) -> str:
        """The file as the user wrote it (path:/dataset for HDF5)."""
        return f"{self.path}:{self.dataset}" if self.dataset else self.path

    def as_params(self) -> dict[str, Any]:
        """Plain values for a rule's params (Snakemake passes them to the job's script)."""
        params = asdict(self)
        params["columns"] = list(self.columns)
        return params


def default_label(path: str, dataset: str) -> str:
    """A label from the file's name (and the HDF5 dataset's), safe in a file name."""
    name = Path(path).stem + (f"_{dataset.rstrip('/').rsplit('/', 1)[-1]}" if dataset else "")
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "file"


def parse_source(item: Any, index: int) -> SourceSpec:
    """The config's data[index] entry (already valid against the schema) as a spec."""
    key = f"data[{index}]"
    if isinstance(item, str):
        if item not in GENERATORS:
            raise SourceError(key, item, f"unknown generator (known: {', '.join(GENERATORS)})")
        return SourceSpec(label=item, kind=item, key=key)
    text = str(item["file"])
    key = f"{key}.file"
    match = HDF5_PATH.match(text)
    path, dataset = (match["path"], match["dataset"]) if match else (text, "")
    kind = SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        raise SourceError(key, text, f"unknown file type (known: {', '.join(sorted(SUFFIXES))})")
    if kind == "hdf5" and not dataset.strip("/"):
        raise SourceError(key, text, "name the dataset: path.h5:/group/dataset")
    columns = tuple(item.get("columns", ()))
    if columns and kind not in ("parquet", "csv"):
        raise SourceError(f"data[{index}].columns", list(columns), "only Parquet and CSV files have columns")
    label = item.get("name") or default_label(path, dataset)
    if not LABEL.match(label):
        raise SourceError(f"data[{index}].name", label, "letters, digits, _ and - only")
    return SourceSpec(label=label, kind=kind, key=key, path=path, dataset=dataset, columns=columns)


def parse_sources(items: Sequence[Any]) -> list[SourceSpec]:
    """Every data entry as a spec; labels must be unique (they name files and columns)."""
    specs: list[SourceSpec] = []
    for index, item in enumerate(items):
        spec = parse_source(item, index)
        if any(other.label == spec.label for other in specs):
            if isinstance(item, Mapping):
                reason = "two files with the same label (give one a different `name`)"
                raise SourceError(f"data[{index}].name", spec.label, reason)
            raise SourceError(f"data[{index}]", spec.label, "listed twice")
        specs.append(spec)
    return specs


def npy_dtype(head: bytes) -> str | None:
    """The dtype text a .npy header announces (None if the header cannot be parsed)."""
    if len(head) < 10:
        return None
    major = head[6]
    size_bytes = 2 if major == 1 else 4
    start = 8 + size_bytes
    length = int.from_bytes(head[8:start], "little")
    try:
        header = ast.literal_eval(head[start : start + length].decode("latin-1"))
    except (ValueError, SyntaxError, MemoryError):
        return None
    if not isinstance(header, dict) or "descr" not in header:
        return None
    return header["descr"] if isinstance(header["descr"], str) else repr(header["descr"])


def check_npy(spec: SourceSpec, head: bytes) -> None:
    if not head.startswith(NPY_MAGIC):
        # A pickle (what np.save of an object writes under allow_pickle) starts with 0x80.
        what = "a pickle, not a .npy array" if head[:1] == b"\x80" else "not a .npy file"
        raise SourceError(spec.key, spec.where, f"{what}; refusing to read it")
    descr = npy_dtype(head)
    if descr is None:
        raise SourceError(spec.key, spec.where, "unreadable .npy header")
    if not NUMERIC_DESCR.match(descr):
        raise SourceError(spec.key, spec.where, f"dtype {descr} is not plain numbers (object or structured)")


def check_csv(spec: SourceSpec) -> None:
    """The columns exist and their first rows are numbers (the job checks every row)."""
    with open(spec.path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise SourceError(spec.key, spec.where, "empty CSV file (no header)")
        wanted = spec.columns or tuple(header)
        missing = [name for name in wanted if name not in header]
        if missing:
            raise SourceError(
                spec.key, spec.where, f"no column {missing[0]!r} (columns: {', '.join(header)})"
            )
        places = {name: header.index(name) for name in wanted}
        for number, row in enumerate(reader, start=2):
            if number > CSV_ROWS_CHECKED:
                break
            for name, place in places.items():
                cell = row[place].strip() if place < len(row) else ""
                if cell:  # an empty cell is a missing value (NaN), not text
                    try:
                        float(cell)
                    except ValueError:
                        raise SourceError(
                            spec.key, spec.where, f"column {name!r} is not numbers (line {number}: {cell!r})"
                        ) from None


def check_file(spec: SourceSpec) -> None:
    """What can be known about a file source without numpy: it exists, its kind, its header."""
    path = Path(spec.path)
    if not path.exists():
        raise SourceError(spec.key, spec.where, "no such file")
    if not path.is_file():
        raise SourceError(spec.key, spec.where, "not a regular file")
    with open(path, "rb") as handle:
        head = handle.read(65536 + 12)
    if spec.kind == "npy":
        check_npy(spec, head)
    elif spec.kind == "hdf5" and not any(
        head[offset : offset + 8] == HDF5_MAGIC for offset in (0, 512, 1024, 2048, 4096, 8192, 16384, 32768)
    ):
        raise SourceError(spec.key, spec.where, "not an HDF5 file")
    elif spec.kind == "parquet" and not head.startswith(PARQUET_MAGIC):
        raise SourceError(spec.key, spec.where, "not a Parquet file")
    elif spec.kind == "csv":
        check_csv(spec)


def check_sources(items: Sequence[Any]) -> list[SourceSpec]:
    """Parse every entry and check every file as far as the standard library can."""
    specs = parse_sources(items)
    for spec in specs:
        if spec.is_file:
            check_file(spec)
    return specs


# --- the sources of the huge-array stage (`hugearray.data`) ---

OWN_DATA = "uniform_int16"  # the stage's own: integers uniform in [0, 2**16), as an ADC gives
# A CSV or Parquet source is read whole once per job (its columns are laid out one after
# another): its file must be at most one block (hugearray.block_mb) on disk.
WHOLE_FILE_KINDS = ("csv", "parquet")


def stage_sources(names: Sequence[str], specs: Sequence[SourceSpec], key: str) -> list[SourceSpec]:
    """The sources `names` (the config's `key`, e.g. hugearray.data) name: the stage's own
    data (`uniform_int16`), a built-in generator, or an entry of `data:` by its label
    (a user's file is declared, and checked, once, in `data:`)."""
    by_label = {spec.label: spec for spec in specs}
    sources = []
    for index, name in enumerate(names):
        where = f"{key}[{index}]"
        if name == OWN_DATA and name in by_label:
            raise SourceError(
                where, name, f"{OWN_DATA} is the stage's own data; give the file in data: another `name`"
            )
        if name in by_label:
            sources.append(by_label[name])
        elif name in (OWN_DATA, *GENERATORS):
            sources.append(SourceSpec(label=name, kind=name, key=where))
        else:
            files = [spec.label for spec in specs if spec.is_file]
            known = ", ".join([OWN_DATA, *GENERATORS, *files])
            raise SourceError(where, name, f"unknown data source (known: {known}; a file is listed in data:)")
    return sources


def check_whole_file(spec: SourceSpec, key: str, budget_mb: int) -> None:
    """A CSV or Parquet source of the huge-array stage must fit one block on disk."""
    if spec.kind not in WHOLE_FILE_KINDS:
        return
    size_mb = Path(spec.path).stat().st_size / 2**20
    if size_mb > budget_mb:
        raise SourceError(
            key,
            spec.label,
            f"{spec.where} ({spec.key}) is {size_mb:,.1f} MiB; a {spec.kind.upper()} source is read whole "
            f"and may be at most one block (hugearray.block_mb = {budget_mb} MiB): raise block_mb "
            "or save the values as .npy or HDF5 (read in slices)",
        )
