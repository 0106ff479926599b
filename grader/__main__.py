"""`python -m grader` is the `nngrade` command."""

import sys

from grader.cli import main

sys.exit(main())
