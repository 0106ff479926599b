"""Grading a class: one process per submission, locally or on Dask, into a gradebook."""
