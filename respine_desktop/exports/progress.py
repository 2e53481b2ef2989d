"""Progress reporting for long exports: a callback taking a fraction (0..1) and a message.

The staff console passes a callback that moves its progress bar; the CLI one that rewrites a line
on the terminal. `Ticker` calls it at most once per whole percent, so a callback costs nothing
measurable even on a 10,000-subject study.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]
"""``progress(fraction, message)``: `fraction` grows from 0.0 to 1.0 (reached once, at the end)."""


class Ticker:
    """Throttles a `Progress` callback to whole-percent steps of `done / total`."""

    def __init__(self, progress: Progress | None, total: int, what: str) -> None:
        self._progress = progress
        self._total = max(total, 1)
        self._what = what
        self._last = -1

    def tick(self, done: int, detail: str = "") -> None:
        """Report `done` units of `total` (only when the whole percent changed)."""
        if self._progress is None:
            return
        percent = min(99, done * 100 // self._total)
        if percent != self._last:
            self._last = percent
            text = f"{self._what}: {done} of {self._total}" + (f" ({detail})" if detail else "")
            self._progress(percent / 100, text)

    def checkpoint(self, detail: str) -> None:
        """Report the current fraction again, at a point where the work may still stop (before
        its files replace earlier ones): a cancelling callback raises here."""
        if self._progress is not None:
            self._progress(max(self._last, 0) / 100, f"{self._what}: {detail}")

    def done(self, message: str) -> None:
        """Report completion (fraction 1.0)."""
        if self._progress is not None:
            self._progress(1.0, message)
