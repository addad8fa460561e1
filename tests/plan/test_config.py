"""Bad configs are rejected by the real workflow before any job runs, naming the key."""

import pickle

import pytest

from outofcore.plan import configcheck
from support import DEFAULT, Planted, first_error, with_change

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
    "random_int low above high": (
        with_change("data", [{"random_int": {"low": 10, "high": 5}}]),
        "data[0].random_int.high",
        "5: must be >= low (10)",
    ),
    "random_int outside its dtype": (
        with_change("data", ["linspace", {"random_int": {"low": -1, "high": 255, "dtype": "uint8"}}]),
        "data[1].random_int.low",
        "-1: outside uint8 [0, 255]",
    ),
    "random_int unknown dtype": (
        with_change("data", [{"random_int": {"dtype": "int128"}}]),
        "data[0].random_int.dtype",
        "'int128'",
    ),
    "random_int unknown key": (
        with_change("data", [{"random_int": {"low": 0, "max": 9}}]),
        "data[0].random_int.max",
        "9: unknown key (allowed: dtype, high, low)",
    ),
    "random_int unknown key beside it": (
        with_change("data", [{"random_int": {}, "label": "x"}]),
        "data[0].label",
        "'x': unknown key (allowed: name, random_int)",
    ),
    "random_int the same range twice": (
        with_change("data", ["random_int", {"random_int": {"high": 1000}, "name": "again"}]),
        "data[1].random_int",
        "'again': the same values as random_int",
    ),
    "huge array random_int beyond 2**53": (
        {
            **with_change("data", [{"random_int": {"high": 2**60, "dtype": "int64"}, "name": "ns"}]),
            "hugearray": {**DEFAULT["hugearray"], "data": ["ns"]},
        },
        "hugearray.data[0]",
        "'ns': random_int [0, 1152921504606846976] (int64) reaches beyond +-2**53",
    ),
    "data HDF5 without a dataset": (with_change("data", [{"file": "a.h5"}]), "data[0].file", "'a.h5'"),
    "data columns of a .npy": (
        with_change("data", [{"file": "a.npy", "columns": ["x"]}]),
        "data[0].columns",
        "['x']",
    ),
    "huge array unknown data source": (
        with_change("hugearray.data", ["uniform_int16", "gaussian"]),
        "hugearray.data[1]",
        "'gaussian'",
    ),
    "huge array data not a name": (
        with_change("hugearray.data", ["my file"]),
        "hugearray.data[0]",
        "'my file'",
    ),
    "huge array data file missing": (
        {
            **with_change("data", ["linspace", {"file": "no/such.h5:/values", "name": "mine"}]),
            "hugearray": {**DEFAULT["hugearray"], "data": ["mine"]},
        },
        "data[1].file",
        "'no/such.h5:/values'",
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
    "particle format unknown": (
        with_change("particles.formats", ["parquet", "feather"]),
        "particles.formats[1]",
        "'feather'",
    ),
    "particle order unknown": (
        with_change("particles.order", ["sorted", "random"]),
        "particles.order[1]",
        "'random'",
    ),
    "particle order empty": (with_change("particles.order", []), "particles.order", "[]"),
    "particle share zero": (with_change("particles.queries", [0.1, 0]), "particles.queries[1]", "0"),
    "particle share above one": (with_change("particles.queries", [1.5]), "particles.queries[0]", "1.5"),
    "particle share a percent": (with_change("particles.queries", ["10%"]), "particles.queries[0]", "'10%'"),
    "particle share repeated": (
        with_change("particles.queries", [0.5, 0.5]),
        "particles.queries",
        "[0.5, 0.5]",
    ),
    "particle shares not a list": (with_change("particles.queries", 0.1), "particles.queries", "0.1"),
    "parquet row group zero": (
        with_change("particles.parquet_row_group_rows", 0),
        "particles.parquet_row_group_rows",
        "0",
    ),
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
    "blosc threads word": (with_change("blosc.threads", [1, "most"]), "blosc.threads[1]", "'most'"),
    "blosc threads with a decimal point": (with_change("blosc.threads", [1, 2.0]), "blosc.threads[1]", "2.0"),
    "blosc threads all twice": (
        with_change("blosc.threads", ["all", "all"]),
        "blosc.threads",
        "['all', 'all']",
    ),
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
        with_change("hugearray.backends", ["tables", "netcdf"]),
        "hugearray.backends[1]",
        "'netcdf'",
    ),
    "no backend": (with_change("hugearray.backends", []), "hugearray.backends", "[]"),
    "unknown engine": (
        with_change("hugearray.engines", ["threads", "spark"]),
        "hugearray.engines[1]",
        "'spark'",
    ),
    "blosc2 engine without its store": (
        with_change("hugearray.engines", ["threads", "blosc2"]),
        "hugearray.engines[1]",
        "'blosc2'",
    ),
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
    # whole numbers written as floats pass JSON Schema (1.0 is an integer there), not here
    "seed with a decimal point": (with_change("seed", 42.0), "seed", "42.0"),
    "dataset size with a decimal point": (
        with_change("datasets.arrays.0.size", 100.0),
        "datasets.arrays[0].size",
        "100.0",
    ),
    "slice with decimal points": (with_change("datasets.slice", [3.0, 8.0]), "datasets.slice[0]", "3.0"),
    "huge array size with a decimal point": (
        with_change("hugearray.sizes_mb", [256.0]),
        "hugearray.sizes_mb[0]",
        "256.0",
    ),
    "boolean as a count": (with_change("limits.repeats", True), "limits.repeats", "True"),
    "min_time not a number": (with_change("blosc.min_time", float("nan")), "blosc.min_time", "nan"),
    "min_time infinite": (with_change("blosc.min_time", float("inf")), "blosc.min_time", "inf"),
    # names in normal form: no '.'/'..' segments, nothing after the last segment
    "dataset named dot": (with_change("datasets.arrays.0.name", "."), "datasets.arrays[0].name", "'.'"),
    "dataset name with a dot segment": (
        with_change("datasets.arrays.0.name", "random/./f0_100"),
        "datasets.arrays[0].name",
        "random/./f0_100",
    ),
    "dataset name with a parent segment": (
        with_change("datasets.arrays.0.name", "random/../x"),
        "datasets.arrays[0].name",
        "random/../x",
    ),
    "dataset name ending in a newline": (
        with_change("datasets.arrays.0.name", "random/x\n"),
        "datasets.arrays[0].name",
        "random/x",
    ),
    "dataset name too deep": (
        with_change("datasets.arrays.0.name", "/".join(["g"] * 17)),
        "datasets.arrays[0].name",
        "g/g/g",
    ),
    # upper bounds on whatever sizes memory, disk or time
    "memory copy larger than any machine": (
        with_change("limits.memcpy_mb", 10**14),
        "limits.memcpy_mb",
        str(10**14),
    ),
    "disk probe larger than any disk": (with_change("limits.disk_mb", 10**9), "limits.disk_mb", str(10**9)),
    "a billion repeats": (with_change("limits.repeats", 10**9), "limits.repeats", str(10**9)),
    "too many particle tables": (
        with_change("particles.rows", list(range(1, 40))),
        "particles.rows",
        "[1, 2, 3",
    ),
}


