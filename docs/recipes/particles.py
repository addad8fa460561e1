"""The particle table every table recipe stores and queries (the tutorial's `Particle` rows).

Not a recipe itself: `make_particles(n)` gives n rows as a NumPy structured array, sorted
by pressure as the workflow generates them. Use your own array of records instead.
"""

import numpy as np

# the tutorial's record (PyTables stores the columns in name order)
PARTICLE = np.dtype([("energy", "<f8"), ("idnumber", "<i8"), ("name", "S16"), ("pressure", "<f4")])


def make_particles(n: int) -> np.ndarray:
    rows = np.zeros(n, dtype=PARTICLE)
    i = np.arange(n)
    rows["name"] = np.char.mod("Particle: %6d", i % 1_000_000).astype("S16")
    rows["idnumber"] = i * 2**34
    rows["pressure"] = (i / max(n - 1, 1) * 100).astype(np.float32)  # 0 to 100, sorted
    rows["energy"] = rows["pressure"].astype(np.float64) ** 4
    return rows
