"""StaffSignIn: checks a staff PIN; from patient mode, wrong PINs slow down and never lock.

Anyone holding the tablet can try PINs on the screen that leaves the questionnaires, so there a
wrong PIN never counts towards an account's lockout (an attacker could otherwise lock the
coordinator out): it is audited by storage (``login.failed``, ``"counted": false``) and makes the
next try wait longer (`DELAYS_S`), the keypad disabled and the seconds counted down. The wait
counts ticks of a one-second timer, which a test fires by hand.
"""

from __future__ import annotations

import math
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from respine_desktop import clock, storage
from respine_desktop.i18n import t
from respine_desktop.storage import Staff, StudyDb
from ui.widgets.signals import emit

# The wait before the next try after the 1st, 2nd, 3rd … wrong PIN from patient mode; the
# last one repeats.
DELAYS_S: tuple[int, ...] = (0, 0, 5, 10, 20, 40, 80, 160, 300)
FROM_PATIENT = storage.LoginPolicy(counts_failures=False)


def delay_after(failures: int) -> int:
    """Seconds to wait after `failures` wrong PINs in a row from patient mode."""
    if failures <= 0:
        return 0
    return DELAYS_S[min(failures, len(DELAYS_S)) - 1]


class StaffSignIn(QObject):
    """Signs staff in and keeps the patient-mode wait.

    `waiting(seconds_left)` fires when a wait starts and every second of it; `ready()` when
    it is over.
    """

    waiting = Signal(int)
    ready = Signal()

    def __init__(self, *, timer: QTimer | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.failures = 0
        self.seconds_left = 0
        self.timer = timer if timer is not None else QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._on_tick)

    def sign_in(
        self, db: StudyDb, username: str, pin: str, lang: str, *, from_patient: bool
    ) -> Staff | str:
        """The account, or the message to show (the attempt is audited by storage)."""
        if from_patient and self.seconds_left > 0:
            return t(lang, "staff.pin.wait", seconds=self.seconds_left)
        policy = FROM_PATIENT if from_patient else None
        try:
            staff = storage.authenticate(db, username, pin, policy)
        except storage.AccountLocked:
            return locked_message(db, username, lang)
        except storage.AccountDisabled:
            return t(lang, "staff.pin.disabled")
        except (storage.WrongPin, storage.UnknownStaff):
            if from_patient:
                self._failed()
            return t(lang, "staff.pin.wrong")
        self.failures = 0
        return staff

    def _failed(self) -> None:
        self.failures += 1
        self.seconds_left = delay_after(self.failures)
        if self.seconds_left > 0:
            self.timer.start()
            emit(self.waiting, self.seconds_left)

    def _on_tick(self) -> None:
        if self.seconds_left <= 0:
            self.timer.stop()
            return
        self.seconds_left -= 1
        if self.seconds_left > 0:
            emit(self.waiting, self.seconds_left)
        else:
            self.timer.stop()
            emit(self.ready)


def locked_message(db: StudyDb, username: str, lang: str) -> str:
    """ "Locked for N minutes; ask an administrator", N from the account's lock."""
    minutes = 1
    try:
        until = storage.get_staff(db, username).locked_until
    except storage.UnknownStaff:
        until = None
    if until:
        left = datetime.fromisoformat(until.replace("Z", "+00:00")) - clock.now()
        minutes = max(1, math.ceil(left.total_seconds() / 60))
    return t(lang, "staff.pin.locked", minutes=minutes)
