"""The tutorial's step 2: the PyTables particle table, the stores people pick instead, their queries,
rows and figures.
"""
