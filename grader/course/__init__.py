"""The assignment as graded: what is graded, for how many points, on which data."""
