"""Units of bytes, defined once for the Snakemake process and the jobs alike.

Throughputs are decimal (GB/s = 10**9 bytes per second, MB/s = 10**6), like the vendors'
figures; sizes of buffers, chunks and requests are binary (MiB, GiB). Standard library only.
"""

GB = 1e9  # bytes in a GB: every GB/s figure of the tables, figures and summary
MB = 1e6  # bytes in a MB: MB/s figures
MiB = 2**20  # bytes in a MiB: buffer, chunk and request sizes, the `*_mb` config keys
GiB = 2**30  # bytes in a GiB
