"""The stub generator: marker handling, error reporting, and that assignment/ is not stale."""

import ast
import textwrap

import pytest

from grader import paths
from grader.tools import stubs

SOLVED = textwrap.dedent(
    '''\
    import numpy as np
    import scipy  # SOLUTION


    def relu_forward(x):
        """Elementwise max(0, x)."""
        out = None
        # TODO: implement the forward pass.
        # BEGIN SOLUTION
        out = np.maximum(0, x)
        # END SOLUTION
        return out, x


    class Net:
        def __init__(self):
            # BEGIN SOLUTION
            # STUB: self.params = {}
            # STUB: if True:
            # STUB:     self.ready = False
            self.params = {"W": 1}
            self.ready = True
            # END SOLUTION
    '''
)


def test_solution_block_becomes_pass_between_banners():
    result = stubs.strip_solutions(SOLVED, "layers.py")
    assert result.blocks == 2
    assert "np.maximum" not in result.text
    assert "scipy" not in result.text
    assert "# TODO: implement the forward pass." in result.text
    lines = result.text.splitlines()
    start = lines.index("    " + stubs.START_BANNER)
    assert lines[start + 1 : start + 3] == ["    pass", "    " + stubs.END_BANNER]
    assert "        return out, x" not in result.text  # indentation kept, not doubled
    assert "    return out, x" in result.text


def test_stub_lines_replace_pass_and_keep_relative_indentation():
    text = stubs.strip_solutions(SOLVED, "net.py").text
    assert "        self.params = {}\n        if True:\n            self.ready = False\n" in text
    assert '"W": 1' not in text
    namespace: dict = {}
    exec(compile(text, "net.py", "exec"), namespace)
    assert namespace["Net"]().params == {}
    assert namespace["relu_forward"](1.0) == (None, 1.0)


def test_module_without_markers_is_unchanged():
    source = "def f():\n    return 1\n"
    assert stubs.strip_solutions(source, "given.py") == stubs.StrippedModule(source, 0)


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("x = 1\n# END SOLUTION\n", 2, "without a"),
        ("# BEGIN SOLUTION\nx = 1\n", 1, "never closed"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", 2, "nested"),
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n# END SOLUTION\n", 4, "indented"),
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\nx = (\n", 5, "parse"),
    ],
)
def test_malformed_markers_name_file_and_line(source, line, message):
    with pytest.raises(stubs.MarkerError) as info:
        stubs.strip_solutions(source, "bad.py")
    assert info.value.line == line
    assert message in str(info.value)
    assert str(info.value).startswith(f"bad.py:{line}:")


def test_write_assignment_round_trip(tmp_path):
    reference = tmp_path / "reference"
    (reference / "sub").mkdir(parents=True)
    (reference / "layers.py").write_text(SOLVED)
    (reference / "sub" / "given.py").write_text("X = 1\n")
    (reference / "__pycache__").mkdir()
    (reference / "__pycache__" / "junk.py").write_text("junk")
    target = tmp_path / "assignment"

    assert sorted(stubs.write_assignment(reference, target)) == ["layers.py", "sub/given.py"]
    assert stubs.stale_files(reference, target) == []
    assert (target / "sub" / "given.py").read_text() == "X = 1\n"
    assert stubs.graded_modules(reference) == ["layers.py"]

    (target / "layers.py").write_text("edited")
    (target / "extra.py").write_text("")
    assert stubs.stale_files(reference, target) == ["extra.py", "layers.py"]
    stubs.write_assignment(reference, target)
    assert stubs.stale_files(reference, target) == []
    assert not (target / "extra.py").exists()


def test_data_files_are_copied_byte_for_byte(tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    data = bytes(range(256)) * 4  # not valid UTF-8
    (reference / "weights.npz").write_bytes(data)
    target = tmp_path / "assignment"
    assert stubs.write_assignment(reference, target) == ["weights.npz"]
    assert (target / "weights.npz").read_bytes() == data
    assert stubs.stale_files(reference, target) == []
    (target / "weights.npz").write_bytes(data[:-1])
    assert stubs.stale_files(reference, target) == ["weights.npz"]


def test_marker_error_leaves_existing_package_untouched(tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "a.py").write_text("A = 1\n")
    target = tmp_path / "assignment"
    stubs.write_assignment(reference, target)
    (reference / "a.py").write_text("# BEGIN SOLUTION\n")
    with pytest.raises(stubs.MarkerError):
        stubs.write_assignment(reference, target)
    assert (target / "a.py").read_text() == "A = 1\n"


def test_repository_assignment_is_up_to_date():
    stale = stubs.stale_files(paths.reference_dir(), paths.assignment_dir())
    assert stale == [], f"run `nngrade assignment`; stale: {stale}"


def test_repository_stubs_parse_and_hold_no_solution_code():
    reference = paths.reference_dir()
    graded = stubs.graded_modules(reference)
    assert {"layers.py", "optim.py", "layer_utils.py"} <= set(graded)
    for rel in graded:
        solved = (reference / rel).read_text()
        student = (paths.assignment_dir() / rel).read_text()
        ast.parse(student)
        assert stubs.BEGIN not in student
        assert len(student) < len(solved)
