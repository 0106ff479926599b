"""Assemble a student of the table as a real 2021-23 submission: ``cs231n/`` plus four notebooks.

The package starts from the reference (the course's given files: solver, data_utils, fast layers,
gradient check...) and every function or class the student wrote replaces the reference's
definition of the same name, whole, docstring included: a student's module under
``code/<student>/`` holds only what that student wrote, in their own style. Definitions the
student added (helpers) are appended; imports the student added go after the module's own. The
2021-23 edition's ``layers.py`` has no ``svm_loss``, so it is removed, and the package gets the
``setup.py`` that the notebooks' ``build_ext`` cell runs.

The notebooks are derived from ``notebooks/src`` and rewritten into the shape of the course's
real ones (see :mod:`.notebooks`).
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from grader.tools.solved import write_solved

from .cases import Student
from .notebooks import write_notebooks

CODE = Path(__file__).with_name("code")
PACKAGE = "cs231n"
REMOVED = {"layers.py": ("svm_loss",)}  # not part of the 2021-23 edition

SETUP_PY = """\
# Builds the Cython im2col kernel in place: python setup.py build_ext --inplace
from distutils.core import setup
from distutils.extension import Extension

import numpy
from Cython.Build import cythonize

extensions = [
    Extension("im2col_cython", ["im2col_cython.pyx"], include_dirs=[numpy.get_include()]),
]
setup(ext_modules=cythonize(extensions))
"""


def _spans(tree: ast.Module) -> dict[str, tuple[int, int]]:
    """Line spans (0-based start, end exclusive) of the module's top-level defs, decorators in."""
    spans = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            spans[node.name] = (start, node.end_lineno)
    return spans


def splice(reference: str, student: str, removed: tuple[str, ...] = ()) -> str:
    """The reference module with the student's definitions in place of its own."""
    ref_lines = reference.splitlines()
    stu_lines = student.splitlines()
    ref_tree, stu_tree = ast.parse(reference), ast.parse(student)
    ref_spans, stu_spans = _spans(ref_tree), _spans(stu_tree)
    replaced: dict[int, list[str]] = {}
    dropped: set[int] = set()
    for name, (start, end) in ref_spans.items():
        if name in stu_spans:
            s_start, s_end = stu_spans[name]
            replaced[start] = stu_lines[s_start:s_end]
            dropped.update(range(start + 1, end))
        elif name in removed:
            dropped.update(range(start, end))
    out: list[str] = []
    for number, line in enumerate(ref_lines):
        if number in replaced:
            out.extend(replaced[number])
        elif number not in dropped:
            out.append(line)
    extra_defs = [
        stu_lines[start:end] for name, (start, end) in stu_spans.items() if name not in ref_spans
    ]
    for block in extra_defs:
        out.extend(["", "", *block])
    imports = [
        "\n".join(stu_lines[node.lineno - 1 : node.end_lineno])
        for node in stu_tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    text = "\n".join(out) + "\n"
    if imports:
        last_import = max(
            node.end_lineno
            for node in ref_tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
        )
        head, tail = text.splitlines()[:last_import], text.splitlines()[last_import:]
        text = "\n".join([*head, *imports, *tail]) + "\n"
    return text


def write_submission(student: Student, target: Path) -> Path:
    """Write the student's submission folder under ``target``; returns it."""
    root = target / student.id
    if root.exists():
        shutil.rmtree(root)
    write_solved(root, PACKAGE)
    for stale in root.glob("*.ipynb"):  # the project's notebooks; the student's come below
        stale.unlink()
    package = root / PACKAGE
    for name, names in REMOVED.items():
        path = package / name
        path.write_text(splice(path.read_text(), "", names))
    for own in sorted((CODE / student.id).rglob("*.py")):
        relative = own.relative_to(CODE / student.id)
        path = package / relative
        path.write_text(splice(path.read_text(), own.read_text(), REMOVED.get(str(relative), ())))
    (package / "setup.py").write_text(SETUP_PY)
    write_notebooks(student, root)
    return root
