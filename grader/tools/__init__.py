"""The tools around grading: stubs, fixtures, release and Gradescope bundles, calibration."""
