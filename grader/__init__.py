"""nngrade: grades numpy deep-learning assignments against a hidden reference solution."""

__version__ = "0.1.0"
