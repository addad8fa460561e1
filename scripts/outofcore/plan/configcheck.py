"""Config checks that a JSON schema cannot express, and one-line error messages.

Every error names the config key (dotted path, list indices in brackets) and the bad
value, so a user can fix the file without reading a traceback.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from outofcore.plan.datasource import SourceError, check_sources
from outofcore.plan.query import QueryError, parse_query

INT64_MAX = 2**63 - 1


class ConfigError(ValueError):
    """A config value is invalid; the message names the key and the value."""

    def __init__(self, key: str, value: Any, reason: str) -> None:
        self.key, self.value, self.reason = key, value, reason
        super().__init__(f"config error: {key} = {value!r}: {reason}")


def key_name(path: Iterable[Any]) -> str:
    """Dotted key for a path in the config: ('datasets', 'arrays', 0, 'size') -> datasets.arrays[0].size."""
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key or "(top level)"


def schema_error(error: Any) -> ConfigError:
    """A jsonschema ValidationError (its most relevant one, `best_match`) as a ConfigError.

    Takes the error object rather than running jsonschema here: this module stays
    standard-library only.
    """
    path = list(error.absolute_path)
    value = error.instance
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(k for k in error.instance if k not in allowed)
        path.append(unknown[0])
        value = error.instance[unknown[0]]
        return ConfigError(key_name(path), value, f"unknown key (allowed: {', '.join(sorted(allowed))})")
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return ConfigError(key_name([*path, missing[0]]), None, "required key is missing")
    if error.validator in ("oneOf", "anyOf"):
        return ConfigError(
            key_name(path), value, "must be " + " or ".join(map(describe, error.validator_value))
        )
    return ConfigError(key_name(path), value, error.message)


def describe(schema: Mapping[str, Any]) -> str:
    """A subschema of a oneOf in words, for an error message."""
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if schema.get("type") == "object":
        return (
            "a mapping with "
            + ", ".join(schema.get("required", []))
            + " (keys: "
            + ", ".join(schema.get("properties", {}))
            + ")"
        )
    return str(schema.get("type", "another value"))


def check_datasets(datasets: Mapping[str, Any]) -> None:
    """Checks of the datasets stage beyond the schema: bounds, names, slice."""
    arrays = datasets["arrays"]
    seen: set[str] = set()
    for i, spec in enumerate(arrays):
        key = f"datasets.arrays[{i}]"
        if spec["low"] > spec["high"]:
            raise ConfigError(f"{key}.high", spec["high"], f"must be >= low ({spec['low']})")
        for bound in ("low", "high"):
            if not -INT64_MAX - 1 <= spec[bound] <= INT64_MAX:
                raise ConfigError(f"{key}.{bound}", spec[bound], "must fit in int64")
        name = spec["name"]
        if name in seen:
            raise ConfigError(f"{key}.name", name, "duplicate dataset name")
        # A dataset cannot also be a group: 'a' and 'a/b' cannot both exist.
        for other in seen:
            if other.startswith(name + "/") or name.startswith(other + "/"):
                raise ConfigError(
                    f"{key}.name", name, f"clashes with dataset {other!r} (a dataset cannot be a group)"
                )
        seen.add(name)
    start, stop = datasets["slice"]
    if start >= stop:
        raise ConfigError("datasets.slice", [start, stop], "start must be < stop")
    smallest = min(spec["size"] for spec in arrays)
    if stop > smallest:
        raise ConfigError(
            "datasets.slice", [start, stop], f"stop must be <= the smallest array size ({smallest})"
        )


def check_particles(particles: Mapping[str, Any]) -> None:
    """The query must parse into the safe subset (it reaches numexpr)."""
    try:
        parse_query(particles["query"])
    except QueryError as error:
        raise ConfigError("particles.query", particles["query"], str(error)) from None


def check_blosc(section: Mapping[str, Any]) -> None:
    """Checks of the blosc stage beyond the schema: whole numbers must be written as ints.

    JSON schema counts 10.0 as an integer, but numpy and blosc do not take 10.0 as a size
    or a thread count: reject it here rather than in a job.
    """
    for key in ("sizes", "threads"):
        for i, value in enumerate(section[key]):
            if type(value) is not int:
                raise ConfigError(f"blosc.{key}[{i}]", value, "must be an integer (no decimal point)")
    for i, pipeline in enumerate(section["filters"]):
        bits = [int(part.split(":")[1]) for part in pipeline.split("+") if part.startswith("trunc_prec:")]
        if len(bits) > 1:
            raise ConfigError(f"blosc.filters[{i}]", pipeline, "at most one trunc_prec in a pipeline")
        if bits and not 1 <= bits[0] <= 52:
            raise ConfigError(f"blosc.filters[{i}]", pipeline, "trunc_prec keeps 1 to 52 mantissa bits")
    for key in ("clevel", "repeats"):
        if type(section[key]) is not int:
            raise ConfigError(f"blosc.{key}", section[key], "must be an integer (no decimal point)")


def check_hugearray(hugearray: Mapping[str, Any]) -> None:
    """Checks of the huge-array stage beyond the schema: sizes against block and chunk."""
    block_mb, chunk_kb = hugearray["block_mb"], hugearray["chunk_kb"]
    for i, size_mb in enumerate(hugearray["sizes_mb"]):
        if size_mb < block_mb:
            raise ConfigError(
                f"hugearray.sizes_mb[{i}]", size_mb, f"smaller than one block (block_mb = {block_mb})"
            )
    if chunk_kb > block_mb * 1024:
        raise ConfigError(
            "hugearray.chunk_kb",
            chunk_kb,
            f"larger than one block (block_mb = {block_mb}, {block_mb * 1024} KiB)",
        )
    row_bytes = 8 * hugearray["columns"]
    if chunk_kb * 1024 < row_bytes:
        raise ConfigError(
            "hugearray.chunk_kb",
            chunk_kb,
            f"smaller than one row ({hugearray['columns']} float64 columns = {row_bytes} bytes)",
        )


def check_data(items: list[Any]) -> None:
    """Generator names known, labels unique, each file there and its header numeric."""
    try:
        check_sources(items)
    except SourceError as error:
        raise ConfigError(error.key, error.value, error.reason) from None


def check_config(config: Mapping[str, Any]) -> None:
    """Every check beyond the schema; raises ConfigError on the first problem."""
    check_data(config["data"])
    check_datasets(config["datasets"])
    check_particles(config["particles"])
    check_blosc(config["blosc"])
    check_hugearray(config["hugearray"])
