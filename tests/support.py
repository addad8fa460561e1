"""Builders shared by tests of several stages: configs with one change, the config checks
in the workflow's order, a planted pickle, and a run's limits, timings and arrays."""

import copy

import pandas as pd
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from conftest import REPO
from outofcore.plan import configcheck

DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def with_change(path: str, value):
    """The default config with the dotted `path` (list indices as numbers) set to `value`."""
    config = copy.deepcopy(DEFAULT)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = config
    for part in parents:
        node = node[part]
    node[last] = value
    return config


def schema_violation(config: dict, rules: dict):
    return best_match(Draft202012Validator(rules).iter_errors(config))


def first_error(config: dict) -> configcheck.ConfigError | None:
    """The workflow's own sequence of checks (workflow/rules/common.smk calls check_all)."""
    try:
        configcheck.check_all(config, yaml.safe_load(SCHEMA.read_text()), schema_violation)
    except configcheck.ConfigError as error:
        return error
    return None


class Planted:
    """Unpickling it would create a file (what a malicious .npy could do instead)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


LIMITS = pd.DataFrame(
    [
        ("memcpy", 10.0, "GB/s", "x"),
        ("copy_1t", 10.0, "GB/s", "x"),
        ("copy_2t", 12.0, "GB/s", "x"),
        ("page_cache_write", 2.0, "GB/s", "x"),
        ("durable_write", 1.0, "GB/s", "x"),
        ("warm_read", 8.0, "GB/s", "x"),
        ("cold_read", 1.5, "GB/s", "x"),
        ("cores", 2, "count", "x"),
        ("cpu_model", "Some CPU", "text", "x"),
    ],
    columns=["name", "value", "unit", "how"],
)


def timings(nrows: int, block_rate: float, full: bool = False) -> pd.DataFrame:
    """A job's timings; `full`: with direct chunk writes, table.read() and pandas' two ways."""
    rows = [
        ("fill", "block", block_rate),
        ("fill", "row", block_rate / 100),
        ("fill", "limit", 2 * block_rate),
        ("query", "where", 1e8),
        ("query", "iterrows", 1e6),
    ]
    if full:
        rows += [("fill", "chunks", 1.8 * block_rate), ("query", "read", 2e8),
                 ("query", "pandas", 1e6), ("query", "pandas_bytes", 5e7)]  # fmt: skip
    return pd.DataFrame(
        [
            {"step": s, "method": m, "rows": nrows, "rows_per_s": r, "seconds": nrows / r, "order": "sorted",
             "format": fmt}
            for s, m, r in rows
            for fmt in ["npy" if m == "limit" else "pytables"]
        ]
    )  # fmt: skip


SWEEP = pd.DataFrame(
    [
        # method, codec, threads, size, operation, gbps
        ("compress_ptr", "lz4", 2, 1000, "compress", 9.0),
        ("compress_ptr", "lz4", 2, 10**6, "compress", 4.0),
        ("compress2", "zstd", 2, 10**6, "compress", 5.0),  # python-blosc2 as its docs advise
        ("compress_ptr", "lz4", 1, 10**6, "compress", 7.0),  # fewer threads: not the point
        ("pack_array", "blosclz", 2, 10**6, "compress", 1.0),
        ("compress_ptr", "lz4", 2, 10**6, "decompress", 12.0),
        ("pack_array", "blosclz", 2, 10**6, "decompress", 1.2),
        ("memcpy", "none", 1, 10**6, "copy", 11.0),
        ("memcpy", "none", 2, 10**6, "copy", 13.0),
        ("memcpy", "none", 2, 10**6, "read", 20.0),
        ("memcpy", "none", 2, 10**6, "write", 10.0),
    ],
    columns=["method", "codec", "threads", "size", "operation", "gbps"],
)
SWEEP["nbytes"] = 8 * SWEEP["size"]
SWEEP["seconds_min"] = SWEEP["nbytes"] / SWEEP["gbps"] / 1e9  # the fastest sample: the rate given

ARRAYS = pd.DataFrame(
    [
        # backend, size_mb, rows, columns, compression, file_bytes, write, reduce
        ("tables", 8, 2**17, 8, "blosc2:lz4", 2**23 // 4, 1.0, 4.0),
        ("tables", 64, 2**20, 8, "blosc2:lz4", 2**26 // 4, 0.9, 6.0),  # 4x compressed
        ("memmap", 64, 2**20, 8, "none", 2**26 + 128, 0.5, 2.0),
    ],
    columns=[
        "backend",
        "size_mb",
        "rows",
        "columns",
        "compression",
        "file_bytes",
        "write_gbps",
        "reduce_gbps",
    ],
).assign(
    engine="threads", rss_growth_mb=0.0, bounded="yes", data="uniform_int16"
)  # as load_measurements gives
