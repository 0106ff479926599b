"""Run untrusted student code in an isolated, resource-limited worker that speaks plain data.

The public interface used by the grading checks::

    from grader.sandbox import Sandbox, Limits, Handle, SandboxError, StudentError
    from grader.sandbox import CallTimeout, WorkerDied

See sandbox.py for the calls, settings.py for every limit and isolation knob, and launch.py to
start any other command (a notebook kernel) under the same isolation.
"""

from .errors import (
    CallTimeout,
    ProtocolViolation,
    ResourceExceeded,
    SandboxError,
    StaleHandle,
    StudentError,
    StudentImportError,
    SubmissionError,
    UnsupportedValue,
    WorkerDied,
)
from .launch import Expose, IsolatedProcess, LaunchSpec, isolated_command
from .sandbox import Handle, IsolationReport, Sandbox, default_course_package
from .settings import Limits, Settings

__all__ = [
    "CallTimeout",
    "Expose",
    "Handle",
    "IsolatedProcess",
    "IsolationReport",
    "LaunchSpec",
    "Limits",
    "ProtocolViolation",
    "ResourceExceeded",
    "Sandbox",
    "SandboxError",
    "Settings",
    "StaleHandle",
    "StudentError",
    "StudentImportError",
    "SubmissionError",
    "UnsupportedValue",
    "WorkerDied",
    "default_course_package",
    "isolated_command",
]
