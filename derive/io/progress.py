"""A progress bar on the terminal for work that takes more than a moment."""

from __future__ import annotations

import sys
import time

#: a job is shown once it has run this long (seconds); shorter ones stay silent
DELAY = 2.0
WIDTH = 30


class Progress:
    """``progress(done, total, what)``: a one-line bar on ``stream`` when it is a terminal.

    Nothing is drawn until a job (one ``what``) has run for :data:`DELAY` seconds, so
    quick runs print nothing; the bar is redrawn at most ten times a second and ends
    with a line break when the job is done. Not a terminal (a pipe, a file, a test):
    nothing at all.
    """

    def __init__(self, stream=None, delay: float = DELAY, clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.clock = clock
        self._started: dict[str, float] = {}
        self._drawn: dict[str, float] = {}

    def __call__(self, done: int, total: int, what: str = "working") -> None:
        try:
            if not self.stream.isatty():
                return
        except (AttributeError, ValueError):
            return
        now = self.clock()
        start = self._started.setdefault(what, now)
        finished = done >= total
        if now - start < self.delay:
            if finished:
                del self._started[what]
            return
        if not finished and now - self._drawn.get(what, -1.0) < 0.1:
            return
        self._drawn[what] = now
        filled = WIDTH * min(done, total) // max(total, 1)
        self.stream.write(f"\r{what:<11} [{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total}")
        if finished:
            self.stream.write("\n")
            del self._started[what]
        self.stream.flush()
