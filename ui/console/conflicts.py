"""ConflictsView: the questionnaires two kiosks both recorded, their versions side by side.

A hub merging site bundles keeps both sessions when two kiosks did the same subject × visit ×
instrument and flags the conflict. This tab lists the flagged conflicts (subject, visit,
questionnaire, kiosks, how many items differ, which version counts), and for the chosen one
shows each version's facts (kiosk, state, times, who submitted, answers) and its answers item by
item, the items that differ marked in colour and in words. The rule is stated on the screen: the
version submitted last counts unless a reviewer chose one, and both are kept (CSV answers_long and
ODM ``--history`` carry both). Everything comes from `storage.review_conflicts`.

Investigators and administrators (`storage.RESOLUTION_ROLES`) may choose the version that counts
for the visit: they pick a version in the versions table and press "Choose this version…"; the
`ResolutionPanel` below asks for the mandatory reason and `storage.resolve_conflict` records it
(storage keeps the rules). Every role sees a visit's resolution: who chose, when and why.

The tab is always there: an empty list says, after an import, that nothing needs review; and
whether there are conflicts is only known by reading the audit log, which is done when the tab
is first shown (or refreshed), not each time the console opens.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.instruments import load_instrument
from respine_desktop.storage import (
    RESOLUTION_ROLES,
    Answer,
    ConflictReview,
    ConflictVersion,
    Staff,
    StorageError,
    StudyDb,
)
from ui.console.layout import TAB_MARGIN
from ui.console.texts import answer_text, item_name, local_time, visit_label
from ui.widgets.page import button, label
from ui.widgets.reason_panel import ReasonPanel
from ui.widgets.signals import emit

DIFFERS = QColor("#ffe1b3")  # an item whose versions differ (also said in words: "differs")
COUNTS = QColor("#cdebd5")  # the version that counts
ROW_HEIGHT = 34  # a finger's width, for touch screens


def _read_only(table: QTableWidget, name: str, headers: Sequence[str]) -> None:
    table.setAccessibleName(name)
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setWordWrap(False)
    table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)


def _cell(text: str, background: QColor | None = None, bold: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(text)
    if background is not None:
        item.setBackground(background)
        item.setForeground(QColor("#1b2631"))  # dark text on the light highlight
    if bold:
        font = QFont(item.font())
        font.setBold(True)
        item.setFont(font)
    return item


def device_names(review: ConflictReview) -> list[str]:
    """Each version's kiosk as staff know it: its label, with the end of its id when two
    versions share the label (every kiosk made with the default label is "kiosk"; ids are
    time-ordered, so their ends tell them apart, not their starts)."""
    labels = [v.device_label or "" for v in review.versions]
    return [
        label_ if label_ and labels.count(label_) == 1 else f"{label_} {v.device_id[-6:]}".strip()
        for label_, v in zip(labels, review.versions, strict=True)
    ]


def _chosen_name(review: ConflictReview, names: Sequence[str]) -> str:
    return next((n for v, n in zip(review.versions, names, strict=True) if v.chosen), "")


def may_resolve(staff: Staff | None) -> bool:
    """Whether `staff`'s role is one storage lets choose the version that counts."""
    return staff is not None and staff.role in RESOLUTION_ROLES


class ResolutionPanel(ReasonPanel):
    """Shown under the versions by `ask(...)`: the mandatory reason, then Confirm or Cancel.

    Enter in the reason confirms, Escape cancels; storage checks the role, the reason and the
    session. `resolved(subject, visit, session id)` is emitted once the choice is recorded.
    """

    resolved = Signal(str, str, str)

    def __init__(self, db: StudyDb, staff: Staff, lang: str) -> None:
        super().__init__(
            db,
            staff,
            lang,
            hint=t(lang, "console.conflicts.resolve.hint"),
            reason=t(lang, "console.conflicts.resolve.reason"),
            confirm=t(lang, "console.conflicts.resolve.confirm"),
        )
        self.setObjectName("conflictResolution")
        self.subject_code = self.visit_code = self.session_id = ""

    def ask(self, review: ConflictReview, version: int, device: str) -> None:
        """Ask for the reason to make version `version` (0-based) of `review` count."""
        chosen = review.versions[version]
        self.subject_code, self.visit_code = review.subject_code, review.visit_code
        self.session_id = chosen.session_id
        self._open(
            t(
                self.lang,
                "console.conflicts.resolve.title",
                version=version + 1,
                device=device,
                subject=review.subject_code,
                visit=visit_label(self.db.study, review.visit_code, self.lang),
            )
        )

    def _pending(self) -> bool:
        return bool(self.session_id)

    def _record(self, reason: str) -> None:
        storage.resolve_conflict(
            self.db,
            self.subject_code,
            self.visit_code,
            self.session_id,
            staff=self.staff,
            reason=reason,
        )

    def _finish(self) -> None:
        done = (self.subject_code, self.visit_code, self.session_id)
        self._clear()
        emit(self.resolved, *done)

    def _clear(self) -> None:
        self.subject_code = self.visit_code = self.session_id = ""


