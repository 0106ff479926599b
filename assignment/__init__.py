"""Assignment 2: fully connected nets, normalisation, dropout and conv nets, written in numpy.

All imports inside this package are relative, so it may be copied under any name (``cs231n/``).
"""
