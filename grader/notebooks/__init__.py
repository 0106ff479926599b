"""The notebooks: built from jupytext sources, run in an isolated kernel, scored."""