# Through the real Snakemake CLI: one config per module of checks, each a Snakemake start
# of its own (every config goes through `check_all`, the function the workflow calls, in
# test_bad_config_rejected_by_checks).
THROUGH_WORKFLOW = [
    "unknown top-level key",  # the schema
    "dataset name with a parent segment",  # dataset names
    "slice past the smallest array",  # across keys
    "particle query call",  # the query's grammar
    "huge array data file missing",  # data sources and files
    "random_int outside its dtype",  # generator specs
    "memory copy larger than any machine",  # the machine's size
]


@pytest.mark.parametrize("name", THROUGH_WORKFLOW)
def test_bad_config_rejected_by_workflow(workflow_runner, name):
    config, key, value = BAD_CONFIGS[name]
    proc = workflow_runner(config, "--dry-run", check=False)
    assert proc.returncode != 0
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("config error:")]
    assert len(lines) == 1, proc.stdout + proc.stderr
    assert f" {key} = " in lines[0] and value in lines[0], lines[0]
    assert not (workflow_runner.workdir / "results").exists()  # no job ran


@pytest.mark.parametrize("config,key,value", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_config_rejected_by_checks(config, key, value):
    error = first_error(config)
    assert error is not None and error.key == key
    assert str(error).startswith(f"config error: {key} = ") and value in str(error), str(error)
    assert "\n" not in str(error)  # one line


def test_default_config_is_valid():
    assert first_error(DEFAULT) is None


def test_empty_config_gets_the_defaults(workflow_runner):
    """An empty user config still runs: every key has a default in the schema."""
    workflow_runner({}, "datasets_listing", defaults=False)
    summary = (workflow_runner.workdir / "results" / "datasets" / "summary.csv").read_text()
    assert "random/f0_1000,10000,int64" in summary  # the schema's default arrays


def test_all_blosc_threads_is_valid_and_means_the_cores_snakemake_has(workflow_runner):
    """`all` passes the schema and the checks; a sweep job then reserves every core."""
    assert first_error(with_change("blosc.threads", [1, "all"])) is None
    proc = workflow_runner({"blosc": {"threads": [1, "all"]}}, "--dry-run", "results/blosc/sweep.csv")
    sweeps = [block for block in proc.stdout.split("\n\n") if "rule blosc_sweep:" in block]
    assert sweeps and all("threads: 2" in block for block in sweeps)  # --cores 2


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


def alias_bomb(levels: int) -> list:
    """What a few hundred bytes of YAML aliases expand to: 9**levels values, shared."""
    node: list = [1] * 9
    for _ in range(levels - 1):
        node = [node] * 9
    return node


def test_alias_bomb_is_refused_with_a_short_message():
    """9**9 (387 million) values: counting stops at the limit, the message stays short."""
    config = {**DEFAULT, "hugearray": {**DEFAULT["hugearray"], "sizes_mb": alias_bomb(9)}}
    with pytest.raises(configcheck.ConfigError) as caught:
        configcheck.check_size(config)
    assert caught.value.key == "hugearray.sizes_mb"
    assert len(str(caught.value)) < 200


def test_deep_nesting_is_refused():
    deep: list = [1]
    for _ in range(50):
        deep = [deep]
    with pytest.raises(configcheck.ConfigError, match="deeper"):
        configcheck.check_size({"seed": deep})


def test_long_values_are_shortened_in_messages():
    error = configcheck.ConfigError("particles.query", "x" * 10_000, "too long")
    assert len(str(error)) < 200


def test_yaml_alias_bomb_through_the_workflow(workflow_runner):
    """The YAML file itself (Snakemake loads it): one short line, no job, no traceback of
    a huge repr."""
    levels = "\n".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 8))
    bomb = workflow_runner.workdir / "bomb.yaml"
    bomb.write_text(f"l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1]\n{levels}\nseed: [*l7, *l7]\n")
    proc = workflow_runner(None, "--dry-run", "--configfile", str(bomb), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    lines = [line for line in output.splitlines() if line.startswith("config error:")]
    assert len(lines) == 1 and len(lines[0]) < 200, lines
    assert len(output) < 20_000
