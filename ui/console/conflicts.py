"""ConflictsView: the questionnaires two kiosks both recorded, their versions side by side.

A hub merging site bundles keeps both sessions when two kiosks did the same subject × visit ×
instrument and flags the conflict. This tab lists the flagged conflicts (subject, visit,
questionnaire, kiosks, how many items differ, which version counts), and for the chosen one
shows each version's facts (kiosk, state, times, who submitted, answers) and its answers item by
item, the items that differ marked in colour and in words. The rule is stated on the screen: the
version submitted last counts unless a reviewer chose one, and both are kept (CSV answers_long and
ODM ``--history`` carry both). Everything comes from `storage.review_conflicts`; the tables
are filled by `ui.console.conflict_tables`.

Investigators and administrators (`storage.RESOLUTION_ROLES`) may choose the version that counts
for the visit: they pick a version in the versions table and press "Choose this version…"; the
`ResolutionPanel` below asks for the mandatory reason and `storage.resolve_conflict` records it
(storage keeps the rules). Every role sees a visit's resolution: who chose, when and why.

The tab is always there: an empty list says, after an import, that nothing needs review; and
whether there are conflicts is only known by reading the audit log, which is done when the tab
is first shown (or refreshed), not each time the console opens.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.storage import ConflictReview, ConflictVersion, Staff, StudyDb
from ui.console.conflict_resolution import ResolutionPanel, may_resolve
from ui.console.conflict_tables import (
    ROW_HEIGHT,
    cell,
    chosen_name,
    counts_text,
    device_names,
    fill_items,
    fill_versions,
    instrument_name,
    read_only,
    table_text,
)
from ui.console.reauth import ReauthSession
from ui.console.review_list import ReviewList
from ui.console.texts import local_time, visit_label
from ui.widgets.page import button, label
from ui.widgets.signals import emit
from ui.widgets.tap_details import details_line
from ui.widgets.touch_scroll import touch_scroll


class ConflictsView(ReviewList):
    """The conflicts table, the rule, and the chosen conflict's versions side by side."""

    subject_opened = Signal(str)
    resolved = Signal(str, str)  # subject code, visit code: another version counts now

    COLUMNS = ("subject", "visit", "instrument", "devices", "differing", "counts", "flagged")
    VERSION_COLUMNS = (
        "device",
        "state",
        "started",
        "submitted",
        "submitted_by",
        "answers",
        "differs",
        "counted",
    )

    def __init__(
        self,
        db: StudyDb,
        lang: str,
        staff: Staff | None = None,
        reauth: ReauthSession | None = None,
    ) -> None:
        super().__init__(
            db, lang, "console.conflicts", empty_name="conflictsEmpty", rule_name="conflictRule"
        )
        # What the last choice did, where the list is read again after it.
        self.done = label("", "hint")
        self.done.setObjectName("conflictResolved")
        self.top.insertWidget(1, self.done, 1)
        self.staff = staff
        self.reviews: list[ConflictReview] = []
        column = self.column

        self.table = QTableWidget()
        self.table.setObjectName("conflicts")
        read_only(
            self.table,
            t(lang, "console.conflicts.title"),
            [t(lang, f"console.conflicts.{c}") for c in self.COLUMNS],
        )
        self.table.currentCellChanged.connect(lambda *_: self._show_current())
        self.table.activated.connect(lambda *_: self.open_subject())  # double click or Enter
        # At least four conflicts in sight, however much room the versions take.
        self.table.setMinimumHeight(
            self.table.horizontalHeader().sizeHint().height() + 4 * ROW_HEIGHT + 4
        )
        column.addWidget(self.table, 2)
        column.addWidget(details_line(self.table))

        self.detail = QWidget()
        details = QVBoxLayout(self.detail)
        details.setContentsMargins(0, 0, 0, 0)
        heading = QHBoxLayout()
        self.heading = label(t(lang, "console.conflicts.choose"), "subtitle")
        heading.addWidget(self.heading, 1)
        self.only_differing = QCheckBox(t(lang, "console.conflicts.only_differing"))
        self.only_differing.setAccessibleName(t(lang, "console.conflicts.only_differing"))
        self.only_differing.toggled.connect(lambda *_: self._filter_items())
        heading.addWidget(self.only_differing)
        self.resolve_button = button(t(lang, "console.conflicts.resolve.open"))
        self.resolve_button.clicked.connect(self.ask_resolution)
        # Coordinators see who chose and why, not the action.
        self.resolve_button.setVisible(may_resolve(staff))
        heading.addWidget(self.resolve_button)
        self.open_button = button(t(lang, "console.conflicts.open_subject"))
        self.open_button.clicked.connect(self.open_subject)
        heading.addWidget(self.open_button)
        details.addLayout(heading)
        # Why the version cannot be chosen: said on screen, not only in a tooltip.
        self.resolve_why = label("", "hint")
        self.resolve_why.hide()
        details.addWidget(self.resolve_why)
        self.reason = label("", "hint")
        self.reason.setObjectName("conflictReason")
        details.addWidget(self.reason)
        self.resolution = label("", "hint")
        self.resolution.setObjectName("conflictResolutionNote")
        self.resolution.hide()
        details.addWidget(self.resolution)
        self.versions = QTableWidget()
        self.versions.setObjectName("conflictVersions")
        read_only(
            self.versions,
            t(lang, "console.conflicts.versions"),
            [t(lang, f"console.conflicts.version.{c}") for c in self.VERSION_COLUMNS],
        )
        self.versions.currentCellChanged.connect(lambda *_: self._refresh_resolve())
        details.addWidget(self.versions)
        details.addWidget(details_line(self.versions))
        self.resolve_panel: ResolutionPanel | None = None
        if staff is not None and may_resolve(staff):
            self.resolve_panel = ResolutionPanel(db, staff, lang, reauth)
            self.resolve_panel.resolved.connect(self._on_resolved)
            self.resolve_panel.cancelled.connect(self._on_form_closed)
            details.addWidget(self.resolve_panel)
        self.items = QTableWidget()
        self.items.setObjectName("conflictItems")
        self.items.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        touch_scroll(self.items)
        details.addWidget(self.items, 3)
        details.addWidget(details_line(self.items))
        details.addStretch(0)  # the room of the hidden items while the reason form is open
        column.addWidget(self.detail, 5)
        self.show_list()

    # -- reading -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the conflicts again (after an import), keeping the chosen one if still listed."""
        kept = self.current()
        super().refresh()
        if kept is not None:
            self.select(kept.conflict.entry_id)

    def read(self) -> None:
        self.reviews = storage.review_conflicts(self.db)

    def clear(self) -> None:
        self.reviews = []

    def show_list(self) -> None:
        lang, study = self.lang, self.db.study
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.reviews))
        for r, review in enumerate(self.reviews):
            names = device_names(review)
            cells = [
                review.subject_code,
                f"{review.visit_code} · {visit_label(study, review.visit_code, lang)}",
                instrument_name(lang, review.instrument_id),
                " / ".join(names),
                t(
                    lang,
                    "console.conflicts.of",
                    count=len(review.differing_items),
                    total=len(review.items),
                ),
                counts_text(lang, review, names),
                local_time(review.conflict.flagged_at),
            ]
            for c, text in enumerate(cells):
                self.table.setItem(r, c, cell(text))
        self.table.blockSignals(False)
        have = bool(self.reviews)
        self.show_empty(have)
        self.table.setVisible(have)
        self.detail.setVisible(have)
        self.count.setText(
            t(lang, "console.conflicts.count", count=len(self.reviews)) if have else ""
        )
        if have:
            self.table.setCurrentCell(0, 0)
        self._show_current()

    # -- the chosen conflict -------------------------------------------------------------------

    def current(self) -> ConflictReview | None:
        row = self.table.currentRow()
        return self.reviews[row] if 0 <= row < len(self.reviews) else None

    def select(self, entry_id: str) -> bool:
        """Make the conflict flagged by audit entry `entry_id` the chosen one; False if absent."""
        for row, review in enumerate(self.reviews):
            if review.conflict.entry_id == entry_id:
                self.table.setCurrentCell(row, 0)
                return True
        return False

    def open_subject(self) -> None:
        review = self.current()
        if review is not None:
            emit(self.subject_opened, review.subject_code)

    def _show_current(self) -> None:
        review = self.current()
        self.open_button.setEnabled(review is not None)
        self.done.setText("")
        if self.resolve_panel is not None and self.resolve_panel.isVisible():
            self.resolve_panel.cancel()
        if review is None:
            self.heading.setText(t(self.lang, "console.conflicts.choose"))
            self.reason.setText("")
            self.resolution.hide()
            self.versions.setRowCount(0)
            self.items.setRowCount(0)
            self._refresh_resolve()
            return
        lang = self.lang
        self.heading.setText(
            t(
                lang,
                "console.conflicts.heading",
                subject=review.subject_code,
                visit=visit_label(self.db.study, review.visit_code, lang),
                instrument=instrument_name(lang, review.instrument_id),
                count=len(review.differing_items),
                total=len(review.items),
            )
        )
        self.reason.setText(
            t(
                lang,
                f"console.conflicts.reason.{review.reason}",
                device=chosen_name(review, device_names(review)),
            )
        )
        if review.resolution is not None:
            r = review.resolution
            self.resolution.setText(
                t(
                    lang,
                    "console.conflicts.resolution",
                    who=r.chosen_by_username or r.chosen_by[-6:],
                    when=local_time(r.chosen_at),
                    reason=r.reason,
                )
            )
        self.resolution.setVisible(review.resolution is not None)
        fill_versions(self.versions, self.lang, review)
        fill_items(self.items, self.lang, review)
        self._filter_items()
        self._refresh_resolve()

    # -- choosing the version that counts ------------------------------------------------------

    def current_version(self) -> int | None:
        """The index of the version picked in the versions table, if any."""
        review = self.current()
        row = self.versions.currentRow()
        return row if review is not None and 0 <= row < len(review.versions) else None

    def _blocker(self, review: ConflictReview | None, version: int | None) -> str | None:
        """Why the picked version cannot be chosen (a text key), or None if it can."""
        if review is None or version is None:
            return "console.conflicts.resolve.pick"
        picked: ConflictVersion = review.versions[version]
        if picked.state != "submitted":
            return "console.conflicts.resolve.not_submitted"
        if picked.chosen and review.reason == "chosen_by_review":
            return "console.conflicts.resolve.current"
        return None

    def _refresh_resolve(self) -> None:
        blocker = self._blocker(self.current(), self.current_version())
        self.resolve_button.setEnabled(blocker is None)
        self.resolve_button.setToolTip(t(self.lang, blocker) if blocker else "")
        self.resolve_why.setText(self.resolve_button.toolTip())
        self.resolve_why.setVisible(bool(blocker) and not self.resolve_button.isHidden())

    def ask_resolution(self) -> None:
        """Open the reason form for the picked version (investigators and administrators)."""
        review, version = self.current(), self.current_version()
        if self.resolve_panel is None or review is None or version is None:
            return
        if self._blocker(review, version) is not None:
            return
        self.done.setText("")
        self._show_form(True)
        self.resolve_panel.ask(review, version, device_names(review)[version])

    def _show_form(self, shown: bool) -> None:
        """While the reason form is open it takes the room of the list and of the item
        comparison (the heading still names the conflict): a tablet screen holds no more."""
        for widget in (self.rule, self.table, self.items, self.only_differing):
            widget.setVisible(not shown)
        self.resolve_button.setEnabled(not shown)
        if not shown:
            self._refresh_resolve()

    def _on_form_closed(self) -> None:
        self._show_form(False)

    def _on_resolved(self, subject: str, visit: str, session_id: str) -> None:
        self._on_form_closed()
        kept = self.current()
        self.refresh()
        if kept is not None:
            self.select(kept.conflict.entry_id)
        review = self.current()
        if review is not None:
            names = device_names(review)
            n = next((i for i, v in enumerate(review.versions) if v.session_id == session_id), None)
            if n is not None:
                self.done.setText(
                    t(
                        self.lang,
                        "console.conflicts.resolve.done",
                        version=n + 1,
                        device=names[n],
                        subject=subject,
                        visit=visit_label(self.db.study, visit, self.lang),
                    )
                )
        emit(self.resolved, subject, visit)

    def _filter_items(self) -> None:
        review = self.current()
        only = self.only_differing.isChecked()
        for r in range(self.items.rowCount()):
            differs = review is not None and review.items[r].differs
            self.items.setRowHidden(r, only and not differs)

    # -- reading back (tests, screenshots) -----------------------------------------------------

    def item_rows(self) -> list[list[str]]:
        """The item comparison as shown: item, each version's answer, the difference mark."""
        return [
            [table_text(self.items, r, c) for c in range(self.items.columnCount())]
            for r in range(self.items.rowCount())
            if not self.items.isRowHidden(r)
        ]
