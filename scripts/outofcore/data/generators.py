"""The built-in generators of data sources, and `Source`, what every source gives a stage.

Generators are seeded from the config's `seed` (`outofcore.core.seeding`); each draws its
values in chunks of CHUNK elements, chunk k from its own stream, so any block of any size
is the same values whatever the other blocks asked for.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from outofcore.core.seeding import rng_for
from outofcore.plan.source_specs import RANDOM_INT, RANDOM_INT_DEFAULT

CHUNK = 1 << 16  # generators draw in chunks of this many elements, each from its own stream


@dataclass(frozen=True)
class Source:
    """A data source: `read(size, start, stop)` gives elements [start, stop) at `size`."""

    label: str
    dtype: np.dtype
    length: int | None  # elements of a file source; None for a generator (any size)
    read: Callable[[int, int, int], np.ndarray]
    description: str

    def block(self, size: int, start: int, stop: int) -> np.ndarray:
        if not 0 <= start <= stop <= size:
            raise ValueError(f"block [{start}, {stop}) outside an array of {size}")
        return self.read(size, start, stop)

    def array(self, size: int) -> np.ndarray:
        return self.block(size, 0, size)

    def blocks(self, size: int, block: int) -> Iterator[np.ndarray]:
        """The array of `size` elements in consecutive blocks of at most `block` elements."""
        for start in range(0, size, block):
            yield self.block(size, start, min(start + block, size))


def linspace_block(size: int, start: int, stop: int) -> np.ndarray:
    """np.linspace(0, 100, size)[start:stop], computed the way numpy computes it."""
    if (start, stop) == (0, size) or size < 2:
        return np.linspace(0, 100, size)[start:stop]
    values = np.arange(start, stop, dtype=np.float64) * (100.0 / (size - 1))
    if stop == size and stop > start:
        values[-1] = 100.0  # linspace sets its endpoint exactly
    return values


def chunked(draw: Callable[[np.random.Generator, int, int], np.ndarray], seed: int, name: str):
    """A generator's read: chunk k of CHUNK elements comes from the stream `data/name/k`,
    so any block is the same values whatever the other blocks asked for."""

    def read(size: int, start: int, stop: int) -> np.ndarray:
        first, last = start // CHUNK, (stop - 1) // CHUNK if stop > start else start // CHUNK - 1
        parts = [draw(rng_for(seed, f"data/{name}/{k}"), k * CHUNK, CHUNK) for k in range(first, last + 1)]
        if not parts:
            return draw(rng_for(seed, f"data/{name}/0"), 0, 0)
        whole = np.concatenate(parts)
        return whole[start - first * CHUNK : stop - first * CHUNK]

    return read


def random_int_draw(low: int, high: int, dtype: str) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    """Integers uniform in [low, high] as `dtype`; the default [0, 1000] int32 draws exactly
    what the plain `random_int` always drew, so its values for a seed are unchanged."""

    def draw(rng: np.random.Generator, offset: int, count: int) -> np.ndarray:
        return rng.integers(low, high, size=count, endpoint=True, dtype=np.dtype(dtype))

    return draw


def draw_smooth(rng: np.random.Generator, offset: int, count: int) -> np.ndarray:
    t = np.arange(offset, offset + count, dtype=np.float64)
    signal = 20.0 + 5.0 * np.sin(t * (2 * np.pi / 86_400)) + 0.5 * np.sin(t * (2 * np.pi / 977))
    return np.round(signal + rng.normal(0.0, 0.05, count), 2)


def draw_noisy_float(rng: np.random.Generator, offset: int, count: int) -> np.ndarray:
    return rng.standard_normal(count)


def draw_sparse(rng: np.random.Generator, offset: int, count: int) -> np.ndarray:
    values = np.zeros(count)
    hits = rng.random(count) < 0.01
    values[hits] = rng.standard_normal(int(hits.sum()))
    return values


GENERATOR_DRAWS = {
    "smooth": (draw_smooth, np.float64, "two slow sines plus Gaussian noise (sd 0.05), rounded to 0.01"),
    "noisy_float": (draw_noisy_float, np.float64, "standard normal float64"),
    "sparse": (draw_sparse, np.float64, "99 % zeros, 1 % standard normal, float64"),
}


def generator(
    name: str, seed: int, int_range: tuple[int, int, str] = RANDOM_INT_DEFAULT, label: str = ""
) -> Source:
    """A built-in generator; `int_range` is random_int's (low, high, dtype). Every range
    draws from the same streams `data/random_int/<chunk>`: its values follow from the
    seed, the range and the dtype, not from the label."""
    label = label or name
    if name == "linspace":
        return Source(label, np.dtype(np.float64), None, linspace_block, "np.linspace(0, 100, n), float64")
    if name == RANDOM_INT:
        low, high, dtype = int_range
        description = f"integers uniform in [{low}, {high}], {dtype}"
        return Source(
            label, np.dtype(dtype), None, chunked(random_int_draw(*int_range), seed, name), description
        )
    draw, dtype, description = GENERATOR_DRAWS[name]
    return Source(label, np.dtype(dtype), None, chunked(draw, seed, name), description)
