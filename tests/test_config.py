"""Bad configs are rejected by the real workflow before any job runs, naming the key."""

import copy
import pickle

import pytest
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from conftest import REPO
from outofcore.plan import configcheck
from test_data_sources import Planted

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


# (config, key the message must name, text of the value in the message)
BAD_CONFIGS = {
    "unknown top-level key": ({**DEFAULT, "sede": 1}, "sede", "1"),
    "seed not an int": (with_change("seed", "abc"), "seed", "'abc'"),
    "negative seed": (with_change("seed", -1), "seed", "-1"),
    "data unknown generator": (with_change("data", ["linspace", "gaussian"]), "data[1]", "'gaussian'"),
    "data empty": (with_change("data", []), "data", "[]"),
    "data repeated": (with_change("data", ["smooth", "smooth"]), "data[1]", "'smooth'"),
    "data file of unknown type": (with_change("data", [{"file": "x.txt"}]), "data[0].file", "'x.txt'"),
    "data file missing": (with_change("data", [{"file": "no/such.npy"}]), "data[0].file", "'no/such.npy'"),
    "data HDF5 without a dataset": (with_change("data", [{"file": "a.h5"}]), "data[0].file", "'a.h5'"),
    "data columns of a .npy": (
        with_change("data", [{"file": "a.npy", "columns": ["x"]}]),
        "data[0].columns",
        "['x']",
    ),
    "unknown dataset key": (
        with_change("datasets.arrays.0", {**DEFAULT["datasets"]["arrays"][0], "dtype": "f4"}),
        "datasets.arrays[0].dtype",
        "'f4'",
    ),
    "size zero": (with_change("datasets.arrays.1.size", 0), "datasets.arrays[1].size", "0"),
    "size not int": (with_change("datasets.arrays.0.size", 2.5), "datasets.arrays[0].size", "2.5"),
    "low above high": (with_change("datasets.arrays.0.low", 101), "datasets.arrays[0].high", "100"),
    "high beyond int64": (
        with_change("datasets.arrays.0.high", 2**63),
        "datasets.arrays[0].high",
        str(2**63),
    ),
    "missing size": (
        with_change("datasets.arrays.0", {"name": "x", "low": 0, "high": 1}),
        "datasets.arrays[0].size",
        "None",
    ),
    "duplicate name": (
        with_change("datasets.arrays.1.name", "random/f0_100"),
        "datasets.arrays[1].name",
        "random/f0_100",
    ),
    "dataset is also a group": (
        with_change("datasets.arrays.1.name", "random"),
        "datasets.arrays[1].name",
        "random",
    ),
    "bad name": (with_change("datasets.arrays.0.name", "a//b"), "datasets.arrays[0].name", "a//b"),
    "slice past the smallest array": (with_change("datasets.slice", [995, 1001]), "datasets.slice", "1001"),
    "slice reversed": (with_change("datasets.slice", [5, 2]), "datasets.slice", "[5, 2]"),
    "slice of three": (with_change("datasets.slice", [1, 2, 3]), "datasets.slice", "[1, 2, 3]"),
    "no arrays": (with_change("datasets.arrays", []), "datasets.arrays", "[]"),
    "particle rows zero": (with_change("particles.rows", [10, 0]), "particles.rows[1]", "0"),
    "particle rows overflow idnumber": (
        with_change("particles.rows", [2**29]),
        "particles.rows[0]",
        str(2**29),
    ),
    "particle rows not int": (with_change("particles.rows", [10, "1e6"]), "particles.rows[1]", "'1e6'"),
    "particle rows empty": (with_change("particles.rows", []), "particles.rows", "[]"),
    "particle rows repeated": (with_change("particles.rows", [10, 10]), "particles.rows", "[10, 10]"),
    "particle compression unknown": (
        with_change("particles.compression", "lzo"),
        "particles.compression",
        "'lzo'",
    ),
    "particle row cap zero": (with_change("particles.row_by_row_max", 0), "particles.row_by_row_max", "0"),
    "particle query call": (
        with_change("particles.query", "__import__('os').system('touch x')"),
        "particles.query",
        "function call",
    ),
    "particle query attribute": (
        with_change("particles.query", "pressure.real > 1"),
        "particles.query",
        "attribute",
    ),
    "particle query string": (
        with_change("particles.query", "pressure == 'x'"),
        "particles.query",
        "str literal",
    ),
    "particle query unknown name": (
        with_change("particles.query", "temperature < 5"),
        "particles.query",
        "unknown name",
    ),
    "particle query not a string": (with_change("particles.query", 5), "particles.query", "5"),
    "blosc unknown codec": (with_change("blosc.codecs", ["lz4", "snappy"]), "blosc.codecs[1]", "'snappy'"),
    "blosc no codec": (with_change("blosc.codecs", []), "blosc.codecs", "[]"),
    "blosc unknown method": (
        with_change("blosc.methods", ["pack_array", "pickle"]),
        "blosc.methods[1]",
        "'pickle'",
    ),
    "blosc size zero": (with_change("blosc.sizes", [0, 10]), "blosc.sizes[0]", "0"),
    "blosc size past blosc's 2 GiB": (
        with_change("blosc.sizes", [10, 300_000_000]),
        "blosc.sizes[1]",
        "300000000",
    ),
    "blosc size with a decimal point": (with_change("blosc.sizes", [10, 100.0]), "blosc.sizes[1]", "100.0"),
    "blosc clevel above 9": (with_change("blosc.clevel", 10), "blosc.clevel", "10"),
    "blosc clevel below 0": (with_change("blosc.clevel", -1), "blosc.clevel", "-1"),
    "blosc threads zero": (with_change("blosc.threads", [1, 0]), "blosc.threads[1]", "0"),
    "blosc repeats zero": (with_change("blosc.repeats", 0), "blosc.repeats", "0"),
    "blosc min_time zero": (with_change("blosc.min_time", 0), "blosc.min_time", "0"),
    "blosc unknown key": ({**DEFAULT, "blosc": {**DEFAULT["blosc"], "level": 5}}, "blosc.level", "5"),
    "huge array below one block": (
        with_change("hugearray.sizes_mb", [256, 32]),
        "hugearray.sizes_mb[1]",
        "32",
    ),
    "huge array size zero": (with_change("hugearray.sizes_mb", [0]), "hugearray.sizes_mb[0]", "0"),
    "huge array size repeated": (
        with_change("hugearray.sizes_mb", [256, 256]),
        "hugearray.sizes_mb",
        "[256, 256]",
    ),
    "huge array past 1 TiB": (
        with_change("hugearray.sizes_mb", [2_000_000]),
        "hugearray.sizes_mb[0]",
        "2000000",
    ),
    "zero columns": (with_change("hugearray.columns", 0), "hugearray.columns", "0"),
    "unknown backend": (
        with_change("hugearray.backends", ["tables", "zarr"]),
        "hugearray.backends[1]",
        "'zarr'",
    ),
    "no backend": (with_change("hugearray.backends", []), "hugearray.backends", "[]"),
    "unknown codec": (
        with_change("hugearray.compression", "blosc2:snappy"),
        "hugearray.compression",
        "'blosc2:snappy'",
    ),
    "unknown compressor": (with_change("hugearray.compression", "gzip"), "hugearray.compression", "'gzip'"),
    "chunk larger than a block": (with_change("hugearray.chunk_kb", 65537), "hugearray.chunk_kb", "65537"),
    "chunk smaller than a row": (
        {**DEFAULT, "hugearray": {**DEFAULT["hugearray"], "columns": 4096, "chunk_kb": 16}},
        "hugearray.chunk_kb",
        "16",
    ),
    "block of zero": (with_change("hugearray.block_mb", 0), "hugearray.block_mb", "0"),
    "keep_data not a boolean": (with_change("hugearray.keep_data", "yes"), "hugearray.keep_data", "'yes'"),
    "unknown huge array key": (
        {**DEFAULT, "hugearray": {**DEFAULT["hugearray"], "block": 3}},
        "hugearray.block",
        "3",
    ),
}


