"""The tutorial's steps 3-4: blosc compression across sizes, codecs and filters; its rows, matrix and
figures.
"""
