"""The particle stage's other table stores as the rules see them: each format's name and
the file it is kept in, beside `results/particles/{rows}/table.h5` (the PyTables table).

The job side (`outofcore.particles.formats.registry`) holds the same facts beside the code
that writes and reads each format, and refuses to load if the two disagree.
"""

FILES: dict[str, str] = {  # particles.formats -> the output file of the sorted rows
    "parquet": "table.parquet",
    "hdfstore": "table_hdfstore.h5",
}


def outputs(formats: list[str]) -> dict[str, str]:
    """Named outputs of the particles rule for the configured formats (format -> path)."""
    return {fmt: f"results/particles/{{rows}}/{FILES[fmt]}" for fmt in formats}
