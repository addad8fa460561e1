"""Config checks that a JSON schema cannot express, and one-line error messages.

Every error names the config key (dotted path, list indices in brackets) and the bad
value, so a user can fix the file without reading a traceback.
"""

import math
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from outofcore.plan import hugearray_stores
from outofcore.plan.hugearray_inputs import check_exact_range, check_whole_file, stage_sources
from outofcore.plan.query import QueryError, parse_query, to_text
from outofcore.plan.source_specs import SourceError, SourceSpec, check_sources

INT64_MAX = 2**63 - 1
# A config is a few dozen values. Far more means a mistake or a YAML alias bomb (a few
# hundred bytes that expand to millions of values): refuse it before anything walks it.
MAX_VALUES = 10_000
MAX_DEPTH = 10
# Error messages show at most this much of a value, whatever its size.
SHORT = reprlib.Repr()
SHORT.maxstring = SHORT.maxother = 80
SHORT.maxlist = SHORT.maxdict = 6
SHORT.maxlevel = 3


class ConfigError(ValueError):
    """A config value is invalid; the message names the key and the value (shortened)."""

    def __init__(self, key: str, value: Any, reason: str) -> None:
        self.key, self.value, self.reason = key, value, reason
        super().__init__(f"config error: {key} = {SHORT.repr(value)}: {reason}")


def check_size(config: Any) -> None:
    """Refuse a config with more than MAX_VALUES values or nested deeper than MAX_DEPTH.

    Counts every value reached, so a list repeated through YAML aliases counts as often
    as it is repeated; stops at the first value over the limit (bounded time and memory).
    """
    stack: list[tuple[tuple[Any, ...], Any]] = [((), config)]
    seen = 0
    while stack:
        path, value = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise ConfigError(key_name(path[:2]), "...", f"the config holds more than {MAX_VALUES} values")
        if len(path) > MAX_DEPTH:
            raise ConfigError(key_name(path[:2]), "...", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, Mapping):
            stack += [((*path, str(k)), v) for k, v in value.items()]
        elif isinstance(value, list | tuple):
            stack += [((*path, i), v) for i, v in enumerate(value)]


def check_types(value: Any, schema: Mapping[str, Any], path: tuple[Any, ...] = ()) -> None:
    """Strict JSON types where JSON Schema is lenient: an `integer` must be written as a
    whole number (JSON Schema takes 42.0, numpy and range() do not), a `number` must be
    finite (no .nan or .inf), neither may be a boolean. Walks the schema's `properties`,
    `items` and `enum`-free leaves; the schema itself checks everything else."""
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "boolean" not in kinds and kinds & {"integer", "number"} and isinstance(value, bool):
        raise ConfigError(key_name(path), value, "must be a number, not true/false")
    if "integer" in kinds and "number" not in kinds and isinstance(value, float):
        raise ConfigError(key_name(path), value, "must be a whole number written without a decimal point")
    if "number" in kinds and isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(key_name(path), value, "must be a finite number")
    if isinstance(value, Mapping):
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                check_types(value[name], sub, (*path, name))
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            check_types(item, schema["items"], (*path, i))
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
        if alternative.get("type") in ("integer", "number"):
            check_types(value, alternative, path)


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
        named = named_alternative(error)
        if named is not None:
            return schema_error(named)
        return ConfigError(
            key_name(path), value, "must be " + " or ".join(map(describe, error.validator_value))
        )
    return ConfigError(key_name(path), value, error.message)


def named_alternative(error: Any) -> Any:
    """For a mapping that names its alternative by its required keys ({file: ...} or
    {random_int: ...}), that alternative's first error: it says what is wrong inside."""
    if not isinstance(error.instance, Mapping):
        return None
    named = [
        index
        for index, alternative in enumerate(error.validator_value)
        if alternative.get("required") and set(alternative["required"]) <= set(error.instance)
    ]
    if len(named) != 1:
        return None
    inside = [sub for sub in error.context if sub.relative_schema_path[0] == named[0]]
    return inside[0] if inside else None


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


DATASET_NAME = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
MAX_NAME_LENGTH = 255
MAX_NAME_DEPTH = 16


