"""PatientFlow: the patient's part of the kiosk flow, from choosing the visit to the thank-you.

Staff choose the subject and visit → hand-over → (language) → one item per screen → review →
thank-you, then the kiosk locks. The pages show the `QuestionnaireSession`'s state and report
what was tapped; this object forwards the taps to the session and shows the next page. It
belongs to a `KioskFlow` (its host), which holds the session, the window and the idle watch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt

from respine_desktop import storage
from respine_desktop.i18n import error_text, t
from respine_desktop.schedule import ACTIONABLE
from respine_desktop.session import FlowError, LanguageUnavailable, QuestionnaireSession
from respine_desktop.storage import StorageError
from respine_desktop.translations import activate_installed, not_offered
from ui.kiosk.item_page import ItemPage
from ui.kiosk.patient_pages import HandoverPage, LanguagePage, ReviewPage, ThanksPage
from ui.kiosk.visit_picker import VisitPickerPage
from ui.widgets.hold_button import HoldButton
from ui.widgets.page import Page

if TYPE_CHECKING:
    from ui.kiosk.flow import KioskFlow


# The statuses of a visit that can be done today (the first group in the picker).
TODAY = frozenset({"due", "in_progress", "parked"})


class ShowsErrors(Protocol):
    """A staff page that can show a one-line refusal (the visit picker, the console)."""

    def show_error(self, text: str) -> None: ...


class PatientFlow:
    """Shows the session of `host` page by page while the patient holds the tablet."""

    def __init__(self, host: KioskFlow) -> None:
        self.host = host
        # Where the review list was scrolled when the patient tapped Change (kept on return).
        self.review_scroll = 0
        # the installed translations as last activated (`_refresh_translations`)
        self._installed: dict[str, str] | None = None

    def lang(self) -> str:
        """The patient's language (the first of the visit's until chosen; else the staff's)."""
        session = self.host.session
        if session is not None and session.language is not None:
            return session.language
        if session is not None and session.languages:
            return session.languages[0]
        return self.host.lang

    def visit_label(self, lang: str) -> str:
        """The open session's visit, named in `lang`."""
        host = self.host
        assert host.db is not None and host.session is not None
        visit = host.db.study.visit(host.session.record.visit_code)
        return visit.label.get(lang) or visit.label.get("en") or visit.code

    def show_picker(self) -> None:
        """Staff choose the subject and the visit to hand over."""
        host = self.host
        assert host.db is not None
        db = host.db
        page = VisitPickerPage(host.lang)
        subjects = storage.list_subjects(db)
        # Who has questionnaires to do today comes first, marked so.
        statuses: dict[str, set[str]] = {}
        for site in sorted({s.site_code for s in subjects}):
            for entry in storage.worklist(db, site_code=site):
                statuses.setdefault(entry.subject_code, set()).add(entry.status)
        notes = {code: self._today_note(found) for code, found in statuses.items()}

        def urgency(code: str) -> tuple[int, str]:
            found = statuses.get(code, set())
            return (0 if found & TODAY else 1 if found else 2), code

        codes = sorted((s.code for s in subjects), key=urgency)

        def search(text: str) -> None:
            wanted = text.strip().upper()
            page.show_subjects([c for c in codes if wanted in c.upper()], notes)

        def visits(code: str) -> None:
            rows = []
            for v in storage.subject_visits(db, code):
                if v.status not in ACTIONABLE:
                    continue
                text = t(
                    host.lang,
                    "staff.picker.visit_row",
                    visit=db.study.visit(v.code).label.get(host.lang, v.code),
                    status=t(host.lang, f"staff.status.{v.status}"),
                    opens=v.window.opens.isoformat(),
                    closes=v.window.closes.isoformat(),
                )
                rows.append((v.code, text))
            page.show_visits(code, rows)

        page.search_changed.connect(search)
        page.subject_chosen.connect(visits)
        page.hand_over_requested.connect(lambda s, v: self.hand_over(page, s, v))
        page.cancelled.connect(host.show_staff_home)
        search("")
        host.window.show_page(page)

    def _today_note(self, statuses: set[str]) -> str:
        """What a subject has to do today, as the picker says it."""
        for status in ("in_progress", "parked"):
            if status in statuses:
                return t(self.host.lang, f"staff.status.{status}")
        if "due" in statuses:
            return t(self.host.lang, "staff.picker.due_today")
        return t(self.host.lang, "staff.status.overdue")

    def hand_over(self, picker: ShowsErrors, subject_code: str, visit_code: str) -> None:
        """Start (or resume) the visit and show the hand-over page; a refusal on `picker`."""
        host = self.host
        assert host.db is not None and host.staff is not None
        try:
            self._refresh_translations()
            host.session = QuestionnaireSession.open(
                host.db, subject_code, visit_code, staff=host.staff
            )
        except StorageError as exc:
            picker.show_error(
                t(host.lang, "staff.error.storage", message=error_text(host.lang, exc))
            )
            return
        except LanguageUnavailable as exc:  # (nothing written: staff stay signed in)
            picker.show_error(error_text(host.lang, exc))
            return
        self.review_scroll = 0
        # From here the patient holds the tablet: no staff is signed in until the next PIN.
        host.staff = None
        host.patient_mode = True
        lang = self.lang()
        page = HandoverPage(
            host.lang,
            lang,
            t(lang, "kiosk.visit_title", visit=self.visit_label(lang)),
            not_offered=not_offered(host.translations, host.session.record.instruments, host.lang),
        )
        page.started.connect(self._on_started)
        host.window.show_page(page)

    def _refresh_translations(self) -> None:
        """The installed translations again if `import translation` changed them while the kiosk
        ran (a translation installed for this version is offered without a restart)."""
        host = self.host
        assert host.db is not None
        stored = storage.installed_translations(host.db)
        if stored != self._installed:
            host.translations = activate_installed(stored)
            self._installed = stored

    def _on_started(self) -> None:
        session = self.host.session
        assert session is not None
        if session.language is None:
            languages = session.languages
            # One language complete for every instrument of the visit: nothing to choose.
            if len(languages) == 1:
                session.choose_language(languages[0])
            else:
                title = t(languages[0], "kiosk.visit_title", visit=self.visit_label(languages[0]))
                page = LanguagePage(languages, title)
                page.chosen.connect(self._on_language)
                self._show(page)
                return
        self.show_current()

    def _on_language(self, language: str) -> None:
        assert self.host.session is not None
        self.host.session.choose_language(language)
        self.show_current()

    def _show(self, page: Page) -> None:
        lang = self.lang()
        staff_button = HoldButton(
            t(lang, "kiosk.staff_button"), "quiet", name=t(lang, "kiosk.staff_button_name")
        )
        # Never the focus (no focus ring drawing the patient's eye to the exit); staff hold it
        # (a stray tap does nothing).
        staff_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        staff_button.held.connect(lambda: self.host.show_pin(leaving_patient=True))
        page.header.addWidget(staff_button)
        self.host.show_patient_page(page)

    def show_current(self) -> None:
        """The page for the session's state: the current item, or the review list."""
        session = self.host.session
        assert session is not None
        lang = self.lang()
        if session.in_review:
            review = ReviewPage(session.review_rows(), lang, complete=session.complete)
            review.change_requested.connect(lambda index: self._on_change(review, index))
            review.submitted.connect(self._on_submitted)
            self._show(review)
            review.keep_scroll(self.review_scroll)
            return
        shown = self.host.window.page()
        if isinstance(shown, ItemPage) and shown.lang == lang:
            # The same page for the whole sitting: only its content changes.
            shown.show_step(
                session.current,
                session.total,
                session.current_response,
                can_go_back=session.can_go_back,
                returns_to_review=session.returns_to_review,
            )
            return
        page = ItemPage(
            session.current,
            session.total,
            lang,
            session.current_response,
            can_go_back=session.can_go_back,
            returns_to_review=session.returns_to_review,
            calibration=self.host.settings.vas_calibration,
        )
        page.answered.connect(lambda value, line: self._on_answered(page, value, line))
        page.skipped.connect(lambda: self._on_skipped(page))
        page.next_requested.connect(self._on_next)
        page.back_requested.connect(self._on_back)
        self._show(page)

    def _on_answered(self, page: ItemPage, value: int | float, line: float) -> None:
        assert self.host.session is not None
        try:
            response = self.host.session.answer(value, vas_line_mm=line if line >= 0 else None)
        except StorageError:
            page.show_save_failed()
            return
        page.set_response(response)

    def _on_skipped(self, page: ItemPage) -> None:
        assert self.host.session is not None
        try:
            response = self.host.session.skip()
        except StorageError:
            page.show_save_failed()
            return
        page.set_response(response)

    def _on_next(self) -> None:
        session = self.host.session
        assert session is not None
        if session.can_advance:
            session.next()
            self.show_current()

    def _on_back(self) -> None:
        assert self.host.session is not None
        try:
            self.host.session.back()
        except FlowError:
            return
        self.show_current()

    def _on_change(self, review: ReviewPage, index: int) -> None:
        assert self.host.session is not None
        self.review_scroll = review.scroll_value()
        self.host.session.change(index)
        self.show_current()

    def _on_submitted(self) -> None:
        host = self.host
        assert host.session is not None
        lang = self.lang()
        try:
            host.session.submit()
        except StorageError:
            review = host.window.page()
            if isinstance(review, ReviewPage):
                review.show_submit_failed()
            return
        host.session = None
        page = ThanksPage(lang)
        page.finished.connect(lambda: host.lock(reason="staff"))
        host.show_patient_page(page)
