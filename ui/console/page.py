"""ConsolePage: the investigator console, the staff screen behind "Investigator console".

Tabs by role: the worklist, registering a subject, the study report, the data exports and the
conflicts of merged kiosks for everyone signed in; staff accounts for administrators. Opening a
subject replaces the tabs with its `SubjectView` until staff go back. Like every page of the
kiosk window it is transient: a lock deletes it (and cancels its background work), so it keeps
nobody's data beyond its screen.

`console_page_for(host)` makes it for a `ConsoleHost` (the kiosk's flow, given the console by
`ui.app.install_console`: the console never imports the kiosk).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLayout, QStackedWidget, QTabWidget, QWidget

from respine_desktop.i18n import t
from respine_desktop.paths import resource
from respine_desktop.storage import Staff, StudyDb
from ui.console.conflicts import ConflictsView
from ui.console.export import ExportView
from ui.console.mismatches import MismatchesView, ReviewTab
from ui.console.reauth import ReauthSession
from ui.console.register import RegisterView
from ui.console.reports import ReportsView
from ui.console.staff import StaffAdminView
from ui.console.subject import SubjectView
from ui.console.texts import role_text
from ui.console.worklist import WorklistView
from ui.widgets.page import Page, button, label


class ConsoleHost(Protocol):
    """What the console needs of the screen that opens it (the kiosk's `KioskFlow`)."""

    db: StudyDb | None
    staff: Staff | None

    @property
    def lang(self) -> str: ...

    def show_staff_home(self) -> None: ...

    def hand_over(self, subject_code: str, visit_code: str, page: ConsolePage) -> None: ...


def console_style() -> str:
    """The console's denser look (tables, smaller type), over the kiosk style sheet."""
    sheet = resource("style", "console.qss").read_text(encoding="utf-8")
    return sheet.replace("@ARROW@", resource("style", "console-arrow.svg").as_posix())


class ConsolePage(Page):
    """The console. `hand_over_requested(subject, visit)` asks the kiosk to hand over."""

    back_requested = Signal()
    hand_over_requested = Signal(str, str)

    def __init__(self, db: StudyDb, staff: Staff, lang: str) -> None:
        super().__init__(t(lang, "console.title"), max_width_mm=600)
        self.setProperty("console", True)
        self.setStyleSheet(console_style())
        self.db, self.staff, self.lang = db, staff, lang
        # Username and PIN at the first re-entry of credentials in this page's life, PIN after.
        self.reauth = ReauthSession()
        self.header.insertWidget(0, label(t(lang, "console.title"), "title", wrap=False))
        self.header.addWidget(
            label(
                t(
                    lang,
                    "console.signed_in",
                    username=staff.username,
                    role=role_text(lang, staff.role),
                ),
                "hint",
                wrap=False,
            )
        )
        self.stack = QStackedWidget()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("consoleTabs")
        self.worklist = WorklistView(db, staff, lang)
        self.worklist.subject_opened.connect(self.open_subject)
        self.worklist.hand_over_requested.connect(self.hand_over_requested)
        self.tabs.addTab(self.worklist, t(lang, "console.tab.worklist"))
        self.register = RegisterView(db, staff, lang)
        self.register.registered.connect(self._on_registered)
        self.tabs.addTab(self.register, t(lang, "console.tab.register"))
        self.reports = ReportsView(db, lang)
        self.tabs.addTab(self.reports, t(lang, "console.tab.reports"))
        self.exports = ExportView(db, lang)
        self.tabs.addTab(self.exports, t(lang, "console.tab.export"))
        self.conflicts = ConflictsView(db, lang, staff, self.reauth)
        self.conflicts.subject_opened.connect(self.open_subject)
        self.mismatches = MismatchesView(db, lang)
        # The conflicts and, beside them, the mismatches between kiosks: one tab.
        self.review = ReviewTab(self.conflicts, self.mismatches, lang)
        self.tabs.addTab(self.review, t(lang, "console.tab.conflicts"))
        self.staff_admin: StaffAdminView | None = None
        if staff.role == "admin":
            self.staff_admin = StaffAdminView(db, staff, lang)
            self.tabs.addTab(self.staff_admin, t(lang, "console.tab.staff"))
        self.stack.addWidget(self.tabs)
        self.subject: SubjectView | None = None
        self.add(self.stack, 1)
        back = button(t(lang, "console.back"))
        back.clicked.connect(self.back_requested)
        self.back_button = back
        self.footer.addWidget(back)
        self.footer.addStretch(1)
        # With the Conflicts tab: the switch to the mismatches between kiosks (and back).
        self.footer.addWidget(self.review.switch_button)
        self.tabs.currentChanged.connect(lambda *_: self._show_switch())
        self._show_switch()
        # Sizes as the console's style sheet makes them, before the window fits itself to them:
        # the layouts measured the children with the kiosk's type before, and keep those sizes
        # (which would widen the window past a portrait screen) until told to forget them.
        self.ensurePolished()
        for layout in self.findChildren(QLayout):
            layout.invalidate()

    def _show_switch(self) -> None:
        shown = self.subject is None and self.tabs.currentWidget() is self.review
        self.review.switch_button.setVisible(shown)

    def open_subject(self, subject_code: str) -> SubjectView:
        """Show one subject (scores, charts, corrections, history) in place of the tabs."""
        self.close_subject()
        view = SubjectView(self.db, self.staff, self.lang, subject_code, self.reauth)
        view.closed.connect(self.close_subject)
        self.subject = view
        self.stack.addWidget(view)
        self.stack.setCurrentWidget(view)
        # The view has its own way back; the room goes to its tables.
        self.back_button.hide()
        self._show_switch()
        return view

    def close_subject(self) -> None:
        """Back to the tabs (the worklist read again: a correction or a PDF may be done)."""
        view, self.subject = self.subject, None
        if view is not None:
            self.stack.removeWidget(view)
            view.hide()
            view.deleteLater()
            self.worklist.refresh()
        self.stack.setCurrentWidget(self.tabs)
        self.back_button.show()
        self._show_switch()

    def show_error(self, text: str) -> None:
        """A refusal from the kiosk (e.g. the visit could not be started) under the worklist."""
        self.close_subject()
        self.tabs.setCurrentWidget(self.worklist)
        self.worklist.show_error(text)

    def _on_registered(self, _subject_code: str) -> None:
        self.worklist.refresh()


def console_page_for(host: ConsoleHost) -> QWidget:
    """A fresh `ConsolePage` for the staff signed in on `host`, wired to its navigation."""
    assert host.db is not None and host.staff is not None
    page = ConsolePage(host.db, host.staff, host.lang)
    page.back_requested.connect(host.show_staff_home)
    page.hand_over_requested.connect(lambda s, v: host.hand_over(s, v, page))
    return page
