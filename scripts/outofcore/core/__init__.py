"""Stage-agnostic helpers: atomic outputs and logs, timing, progress, seeding, the timing lock,
contention, units, report tables.
"""
