"""The huge-array stage's on-disk array stores, one module per backend.

Each backend module ends in one `Backend` entry (`stores.backend`): what the store is
(suffix, one file or a directory, compressing or not, direct chunks or not) and how to
write it, read it back in pieces, sync it, evict it from the page cache and measure it.
`stores.registry.BACKENDS` lists them by name. Shared code: `layout` (the array's rows,
blocks and chunks), `reading` (pieces read on parallel workers), `hdf5_chunks` (what
the PyTables and h5py backends share), `chunk_pipeline` (their direct chunks compressed
on workers while written) and `writeback` (earlier blocks synced during each append).

Backends today: ``tables`` (PyTables EArray), ``h5py`` (resizable chunked dataset),
``memmap`` (a .npy file through numpy.memmap windows), ``zarr`` (Zarr v3, a directory),
``blosc2`` (a blosc2 NDArray, .b2nd) and ``tables_filter`` (the EArray through the HDF5
filter pipeline).

A new store is one module here, one line in `registry.BACKENDS` (its suffix and file
or directory also in `outofcore.plan.hugearray_stores`, which the rules read; the
registry refuses to load if the two disagree), the name in the config schema's
`hugearray.backends`, and one `use rule hugearray as hugearray_<name>` in
`workflow/rules/hugearray.smk` for its output suffix. A directory store needs nothing
more: the job writes it under a hidden temporary directory renamed when complete
(`io_utils.atomic_output`), and syncs, evicts and sizes it through its `Backend`, file
by file.
"""
