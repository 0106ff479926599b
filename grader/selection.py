"""Which checks a run grades, as the command-line options every grading command shares.

``nngrade grade``, ``check``, ``demo``, ``grade-all`` and ``gradescope`` all take ``--only`` and
``--examples``; the batch and Gradescope commands pass them on to ``nngrade grade``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

DEFAULT_EXAMPLES = 12  # hypothesis examples per comparison with the reference


def add_selection_options(parser: argparse.ArgumentParser, passed_on: bool = False) -> None:
    """Add ``--only`` and ``--examples``; ``passed_on`` leaves ``--examples`` unset by default."""
    where = " (passed on to `nngrade grade`)" if passed_on else ""
    parser.add_argument(
        "--only",
        action="append",
        metavar="OBJECT",
        help=f"grade only rubric objects starting with OBJECT (e.g. layers.conv); "
        f"repeatable{where}",
    )
    parser.add_argument(
        "--examples",
        type=int,
        default=None if passed_on else DEFAULT_EXAMPLES,
        help=f"random inputs per comparison with the reference{where}",
    )


def selection_args(only: Sequence[str] = (), examples: int | None = None) -> list[str]:
    """The options that reproduce a selection on an ``nngrade grade`` command line."""
    args = [arg for obj in only for arg in ("--only", obj)]
    if examples is not None:
        args += ["--examples", str(examples)]
    return args
