"""KioskFlow: which page the kiosk shows next, from the lock screen to staff home and back.

Screens follow one path: lock → staff PIN → staff home → choose subject and visit → hand-over
→ (language) → one item per screen → review → thank-you → lock; idle → countdown → park →
lock. This object decides the path and talks to the domain (storage, the session, the audit);
the pages only show and report, the `KioskWindow` only hosts them. The patient's part (from the
hand-over to the thank-you) (choosing the visit included) is
`ui.kiosk.patient_flow.PatientFlow`. The questionnaire logic
lives in `respine_desktop.session.QuestionnaireSession`.

Safety: Escape, Alt+F4 and closing the window are refused and written to the audit log; leaving
patient mode or quitting needs a staff PIN. After `idle_timeout_s` without a touch a countdown
shows, then an open questionnaire is parked and the kiosk locks.

`ui.app` imports this module only once the first screen is painted (it imports storage with
sqlite-utils and the session), and shows that first screen with the light pages meanwhile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from respine_desktop import storage
from respine_desktop.i18n import error_text, t
from respine_desktop.kiosk_events import log_kiosk_event
from respine_desktop.session import QuestionnaireSession
from respine_desktop.storage import Staff, StudyDb
from respine_desktop.translations import Installed, activate_installed
from ui.kiosk import pin_change, settings_flow
from ui.kiosk.about_page import AboutPage
from ui.kiosk.countdown import CountdownOverlay
from ui.kiosk.idle import IdleWatcher
from ui.kiosk.lock_page import LockPage
from ui.kiosk.lockdown import Lockdown
from ui.kiosk.patient_flow import PatientFlow, ShowsErrors
from ui.kiosk.settings import KioskSettings
from ui.kiosk.staff_exit import StaffSignIn
from ui.kiosk.staff_pages import ConsoleMissingPage, PinPage, SetupPage, StaffHomePage
from ui.kiosk.window import KioskWindow
from ui.widgets.signals import emit


class ConsoleFactory(Protocol):
    """Makes the investigator console's page for the staff signed in on a `KioskFlow`."""

    def __call__(self, flow: KioskFlow, /) -> QWidget: ...


