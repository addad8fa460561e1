"""The machine's own limits, measured in the same run: memory bandwidth, disk, and the node a job ran
on.
"""
