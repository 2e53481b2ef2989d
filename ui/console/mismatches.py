"""MismatchesView: the disagreements between kiosks that bundle imports flagged, beside conflicts.

A hub keeps its own copy where a kiosk's bundle truly disagrees (a subject's day 0, a visit
complete on one kiosk and missed on another, two dates of one complete visit) and flags a
``bundle.mismatch`` audit entry; `storage.list_mismatches` reads them back. This list shows each
one: subject, what differs, the hub's value, the bundle's value, what the hub keeps (its own
value; both rows of a fork, the last written counting), the kiosk that sent it, when it was
flagged. Nothing is changed here: staff check the source documents and correct where needed.

`ReviewTab` is the console's "Conflicts" tab: a switch between the conflicts (`ConflictsView`)
and this list.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.storage import Mismatch, StudyDb
from ui.console.conflict_tables import cell, read_only, table_text
from ui.console.conflicts import ConflictsView
from ui.console.review_list import ReviewList
from ui.console.texts import local_time, status_text, visit_label
from ui.widgets.page import button
from ui.widgets.tap_details import details_line

# a mismatch's field -> its words (console.mismatches.field.*), with its visit
_FIELDS = {
    "state": "state",
    "date": "date",
    "superseded_by": "fork",
    "first_answer": "twice",
    "instrument": "content",
}


def field_text(db: StudyDb, lang: str, mismatch: Mismatch) -> str:
    """What differs, in words ("Day 0", "State of 6 months", an answer replaced or first given
    on two kiosks: a fork, answers given on another questionnaire's content:
    `storage.bundle_merge`)."""
    if mismatch.field == "day0":
        return t(lang, "console.mismatches.field.day0")
    key = _FIELDS.get(mismatch.field, "other")
    visit = mismatch.visit_code or ""
    name = visit_label(db.study, visit, lang) if visit else ""
    return t(lang, f"console.mismatches.field.{key}", visit=name)


# a mismatch's field -> what the hub keeps (console.mismatches.outcome.*): its own value for a
# visit's or a subject's disagreement; the bundle's rows too for a fork or a foreign content
# (`storage.bundle_merge`); nothing said of a mismatch whose entry names no field this program
# knows (an entry of another version: its tooltip, the merge's sentence, says it)
_OUTCOMES = {
    "day0": "hub",
    "state": "hub",
    "date": "hub",
    "superseded_by": "fork",
    "first_answer": "fork",
    "instrument": "content",
}


def outcome_text(lang: str, mismatch: Mismatch) -> str:
    """What the hub keeps of a mismatch, in words ("" where it is not known)."""
    outcome = _OUTCOMES.get(mismatch.field)
    return t(lang, f"console.mismatches.outcome.{outcome}") if outcome else ""


def value_text(lang: str, mismatch: Mismatch, value: str) -> str:
    """A value as staff read it (a visit state in words; dates as stored; a questionnaire's
    version with the start of its checksum, a fork's rows by the end of their ids: the row's
    tooltip, `detail_text`, has them whole)."""
    if mismatch.field == "state" and value in ("missed", "complete"):
        return status_text(lang, value)
    if mismatch.field == "instrument":
        version, _, checksum = value.rpartition(" ")
        return f"{version} ({_start(checksum, len('sha256:') + 8)})" if version else value
    if mismatch.field in ("superseded_by", "first_answer"):
        return " ".join(_end(row, 8) for row in value.split())
    return value


def detail_text(db: StudyDb, lang: str, mismatch: Mismatch) -> str:
    """A mismatch in one sentence of the console's language, its values whole (a fork's row ids,
    a questionnaire's checksum): the row's tooltip and details line. A mismatch of a field this
    program does not know keeps the merge's own sentence."""
    if mismatch.field not in _OUTCOMES:
        return mismatch.text
    whole = mismatch.field not in ("superseded_by", "first_answer", "instrument")

    def value(text: str) -> str:
        return value_text(lang, mismatch, text) if whole else text

    return t(
        lang,
        "console.mismatches.detail",
        what=field_text(db, lang, mismatch),
        hub=value(mismatch.hub_value),
        bundle=value(mismatch.bundle_value),
        outcome=outcome_text(lang, mismatch),
    )


