"""Two interchangeable ways to run the assignment: the reference, or the student's code.

Scenarios (``grader/scenarios``) are written once against :class:`Impl`. Run with
:class:`ReferenceImpl` in the grader process they produce the expected values (golden fixtures,
or the live reference for random inputs); run with :class:`StudentImpl` they drive the student's
code inside the sandbox. Whatever goes wrong on the student's side becomes a :class:`CheckFailure`
whose message says what was called and what happened, so checks never have to handle sandbox
errors themselves.
"""

from __future__ import annotations

import copy
import importlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from grader.checks import compare


class CheckFailure(AssertionError):
    """A check failed for a reason the student can act on; the message is the feedback."""

    def __init__(self, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.location = location


def describe_value(value: Any, depth: int = 0) -> str:
    """A short, source-free description of an argument for feedback ("array float64 (2, 3)")."""
    if isinstance(value, np.ndarray):
        return f"array {value.dtype} {tuple(value.shape)}"
    if isinstance(value, (int, float, str, bool, np.number)) or value is None:
        return repr(value)
    if depth >= 1 or not isinstance(value, (dict, list, tuple)) or len(value) > 6:
        return f"<{getattr(value, 'type_name', type(value).__name__)}>"
    if isinstance(value, dict):
        inner = ", ".join(f"{k!r}: {describe_value(v, depth + 1)}" for k, v in value.items())
        return "{" + inner + "}"
    inner = ", ".join(describe_value(v, depth + 1) for v in value)
    return f"[{inner}]" if isinstance(value, list) else f"({inner})"


def describe_call(name: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    parts = [describe_value(a) for a in args] + [
        f"{k}={describe_value(v)}" for k, v in kwargs.items()
    ]
    return f"{name}({', '.join(parts)})"


def _check_returns(name: str, result: Any, returns: Sequence[str] | None) -> Any:
    if returns is None:
        return result
    message = compare.check_arity(name, result, len(returns), returns)
    if message:
        raise CheckFailure(message)
    return tuple(result)


_IMPORT_DEATH = re.compile(r"while importing (\S+\.py)")
_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
MAX_OUTPUT_CHARS = 1500


def _location(exc: Any) -> str | None:
    """``layers.py:42``: the innermost frame of the student's own code, from the traceback."""
    frames = _FRAME.findall(getattr(exc, "traceback", "") or "")
    if not frames:
        module = getattr(exc, "module", None)
        return module
    path, line = frames[-1]
    parts = path.replace("\\", "/").split("/")
    for anchor in ("assignment", "cs231n"):
        if anchor in parts:
            parts = parts[len(parts) - parts[::-1].index(anchor) :]
            break
    else:
        parts = parts[-1:]
    return f"{'/'.join(parts)}:{line}"


def student_error_message(what: str, exc: Any) -> str:
    """Feedback for an exception raised by the student's code: call, error, their frames, output."""
    lines = [f"Calling {what} raised {exc}"]
    traceback = (getattr(exc, "traceback", "") or "").strip()
    if traceback:
        lines += ["", "Traceback (your code only):", traceback]
    output = (getattr(exc, "output", "") or "").strip()
    if output:
        if len(output) > MAX_OUTPUT_CHARS:
            output = output[: MAX_OUTPUT_CHARS // 2] + "\n...\n" + output[-MAX_OUTPUT_CHARS // 2 :]
        lines += ["", "Your code printed:", output]
    return "\n".join(lines)


class Impl:
    """What scenarios may do with an implementation of the assignment."""

    label = "implementation"

    def __call__(
        self, name: str, *args: Any, returns: Sequence[str] | None = None, **kwargs: Any
    ) -> Any:
        raise NotImplementedError

    def method(
        self, obj: Any, name: str, *args: Any, returns: Sequence[str] | None = None, **kwargs: Any
    ) -> Any:
        raise NotImplementedError

    def get(self, obj: Any, attr: str) -> Any:
        raise NotImplementedError

    def set(self, obj: Any, attr: str, value: Any) -> None:
        raise NotImplementedError

    def put(self, value: Any) -> Any:
        """A live object (e.g. a bn_param dict the function updates in place)."""
        raise NotImplementedError

    def fetch(self, obj: Any) -> Any:
        """A plain copy of a live object's current content."""
        raise NotImplementedError


class ReferenceImpl(Impl):
    """The course's reference package, run in the grader process."""

    label = "reference"

    def __init__(self, package: str = "reference") -> None:
        self.package = package

    def _resolve(self, name: str) -> Any:
        module, _, attr = name.rpartition(".")
        return getattr(importlib.import_module(f"{self.package}.{module}"), attr)

    def __call__(self, name, *args, returns=None, **kwargs):
        return _check_returns(name, self._resolve(name)(*args, **kwargs), returns)

    def method(self, obj, name, *args, returns=None, timeout=None, **kwargs):
        return _check_returns(name, getattr(obj, name)(*args, **kwargs), returns)

    def seed(self, seed):
        np.random.seed(seed)  # noqa: NPY002 (the assignment's code draws from the global RNG)

    def get(self, obj, attr):
        return copy.deepcopy(getattr(obj, attr))

    def set(self, obj, attr, value):
        setattr(obj, attr, copy.deepcopy(value))

    def put(self, value):
        return copy.deepcopy(value)

    def fetch(self, obj):
        return copy.deepcopy(obj)


class StudentImpl(Impl):
    """The student's package inside a sandbox; every failure becomes a CheckFailure."""

    label = "your code"

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.tripped: str | None = None
        # Modules whose import hung or killed the worker: importing them again would only do
        # the same, so later calls into them fail at once for the rest of the grading run.
        self.dead_modules: dict[str, str] = {}

    def reset_breaker(self) -> None:
        """Start a new check: forget that the previous one hung or crashed the worker."""
        self.tripped = None

    def _run(self, what: str, func, *args, module: str | None = None):
        from grader import sandbox as sb

        if self.tripped:
            # Once a check has hung or crashed the worker, its other calls (hypothesis shrinking
            # included) fail at once with the same reason instead of waiting out more timeouts.
            raise CheckFailure(self.tripped)
        if module in self.dead_modules:
            raise CheckFailure(f"Calling {what} failed: {self.dead_modules[module]}")
        try:
            return func(*args)
        except sb.StudentError as exc:
            raise CheckFailure(student_error_message(what, exc), _location(exc)) from None
        except (sb.CallTimeout, sb.WorkerDied) as exc:
            self.tripped = f"Calling {what} failed: {exc}"
            importing = _IMPORT_DEATH.search(str(exc))
            if importing:
                self.dead_modules[importing.group(1)] = str(exc)
                if module:
                    self.dead_modules[module] = str(exc)
            raise CheckFailure(self.tripped) from None
        except sb.SandboxError as exc:
            raise CheckFailure(f"Calling {what} failed: {exc}") from None

    def __call__(self, name, *args, returns=None, **kwargs):
        what = describe_call(name, args, kwargs)
        module = name.rpartition(".")[0].replace(".", "/") + ".py"
        result = self._run(what, lambda: self.sandbox.call(name, *args, **kwargs), module=module)
        return _check_returns(name, result, returns)

    def method(self, obj, name, *args, returns=None, timeout=None, **kwargs):
        what = describe_call(f"{getattr(obj, 'type_name', 'object')}.{name}", args, kwargs)

        def run():
            if timeout is None:
                return self.sandbox.call_method(obj, name, *args, **kwargs)
            with self.sandbox.timeout(timeout):
                return self.sandbox.call_method(obj, name, *args, **kwargs)

        return _check_returns(name, self._run(what, run), returns)

    def seed(self, seed):
        self._run(f"seeding numpy's random generator with {seed}", lambda: self.sandbox.seed(seed))

    def get(self, obj, attr):
        return self._run(f"reading .{attr}", lambda: self.sandbox.getattr(obj, attr))

    def set(self, obj, attr, value):
        self._run(f"setting .{attr}", lambda: self.sandbox.setattr(obj, attr, value))

    def put(self, value):
        return self._run("creating a parameter dict", lambda: self.sandbox.put(value))

    def fetch(self, obj):
        return self._run("reading a parameter dict", lambda: self.sandbox.fetch(obj))
