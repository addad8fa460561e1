"""What the blosc sweep compresses of a file smaller than, or larger than, each size.

A file of at least `size` values is not cut to its front (a table's first columns, often
constant: a year, a month): `size` values are drawn across the whole selection, every
column in proportion to its values (a table, column after column as a column store holds
it; an array, its values in C order as stored), in pieces of consecutive values that keep
each column's runs together, as a compressor sees them: at least `PIECE` values each (a
compressor's block), at most `MAX_PIECES` per column, spread evenly from the column's start
to its end. A smaller file is repeated (tiled) to the size. The sweep's tables say which:
`coverage` (the share of the file's values measured) and `file_repeats` (how many times
the array repeats the file: 1 when it is a part of it).
"""

PIECE = 1 << 13  # values: 64 KiB of float64, the order of a compressor's block
MAX_PIECES = 64  # per column


def split(count: int, parts: int) -> list[int]:
    """`count` as `parts` near-equal whole numbers, the larger first."""
    base, extra = divmod(count, parts)
    return [base + (k < extra) for k in range(parts)]


def spread(length: int, size: int, segments: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """[start, stop) ranges of the flat values, `size` in all (size <= length), drawn from
    every segment (start, values) in proportion: a table's columns, or the whole array."""
    if not 0 <= size <= length:
        raise ValueError(f"cannot draw {size} of {length} values")
    segments = segments or [(0, length)]
    shares = [size * count // length for _, count in segments]
    for k in range(size - sum(shares)):  # what the rounding down left, one more each
        shares[k % len(shares)] += 1
    ranges = []
    for (first, count), share in zip(segments, shares, strict=True):
        if share == 0:
            continue
        pieces = split(share, max(1, min(MAX_PIECES, share // PIECE)))
        gaps = [*split(count - share, len(pieces) - 1), 0] if len(pieces) > 1 else [0]
        position = first
        for piece, gap in zip(pieces, gaps, strict=True):
            ranges.append((position, position + piece))
            position += piece + gap
        if len(pieces) == 1 and count > share:  # one piece: from the column's middle
            middle = first + (count - share) // 2
            ranges[-1] = (middle, middle + share)
    return ranges
