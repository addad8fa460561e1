"""The table of data sources (`results/data/sources.csv`): one row per source, with its
missing values per column and how much of it the sweep's largest size measures."""

from typing import Any

from outofcore.data.readers import missing_counts
from outofcore.data.sources import Source
from outofcore.plan.source_specs import SourceSpec


def coverage(source: Source, size: int) -> tuple[float, float]:
    """(share of the source's values in an array of `size`, times the array repeats them):
    a generator is drawn at the size (1, 1); a file is a part of it or tiled."""
    if source.length is None:
        return 1.0, 1.0
    return min(1.0, size / source.length), max(1.0, size / source.length)


def source_row(spec: SourceSpec, source: Source, largest: int) -> dict[str, Any]:
    """One source's row: what it is, its missing values (NaN, nulls, fill values) per column,
    and the coverage of the sweep's largest size."""
    names, missing = ("",), [0]
    if source.table is not None:
        names, missing = source.table.names, missing_counts(source.table).tolist()
    share, repeats = coverage(source, largest)
    return {
        "data": spec.label,
        "kind": spec.kind,
        "file": spec.where,
        "dtype": str(source.dtype),
        "elements": source.length or "",
        "description": source.description,
        "columns": "; ".join(names) if source.table is not None else "",
        "missing": sum(missing),
        "missing_by_column": "; ".join(f"{n}: {m}" for n, m in zip(names, missing, strict=True))
        if source.table is not None
        else "",
        "coverage": share,
        "file_repeats": repeats,
    }
