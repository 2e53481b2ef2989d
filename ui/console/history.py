"""The subject's history: corrections (original and new value, who, when, why) and audit entries.

Corrections come from `reports.PatientSummary.corrections` (the original rows are kept by
storage and shown here beside the new ones); the audit table lists
`storage.audit_entries(subject_code=...)`, oldest first, with a short reading of each payload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from respine_desktop.i18n import t, texts
from respine_desktop.reports import Correction
from respine_desktop.storage import ROW_IMAGES_KEY, AuditEntry
from ui.console.texts import answer_text, item_name, local_time
from ui.widgets.touch_scroll import touch_scroll

# Payload keys that are plumbing (ids, hashes, stored score sets), not something to read.
_HIDDEN = frozenset(
    {"digest", "session_id", "device_id", "scores", "auto_skipped", "answers", "supersedes"}
) | {ROW_IMAGES_KEY}  # the rows' images: for `verify`, not for reading


def _set_up(table: QTableWidget, name: str, headers: Sequence[str]) -> None:
    """Read-only rows, wrapped text, columns sized to their contents, the last one stretched."""
    table.setAccessibleName(name)
    touch_scroll(table)
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    # One line per entry (the full text is the cell's tooltip): long histories stay readable.
    table.setWordWrap(False)
    table.verticalHeader().setDefaultSectionSize(28)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(r, c, item)


def table_texts(table: QTableWidget) -> list[list[str]]:
    """Every cell's text, row by row (for reading a table back, e.g. in tests)."""
    rows = []
    for r in range(table.rowCount()):
        cells = [table.item(r, c) for c in range(table.columnCount())]
        rows.append([item.text() if item is not None else "" for item in cells])
    return rows


class CorrectionList(QTableWidget):
    """One row per correction: visit, item, original, new value, by, when, reason."""

    COLUMNS = ("visit", "item", "old", "new", "by", "at", "reason")

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        _set_up(
            self,
            t(lang, "console.corrections.title"),
            [t(lang, f"console.corrections.{c}") for c in self.COLUMNS],
        )

    def show_corrections(self, corrections: Sequence[Correction]) -> None:
        lang = self.lang
        rows = []
        for c in corrections:
            rows.append(
                [
                    c.visit,
                    item_name(lang, c.instrument_id, c.item_id),
                    answer_text(lang, c.instrument_id, c.item_id, c.old_value, c.old_status),
                    answer_text(lang, c.instrument_id, c.item_id, c.new_value, c.new_status),
                    c.by,
                    local_time(c.at),
                    c.reason,
                ]
            )
        _fill(self, rows)


def payload_text(payload: Mapping[str, object]) -> str:
    """A short reading of an audit payload: ``key: value`` pairs, answers as ``item = value``."""
    parts = []
    answers = payload.get("answers")
    if isinstance(answers, list):
        for entry in answers:
            if isinstance(entry, list) and len(entry) >= 3:
                parts.append(f"{entry[1]} = {'skipped' if entry[2] is None else entry[2]}")
    for key, value in sorted(payload.items()):
        if key in _HIDDEN or value is None or value == [] or value == {}:
            continue
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


def action_text(lang: str, action: str) -> str:
    """An audit action in words ("Answer corrected"); an action without words here (another
    version's) by its code, the name audit_trail.csv has ("answer.corrected")."""
    key = f"console.audit.action.{action}"
    return t(lang, key) if key in texts(lang) else action


class AuditTable(QTableWidget):
    """The subject's audit entries: when, who, what, details."""

    COLUMNS = ("at", "who", "action", "details")

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        _set_up(
            self,
            t(lang, "console.audit.title"),
            [t(lang, f"console.audit.{c}") for c in self.COLUMNS],
        )

    def show_entries(self, entries: Sequence[AuditEntry], names: Mapping[str, str]) -> None:
        """`names`: staff usernames by staff id (an entry without actor is the patient/system)."""
        nobody = t(self.lang, "console.audit.no_actor")
        _fill(
            self,
            [
                [
                    local_time(e.at),
                    names.get(e.actor, e.actor) if e.actor else nobody,
                    action_text(self.lang, e.action),
                    payload_text(e.payload),
                ]
                for e in entries
            ],
        )
        # the action's code, as audit_trail.csv names it, in its cell's tooltip (and details line)
        for r, e in enumerate(entries):
            cell = self.item(r, 2)
            if cell is not None and cell.text() != e.action:
                cell.setToolTip(f"{cell.text()} ({e.action})")
