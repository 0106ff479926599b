"""The progress bar of ``grade-all``: done, failed, running, and the time left."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from typing import TextIO

from grader.batch.records import GRADED, Record

# ---------------------------------------------------------------------------------------------
# Progress bar
# ---------------------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes = f"{rest // 60:02d}:{rest % 60:02d}"
    return f"{hours}:{minutes}" if hours else minutes


class Progress:
    """A live one-line progress bar with an ETA on a terminal; one line per submission elsewhere.

    At each finished submission the finish time is projected from the mean wall time per
    submission finished in this run (which already reflects the parallelism; skipped ones do
    not count); on a terminal the bar is redrawn every second and the ETA counts down."""

    def __init__(
        self,
        total: int,
        skipped: int,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        width: int = 24,
    ) -> None:
        self.total, self.skipped, self.stream = total, skipped, stream
        self.clock, self.width = clock, width
        self.done = 0
        self.failed = 0
        self.started = clock()
        self.finish_at: float | None = None
        self.last: Record | None = None
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self) -> None:
        self.started = self.clock()
        if self.skipped:
            self._emit(f"{self.skipped} of {self.total} already graded: skipped (--force regrades)")
        if self.tty:
            self._draw()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def eta(self) -> float | None:
        return None if self.finish_at is None else max(0.0, self.finish_at - self.clock())

    def line(self) -> str:
        finished = self.skipped + self.done
        filled = int(self.width * finished / self.total) if self.total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        eta = self.eta()
        parts = [
            f"[{bar}] {finished}/{self.total}",
            f"{self.failed} failed" if self.failed else "",
            f"elapsed {_clock(self.clock() - self.started)}",
            f"ETA {_clock(eta)}" if eta is not None else "ETA --:--",
        ]
        if self.last is not None:
            parts.append(f"last: {self.last.student} {_outcome(self.last)}")
        return "  ".join(p for p in parts if p)

    def update(self, record: Record) -> None:
        with self._lock:
            self.done += 1
            self.failed += record.status != GRADED
            self.last = record
            now = self.clock()
            left = self.total - self.skipped - self.done
            self.finish_at = now + (now - self.started) / self.done * left
            if self.tty:
                self._draw()
            else:
                self._emit(self.line())

    def finish(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.tty:
            with self._lock:
                self._draw()
                self.stream.write("\n")
                self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        columns = shutil.get_terminal_size((100, 20)).columns
        self.stream.write("\r" + self.line()[: columns - 1].ljust(columns - 1))
        self.stream.flush()

    def _emit(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _outcome(record: Record) -> str:
    if record.status == GRADED:
        return f"{record.score:g}/{record.max_score:g}"
    return record.status
