"""ScoreTable: one subject's scores per visit, change from baseline with MCID, responder status.

Shows a `reports.PatientSummary` (the same numbers as the patient PDF, computed by the reports
package through the scoring API); numbers are rounded for display by `reports.fmt` only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from respine_desktop.i18n import t
from respine_desktop.reports import PatientSummary, ResponderStatus, VisitRow, fmt
from ui.console.texts import flag_text, status_colour, status_text

MCID_COLOUR = QColor("#cdebd5")
RESPONDER_COLOURS = {True: QColor("#cdebd5"), False: QColor("#f6c7c0"), None: QColor("#eeeeee")}


def measure_text(lang: str, key: str) -> str:
    return t(lang, f"console.measure.{key}")


def responder_text(lang: str, r: ResponderStatus) -> str:
    """One follow-up's responder status with the improvements it rests on."""
    if not r.has_data:
        return t(lang, "console.responder.no_data")
    return t(
        lang,
        "console.responder.detail",
        result=flag_text(lang, r.responder),
        vas=fmt.score("VAS", r.vas_improvement),
        vas_percent=fmt.percent(r.vas_percent),
        odi=fmt.score("ODI", r.odi_improvement),
        odi_percent=fmt.percent(r.odi_percent),
    )


def score_legend(lang: str, summary: PatientSummary) -> str:
    """What the table's SF-36 scores and MCID ticks mean (thresholds of the study)."""
    m = summary.study.mcid
    return t(
        lang,
        "console.scores.legend",
        sf36=summary.sf36_label,
        vas=f"{m.vas_points:g}",
        vas_pct=f"{m.vas_percent:g}",
        odi=f"{m.odi_points:g}",
        odi_pct=f"{m.odi_percent:g}",
        pcs=f"{m.pcs_points:g}",
        mcs=f"{m.mcs_points:g}",
    )


class ScoreTable(QTableWidget):
    """Rows: visit status, each measure, each change from baseline, responder; a column a visit."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        self.setObjectName("scoreTable")
        self.setAccessibleName(t(lang, "console.subject.scores"))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setDefaultSectionSize(24)
        self.setWordWrap(True)

    def show_summary(self, summary: PatientSummary) -> None:
        lang = self.lang
        visits = summary.visits
        self.clear()
        self.setColumnCount(len(visits))
        primary = summary.study.endpoint.visit
        headers = []
        for v in visits:
            extra = ""
            if v.code == summary.baseline_visit:
                extra = "\n" + t(lang, "console.scores.baseline")
            elif v.code == primary:
                extra = "\n" + t(lang, "console.scores.primary")
            headers.append(f"{v.code}{extra}")
        self.setHorizontalHeaderLabels(headers)
        rows: list[tuple[str, list[QTableWidgetItem]]] = []
        rows.append((t(lang, "console.scores.status"), [self._status(v) for v in visits]))
        for spec in summary.table_measures:
            cells = [_cell(fmt.score(spec.key, v.value(spec.key))) for v in visits]
            rows.append((measure_text(lang, spec.key), cells))
        for measure in ("VAS", "ODI", "PCS", "MCS"):
            if not any(c.measure == measure for c in summary.changes):
                continue
            cells = []
            for v in visits:
                change = summary.change(v.code, measure)
                if change is None:
                    cells.append(_cell(""))
                    continue
                text = fmt.signed(measure, change.change)
                item = _cell(text)
                if change.mcid:
                    item.setText(t(lang, "console.scores.with_mcid", change=text))
                    item.setBackground(MCID_COLOUR)
                cells.append(item)
            name = t(lang, "console.scores.change", measure=t(lang, f"console.abbr.{measure}"))
            rows.append((name, cells))
        responders = {r.visit: r for r in summary.responders}
        cells = []
        for v in visits:
            r = responders.get(v.code)
            if r is None:
                cells.append(_cell(""))
                continue
            item = _cell(flag_text(lang, r.responder) if r.has_data else fmt.MISSING)
            item.setToolTip(responder_text(lang, r))
            if r.has_data:
                item.setBackground(RESPONDER_COLOURS[r.responder])
            if r.primary:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            cells.append(item)
        rows.append((t(lang, "console.scores.responder"), cells))
        self.setRowCount(len(rows))
        self.setVerticalHeaderLabels([name for name, _ in rows])
        for n, (_, row_cells) in enumerate(rows):
            for c, item in enumerate(row_cells):
                self.setItem(n, c, item)
        # The status row holds the status and the date on two lines, whatever the column width.
        self.verticalHeader().resizeSection(0, self.fontMetrics().lineSpacing() * 2 + 10)

    def _status(self, visit: VisitRow) -> QTableWidgetItem:
        text = status_text(self.lang, visit.status)
        if visit.actual_date is not None:
            text += "\n" + visit.actual_date.isoformat()
        item = _cell(text)
        item.setBackground(status_colour(visit.status))
        if visit.missed_reason:
            item.setToolTip(visit.missed_reason)
        return item

    def text_at(self, row_name: str, visit_code: str) -> str:
        """The text of the cell of row `row_name` under visit `visit_code` (tests, reading)."""
        rows = [_header_text(self.verticalHeaderItem(r)) for r in range(self.rowCount())]
        cols = [_header_text(self.horizontalHeaderItem(c)) for c in range(self.columnCount())]
        item = self.item(rows.index(row_name), [c.split("\n")[0] for c in cols].index(visit_code))
        return item.text() if item is not None else ""


def _header_text(item: QTableWidgetItem | None) -> str:
    return item.text() if item is not None else ""


def _cell(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
    return item
