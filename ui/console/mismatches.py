"""MismatchesView: the disagreements between kiosks that bundle imports flagged, beside conflicts.

A hub keeps its own copy where a kiosk's bundle truly disagrees (a subject's day 0, a visit
complete on one kiosk and missed on another, two dates of one complete visit) and flags a
``bundle.mismatch`` audit entry; `storage.list_mismatches` reads them back. This list shows each
one: subject, what differs, the hub's value, the bundle's value, the kiosk that sent it, when it
was flagged. Nothing is changed here: staff check the source documents and correct where needed.

`ReviewTab` is the console's "Conflicts" tab: a switch between the conflicts (`ConflictsView`)
and this list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QStackedWidget,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.storage import Mismatch, StorageError, StudyDb
from ui.console.conflict_tables import cell, read_only, table_text
from ui.console.conflicts import ConflictsView
from ui.console.layout import TAB_MARGIN
from ui.console.texts import local_time, status_text, visit_label
from ui.widgets.page import button, label, restyle


def field_text(db: StudyDb, lang: str, mismatch: Mismatch) -> str:
    """What differs, in words ("Day 0", "State of 6 months")."""
    if mismatch.field == "day0":
        return t(lang, "console.mismatches.field.day0")
    key = mismatch.field if mismatch.field in ("state", "date") else "other"
    visit = mismatch.visit_code or ""
    name = visit_label(db.study, visit, lang) if visit else ""
    return t(lang, f"console.mismatches.field.{key}", visit=name)


def value_text(lang: str, mismatch: Mismatch, value: str) -> str:
    """A value as staff read it (a visit state in words; dates as stored)."""
    if mismatch.field == "state" and value in ("missed", "complete"):
        return status_text(lang, value)
    return value


class MismatchesView(QWidget):
    """The flagged mismatches, newest first (read when first shown, and on Refresh)."""

    COLUMNS = ("subject", "what", "hub", "bundle", "device", "when")

    def __init__(self, db: StudyDb, lang: str) -> None:
        super().__init__()
        self.db, self.lang = db, lang
        self.mismatches: list[Mismatch] = []
        self.loaded = False
        column = QVBoxLayout(self)
        column.setContentsMargins(TAB_MARGIN, TAB_MARGIN, TAB_MARGIN, TAB_MARGIN)
        top = QHBoxLayout()
        top.addWidget(label(t(lang, "console.mismatches.title"), "subtitle"), 1)
        self.count = label("", "hint", wrap=False)
        top.addWidget(self.count)
        self.refresh_button = button(t(lang, "console.conflicts.refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        column.addLayout(top)
        column.addWidget(label(t(lang, "console.mismatches.rule"), "hint"))
        self.empty = label(t(lang, "console.mismatches.empty"), "subtitle")
        self.empty.setObjectName("mismatchesEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(self.empty, 1)
        self.error = label("", "error")
        self.error.hide()
        column.addWidget(self.error)
        self.table = QTableWidget()
        self.table.setObjectName("mismatches")
        read_only(
            self.table,
            t(lang, "console.mismatches.title"),
            [t(lang, f"console.mismatches.{c}") for c in self.COLUMNS],
        )
        column.addWidget(self.table, 1)
        self._show()

    def showEvent(self, event: QShowEvent) -> None:
        # Reading scans the audit log: done when staff look, not at console start.
        if not self.loaded:
            self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        """Read the flagged mismatches again."""
        self.loaded = True
        self.error.hide()
        try:
            self.mismatches = storage.list_mismatches(self.db)
        except StorageError as exc:
            self.mismatches = []
            self.error.setText(t(self.lang, "console.error.refused", message=str(exc)))
            self.error.show()
        self._show()

    def _show(self) -> None:
        lang = self.lang
        self.table.setRowCount(len(self.mismatches))
        for r, m in enumerate(self.mismatches):
            cells = (
                m.subject_code or "?",
                field_text(self.db, lang, m),
                value_text(lang, m, m.hub_value),
                value_text(lang, m, m.bundle_value),
                m.device_label or m.device_id[:8],
                local_time(m.flagged_at),
            )
            for c, text in enumerate(cells):
                item = cell(text)
                item.setToolTip(m.text)
                self.table.setItem(r, c, item)
        have = bool(self.mismatches)
        self.empty.setVisible(self.loaded and not have and not self.error.isVisible())
        self.table.setVisible(have)
        self.count.setText(t(lang, "console.mismatches.count", count=len(self.mismatches)))
        self.count.setVisible(have)

    def rows(self) -> list[list[str]]:
        """The list as shown (tests, screenshots)."""
        return [
            [table_text(self.table, r, c) for c in range(self.table.columnCount())]
            for r in range(self.table.rowCount())
        ]


class ReviewTab(QWidget):
    """The "Conflicts" tab: the conflicts between kiosks' versions, or the mismatches."""

    def __init__(self, conflicts: ConflictsView, mismatches: MismatchesView, lang: str) -> None:
        super().__init__()
        self.conflicts, self.mismatches = conflicts, mismatches
        column = QVBoxLayout(self)
        column.setContentsMargins(TAB_MARGIN, TAB_MARGIN, TAB_MARGIN, 0)
        column.setSpacing(0)
        switch = QHBoxLayout()
        self.conflicts_button = button(t(lang, "console.review.conflicts"))
        self.mismatches_button = button(t(lang, "console.review.mismatches"))
        self.group = QButtonGroup(self)
        for n, choice in enumerate((self.conflicts_button, self.mismatches_button)):
            choice.setCheckable(True)
            self.group.addButton(choice, n)
            switch.addWidget(choice)
        switch.addStretch(1)
        column.addLayout(switch)
        self.stack = QStackedWidget()
        self.stack.addWidget(conflicts)
        self.stack.addWidget(mismatches)
        column.addWidget(self.stack, 1)
        self.group.idClicked.connect(self._show)
        self.conflicts_button.setChecked(True)
        self._show(0)

    def _show(self, index: int) -> None:
        """The list chosen; its switch button drawn as the current one (primary style)."""
        self.stack.setCurrentIndex(index)
        for n, choice in enumerate((self.conflicts_button, self.mismatches_button)):
            choice.setProperty("role", "primary" if n == index else "")
            restyle(choice)

    def show_mismatches(self) -> None:
        self.mismatches_button.click()

    def show_conflicts(self) -> None:
        self.conflicts_button.click()
