"""The huge-array stage's stores as the rules see them: each backend's name, the suffix
of its output and whether that output is one file or a directory.

The job side (`outofcore.stores.registry`) holds the same facts beside the code that
writes and reads each store, and refuses to load if the two disagree.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class StoreKind:
    suffix: str  # of the output, e.g. ".h5": `results/hugearray/{size_mb}/{backend}{suffix}`
    directory: bool  # the store is a directory (Snakemake `directory()` output), not a file


STORES: dict[str, StoreKind] = {
    "tables": StoreKind(".h5", directory=False),
    "h5py": StoreKind(".h5", directory=False),
    "memmap": StoreKind(".npy", directory=False),
}


def backends_stored_as(suffix: str) -> str:
    """Wildcard constraint matching the backends whose output ends in `suffix`."""
    names = [name for name, kind in STORES.items() if kind.suffix == suffix]
    if not names:
        raise ValueError(f"no huge-array backend stores its array as *{suffix}")
    return "|".join(names)


def stored_as_directory(suffix: str) -> bool:
    """True if the backends whose output ends in `suffix` write a directory."""
    kinds = {kind.directory for kind in STORES.values() if kind.suffix == suffix}
    if len(kinds) != 1:
        raise ValueError(f"backends storing *{suffix} disagree on file or directory: {kinds}")
    return kinds.pop()
