"""Prove a user's HDF5 dataset readable end to end, in a child process.

The layout checks (`safety.hdf5`) say where a dataset's bytes are, not that its filters
decode them: an unregistered filter id, a corrupted gzip or Fletcher-32 chunk fail only
when that chunk is read, and a corrupted chunk of a C codec (bitshuffle, blosc) may crash
the reading process outright (SIGSEGV, no Python traceback). The first job that reads a
user's file therefore decodes every chunk once here: each chunk read alone (memory
bounded by one chunk, refused beforehand if larger than the job may hold), in a child
process, so a crash ends the child and becomes one line naming the file, the dataset and
the chunk; a library error becomes the same one line.
"""

import itertools
import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

SCRIPTS = str(Path(__file__).resolve().parents[2])  # the directory holding `outofcore`
CONTIGUOUS_BLOCK = 16 << 20  # a contiguous dataset is read in pieces of this many bytes


class DecodeFailed(ValueError):
    """A chunk of the dataset could not be decoded; `reason` says which and how, the
    message names the file and dataset too."""

    def __init__(self, where: str, reason: str) -> None:
        self.where, self.reason = where, reason
        super().__init__(f"{where}: {reason}" if where else reason)


def pieces(
    shape: tuple[int, ...], chunks: tuple[int, ...] | None, itemsize: int
) -> Iterator[tuple[slice, ...]]:
    """Selections covering the dataset once, in order: its chunks, or blocks of rows."""
    if not shape:
        yield ()
        return
    if chunks is None:
        row = math.prod(shape[1:]) * itemsize or 1
        chunks = (max(1, CONTIGUOUS_BLOCK // row), *shape[1:])
    axes = [[slice(s, min(s + c, n)) for s in range(0, n, c)] for n, c in zip(shape, chunks, strict=True)]
    yield from itertools.product(*axes)


def decode_every_chunk(path: str, dataset: str, max_bytes: int) -> int:
    """In the child: read each chunk of `dataset` once; returns the chunks read. Before
    each read the chunk's index goes to stdout, so a crash can name it."""
    import h5py
    import hdf5plugin  # noqa: F401 - the compression filters installed here

    from outofcore.safety.hdf5_links import resolve_dataset

    with h5py.File(path, "r") as h5:
        ds = resolve_dataset(h5, dataset)
        chunk_bytes = math.prod(ds.chunks or ()) * ds.dtype.itemsize
        if ds.chunks and chunk_bytes > max_bytes:
            too_big = f"one chunk decodes to {chunk_bytes:,} bytes, more than the {max_bytes:,} allowed"
            raise DecodeFailed("", too_big)
        count = 0
        for count, selection in enumerate(pieces(ds.shape, ds.chunks, ds.dtype.itemsize), start=1):
            print(count, flush=True)
            ds[selection]
    return count


def child_main(argv: list[str]) -> None:
    path, dataset, max_bytes = argv[0], argv[1], int(argv[2])
    try:
        decode_every_chunk(path, dataset, max_bytes)
    except Exception as error:  # one line for the parent, whatever the library said
        text = " ".join(str(error).split())
        print(f"{type(error).__name__}: {text}", file=sys.stderr)
        sys.exit(1)


def prove_decodable(path: str | Path, dataset: str, max_bytes: int, timeout: float | None = None) -> None:
    """Decode every chunk of `path`:`dataset` in a child; raise DecodeFailed (one line
    naming the file, the dataset and the chunk) if a chunk fails or crashes the child."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SCRIPTS, os.environ.get("PYTHONPATH")]))}
    code = "import sys; from outofcore.safety.hdf5_decode import child_main; child_main(sys.argv[1:])"
    args = [sys.executable, "-c", code, str(path), dataset, str(max_bytes)]
    run = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    if run.returncode == 0:
        return
    done = run.stdout.split()
    chunk = f"chunk {done[-1]}: " if done else ""
    if run.returncode < 0:
        name = signal.Signals(-run.returncode).name
        reason = f"{chunk}decoding crashed the reader ({name}): a corrupted or hostile chunk; refusing it"
        raise DecodeFailed(f"{path}:{dataset}", reason)
    said = (run.stderr.strip().splitlines() or ["no message"])[-1][:300]
    if said.startswith("DecodeFailed: "):  # refused before decoding: its own reason
        raise DecodeFailed(f"{path}:{dataset}", said.removeprefix("DecodeFailed: "))
    reason = f"{chunk}cannot be decoded with the filters installed here: {said}"
    raise DecodeFailed(f"{path}:{dataset}", reason)
