"""Which grader this is: the course's full one here; `nngrade release` writes a copy of this
module that says ``STUDENT = True`` into the student repository, whose CLI then offers only
``check`` (grader/cli.py)."""

STUDENT = False