@pytest.mark.parametrize("config,key,value", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_config_rejected_by_workflow(workflow_runner, config, key, value):
    proc = workflow_runner(config, "--dry-run", check=False)
    assert proc.returncode != 0
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("config error:")]
    assert len(lines) == 1, proc.stdout + proc.stderr
    assert f" {key} = " in lines[0] and value in lines[0], lines[0]
    assert not (workflow_runner.workdir / "results").exists()  # no job ran


def schema_error(config: dict) -> configcheck.ConfigError | None:
    """What the workflow does first: jsonschema's most relevant error, as one line."""
    validator = Draft202012Validator(yaml.safe_load(SCHEMA.read_text()))
    error = best_match(validator.iter_errors(config))
    return None if error is None else configcheck.schema_error(error)


@pytest.mark.parametrize("config,key,value", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_config_rejected_by_checks(config, key, value):
    error = schema_error(config)
    if error is None:
        with pytest.raises(configcheck.ConfigError) as caught:
            configcheck.check_config(config)
        error = caught.value
    assert error.key == key


def test_default_config_is_valid():
    assert schema_error(DEFAULT) is None
    configcheck.check_config(DEFAULT)


def test_empty_config_gets_the_defaults(workflow_runner):
    """An empty user config still runs: every key has a default in the schema."""
    workflow_runner({}, "datasets_listing", defaults=False)
    summary = (workflow_runner.workdir / "results" / "datasets" / "summary.csv").read_text()
    assert "random/f0_1000,10000,int64" in summary  # the schema's default arrays


def test_bad_data_files_rejected_before_any_job(workflow_runner):
    """A pickle posing as .npy and a CSV text column: one line naming the file, nothing run."""
    workdir = workflow_runner.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    marker = workdir / "ran"
    (workdir / "evil.npy").write_bytes(pickle.dumps(Planted(marker)))
    (workdir / "text.csv").write_text("a,b\n1,x\n2,y\n")
    cases = (("evil.npy", "a pickle, not a .npy array"), ("text.csv", "column 'b' is not numbers"))
    for item, reason in cases:
        proc = workflow_runner(with_change("data", ["linspace", {"file": item}]), "--dry-run", check=False)
        output = (proc.stdout + proc.stderr).splitlines()
        lines = [line for line in output if line.startswith("config error:")]
        assert proc.returncode != 0 and len(lines) == 1, proc.stdout + proc.stderr
        assert lines[0].startswith(f"config error: data[1].file = '{item}': {reason}"), lines[0]
    assert not marker.exists() and not (workdir / "results").exists()
