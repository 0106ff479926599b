"""The points table adds up, names start with their object, and every item has a check."""

import ast
from pathlib import Path

import pytest

from grader.course import rubric

CHECKS = Path(rubric.__file__).parent.parent / "checks"


def test_points_add_up_to_100_with_unique_names():
    rubric.validate()
    assert sum(item.points for item in rubric.ITEMS) == 100


def test_validate_rejects_bad_tables():
    item = rubric.ITEMS[0]
    with pytest.raises(ValueError, match="repeated"):
        rubric.validate((*rubric.ITEMS, item))
    with pytest.raises(ValueError, match="add up"):
        rubric.validate(rubric.ITEMS[1:])


def test_names_begin_with_a_contract_object():
    prefixes = ("layers.", "layer_utils.", "optim.", "fc_net.", "cnn.", "notebook.")
    for item in rubric.ITEMS:
        assert item.name.startswith(prefixes), item.name
        assert item.name.split(" ", 1)[0] == item.obj


def test_every_graded_function_of_layers_is_in_the_rubric():
    from reference import layers

    graded = {
        name
        for name, value in vars(layers).items()
        if callable(value) and not name.startswith("_") and value.__module__ == layers.__name__
    }
    in_rubric = {
        item.obj.split(".", 1)[1] for item in rubric.ITEMS if item.obj.startswith("layers.")
    }
    assert graded == in_rubric


def test_public_items_need_no_reference():
    for path in (CHECKS / "public").glob("check_*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = getattr(node, "module", None) or node.names[0].name
                assert not module.startswith("reference"), f"{path.name} imports {module}"
                assert "grader.checks.training" not in module, path.name
