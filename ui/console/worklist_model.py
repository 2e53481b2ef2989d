"""WorklistModel: the worklist's matrix, a subject a row: code, day 0, then each scheduled visit's
status today (`storage.worklist`), the cells of statuses not chosen by the filters faded; each
cell's tooltip says its visit window, a withdrawn subject's its withdrawal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from respine_desktop.i18n import t
from respine_desktop.storage import ACTIONABLE, Withdrawal, WorklistEntry
from ui.console.texts import status_colour, status_text

STATUS_ROLE = Qt.ItemDataRole.UserRole
FIXED_COLUMNS = 2  # subject, day 0
_FADED = QColor("#9aa3ad")

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class SubjectRow:
    """One subject of the worklist with its visits by code."""

    code: str
    day0: date
    visits: dict[str, WorklistEntry]


class WorklistModel(QAbstractTableModel):
    """The matrix: subject, day 0, then one status per visit of the schedule."""

    def __init__(self, lang: str, visit_codes: tuple[str, ...], visit_names: list[str]) -> None:
        super().__init__()
        self.lang = lang
        self.visit_codes = visit_codes
        self.visit_names = visit_names
        self.rows: list[SubjectRow] = []
        self.shown: frozenset[str] = frozenset(ACTIONABLE)
        self.withdrawn: dict[str, Withdrawal] = {}

    def set_rows(
        self, entries: Iterable[WorklistEntry], shown: Iterable[str], gone: Iterable[Withdrawal]
    ) -> None:
        """Every subject with a visit in a `shown` status, in subject order."""
        self.beginResetModel()
        self.withdrawn = {w.subject_code: w for w in gone}
        self.shown = frozenset(shown)
        by_subject: dict[str, SubjectRow] = {}
        for entry in entries:
            row = by_subject.get(entry.subject_code)
            if row is None:
                row = by_subject[entry.subject_code] = SubjectRow(
                    entry.subject_code, entry.day0, {}
                )
            row.visits[entry.visit_code] = entry
        self.rows = [
            r for r in by_subject.values() if any(e.status in self.shown for e in r.visits.values())
        ]
        self.endResetModel()

    def entry(self, index: Index) -> WorklistEntry | None:
        if not index.isValid() or index.column() < FIXED_COLUMNS:
            return None
        code = self.visit_codes[index.column() - FIXED_COLUMNS]
        return self.rows[index.row()].visits.get(code)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else FIXED_COLUMNS + len(self.visit_codes)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section == 0:
            return t(self.lang, "console.worklist.subject")
        if section == 1:
            return t(self.lang, "console.worklist.day0")
        n = section - FIXED_COLUMNS
        return f"{self.visit_codes[n]}\n{self.visit_names[n]}"

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if index.column() < FIXED_COLUMNS:
            return self._subject_data(row, index.column(), role)
        entry = self.entry(index)
        if entry is None:
            return None
        chosen = entry.status in self.shown
        if role == Qt.ItemDataRole.DisplayRole:
            return status_text(self.lang, entry.status)
        if role == STATUS_ROLE:
            return entry.status
        if role == Qt.ItemDataRole.BackgroundRole:
            return status_colour(entry.status) if chosen else None
        if role == Qt.ItemDataRole.ForegroundRole:
            return None if chosen else _FADED
        if role == Qt.ItemDataRole.ToolTipRole:
            return t(
                self.lang,
                "console.worklist.cell_tip",
                subject=row.code,
                visit=entry.visit_code,
                status=status_text(self.lang, entry.status),
                opens=entry.window_opens.isoformat(),
                target=entry.target_date.isoformat(),
                closes=entry.window_closes.isoformat(),
            )
        return None

    def _subject_data(self, row: SubjectRow, column: int, role: int) -> object:
        gone = self.withdrawn.get(row.code)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 1:
                return row.day0.isoformat()
            return (
                t(self.lang, "console.worklist.withdrawn", subject=row.code) if gone else row.code
            )
        if role == Qt.ItemDataRole.ToolTipRole and gone is not None:
            day = gone.withdrawn_on.isoformat()
            return t(self.lang, "console.withdrawal.shown", day=day, reason=gone.reason)
        return None
