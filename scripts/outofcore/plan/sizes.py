"""Sizes the rules' resource functions need, as plain numbers (the jobs' libraries are
not imported by the Snakemake process). Each is defined by the job code and a test
checks the two agree."""

# One row of the particle table, `outofcore.particle_table.PARTICLE_DTYPE.itemsize`:
# name 16 + idnumber 8 + pressure 4 + energy 8 bytes.
PARTICLE_BYTES = 36
