"""Validation corpus of the grading checks: buggy and legal variants of the reference."""
