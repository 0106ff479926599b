"""The course object: what the engine reads of the assignment, and how its parts load."""

import sys

from grader.checks import scenario
from grader.course import COURSE


def test_objects_map_to_the_package_modules_they_live_in():
    assert COURSE.module_of("fc_net.FullyConnectedNet") == "classifiers.fc_net"
    assert COURSE.module_of("layers.affine_forward") == "layers"
    assert COURSE.module_file("cnn") == "classifiers/cnn.py"
    assert COURSE.module_file("optim") == "optim.py"


def test_every_rubric_object_of_a_scenario_module_has_its_scenario():
    COURSE.load_scenarios()
    assert set(COURSE.scenario_modules) <= set(sys.modules)
    graded = {item.obj for item in COURSE.rubric.ITEMS if item.what == COURSE.rubric.REFERENCE}
    registered = {key.split("+")[0] for key in scenario.REGISTRY}
    assert graded and graded <= registered


def test_each_training_task_earns_a_rubric_item():
    names = {item.name for item in COURSE.rubric.ITEMS}
    assert set(COURSE.training.TRAINING_ITEMS) == set(COURSE.training.TASKS)
    assert set(COURSE.training.TRAINING_ITEMS.values()) <= names


def test_notebook_targets_are_the_course_models_with_a_threshold_below_each():
    from grader.notebooks import scoring

    models = COURSE.notebooks.MODELS
    assert set(scoring.MODEL_TARGETS) == {m.notebook for m in models}
    for m in models:
        target = scoring.MODEL_TARGETS[m.notebook]
        assert target.variable == m.variable and target.rubric_item == m.rubric_item
        assert target.threshold < m.reference_accuracy
