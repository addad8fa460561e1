"""Random generators derived from the config's single seed.

Each consumer gets its own stream keyed by a label (a dataset name, a stage), so adding
or reordering arrays in the config does not change the values of the others.
"""

import zlib

import numpy as np


def rng_for(seed: int, label: str) -> np.random.Generator:
    """A generator for `label`, reproducible on every machine for the same seed."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(label.encode())]))
