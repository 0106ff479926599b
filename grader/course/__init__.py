"""The assignment as graded: what is graded, for how many points, on which data.

:data:`COURSE` is the one object the engine reads. It names this package's modules rather than
importing them, so each part loads when it is first used (the student release ships without the
training tasks, and its public checks never ask for them):

    rubric.py               every item, its points and visibility (adds up to 100)
    scenarios/*.py          one program per graded object, one module per student module
    training.py             the training tasks, their thresholds and rubric items (staff only)
    notebooks.py            the notebooks, their answer slugs and the models they leave
    fixtures/*.npz          the reference's outputs on each scenario's classic case

Adding a part (a torch layer, a new model) means a scenario module listed in
``scenario_modules``, rubric items, and, if it trains, a task in training.py.
"""

from grader.spec import Course

COURSE = Course(
    name="cs231n assignment 2",
    package_names=("assignment", "cs231n"),
    package_marker="layers.py",
    modules={"fc_net": "classifiers.fc_net", "cnn": "classifiers.cnn"},
    given_modules=(
        "solver.py",
        "gradient_check.py",
        "data_utils.py",
        "vis_utils.py",
        "fast_layers.py",
        "im2col.py",
        "im2col_cython.pyx",
    ),
    given_extensions=("im2col_cython.",),
    solver="solver.Solver",
    data_module="reference.data_utils",
    rubric_module="grader.course.rubric",
    scenario_modules=(
        "grader.course.scenarios.layer_utils",
        "grader.course.scenarios.layers",
        "grader.course.scenarios.models",
        "grader.course.scenarios.optim",
    ),
    training_module="grader.course.training",
    notebooks_module="grader.course.notebooks",
)
