"""The four notebooks of a student, in the shape of the course's real 2021-23 notebooks.

Derived from the project's sources (``notebooks/src``) and rewritten the way the real ones are:

- the first cell mounts Google Drive, moves into the assignment folder and downloads CIFAR-10
  (``!bash get_datasets.sh`` in ``cs231n/datasets``);
- the package is imported as ``cs231n`` (no loader), with the IPython magics of the course;
- ``get_CIFAR10_data()`` is called with its defaults (49,000 training images, mean subtracted),
  so no notebook defines ``mean_image``, and the ConvolutionalNetworks one trains ``model``,
  never ``one_epoch_model``;
- ConvolutionalNetworks builds the Cython extension with ``!python setup.py build_ext --inplace``;
- inline answers sit under "Your Answer:" markdown cells (or "[FILL THIS IN]" where the student
  did not answer), never under the project's answer markers;
- the student's own extra imports (tqdm, imageio) are in the import cell.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat

from grader import paths

from .cases import Student

NOTEBOOKS = ("FullyConnectedNets", "BatchNormalization", "Dropout", "ConvolutionalNetworks")
MARKER = re.compile(r"^\s*<!--\s*answer\s*:\s*(?P<id>[a-z0-9-]+-q\d+)\s*-->\s*$", re.M)
UNANSWERED = "[FILL THIS IN]"

COLAB_CELL = """\
# Mount Google Drive so that the notebook sees the assignment folder saved there.
from google.colab import drive
drive.mount('/content/drive')

# TODO: the Drive folder of the unzipped assignment, e.g. 'cs231n/assignments/assignment2/'
FOLDERNAME = {folder!r}
assert FOLDERNAME is not None, "[!] Enter the foldername."

# Let Python find the cs231n package inside that folder.
import sys
sys.path.append('/content/drive/My Drive/{{}}'.format(FOLDERNAME))

# Fetch CIFAR-10 into the Drive, unless it is already there.
%cd /content/drive/My\\ Drive/$FOLDERNAME/cs231n/datasets/
!bash get_datasets.sh
%cd /content/drive/My\\ Drive/$FOLDERNAME
"""

BUILD_EXT_CELL = """\
# Build the Cython im2col extension, then restart the runtime before going on.
%cd /content/drive/My\\ Drive/$FOLDERNAME/cs231n/
!python setup.py build_ext --inplace
%cd /content/drive/My\\ Drive/$FOLDERNAME/
"""

DATA_CELL = """\
# Load the (preprocessed) CIFAR-10 data.
data = get_CIFAR10_data()
for k, v in list(data.items()):
    print(f"{k}: {v.shape}")
"""

MAGICS = """\
%matplotlib inline
plt.rcParams['figure.figsize'] = (10.0, 8.0)  # default size of plots
plt.rcParams['image.interpolation'] = 'nearest'
plt.rcParams['image.cmap'] = 'gray'

%load_ext autoreload
%autoreload 2
"""


def _imports(source: str, extra: tuple[str, ...]) -> str:
    """The setup cell as the course writes it: plain imports of cs231n, then the magics."""
    after = source.split("load_student_package()", 1)[1]
    body = re.sub(r"\ba2\b", "cs231n", after).strip()
    body = "\n".join(line for line in body.splitlines() if "import data_utils" not in line)
    head = ["import time", "import numpy as np", "import matplotlib.pyplot as plt", "import cs231n"]
    return "\n".join([*head, *extra, body, "", MAGICS])


def _answer(student: Student, question: str) -> str:
    text = student.answers.get(question)
    if text is None:
        return f"{student.answer_label}\n{UNANSWERED}\n"
    return f"{student.answer_label} {text}\n"


def convert(name: str, student: Student) -> nbformat.NotebookNode:
    """The student's copy of notebook ``name``, answers in place."""
    source = paths.reference_dir().parent / "notebooks" / "src" / f"{name}.py"
    notebook = jupytext.read(source)
    cells = [nbformat.v4.new_code_cell(COLAB_CELL.format(folder=student.drive_folder))]
    for cell in notebook.cells:
        text = cell.source
        if cell.cell_type == "markdown":
            found = MARKER.search(text)
            if found:
                cells.append(nbformat.v4.new_markdown_cell(_answer(student, found["id"])))
            else:
                cells.append(nbformat.v4.new_markdown_cell(text))
            continue
        if "load_student_package()" in text:
            extra = student.imports.get(name, ())
            cells.append(nbformat.v4.new_code_cell(_imports(text, extra)))
            continue
        if "get_CIFAR10_data(" in text:
            cells.append(nbformat.v4.new_code_cell(DATA_CELL))
            continue
        if "mean_image" in text:  # the project's sample plot: the course has no mean_image
            continue
        if "build_extension = False" in text:
            cells.append(nbformat.v4.new_code_cell(BUILD_EXT_CELL))
        text = re.sub(r"\ba2\b", "cs231n", text).replace("one_epoch_model", "model")
        cells.append(nbformat.v4.new_code_cell(text))
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = {
        "colab": {"provenance": []},
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return out


def write_notebooks(student: Student, root: Path) -> None:
    for name in NOTEBOOKS:
        nbformat.write(convert(name, student), root / f"{name}.ipynb")
