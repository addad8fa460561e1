"""The tutorial's step 1: named arrays in one HDF5 file (h5py)."""
