"""An on-disk array larger than memory (the tutorial's step 5): its job, data, stores, reduce engines
and figures.
"""
