"""The sources of the huge-array stage (`hugearray.data`): the stage's own
`uniform_int16`, a built-in generator, or an entry of `data:` by its label; and what the
stage asks of them beyond `data:`'s own checks (a CSV or Parquet file fits one block, a
random_int range is exact in float64, which the stores hold).
"""

from collections.abc import Sequence
from pathlib import Path

from outofcore.plan.source_specs import GENERATORS, RANDOM_INT, SourceError, SourceSpec
from outofcore.plan.units import MiB

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
    size_mb = Path(spec.path).stat().st_size / MiB
    if size_mb > budget_mb:
        raise SourceError(
            key,
            spec.label,
            f"{spec.where} ({spec.key}) is {size_mb:,.1f} MiB; a {spec.kind.upper()} source is read whole "
            f"and may be at most one block (hugearray.block_mb = {budget_mb} MiB): raise block_mb "
            "or save the values as .npy or HDF5 (read in slices)",
        )


EXACT_INTEGERS = 2**53  # float64, which the huge array's stores hold, has every integer up to this


def check_exact_range(spec: SourceSpec, key: str) -> None:
    """A random_int source of the huge-array stage stays within +-2**53 (exact in float64)."""
    low, high, dtype = spec.int_range
    if spec.kind == RANDOM_INT and (low < -EXACT_INTEGERS or high > EXACT_INTEGERS):
        raise SourceError(
            key,
            spec.label,
            f"random_int [{low}, {high}] ({dtype}) reaches beyond +-2**53: float64, which the stores "
            "hold, cannot represent every such integer",
        )
