"""A manifest of the run's data artifacts: path, sha256 and size of each file.

Two runs with the same config must give the same manifest (the data are reproducible
byte for byte); timings are not data and are left out.
"""

import hashlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd


def sha256_of(path: str | Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def manifest(paths: Iterable[str | Path]) -> pd.DataFrame:
    """One row per file: path (as given), sha256, bytes; sorted by path."""
    rows = [{"path": str(p), "sha256": sha256_of(p), "bytes": Path(p).stat().st_size} for p in paths]
    return pd.DataFrame(rows, columns=["path", "sha256", "bytes"]).sort_values("path", ignore_index=True)