class KioskFlow(QObject):
    """The kiosk's navigation. `db` is None until the first-run set-up has created the file.

    Signals: `console_requested()` when staff open the console, `locked()` after every lock,
    `failed(reason)` when the database could not be opened (deferred opening only).
    """

    console_requested = Signal()
    locked = Signal()
    failed = Signal(str)

    def __init__(
        self,
        window: KioskWindow,
        db_path: Path,
        *,
        settings: KioskSettings | None = None,
        settings_path: Path | None = None,
        idle_timer: QTimer | None = None,
        wait_timer: QTimer | None = None,
        defer_open: bool = False,
    ) -> None:
        """Show the first screen on `window`; open the database now, or with `defer_open` only
        when `open_database()` is called."""
        super().__init__(window)
        self.window = window
        self.db_path = db_path
        self.settings = settings or KioskSettings()
        self.settings_path = settings_path
        self.db: StudyDb | None = None
        self.translations = Installed((), {})
        self.staff: Staff | None = None
        self.session: QuestionnaireSession | None = None
        self.patient_mode = False
        self.console_page_factory: ConsoleFactory | None = None
        self.patient = PatientFlow(self)
        self.sign_in = StaffSignIn(timer=wait_timer, parent=self)
        self.sign_in.waiting.connect(self._on_wait)
        self.sign_in.ready.connect(lambda: self._on_wait(0))
        self._allow_close = False
        self._last_username = ""
        self.unattended = False  # the lock shown was left by idleness or by a patient
        self._countdown: CountdownOverlay | None = None
        self.idle = IdleWatcher(self.settings.idle_timeout_s, timer=idle_timer, parent=self)
        self.idle.counting_down.connect(self._on_counting_down)
        self.idle.woke.connect(self._on_woke)
        self.idle.expired.connect(self._on_idle_expired)
        self.lockdown = Lockdown(window, lambda: self.patient_mode, parent=self)
        self.lockdown.restored.connect(lambda why: self._on_close_refused("kiosk.restored", why))
        window.may_close = self._may_close
        window.close_refused.connect(self._on_close_refused)
        window.closed.connect(self._on_closed)
        if db_path.exists():
            self._show_lock()
        else:
            self._show_setup()
        if not defer_open:
            self.open_database(raise_errors=True)

    @property
    def lang(self) -> str:
        """The staff's language (patient pages use the patient's)."""
        return self.settings.staff_language

    def open_database(self, *, raise_errors: bool = False, opened: StudyDb | None = None) -> None:
        """Open the database file (or take `opened`, the file the app opened already) and start
        guarding the window.

        On failure emit `failed` (or raise with `raise_errors`). Without a file (first run)
        only the guarding starts.
        """
        self.window.guard(self.idle)
        if opened is not None:
            self.db = opened
        elif self.db is not None or not self.db_path.exists():
            return
        else:
            try:
                self.db = storage.open_database(self.db_path)
            except storage.StorageError as exc:
                if raise_errors:
                    raise
                emit(self.failed, str(exc))
                return
        settings_flow.apply_calibration_in_force(self)
        # The translations a site installed are offered to patients from now on (checked again
        # against this build's masters).
        self.translations = activate_installed(storage.installed_translations(self.db))

    @property
    def countdown(self) -> CountdownOverlay:
        """The "are you still there?" overlay (made the first time it is needed)."""
        if self._countdown is None:
            self._countdown = CountdownOverlay(self.window.stack)
            self._countdown.stayed.connect(self._on_stayed)
        return self._countdown

    def show_patient_page(self, page: QWidget) -> None:
        """A page of the patient's (patient mode, the idle watch running)."""
        self.patient_mode = True
        self.window.show_page(page)
        self.idle.start()

    # -- locking -------------------------------------------------------------------------------

    def lock(self, *, reason: str = "staff") -> None:
        """Park any open questionnaire, sign staff out, destroy every page, show the lock."""
        subject_id = self.session.record.subject_id if self.session is not None else None
        try:
            parked = self._park_session(staff=self.staff if reason == "staff" else None)
            if self.db is not None:
                action = "kiosk.idle_locked" if reason == "idle" else "kiosk.locked"
                log_kiosk_event(
                    self.db,
                    action,
                    staff=self.staff if reason == "staff" else None,
                    subject_id=subject_id,
                    payload={"parked_session": parked} if parked else None,
                )
        finally:
            # Even if parking or the audit write failed (the answers given so far are already
            # stored), the screen locks: nothing of this patient may stay visible.
            # Whoever finds a lock left by idleness or by a patient's hand holds an unattended
            # tablet: its PIN screen offers no username and its wrong PINs lock no account.
            self.unattended = reason == "idle" or self.patient_mode
            self.staff = None
            self.patient_mode = False
            self._show_lock()
        emit(self.locked)

    def _park_session(self, *, staff: Staff | None) -> str | None:
        session, self.session = self.session, None
        if session is None or not session.answering:
            return None
        session.park(staff=staff)
        return session.id

    def _show_lock(self) -> None:
        self.idle.stop()
        self._hide_countdown()
        self.window.clear_pages()
        page = LockPage(self.lang)
        page.unlock_requested.connect(lambda: self.show_pin(leaving_patient=False))
        self.window.show_page(page)

    def show_pin(self, *, leaving_patient: bool) -> None:
        """The staff PIN; `leaving_patient`: over a patient page, which Cancel returns to."""
        # From patient mode (or an unattended lock) no username is offered: whoever holds the
        # tablet must know one.
        unattended = leaving_patient or self.unattended
        username = "" if unattended else self._last_username
        page = PinPage(self.lang, leaving_patient=leaving_patient, username=username)
        if unattended and self.sign_in.seconds_left > 0:
            page.wait(self.sign_in.seconds_left)
        page.submitted.connect(lambda u, p: self._on_pin(page, u, p, leaving_patient))
        if leaving_patient:
            patient_page = self.window.page()
            page.cancelled.connect(lambda: self._back_to_patient(page, patient_page))
            self.window.show_page(page, keep=(patient_page,))
        else:
            page.cancelled.connect(self._show_lock)
            self.window.show_page(page)
            self.idle.start()

    def _back_to_patient(self, pin_page: QWidget, patient_page: QWidget) -> None:
        if not self.window.holds(patient_page):
            self.patient.show_current()
            return
        self.window.bring_back(patient_page, dropping=pin_page)

    def _on_pin(self, page: PinPage, username: str, pin: str, leaving_patient: bool) -> None:
        assert self.db is not None
        unattended = leaving_patient or self.unattended
        result = self.sign_in.sign_in(self.db, username, pin, self.lang, from_patient=unattended)
        if isinstance(result, str):
            page.show_error(result)
            if unattended and self.sign_in.seconds_left > 0:
                page.wait(self.sign_in.seconds_left)
            return
        self.staff = result
        self.unattended = False
        self._last_username = username
        if not leaving_patient:
            self.patient_mode = False
        if storage.pin_breaks_policy(pin):
            # A PIN chosen under an older policy: a new one before anything else.
            pin_change.require(self)
            return
        self.show_staff_home()

    def _on_wait(self, seconds: int) -> None:
        page = self.window.page()
        if isinstance(page, PinPage) and (page.leaving_patient or self.unattended):
            page.wait(seconds)

    # -- first run -----------------------------------------------------------------------------

    def _show_setup(self) -> None:
        page = SetupPage(self.lang, str(self.db_path))
        page.submitted.connect(lambda site, user, pin: self._on_setup(page, site, user, pin))
        self.window.show_page(page)

    def _on_setup(self, page: SetupPage, site: str, username: str, pin: str) -> None:
        try:
            self.db = storage.create_database(
                self.db_path, admin_pin=pin, site_code=site, admin_username=username
            )
            self.staff = storage.authenticate(self.db, username, pin)
        except storage.StorageError as exc:
            page.show_error(error_text(self.lang, exc))
            return
        self._last_username = username
        self.idle.start()
        self.show_staff_home()

    # -- staff screens -------------------------------------------------------------------------

    def show_staff_home(self) -> None:
        """The staff home (after a PIN); offers to return to an open patient session."""
        assert self.staff is not None
        open_text = ""
        if self.session is not None and self.session.answering:
            session = self.session
            open_text = t(
                self.lang,
                "staff.home.patient_open",
                subject=session.record.subject_code,
                visit=self.patient.visit_label(self.lang),
                number=min(session.position + 1, session.total),
                total=session.total,
            )
        uncalibrated = self.db is not None and storage.vas_calibration_in_force(self.db) is None
        notice = t(self.lang, "staff.home.uncalibrated") if uncalibrated else ""
        page = StaffHomePage(self.lang, self.staff.username, self.staff.role, open_text, notice)
        page.start_visit_requested.connect(self.patient.show_picker)
        page.console_requested.connect(self._on_console_requested)
        page.settings_requested.connect(self._show_settings)
        page.about_requested.connect(self._show_about)
        page.lock_requested.connect(lambda: self.lock(reason="staff"))
        page.quit_requested.connect(self._quit)
        page.return_requested.connect(self._on_return_requested)
        page.park_requested.connect(self._on_park_requested)
        self.patient_mode = False
        self.window.show_page(page)
        self.idle.start()

    def _on_console_requested(self) -> None:
        emit(self.console_requested)
        if self.console_page_factory is not None:
            self.window.show_page(self.console_page_factory(self))
            return
        page = ConsoleMissingPage(self.lang)
        page.back_requested.connect(self.show_staff_home)
        self.window.show_page(page)

    def _show_about(self) -> None:
        page = AboutPage(self.lang)
        page.closed.connect(self.show_staff_home)
        self.window.show_page(page)

    def _show_settings(self) -> None:
        settings_flow.show_settings(self)

    def hand_over(self, subject_code: str, visit_code: str, page: ShowsErrors) -> None:
        """Start (or resume) a subject's visit and hand the tablet over, as the picker does.

        The investigator console's way to start a due visit; a refusal is shown on `page`.
        """
        self.patient.hand_over(page, subject_code, visit_code)

    def _quit(self) -> None:
        if self.db is not None:
            log_kiosk_event(self.db, "kiosk.quit", staff=self.staff)
        self._park_session(staff=self.staff)
        self._allow_close = True
        self.window.close()

    def _on_return_requested(self) -> None:
        if self.session is None:
            self.show_staff_home()
            return
        self.patient.show_current()

    def _on_park_requested(self) -> None:
        self._park_session(staff=self.staff)
        self.show_staff_home()

    # -- idle ----------------------------------------------------------------------------------

    def _on_counting_down(self, seconds: int) -> None:
        lang = self.patient.lang() if self.patient_mode else self.lang
        self.countdown.show_seconds(lang, seconds)

    def _on_woke(self) -> None:
        self._hide_countdown()

    def _hide_countdown(self) -> None:
        if self._countdown is not None:
            self._countdown.hide()

    def _on_stayed(self) -> None:
        self.idle.touch()
        self.countdown.hide()

    def _on_idle_expired(self) -> None:
        self.countdown.hide()
        self.lock(reason="idle")

    # -- what must not close the kiosk ---------------------------------------------------------

    def _on_close_refused(self, action: str, via: str) -> None:
        if self.db is None:
            return
        subject_id = self.session.record.subject_id if self.session is not None else None
        log_kiosk_event(
            self.db,
            action,
            subject_id=subject_id,
            payload={"via": via, "patient_mode": self.patient_mode},
        )

    def _may_close(self) -> bool:
        # Without a database file (first run) there is nothing to protect or to log into.
        return self._allow_close or not self.db_path.exists()

    def _on_closed(self) -> None:
        self.idle.stop()
        if self.db is not None:
            self.db.close()
            self.db = None

    def release(self) -> None:
        """Close for good without a PIN (tests and `--quit-when-ready`): park, close the file."""
        self._park_session(staff=None)
        self._allow_close = True
        self.window.close()