def _counts_text(lang: str, review: ConflictReview, names: Sequence[str]) -> str:
    """The list's "version that counts" cell: the kiosk, and whether a reviewer chose it."""
    name = _chosen_name(review, names)
    if not name:
        return t(lang, "console.conflicts.other")
    if review.reason == "chosen_by_review":
        return t(lang, "console.conflicts.by_review", device=name)
    return name


def instrument_name(lang: str, instrument_id: str) -> str:
    instrument = load_instrument(instrument_id)
    return instrument.short_title.get(lang) or instrument.short_title.get("en") or instrument_id


class ConflictsView(QWidget):
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

    def __init__(self, db: StudyDb, lang: str, staff: Staff | None = None) -> None:
        super().__init__()
        self.db, self.lang, self.staff = db, lang, staff
        self.reviews: list[ConflictReview] = []
        self.loaded = False
        column = QVBoxLayout(self)
        column.setContentsMargins(TAB_MARGIN, TAB_MARGIN, TAB_MARGIN, TAB_MARGIN)
        top = QHBoxLayout()
        top.addWidget(label(t(lang, "console.conflicts.title"), "subtitle"), 1)
        # What the last choice did, where the list is read again after it.
        self.done = label("", "hint")
        self.done.setObjectName("conflictResolved")
        top.addWidget(self.done, 1)
        self.count = label("", "hint", wrap=False)
        top.addWidget(self.count)
        self.refresh_button = button(t(lang, "console.conflicts.refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        column.addLayout(top)
        self.rule = label(t(lang, "console.conflicts.rule"), "hint")
        self.rule.setObjectName("conflictRule")
        column.addWidget(self.rule)
        self.empty = label(t(lang, "console.conflicts.empty"), "subtitle")
        self.empty.setObjectName("conflictsEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(self.empty, 1)
        self.error = label("", "error")
        self.error.hide()
        column.addWidget(self.error)

        self.table = QTableWidget()
        self.table.setObjectName("conflicts")
        _read_only(
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
        self.reason = label("", "hint")
        self.reason.setObjectName("conflictReason")
        details.addWidget(self.reason)
        self.resolution = label("", "hint")
        self.resolution.setObjectName("conflictResolutionNote")
        self.resolution.hide()
        details.addWidget(self.resolution)
        self.versions = QTableWidget()
        self.versions.setObjectName("conflictVersions")
        _read_only(
            self.versions,
            t(lang, "console.conflicts.versions"),
            [t(lang, f"console.conflicts.version.{c}") for c in self.VERSION_COLUMNS],
        )
        self.versions.currentCellChanged.connect(lambda *_: self._refresh_resolve())
        details.addWidget(self.versions)
        self.resolve_panel: ResolutionPanel | None = None
        if staff is not None and may_resolve(staff):
            self.resolve_panel = ResolutionPanel(db, staff, lang)
            self.resolve_panel.resolved.connect(self._on_resolved)
            self.resolve_panel.cancelled.connect(self._on_form_closed)
            details.addWidget(self.resolve_panel)
        self.items = QTableWidget()
        self.items.setObjectName("conflictItems")
        self.items.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        details.addWidget(self.items, 3)
        details.addStretch(0)  # the room of the hidden items while the reason form is open
        column.addWidget(self.detail, 5)
        self._show_list()

    # -- reading -------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        # Reading the conflicts scans the audit log: done when staff look, not at console start.
        if not self.loaded:
            self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        """Read the conflicts again (after an import), keeping the chosen one if still listed."""
        kept = self.current()
        self.loaded = True
        self.error.hide()
        try:
            self.reviews = storage.review_conflicts(self.db)
        except StorageError as exc:
            self.reviews = []
            self.error.setText(t(self.lang, "console.error.refused", message=str(exc)))
            self.error.show()
        self._show_list()
        if kept is not None:
            self.select(kept.conflict.entry_id)

    def _show_list(self) -> None:
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
                _counts_text(lang, review, names),
                local_time(review.conflict.flagged_at),
            ]
            for c, text in enumerate(cells):
                self.table.setItem(r, c, _cell(text))
        self.table.blockSignals(False)
        have = bool(self.reviews)
        self.empty.setVisible(self.loaded and not have and not self.error.isVisible())
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
                device=_chosen_name(review, device_names(review)),
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
        self._show_versions(review)
        self._show_items(review)
        self._refresh_resolve()

    def _show_versions(self, review: ConflictReview) -> None:
        lang = self.lang
        names = device_names(review)
        self.versions.setRowCount(len(review.versions))
        for r, v in enumerate(review.versions):
            submitted_by = v.submitted_by or (
                t(lang, "console.conflicts.patient") if v.submitted_at else "\u2013"
            )
            cells = [
                f"{r + 1} · {names[r]}",
                t(lang, f"console.conflicts.state.{v.state}"),
                local_time(v.started_at),
                local_time(v.submitted_at) if v.submitted_at else "\u2013",
                submitted_by,
                str(v.answer_count),
                str(v.differing_items),
                t(lang, "console.conflicts.counts_yes" if v.chosen else "console.conflicts.kept"),
            ]
            colour = COUNTS if v.chosen else None
            for c, text in enumerate(cells):
                self.versions.setItem(r, c, _cell(text, colour, bold=v.chosen))
        # As tall as its rows: the room below goes to the items.
        height = self.versions.horizontalHeader().sizeHint().height()
        height += ROW_HEIGHT * len(review.versions) + 2 * self.versions.frameWidth()
        self.versions.setFixedHeight(height)
        self.versions.setCurrentCell(-1, -1)  # a version is picked on purpose, not by default

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

    def _show_items(self, review: ConflictReview) -> None:
        lang = self.lang
        headers = [t(lang, "console.conflicts.item")]
        for n, (v, name) in enumerate(zip(review.versions, device_names(review), strict=True)):
            mark = f" \u2713 {t(lang, 'console.conflicts.counts_yes')}" if v.chosen else ""
            headers.append(f"{n + 1} · {name}{mark}")
        headers.append(t(lang, "console.conflicts.difference"))
        self.items.clear()
        _read_only(self.items, t(lang, "console.conflicts.items"), headers)
        # Side by side: the versions share the width (long answers elide; the cell's tooltip
        # has the full text), the item names and the difference mark take what they need.
        header = self.items.horizontalHeader()
        header.setStretchLastSection(False)
        for c in range(1, len(headers) - 1):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch)
        self.items.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.items.setRowCount(len(review.items))
        for r, row in enumerate(review.items):
            colour = DIFFERS if row.differs else None
            cells = [item_name(lang, review.instrument_id, row.item_id)]
            cells += [self._answer(review.instrument_id, row.item_id, a) for a in row.answers]
            cells.append(t(lang, "console.conflicts.differs") if row.differs else "")
            for c, text in enumerate(cells):
                self.items.setItem(r, c, _cell(text, colour, bold=row.differs and c > 0))
        self._filter_items()

    def _answer(self, instrument_id: str, item_id: str, answer: Answer | None) -> str:
        if answer is None:
            return t(self.lang, "console.conflicts.no_answer")
        value = answer.value if isinstance(answer.value, int | float) else None
        return answer_text(self.lang, instrument_id, item_id, value, answer.status)

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
            [self._text(self.items, r, c) for c in range(self.items.columnCount())]
            for r in range(self.items.rowCount())
            if not self.items.isRowHidden(r)
        ]

    @staticmethod
    def _text(table: QTableWidget, row: int, column: int) -> str:
        item = table.item(row, column)
        return item.text() if item is not None else ""
