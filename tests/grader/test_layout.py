"""The package's layout holds: no import cycles, big modules say why, the engine names no part
of the assignment (it reads :data:`grader.course.COURSE`)."""

from __future__ import annotations

import ast
from pathlib import Path

import grader
from grader.course import COURSE

GRADER = Path(grader.__file__).resolve().parent
#: Rooms that grade any course; only grader/course/ and the check files name this one's parts.
ENGINE = ("checks", "notebooks", "reports", "batch", "sandbox")
ENGINE_FILES = ("grade.py", "spec.py", "selection.py", "paths.py")
LONG = 420  # "about 400 lines"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(GRADER.rglob("*.py")):
        parts = list(path.relative_to(GRADER.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m in modules and m != name}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_module_imports_itself_back():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert _cycle(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_a_long_module_says_why_at_its_top():
    for name, path in _modules().items():
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > LONG:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            assert "400 lines" in doc, f"{name} has {lines} lines and does not say why"


def _code_words(path: Path) -> set[str]:
    """Identifiers, attribute names and string constants of a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    words = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            words.add(node.id)
        elif isinstance(node, ast.Attribute):
            words.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                words.update(node.value.replace(".", " ").replace("/", " ").split())
    return words


def test_the_engine_names_no_part_of_the_assignment():
    COURSE.load_scenarios()
    objects = {item.obj for item in COURSE.rubric.ITEMS}
    parts = {obj.split(".")[-1] for obj in objects} | {
        *COURSE.modules,
        *COURSE.modules.values(),
        *(module.split(".")[-1] for module in COURSE.modules.values()),
    }
    parts -= {"notebook"}  # the notebooks' rubric prefix, which the engine grades by design
    engine = []
    for name, path in _modules().items():
        room = name.split(".")[1] if "." in name else ""
        in_room = room in ENGINE and not name.startswith(
            ("grader.checks.public", "grader.checks.hidden")
        )
        if in_room or (path.parent == GRADER and path.name in ENGINE_FILES):
            engine.append(path)
    assert len(engine) > 30
    named = {
        path.relative_to(GRADER).as_posix(): sorted(_code_words(path) & parts) for path in engine
    }
    assert {k: v for k, v in named.items() if v} == {}
