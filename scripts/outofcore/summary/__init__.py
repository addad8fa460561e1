"""What the run concludes: the headline contract, the summary and decision tables, the manifest, run
comparison.
"""