def check_dataset_name(key: str, name: str) -> None:
    """An HDF5 path in normal form: letters, digits, `_.-` in slash-separated segments,
    none of them `.` or `..`, nothing before or after (no trailing newline), bounded
    length and depth (listing time grows with depth)."""
    if not DATASET_NAME.fullmatch(name):
        raise ConfigError(key, name, "segments of letters, digits, '_', '.', '-' joined by '/'")
    if any(segment in (".", "..") for segment in name.split("/")):
        raise ConfigError(key, name, "no '.' or '..' segment (HDF5 would read it as another path)")
    if len(name) > MAX_NAME_LENGTH or name.count("/") >= MAX_NAME_DEPTH:
        raise ConfigError(key, name, f"at most {MAX_NAME_LENGTH} characters and {MAX_NAME_DEPTH} levels")


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
        check_dataset_name(f"{key}.name", name)
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


def check_particles(particles: MutableMapping[str, Any]) -> None:
    """The query must parse into the safe subset (it reaches numexpr); it is then replaced
    by its normal form (`to_text`), so no job, plot or report sees the user's text."""
    try:
        particles["query"] = to_text(parse_query(particles["query"]))
    except QueryError as error:
        raise ConfigError("particles.query", particles["query"], str(error)) from None


PIPELINE = re.compile(r"none|[a-z_]+(:[0-9]{1,2})?(\+[a-z_]+(:[0-9]{1,2})?)*")


def check_blosc(section: Mapping[str, Any]) -> None:
    """Filter pipelines: the whole text a pipeline (the schema's `$` lets a final newline
    through), each filter at most once, trunc_prec keeping 1 to 52 mantissa bits."""
    for i, pipeline in enumerate(section["filters"]):
        if not PIPELINE.fullmatch(pipeline):
            raise ConfigError(f"blosc.filters[{i}]", pipeline, "filter names joined by + (nothing else)")
        names = [part.partition(":")[0] for part in pipeline.split("+")]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:  # blosc2 does not restore every pipeline with a filter twice
            reason = f"{repeated[0]} twice: each filter at most once"
            raise ConfigError(f"blosc.filters[{i}]", pipeline, reason)
        bits = [int(part.split(":")[1]) for part in pipeline.split("+") if part.startswith("trunc_prec:")]
        if len(bits) > 1:
            raise ConfigError(f"blosc.filters[{i}]", pipeline, "at most one trunc_prec in a pipeline")
        if bits and not 1 <= bits[0] <= 52:
            raise ConfigError(f"blosc.filters[{i}]", pipeline, "trunc_prec keeps 1 to 52 mantissa bits")


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
    for i, engine in enumerate(hugearray["engines"]):
        if not hugearray_stores.stores_with_engine(engine, hugearray["backends"]):
            only = ", ".join(hugearray_stores.ENGINES[engine] or ())
            raise ConfigError(
                f"hugearray.engines[{i}]", engine, f"runs only on the {only} backend, which is not listed"
            )


def check_data(items: list[Any]) -> list[SourceSpec]:
    """Generator names known, labels unique, each file there and its header numeric."""
    try:
        return check_sources(items)
    except SourceError as error:
        raise ConfigError(error.key, error.value, error.reason) from None


def check_hugearray_data(hugearray: Mapping[str, Any], specs: list[SourceSpec]) -> None:
    """Every name of hugearray.data is a source; a CSV or Parquet file fits one block; a
    random_int range is exact in float64."""
    try:
        for index, spec in enumerate(stage_sources(hugearray["data"], specs, "hugearray.data")):
            check_whole_file(spec, f"hugearray.data[{index}]", hugearray["block_mb"])
            check_exact_range(spec, f"hugearray.data[{index}]")
    except SourceError as error:
        raise ConfigError(error.key, error.value, error.reason) from None


def check_all(
    config: Mapping[str, Any],
    schema: Mapping[str, Any],
    schema_violation: Callable[[Mapping[str, Any], Mapping[str, Any]], Any],
    fill_defaults: Callable[[Mapping[str, Any]], None] = lambda config: None,
) -> None:
    """Every check in order; raises ConfigError on the first problem.

    Size first (bounded time and memory whatever the input), then strict types, then the
    schema (`schema_violation(config, schema)` returns jsonschema's most relevant error or
    None: passed in so this module stays standard-library only), then the defaults are
    filled in and the checks beyond the schema run.
    """
    check_size(config)
    check_types(config, schema)
    error = schema_violation(config, schema)
    if error is not None:
        raise schema_error(error)
    fill_defaults(config)
    check_config(config)


def check_config(config: Mapping[str, Any]) -> None:
    """Every check beyond the schema; raises ConfigError on the first problem."""
    specs = check_data(config["data"])
    check_datasets(config["datasets"])
    check_particles(config["particles"])
    check_blosc(config["blosc"])
    check_hugearray(config["hugearray"])
    check_hugearray_data(config["hugearray"], specs)
