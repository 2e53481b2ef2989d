"""KioskWindow: the full-screen window, its page stack, locking, idle handling and hand-over.

Screens follow one path: lock → staff PIN → staff home → choose subject and visit → hand-over
→ (language) → one item per screen → review → thank-you → lock. The questionnaire logic lives
in `respine_desktop.session.QuestionnaireSession`; this window only shows its state as pages
and forwards what was tapped.

Adding a screen (how the investigator console plugs in)
-------------------------------------------------------
Every screen is a `QWidget` (usually a `ui.widgets.Page`) put on the window's stack with
`show_page(page)`. Pages are transient: a lock removes and deletes every page, so no screen can
keep a previous person's data; build a fresh page each time it is shown. A staff screen reads
`window.db` (the open `StudyDb`) and `window.staff` (the signed-in `Staff`), and returns with
`window.show_staff_home()`. The staff home's "Investigator console" button emits
`console_requested`; to provide the console, set `console_page_factory`::

    window.console_page_factory = lambda w: ConsolePage(w.db, w.staff, on_back=w.show_staff_home)

Without a factory a placeholder page says the console is not installed.

Safety: Escape, Alt+F4 and closing the window are refused and written to the audit log; leaving
patient mode or quitting needs a staff PIN. After `idle_timeout_s` without a touch a countdown
shows, then an open questionnaire is parked and the kiosk locks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow, QStackedWidget, QWidget

from respine_desktop.i18n import t
from ui.kiosk.idle import IdleWatcher
from ui.kiosk.lock_page import LockPage
from ui.kiosk.settings import KioskSettings, save_settings
from ui.style import apply_style
from ui.widgets.page import Page, button, label
from ui.widgets.signals import emit

if TYPE_CHECKING:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QCloseEvent

    from respine_desktop.session import QuestionnaireSession
    from respine_desktop.storage import Staff, StudyDb
    from ui.kiosk.countdown import CountdownOverlay
    from ui.kiosk.item_page import ItemPage
    from ui.kiosk.staff_pages import PinPage, SetupPage

# Only the lock screen is imported up front. The domain half (storage and sqlite-utils, the
# session, the audit) and the other screens are imported by the methods that use them, so that
# the first screen shows before those imports; `open_database` loads them right after.

PageFactory = Callable[["KioskWindow"], QWidget]


class ShowsErrors(Protocol):
    """A staff page that can show a one-line refusal (the visit picker, the console)."""

    def show_error(self, text: str) -> None: ...


class KioskWindow(QMainWindow):
    """The kiosk. `db` is None until the first-run set-up has created the database file."""

    console_requested = Signal()
    locked = Signal()
    # The database could not be opened (deferred opening only): a one-line reason.
    failed = Signal(str)

    def __init__(
        self,
        db_path: Path,
        *,
        settings: KioskSettings | None = None,
        settings_path: Path | None = None,
        idle_timer: QTimer | None = None,
        defer_open: bool = False,
    ) -> None:
        """Show the first screen; open the database now, or with `defer_open` only when
        `open_database()` is called (the app does so once the first screen is painted)."""
        super().__init__()
        self.setObjectName("kioskWindow")
        self.db_path = db_path
        self.settings = settings or KioskSettings()
        self.setWindowTitle(t(self.lang, "common.app_name"))
        self.settings_path = settings_path
        self.db: StudyDb | None = None
        self.staff: Staff | None = None
        self.flow: QuestionnaireSession | None = None
        self.patient_mode = False
        self.console_page_factory: PageFactory | None = None
        self._allow_close = False
        self._last_username = ""
        self.stack = QStackedWidget()
        self.stack.setObjectName("pages")
        self.setCentralWidget(self.stack)
        self._countdown: CountdownOverlay | None = None
        self.idle = IdleWatcher(self.settings.idle_timeout_s, timer=idle_timer, parent=self)
        self.idle.counting_down.connect(self._on_counting_down)
        self.idle.woke.connect(self._hide_countdown)
        self.idle.expired.connect(self._on_idle_expired)
        self.winId()
        self._native = self.windowHandle()
        self._armed = False
        if db_path.exists():
            self._show_lock()
        else:
            self._show_setup()
        if not defer_open:
            self.open_database(raise_errors=True)

    def open_database(self, *, raise_errors: bool = False) -> None:
        """Open the database file, load the rest of the kiosk, and start guarding the window.

        On failure emit `failed` (or raise with `raise_errors`). Without a file (first run)
        only the loading and the guarding happen.
        """
        # Loaded here rather than at the first tap (imported for their side effect).
        import ui.kiosk.countdown
        import ui.kiosk.item_page
        import ui.kiosk.patient_pages
        import ui.kiosk.staff_pages
        import ui.kiosk.visit_picker  # noqa: F401
        from respine_desktop import kiosk_events, session, storage  # noqa: F401

        self._arm()
        if self.db is not None or not self.db_path.exists():
            return
        try:
            self.db = storage.open_database(self.db_path)
        except storage.StorageError as exc:
            if raise_errors:
                raise
            emit(self.failed, str(exc))

    def _arm(self) -> None:
        """Watch the native window, not the application: every touch and key reaches the
        QWindow first, while the flood of internal widget events (polish, layout, paint) never
        does, so the filters cost nothing when nobody touches the screen."""
        if not self._armed:
            self._native.installEventFilter(self)
            self._native.installEventFilter(self.idle)
            self._armed = True

    @property
    def countdown(self) -> CountdownOverlay:
        """The "are you still there?" overlay (made the first time it is needed)."""
        if self._countdown is None:
            from ui.kiosk.countdown import CountdownOverlay

            self._countdown = CountdownOverlay(self.stack)
            self._countdown.stayed.connect(self._on_stayed)
        return self._countdown

    def _hide_countdown(self) -> None:
        if self._countdown is not None:
            self._countdown.hide()

    # -- the page stack ------------------------------------------------------------------------

    @property
    def lang(self) -> str:
        """The staff's language (patient pages use the patient's)."""
        return self.settings.staff_language

    def page(self) -> QWidget:
        """The page on screen."""
        return self.stack.currentWidget()

    def show_page(self, page: QWidget, *, keep: tuple[QWidget, ...] = ()) -> QWidget:
        """Put `page` on screen and delete every other page except those in `keep`."""
        self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        for n in reversed(range(self.stack.count())):
            other = self.stack.widget(n)
            if other is not page and other not in keep:
                self._drop(other)
        focus = getattr(page, "focus_first", None)
        if callable(focus):
            focus()
        return page

    def _drop(self, page: QWidget, *, detach: bool = False) -> None:
        self.stack.removeWidget(page)
        page.hide()
        if detach:
            # Out of the window at once, not only when the deferred deletion runs.
            page.setParent(None)  # type: ignore[call-overload]
        page.deleteLater()

    def _clear_pages(self) -> None:
        """Every page out of the window now (a lock): nothing of the last person stays."""
        for n in reversed(range(self.stack.count())):
            self._drop(self.stack.widget(n), detach=True)

    # -- locking -------------------------------------------------------------------------------

    def lock(self, *, reason: str = "staff") -> None:
        """Park any open questionnaire, sign staff out, destroy every page, show the lock."""
        from respine_desktop.kiosk_events import log_kiosk_event

        subject_id = self.flow.record.subject_id if self.flow is not None else None
        try:
            parked = self._park_flow(staff=self.staff if reason == "staff" else None)
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
            self.staff = None
            self.patient_mode = False
            self._show_lock()
        emit(self.locked)

    def _park_flow(self, *, staff: Staff | None) -> str | None:
        flow, self.flow = self.flow, None
        if flow is None or not flow.answering:
            return None
        flow.park(staff=staff)
        return flow.id

    def _show_lock(self) -> None:
        self.idle.stop()
        self._hide_countdown()
        self._clear_pages()
        page = LockPage(self.lang)
        page.unlock_requested.connect(lambda: self._show_pin(leaving_patient=False))
        self.show_page(page)

    def _show_pin(self, *, leaving_patient: bool) -> None:
        from ui.kiosk.staff_pages import PinPage

        page = PinPage(self.lang, leaving_patient=leaving_patient, username=self._last_username)
        page.submitted.connect(lambda u, p: self._on_pin(page, u, p, leaving_patient))
        if leaving_patient:
            patient_page = self.page()
            page.cancelled.connect(lambda: self._back_to_patient(page, patient_page))
            self.show_page(page, keep=(patient_page,))
        else:
            page.cancelled.connect(self._show_lock)
            self.show_page(page)
            self.idle.start()

    def _back_to_patient(self, pin_page: QWidget, patient_page: QWidget) -> None:
        if self.stack.indexOf(patient_page) < 0:
            self._show_flow()
            return
        self.stack.setCurrentWidget(patient_page)
        self._drop(pin_page)

    def _on_pin(self, page: PinPage, username: str, pin: str, leaving_patient: bool) -> None:
        from respine_desktop import storage

        assert self.db is not None
        try:
            staff = storage.authenticate(self.db, username, pin)
        except storage.AccountLocked:
            page.show_error(t(self.lang, "staff.pin.locked"))
            return
        except storage.AccountDisabled:
            page.show_error(t(self.lang, "staff.pin.disabled"))
            return
        except (storage.WrongPin, storage.UnknownStaff):
            page.show_error(t(self.lang, "staff.pin.wrong"))
            return
        self.staff = staff
        self._last_username = username
        if not leaving_patient:
            self.patient_mode = False
        self.show_staff_home()

    # -- first run -----------------------------------------------------------------------------

    def _show_setup(self) -> None:
        from ui.kiosk.staff_pages import SetupPage

        page = SetupPage(self.lang, str(self.db_path))
        page.submitted.connect(lambda site, user, pin: self._on_setup(page, site, user, pin))
        self.show_page(page)

    def _on_setup(self, page: SetupPage, site: str, username: str, pin: str) -> None:
        from respine_desktop import storage

        try:
            self.db = storage.create_database(
                self.db_path, admin_pin=pin, site_code=site, admin_username=username
            )
            self.staff = storage.authenticate(self.db, username, pin)
        except storage.StorageError as exc:
            page.show_error(str(exc))
            return
        self._last_username = username
        self.idle.start()
        self.show_staff_home()

    # -- staff screens -------------------------------------------------------------------------

    def show_staff_home(self) -> None:
        """The staff home (after a PIN); offers to return to an open patient session."""
        from ui.kiosk.staff_pages import StaffHomePage

        assert self.staff is not None
        open_text = ""
        if self.flow is not None and self.flow.answering:
            flow = self.flow
            open_text = t(
                self.lang,
                "staff.home.patient_open",
                subject=flow.record.subject_code,
                visit=self._visit_label(self.lang),
                number=min(flow.position + 1, flow.total),
                total=flow.total,
            )
        page = StaffHomePage(self.lang, self.staff.username, self.staff.role, open_text)
        page.start_visit_requested.connect(self._show_picker)
        page.console_requested.connect(self._on_console_requested)
        page.settings_requested.connect(self._show_settings)
        page.about_requested.connect(self._show_about)
        page.lock_requested.connect(lambda: self.lock(reason="staff"))
        page.quit_requested.connect(self._quit)
        page.return_requested.connect(self._return_to_patient)
        page.park_requested.connect(self._park_by_staff)
        self.patient_mode = False
        self.show_page(page)
        self.idle.start()

    def _on_console_requested(self) -> None:
        emit(self.console_requested)
        if self.console_page_factory is not None:
            self.show_page(self.console_page_factory(self))
            return
        page = Page(t(self.lang, "staff.home.console"))
        page.add(label(t(self.lang, "staff.home.console"), "title"))
        page.add(label(t(self.lang, "staff.home.console_missing"), "subtitle"))
        page.column.addStretch(1)
        back = button(t(self.lang, "common.back"))
        back.clicked.connect(self.show_staff_home)
        page.footer.addWidget(back)
        page.footer.addStretch(1)
        self.show_page(page)

    def _show_about(self) -> None:
        from ui.kiosk.about_page import AboutPage

        page = AboutPage(self.lang)
        page.closed.connect(self.show_staff_home)
        self.show_page(page)

    def _show_settings(self) -> None:
        from ui.kiosk.staff_pages import SettingsPage

        s = self.settings
        page = SettingsPage(
            self.lang,
            large_text=s.large_text,
            high_contrast=s.high_contrast,
            calibration=s.vas_calibration,
        )
        page.saved.connect(self._on_settings_saved)
        page.cancelled.connect(self.show_staff_home)
        self.show_page(page)

    def _on_settings_saved(self, large_text: bool, high_contrast: bool, calibration: float) -> None:
        self.settings = self.settings.changed(
            large_text=large_text, high_contrast=high_contrast, vas_calibration=calibration
        )
        if self.settings_path is not None:
            save_settings(self.settings_path, self.settings)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_style(app, large_text=large_text, high_contrast=high_contrast)
        self.show_staff_home()

    def _show_picker(self) -> None:
        from respine_desktop import storage
        from respine_desktop.schedule import ACTIONABLE
        from ui.kiosk.visit_picker import VisitPickerPage

        assert self.db is not None
        page = VisitPickerPage(self.lang)
        codes = [s.code for s in storage.list_subjects(self.db)]

        def search(text: str) -> None:
            wanted = text.strip().upper()
            page.show_subjects([c for c in codes if wanted in c.upper()])

        def visits(code: str) -> None:
            assert self.db is not None
            rows = []
            for v in storage.subject_visits(self.db, code):
                if v.status not in ACTIONABLE:
                    continue
                text = t(
                    self.lang,
                    "staff.picker.visit_row",
                    visit=self.db.study.visit(v.code).label.get(self.lang, v.code),
                    status=t(self.lang, f"staff.status.{v.status}"),
                    opens=v.window.opens.isoformat(),
                    closes=v.window.closes.isoformat(),
                )
                rows.append((v.code, text))
            page.show_visits(code, rows)

        page.search_changed.connect(search)
        page.subject_chosen.connect(visits)
        page.hand_over_requested.connect(lambda s, v: self._hand_over(page, s, v))
        page.cancelled.connect(self.show_staff_home)
        search("")
        self.show_page(page)

    def _quit(self) -> None:
        from respine_desktop.kiosk_events import log_kiosk_event

        if self.db is not None:
            log_kiosk_event(self.db, "kiosk.quit", staff=self.staff)
        self._park_flow(staff=self.staff)
        self._allow_close = True
        self.close()

    # -- patient mode --------------------------------------------------------------------------

    def _patient_lang(self) -> str:
        if self.flow is not None and self.flow.language is not None:
            return self.flow.language
        if self.flow is not None and self.flow.languages:
            return self.flow.languages[0]
        return self.lang

    def _visit_label(self, lang: str) -> str:
        assert self.db is not None and self.flow is not None
        visit = self.db.study.visit(self.flow.record.visit_code)
        return visit.label.get(lang) or visit.label.get("en") or visit.code

    def hand_over(self, subject_code: str, visit_code: str, page: ShowsErrors) -> None:
        """Start (or resume) a subject's visit and hand the tablet over, as the picker does.

        The investigator console's way to start a due visit; a refusal is shown on `page`.
        """
        self._hand_over(page, subject_code, visit_code)

    def _hand_over(self, picker: ShowsErrors, subject_code: str, visit_code: str) -> None:
        from respine_desktop.session import QuestionnaireSession
        from respine_desktop.storage import StorageError
        from ui.kiosk.patient_pages import HandoverPage

        assert self.db is not None and self.staff is not None
        try:
            self.flow = QuestionnaireSession.open(
                self.db, subject_code, visit_code, staff=self.staff
            )
        except StorageError as exc:
            picker.show_error(t(self.lang, "staff.error.storage", message=str(exc)))
            return
        # From here the patient holds the tablet: no staff is signed in until the next PIN.
        self.staff = None
        self.patient_mode = True
        lang = self._patient_lang()
        page = HandoverPage(
            self.lang, lang, t(lang, "kiosk.visit_title", visit=self._visit_label(lang))
        )
        page.started.connect(self._on_started)
        self.show_page(page)

    def _on_started(self) -> None:
        from ui.kiosk.patient_pages import LanguagePage

        assert self.flow is not None
        if self.flow.language is None:
            languages = self.flow.languages
            # One language complete for every instrument of the visit: nothing to choose.
            if len(languages) == 1:
                self.flow.choose_language(languages[0])
            else:
                title = t(languages[0], "kiosk.visit_title", visit=self._visit_label(languages[0]))
                page = LanguagePage(languages, title)
                page.chosen.connect(self._on_language)
                self._show_patient_page(page)
                return
        self._show_flow()

    def _on_language(self, language: str) -> None:
        assert self.flow is not None
        self.flow.choose_language(language)
        self._show_flow()

    def _show_patient_page(self, page: Page) -> None:
        staff_button = button(
            t(self._patient_lang(), "kiosk.staff_button"),
            "quiet",
            name=t(self._patient_lang(), "kiosk.staff_button_name"),
        )
        staff_button.clicked.connect(lambda: self._show_pin(leaving_patient=True))
        page.header.addWidget(staff_button)
        self.patient_mode = True
        self.show_page(page)
        self.idle.start()

    def _show_flow(self) -> None:
        """The page for the session's state: the current item, or the review list."""
        from ui.kiosk.item_page import ItemPage
        from ui.kiosk.patient_pages import ReviewPage

        flow = self.flow
        assert flow is not None
        lang = self._patient_lang()
        if flow.in_review:
            review = ReviewPage(flow.review_rows(), lang, complete=flow.complete)
            review.change_requested.connect(self._on_change)
            review.submitted.connect(self._on_submitted)
            self._show_patient_page(review)
            return
        shown = self.page()
        if isinstance(shown, ItemPage) and shown.lang == lang:
            # The same page for the whole sitting: only its content changes.
            shown.show_step(
                flow.current,
                flow.total,
                flow.current_response,
                can_go_back=flow.can_go_back,
                returns_to_review=flow.returns_to_review,
            )
            return
        page = ItemPage(
            flow.current,
            flow.total,
            lang,
            flow.current_response,
            can_go_back=flow.can_go_back,
            returns_to_review=flow.returns_to_review,
            calibration=self.settings.vas_calibration,
        )
        page.answered.connect(lambda value, line: self._on_answered(page, value, line))
        page.skipped.connect(lambda: self._on_skipped(page))
        page.next_requested.connect(self._on_next)
        page.back_requested.connect(self._on_back)
        self._show_patient_page(page)

    def _on_answered(self, page: ItemPage, value: int | float, line: float) -> None:
        from respine_desktop.storage import StorageError

        assert self.flow is not None
        try:
            response = self.flow.answer(value, vas_line_mm=line if line >= 0 else None)
        except StorageError:
            page.show_save_failed()
            return
        page.set_response(response)

    def _on_skipped(self, page: ItemPage) -> None:
        from respine_desktop.storage import StorageError

        assert self.flow is not None
        try:
            response = self.flow.skip()
        except StorageError:
            page.show_save_failed()
            return
        page.set_response(response)

    def _on_next(self) -> None:
        assert self.flow is not None
        if self.flow.can_advance:
            self.flow.next()
            self._show_flow()

    def _on_back(self) -> None:
        from respine_desktop.session import FlowError

        assert self.flow is not None
        try:
            self.flow.back()
        except FlowError:
            return
        self._show_flow()

    def _on_change(self, index: int) -> None:
        assert self.flow is not None
        self.flow.change(index)
        self._show_flow()

    def _on_submitted(self) -> None:
        from respine_desktop.storage import StorageError
        from ui.kiosk.patient_pages import ReviewPage, ThanksPage

        assert self.flow is not None
        lang = self._patient_lang()
        try:
            self.flow.submit()
        except StorageError:
            review = self.page()
            if isinstance(review, ReviewPage):
                review.show_submit_failed()
            return
        self.flow = None
        page = ThanksPage(lang)
        page.finished.connect(lambda: self.lock(reason="staff"))
        self.patient_mode = True
        self.show_page(page)
        self.idle.start()

    def _return_to_patient(self) -> None:
        if self.flow is None:
            self.show_staff_home()
            return
        self._show_flow()

    def _park_by_staff(self) -> None:
        self._park_flow(staff=self.staff)
        self.show_staff_home()

    # -- idle ----------------------------------------------------------------------------------

    def _on_counting_down(self, seconds: int) -> None:
        lang = self._patient_lang() if self.patient_mode else self.lang
        self.countdown.show_seconds(lang, seconds)

    def _on_stayed(self) -> None:
        self.idle.touch()
        self.countdown.hide()

    def _on_idle_expired(self) -> None:
        self.countdown.hide()
        self.lock(reason="idle")

    # -- what must not close the kiosk ---------------------------------------------------------

    def _log_intercepted(self, action: str, via: str) -> None:
        from respine_desktop.kiosk_events import log_kiosk_event

        if self.db is None:
            return
        subject_id = self.flow.record.subject_id if self.flow is not None else None
        log_kiosk_event(
            self.db,
            action,
            subject_id=subject_id,
            payload={"via": via, "patient_mode": self.patient_mode},
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        from PySide6.QtCore import QEvent, Qt
        from PySide6.QtGui import QKeyEvent

        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key == Qt.Key.Key_Escape:
                if not event.isAutoRepeat():
                    self._log_intercepted("kiosk.escape_intercepted", "escape")
                return True
            if key == Qt.Key.Key_F4 and event.modifiers() & Qt.KeyboardModifier.AltModifier:
                if not event.isAutoRepeat():
                    self._log_intercepted("kiosk.close_intercepted", "alt+f4")
                return True
        return False

    def closeEvent(self, event: QCloseEvent) -> None:
        # Without a database file (first run) there is nothing to protect or to log into.
        if self._allow_close or not self.db_path.exists():
            self._shut_down()
            event.accept()
            return
        event.ignore()
        self._log_intercepted("kiosk.close_intercepted", "window")

    def _shut_down(self) -> None:
        if self._armed:
            self._native.removeEventFilter(self)
            self._native.removeEventFilter(self.idle)
            self._armed = False
        self.idle.stop()
        if self.db is not None:
            self.db.close()
            self.db = None

    def release(self) -> None:
        """Close for good without a PIN (tests and `--quit-when-ready`): park, close the file."""
        self._park_flow(staff=None)
        self._allow_close = True
        self.close()
