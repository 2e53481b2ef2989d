"""WorklistView: a site's subject × visit matrix with each visit's status, filters and actions.

Rows are subjects, columns their scheduled visits; a cell shows the visit's status today (due
today, overdue, missed, in progress, parked, complete, not yet due). The site and status filters
keep the subjects with at least one visit in a chosen status, and fade the other cells. On a
chosen cell staff open the subject, start the kiosk for the visit (due, overdue or interrupted)
or record the visit as missed (with a reason). Statuses come from `storage.worklist`.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import (
    QItemSelectionModel,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.storage import (
    ACTIONABLE,
    VISIT_STATUSES,
    Staff,
    StorageError,
    StudyDb,
    WorklistEntry,
)
from ui.console.layout import TAB_MARGIN
from ui.console.missed import MissedPanel
from ui.console.texts import STATUS_COLOURS, refused, status_text, visit_label
from ui.console.worklist_model import FIXED_COLUMNS, WorklistModel
from ui.widgets.page import button, label
from ui.widgets.signals import emit
from ui.widgets.tap_details import details_line
from ui.widgets.touch_scroll import touch_scroll

STATUS_COLUMNS = 4  # status boxes per row of the filters
# Statuses from which the kiosk can start (or resume) a visit, and those that may be marked missed.
STARTABLE = frozenset(ACTIONABLE)
MISSABLE = frozenset({"not_yet_due", "due", "overdue"})


class WorklistView(QWidget):
    """Filters, the matrix, and the actions on the chosen subject and visit."""

    subject_opened = Signal(str)
    hand_over_requested = Signal(str, str)

    def __init__(self, db: StudyDb, staff: Staff, lang: str) -> None:
        super().__init__()
        self.db, self.staff, self.lang = db, staff, lang
        study = db.study
        column = QVBoxLayout(self)
        column.setContentsMargins(TAB_MARGIN, TAB_MARGIN, TAB_MARGIN, TAB_MARGIN)
        filters = QWidget()
        filters.setLayout(self._filters())
        # Measured before the console's style sheet applies, the row would claim the width of
        # the kiosk's large type and widen the window: let it take the width it is given.
        filters.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        column.addWidget(filters)
        self.model = WorklistModel(
            lang, study.visit_codes, [visit_label(study, c, lang) for c in study.visit_codes]
        )
        self.table = QTableView()
        self.table.setObjectName("worklist")
        self.table.setAccessibleName(t(lang, "console.worklist.title"))
        self.table.setModel(self.model)
        touch_scroll(self.table)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().resizeSection(0, 150)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().resizeSection(1, 110)
        self.table.selectionModel().currentChanged.connect(lambda *_: self._refresh_actions())
        self.table.doubleClicked.connect(lambda *_: self.open_subject())
        column.addWidget(self.table, 1)
        # a cell's tooltip (its visit window, a withdrawal's reason) reachable by touch, as written
        column.addWidget(details_line(self.table))
        self.empty = label(t(lang, "console.worklist.empty"), "hint")
        column.addWidget(self.empty)
        column.addLayout(self._actions())
        self.missed = MissedPanel(db, staff, lang)
        self.missed.marked.connect(self._on_marked)
        column.addWidget(self.missed)
        self.error = label("", "error")
        self.error.hide()
        column.addWidget(self.error)
        self.refresh()

    def _filters(self) -> QHBoxLayout:
        """Site, then one box per visit status (shown or not; the boxes are the legend)."""
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(label(t(self.lang, "console.worklist.site"), "hint", wrap=False))
        self.site = QComboBox()
        self.site.setAccessibleName(t(self.lang, "console.worklist.site"))
        for code in storage.list_sites(self.db):
            self.site.addItem(code, code)
        self.site.setCurrentIndex(max(0, self.site.findData(self.db.site_code)))
        self.site.currentIndexChanged.connect(lambda *_: self.refresh())
        row.addWidget(self.site)
        row.addSpacing(16)
        # The boxes on two rows: one row of seven is wider than a portrait tablet.
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        row.addLayout(grid)
        self.status_boxes: dict[str, QCheckBox] = {}
        for n, status in enumerate(VISIT_STATUSES):
            box = QCheckBox(status_text(self.lang, status))
            box.setObjectName(f"status_{status}")
            box.setAccessibleName(
                t(self.lang, "console.worklist.show_status", status=status_text(self.lang, status))
            )
            box.setChecked(status in ACTIONABLE)
            # The filter doubles as the colour legend of the cells.
            box.setStyleSheet(
                f"QCheckBox {{ background-color: {STATUS_COLOURS[status]}; "
                "border: 1px solid #c3ccd5; border-radius: 6px; padding: 2px 6px; }"
            )
            box.toggled.connect(lambda *_: self.refresh())
            self.status_boxes[status] = box
            grid.addWidget(box, n // STATUS_COLUMNS, n % STATUS_COLUMNS)
        row.addStretch(1)
        return row

    def _actions(self) -> QVBoxLayout:
        """What is chosen, then the actions on it, on a line of their own (beside the chosen
        subject's text, a portrait tablet's 800 pixels were too few in French)."""
        rows = QVBoxLayout()
        self.chosen = label("", "hint")
        rows.addWidget(self.chosen)
        row = QHBoxLayout()
        row.addStretch(1)
        rows.addLayout(row)
        self.open_button = button(t(self.lang, "console.worklist.open"))
        self.open_button.clicked.connect(self.open_subject)
        self.missed_button = button(t(self.lang, "console.worklist.mark_missed"))
        self.missed_button.clicked.connect(self.ask_missed)
        self.start_button = button(t(self.lang, "console.worklist.start"), "primary")
        self.start_button.clicked.connect(self.start_visit)
        for widget in (self.open_button, self.missed_button, self.start_button):
            row.addWidget(widget)
        return rows

    # -- state ---------------------------------------------------------------------------------

    def shown_statuses(self) -> list[str]:
        return [s for s, box in self.status_boxes.items() if box.isChecked()]

    def set_statuses(self, statuses: Iterable[str]) -> None:
        """Show the subjects with a visit in one of `statuses` (as ticking the boxes does)."""
        wanted = set(statuses)
        for status, box in self.status_boxes.items():
            box.blockSignals(True)
            box.setChecked(status in wanted)
            box.blockSignals(False)
        self.refresh()

    def set_site(self, site_code: str) -> None:
        self.site.setCurrentIndex(self.site.findData(site_code))

    def subjects(self) -> list[str]:
        """The subject codes listed, top to bottom."""
        return [r.code for r in self.model.rows]

    def status_of(self, subject_code: str, visit_code: str) -> str | None:
        """The status shown for a subject's visit, or None if the subject is not listed."""
        for row in self.model.rows:
            if row.code == subject_code:
                entry = row.visits.get(visit_code)
                return entry.status if entry else None
        return None

    def select(self, subject_code: str, visit_code: str | None = None) -> bool:
        """Make a subject's visit (or the subject) the current cell; False if not listed."""
        for n, row in enumerate(self.model.rows):
            if row.code == subject_code:
                col = 0
                if visit_code is not None:
                    col = FIXED_COLUMNS + self.model.visit_codes.index(visit_code)
                self.table.selectionModel().setCurrentIndex(
                    self.model.index(n, col),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect,
                )
                return True
        return False

    def current(self) -> tuple[str | None, WorklistEntry | None]:
        """The chosen subject code and visit (None when a subject column is chosen)."""
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None, None
        return self.model.rows[index.row()].code, self.model.entry(index)

    # -- actions -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the worklist again (site and filters as set), keeping the chosen cell."""
        subject, entry = self.current()
        site = self.site.currentData() or self.db.site_code
        try:
            entries = storage.worklist(self.db, site, statuses=None)
        except StorageError as exc:
            self.show_error(refused(self.lang, exc))
            entries = []
        self.model.set_rows(entries, self.shown_statuses(), storage.list_withdrawals(self.db))
        self.empty.setVisible(not self.model.rows)
        if subject is not None:
            self.select(subject, entry.visit_code if entry else None)
        self._refresh_actions()

    def open_subject(self) -> None:
        subject, _ = self.current()
        if subject is not None:
            emit(self.subject_opened, subject)

    def start_visit(self) -> None:
        subject, entry = self.current()
        if subject is not None and entry is not None and entry.status in STARTABLE:
            self.error.hide()
            emit(self.hand_over_requested, subject, entry.visit_code)

    def ask_missed(self) -> None:
        subject, entry = self.current()
        if subject is not None and entry is not None and entry.status in MISSABLE:
            self.missed.ask(
                subject, entry.visit_code, visit_label(self.db.study, entry.visit_code, self.lang)
            )

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _on_marked(self, subject: str, visit: str) -> None:
        self.refresh()
        self.chosen.setText(t(self.lang, "console.missed.done", subject=subject, visit=visit))

    def _refresh_actions(self) -> None:
        subject, entry = self.current()
        status = entry.status if entry is not None else None
        self.open_button.setEnabled(subject is not None)
        self.start_button.setEnabled(status in STARTABLE)
        self.missed_button.setEnabled(status in MISSABLE)
        if subject is None:
            self.chosen.setText(t(self.lang, "console.worklist.choose"))
        elif entry is None:
            self.chosen.setText(subject)
        else:
            self.chosen.setText(
                t(
                    self.lang,
                    "console.worklist.chosen",
                    subject=subject,
                    visit=visit_label(self.db.study, entry.visit_code, self.lang),
                    status=status_text(self.lang, entry.status),
                )
            )
        # The reason asked for belongs to one visit: choosing another closes the question.
        chosen_visit = entry.visit_code if entry is not None else None
        asked = (self.missed.subject_code, self.missed.visit_code)
        if self.missed.isVisible() and (subject, chosen_visit) != asked:
            self.missed.cancel()