def _end(row_id: str, keep: int) -> str:
    """A row id by its end: a UUIDv7 starts with its time, the same for rows written within a
    minute (a fork's two rows could not be told apart by their start), and ends at random."""
    return row_id if len(row_id) <= keep + 1 else f"…{row_id[-keep:]}"


def _start(text: str, keep: int) -> str:
    return text if len(text) <= keep + 1 else f"{text[:keep]}…"


class MismatchesView(ReviewList):
    """The flagged mismatches, newest first (read when first shown, and on Refresh)."""

    COLUMNS = ("subject", "what", "hub", "bundle", "outcome", "device", "when")

    def __init__(self, db: StudyDb, lang: str) -> None:
        super().__init__(db, lang, "console.mismatches", empty_name="mismatchesEmpty")
        self.mismatches: list[Mismatch] = []
        self.table = QTableWidget()
        self.table.setObjectName("mismatches")
        read_only(
            self.table,
            t(lang, "console.mismatches.title"),
            [t(lang, f"console.mismatches.{c}") for c in self.COLUMNS],
        )
        self.column.addWidget(self.table, 1)
        # each row's whole sentence (its tooltip, `detail_text`), reachable by touch
        self.column.addWidget(details_line(self.table))
        self.show_list()

    def read(self) -> None:
        self.mismatches = storage.list_mismatches(self.db)

    def clear(self) -> None:
        self.mismatches = []

    def show_list(self) -> None:
        lang = self.lang
        self.table.setRowCount(len(self.mismatches))
        for r, m in enumerate(self.mismatches):
            detail = detail_text(self.db, lang, m)
            cells = (
                m.subject_code or "?",
                field_text(self.db, lang, m),
                value_text(lang, m, m.hub_value),
                value_text(lang, m, m.bundle_value),
                outcome_text(lang, m),
                m.device_label or m.device_id[:8],
                local_time(m.flagged_at),
            )
            for c, text in enumerate(cells):
                item = cell(text)
                item.setToolTip(detail)
                self.table.setItem(r, c, item)
        have = bool(self.mismatches)
        self.show_empty(have)
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
    """The "Conflicts" tab: the conflicts between kiosks' versions, or the mismatches.

    `switch_button` (placed by the console in its footer, shown with this tab: it takes no row
    of a screen the conflicts fill) shows the other list."""

    def __init__(self, conflicts: ConflictsView, mismatches: MismatchesView, lang: str) -> None:
        super().__init__()
        self.lang = lang
        self.conflicts, self.mismatches = conflicts, mismatches
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        self.stack.addWidget(conflicts)
        self.stack.addWidget(mismatches)
        column.addWidget(self.stack, 1)
        self.switch_button = button(t(lang, "console.review.mismatches"))
        self.switch_button.setObjectName("reviewSwitch")
        self.switch_button.clicked.connect(self.switch)
        self._show(conflicts)

    def switch(self) -> None:
        """The other list."""
        if self.stack.currentWidget() is self.conflicts:
            self.show_mismatches()
        else:
            self.show_conflicts()

    def show_mismatches(self) -> None:
        self._show(self.mismatches)

    def show_conflicts(self) -> None:
        self._show(self.conflicts)

    def _show(self, shown: QWidget) -> None:
        # Only the list shown takes room (a stack is otherwise as big as its biggest page).
        for page in (self.conflicts, self.mismatches):
            policy = QSizePolicy.Policy.Preferred if page is shown else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        self.stack.setCurrentWidget(shown)
        self.stack.updateGeometry()
        key = "console.review.mismatches" if shown is self.conflicts else "console.review.conflicts"
        self.switch_button.setText(t(self.lang, key))
        self.switch_button.setAccessibleName(self.switch_button.text())
