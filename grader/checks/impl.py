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
import time
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

    def available(self) -> bool:
        """Whether the reference package can be imported (not in a student's release)."""
        try:
            importlib.import_module(self.package)
        except ImportError:
            return False
        return True

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


SLOW_FRACTION = 0.5  # a call over this share of its time limit counts as a strike
MAX_STRIKES = 3  # strikes (slow calls or limit hits) after which a function is no longer called


class StudentImpl(Impl):
    """The student's package inside a sandbox; every failure becomes a CheckFailure.

    Time is bounded twice. ``budget`` seconds (from construction) bound all calls together:
    each call's limit is cut to what is left, and once it is spent every call fails at once.
    And a function whose calls keep taking more than half their limit, or hitting it, is
    remembered after ``MAX_STRIKES`` such calls and not called again: one slow call on a large
    input is a strike, not a verdict; a function slow on every input is stopped.
    """

    label = "your code"

    def __init__(self, sandbox: Any, budget: float | None = None) -> None:
        self.sandbox = sandbox
        self.tripped: str | None = None
        # Modules whose import hung or killed the worker: importing them again would only do
        # the same, so later calls into them fail at once for the rest of the grading run.
        self.dead_modules: dict[str, str] = {}
        self.budget = budget
        self.deadline = None if budget is None else time.monotonic() + budget
        self.budget_spent = False
        self.strikes: dict[str, int] = {}
        self.stopped: dict[str, str] = {}  # function -> why it is no longer called

    def reset_breaker(self) -> None:
        """Start a new check: forget that the previous one hung or crashed the worker."""
        self.tripped = None

    def _budget_message(self, what: str) -> str:
        return (
            f"Calling {what} was not finished: the {self.budget:g} s this grading allows for "
            "all calls into your code together ran out (the checks before it took that long), "
            "so this check and the ones after it earn nothing. Look for the slow functions in "
            "the checks above."
        )

    def _strike(self, key: str, limit: float, seconds: float) -> None:
        self.strikes[key] = count = self.strikes.get(key, 0) + 1
        if count >= MAX_STRIKES:
            self.stopped[key] = (
                f"{key} was stopped: {count} of its calls took more than "
                f"{SLOW_FRACTION * limit:g} s (half the {limit:g} s limit of one call) or hit "
                f"the limit (the last one {seconds:.1f} s), so the grader no longer calls it and "
                "it earns none of its points. Make it faster (look for sleeps, waits or work "
                "repeated on every call)."
            )

    def _run(self, what, func, *args, module: str | None = None, key: str | None = None):
        from grader import sandbox as sb

        if self.tripped:
            # Once a check has hung or crashed the worker, its other calls (hypothesis shrinking
            # included) fail at once with the same reason instead of waiting out more timeouts.
            raise CheckFailure(self.tripped)
        if module in self.dead_modules:
            raise CheckFailure(f"Calling {what} failed: {self.dead_modules[module]}")
        if key in self.stopped:
            raise CheckFailure(f"Calling {what} failed: {self.stopped[key]}")
        limit = self.sandbox.call_limit
        left = None if self.deadline is None else self.deadline - time.monotonic()
        if left is not None and left <= 0:
            self.budget_spent = True
            raise CheckFailure(self._budget_message(what))
        cut = left is not None and left < limit
        started = time.monotonic()
        try:
            with self.sandbox.timeout(left if cut else limit):
                result = func(*args)
        except sb.StudentError as exc:
            raise CheckFailure(student_error_message(what, exc), _location(exc)) from None
        except (sb.CallTimeout, sb.WorkerDied) as exc:
            if cut and isinstance(exc, sb.CallTimeout):
                self.budget_spent = True
                self.tripped = self._budget_message(what)
                raise CheckFailure(self.tripped) from None
            if key and isinstance(exc, sb.CallTimeout):
                self._strike(key, limit, time.monotonic() - started)
            self.tripped = f"Calling {what} failed: {exc}"
            importing = _IMPORT_DEATH.search(str(exc))
            if importing:
                self.dead_modules[importing.group(1)] = str(exc)
                if module:
                    self.dead_modules[module] = str(exc)
            raise CheckFailure(self.tripped) from None
        except sb.SandboxError as exc:
            raise CheckFailure(f"Calling {what} failed: {exc}") from None
        seconds = time.monotonic() - started
        if key and seconds > SLOW_FRACTION * limit:
            self._strike(key, limit, seconds)
        return result

    def __call__(self, name, *args, returns=None, **kwargs):
        what = describe_call(name, args, kwargs)
        module = name.rpartition(".")[0].replace(".", "/") + ".py"
        result = self._run(
            what, lambda: self.sandbox.call(name, *args, **kwargs), module=module, key=name
        )
        return _check_returns(name, result, returns)

    def method(self, obj, name, *args, returns=None, timeout=None, **kwargs):
        what = describe_call(f"{getattr(obj, 'type_name', 'object')}.{name}", args, kwargs)

        def run():
            return self.sandbox.call_method(obj, name, *args, **kwargs)

        if timeout is None:  # only calls under the ordinary limit can be struck as slow
            key = f"{getattr(obj, 'type_name', 'object')}.{name}"
            return _check_returns(name, self._run(what, run, key=key), returns)
        with self.sandbox.timeout(timeout):
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
