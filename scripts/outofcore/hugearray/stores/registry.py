"""The huge-array backends by name: one line per store module.

The rules know each backend's output suffix and whether it is a file or a directory
from `outofcore.plan.hugearray_stores` (standard library only, read by the Snakemake process);
loading this registry fails if that description and the entries below disagree.
"""

from collections.abc import Mapping

from outofcore.hugearray.stores import blosc2_store, h5py_store, memmap_store, tables_store, zarr_store
from outofcore.hugearray.stores.backend import Backend
from outofcore.plan import hugearray_stores

BACKENDS: dict[str, Backend] = {
    entry.name: entry
    for entry in (
        tables_store.BACKEND,
        h5py_store.BACKEND,
        memmap_store.BACKEND,
        zarr_store.BACKEND,
        blosc2_store.BACKEND,
        tables_store.FILTER_BACKEND,
        h5py_store.FILTER_BACKEND,
    )
}


def disagreements(
    backends: Mapping[str, Backend], described: Mapping[str, hugearray_stores.StoreKind]
) -> list[str]:
    """Where the registry and the rules' description of the stores differ (empty: none)."""
    problems = [f"{name}: in the rules' description only" for name in described.keys() - backends.keys()]
    problems += [f"{name}: in the registry only" for name in backends.keys() - described.keys()]
    for name in backends.keys() & described.keys():
        entry, kind = backends[name], described[name]
        if (entry.suffix, entry.directory) != (kind.suffix, kind.directory):
            problems.append(
                f"{name}: registry {entry.suffix} directory={entry.directory}, "
                f"rules {kind.suffix} directory={kind.directory}"
            )
    for name in backends.keys() & described.keys():
        can = {"dask": backends[name].opener is not None, "blosc2": backends[name].native is not None}
        for engine, able in can.items():
            if able != (name in hugearray_stores.stores_with_engine(engine, [name])):
                problems.append(
                    f"{name}: engine {engine} {'in the registry' if able else 'in the rules'} only"
                )
    return sorted(problems)


def get_backend(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown huge-array backend {name!r}; known: {', '.join(BACKENDS)}") from None


_problems = disagreements(BACKENDS, hugearray_stores.STORES)
if _problems:
    raise ImportError(
        "huge-array stores: outofcore.hugearray.stores.registry and "
        "outofcore.plan.hugearray_stores disagree: " + "; ".join(_problems)
    )
