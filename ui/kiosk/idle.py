"""IdleWatcher: counts seconds without a touch or key press, warns, then expires.

It counts ticks of a one-second timer rather than reading a clock, so a test injects its own
timer and fires `timeout` by hand: ninety ticks are ninety idle seconds, with no sleeping.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from ui.kiosk.settings import DEFAULT_IDLE_TIMEOUT_S

if TYPE_CHECKING:
    from PySide6.QtCore import QEvent

from ui.widgets.signals import emit

DEFAULT_TIMEOUT_S = DEFAULT_IDLE_TIMEOUT_S
DEFAULT_WARNING_S = 20


@cache
def activity() -> frozenset[QEvent.Type]:
    """The events that count as someone using the kiosk (built on first use: Qt's event-type
    enum is large, and the first screen does not need it)."""
    from PySide6.QtCore import QEvent

    kinds = QEvent.Type
    return frozenset(
        {
            kinds.MouseButtonPress,
            kinds.MouseButtonRelease,
            kinds.MouseMove,
            kinds.KeyPress,
            kinds.TouchBegin,
            kinds.TouchUpdate,
            kinds.Wheel,
        }
    )


class IdleWatcher(QObject):
    """Install as an event filter where input arrives (the kiosk: its native window); `start()`
    when there is something to guard.

    `counting_down(seconds_left)` fires every second of the last `warning_s` seconds,
    `woke()` when activity interrupts a countdown, `expired()` once when time is up.
    """

    counting_down = Signal(int)
    woke = Signal()
    expired = Signal()

    def __init__(
        self,
        timeout_s: int = DEFAULT_TIMEOUT_S,
        *,
        warning_s: int = DEFAULT_WARNING_S,
        timer: QTimer | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._warning_wanted = warning_s
        self.set_timeout(timeout_s)
        self._timer = timer if timer is not None else QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._on_tick)
        self._idle = 0
        self._active = False

    def set_timeout(self, timeout_s: int) -> None:
        """A new timeout (staff changed it in the settings), from the next idle second on."""
        if timeout_s < 1:
            raise ValueError("the idle timeout must be at least one second")
        self.timeout_s = timeout_s
        self.warning_s = max(1, min(self._warning_wanted, timeout_s // 2 or 1))

    @property
    def timer(self) -> QTimer:
        return self._timer

    @property
    def active(self) -> bool:
        return self._active

    @property
    def seconds_left(self) -> int:
        return self.timeout_s - self._idle

    def start(self) -> None:
        """Guard from now on, starting from zero idle seconds."""
        self._idle = 0
        self._active = True
        self._timer.start()

    def stop(self) -> None:
        self._active = False
        self._timer.stop()

    def touch(self) -> None:
        """Activity: back to zero idle seconds (and out of a countdown)."""
        was_warning = self._active and self.seconds_left <= self.warning_s
        self._idle = 0
        if was_warning:
            emit(self.woke)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._active and event.type() in activity():
            self.touch()
        return False

    def _on_tick(self) -> None:
        if not self._active:
            return
        self._idle += 1
        left = self.seconds_left
        if left <= 0:
            self.stop()
            emit(self.expired)
        elif left <= self.warning_s:
            emit(self.counting_down, left)
