"""What can go wrong when the grader runs student code, as exceptions a check can report as is.

Every message is written for the student: it names the module or call and one clear reason.
Only strings ever come from the worker; nothing here holds a student object.
"""

from __future__ import annotations


class SandboxError(Exception):
    """Base class; ``reason`` is the one-line explanation shown in feedback."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SubmissionError(SandboxError):
    """The submission cannot be used at all (no package found, unsafe or oversized archive)."""


class UnsupportedValue(SandboxError):
    """A value that cannot cross between grader and worker as plain data."""


class StaleHandle(SandboxError):
    """A handle whose worker has died; the object it named is gone."""


class StudentError(SandboxError):
    """The student's code raised an exception.

    ``type_name`` and ``message`` describe the exception; ``traceback`` holds only the frames of
    the student's package, formatted in the worker; ``output`` is what the code printed.
    """

    def __init__(self, type_name: str, message: str, traceback: str = "", output: str = "") -> None:
        reason = f"{type_name}: {message}" if message else type_name
        super().__init__(reason)
        self.type_name = type_name
        self.message = message
        self.traceback = traceback
        self.output = output


class StudentImportError(StudentError):
    """A module of the submission could not be imported; ``module`` is its file (``layers.py``)."""

    def __init__(
        self, module: str, type_name: str, message: str, traceback: str = "", output: str = ""
    ) -> None:
        super().__init__(type_name, message, traceback, output)
        self.module = module
        self.reason = f"could not import {module}: {self.reason}"
        self.args = (self.reason,)


class WorkerDied(SandboxError):
    """The worker ended during a call; the next call gets a fresh one.

    ``exit_code`` is the exit status, or minus the signal number; None when unknown.
    """

    def __init__(self, reason: str, exit_code: int | None = None, output: str = "") -> None:
        super().__init__(reason)
        self.exit_code = exit_code
        self.output = output


class CallTimeout(WorkerDied):
    """The call ran past its wall-clock limit and the worker was killed."""


class ResourceExceeded(WorkerDied):
    """The worker ran out of memory or CPU time and was replaced."""


class ProtocolViolation(WorkerDied):
    """The worker sent something the protocol refuses; it was killed and is not trusted."""
