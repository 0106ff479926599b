"""What a course declares for the engine to read, and nothing of any particular course.

A course is a set of modules named here by import path, so the engine imports each part only
when it needs it: the public side (``nngrade check`` in a student's repository) never imports
the training tasks or the notebook targets, which stay with the course staff. The engine reads
the one :data:`grader.course.COURSE`; another assignment declares another :class:`Course` the
same way (its own rubric, scenario modules, training tasks and notebooks).

What each part module defines:

- ``rubric``: ``ITEMS`` (every graded item, its points and visibility) and ``TOTAL_POINTS``;
- each ``scenarios`` module: its scenarios and gradient cases, registered on import
  (:mod:`grader.checks.scenario`);
- ``training``: ``TASKS`` (name -> :class:`grader.checks.training.Task`) and ``TRAINING_ITEMS``
  (task name -> the rubric item it earns);
- ``notebooks``: ``NOTEBOOKS``, ``TORCH_NOTEBOOKS``, ``GRADED_NOTEBOOKS``, ``SLUGS``,
  ``RESULT_VARIABLES``, ``PACKAGE_ALIAS`` and
  ``MODELS`` (the :class:`NotebookModel` each notebook leaves for scoring).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class NotebookModel:
    """A model a notebook must leave behind, scored on held-out images by the engine."""

    notebook: str
    variable: str
    rubric_item: str
    #: Accuracy of the course's own notebook on the held-out images (the threshold is set
    #: below it by :func:`grader.notebooks.scoring.threshold_below`).
    reference_accuracy: float


@dataclass(frozen=True)
class Course:
    """A course: the student package's shape and the modules declaring what is graded."""

    name: str
    #: Folder names a submission's package may have, preferred first.
    package_names: tuple[str, ...]
    #: A file every submitted package has, to tell it from other folders of the same name.
    package_marker: str
    #: Short object names whose module is not their first component
    #: (``{"fc_net": "classifiers.fc_net"}``); others are a module of the package root.
    modules: Mapping[str, str]
    #: Files of the package the course gives (a student's copies are replaced by the course's).
    given_modules: tuple[str, ...]
    #: Compiled extensions copied from the course package (names start with one of these).
    given_extensions: tuple[str, ...]
    #: The class path the training tasks train with.
    solver: str
    #: The module whose ``get_synthetic_data`` makes the training and held-out images.
    data_module: str
    rubric_module: str
    scenario_modules: tuple[str, ...]
    training_module: str
    notebooks_module: str

    def module_of(self, obj: str) -> str:
        """The package module an object (``layers.affine_forward``, ``fc_net.X``) lives in."""
        head = obj.split(".", 1)[0]
        return self.modules.get(head, head)

    def module_file(self, short: str) -> str:
        """The file of a module of the package, relative to the package (``layers.py``)."""
        return self.module_of(short).replace(".", "/") + ".py"

    @property
    def rubric(self) -> ModuleType:
        return importlib.import_module(self.rubric_module)

    @property
    def training(self) -> ModuleType:
        return importlib.import_module(self.training_module)

    @property
    def data(self) -> ModuleType:
        return importlib.import_module(self.data_module)

    @property
    def notebooks(self) -> ModuleType:
        return importlib.import_module(self.notebooks_module)

    def load_scenarios(self) -> None:
        """Import every scenario module, so the scenario registries are complete."""
        for name in self.scenario_modules:
            importlib.import_module(name)
