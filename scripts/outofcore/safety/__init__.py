"""Readers that refuse what a project file must not do: HDF5 pickles, links and foreign layouts; blosc
bytes without pickle.
"""
