"""The scenario of each graded object, one module per student module."""
