"""ScoreTable: one subject's scores per visit, change from baseline with MCID, responder status.

Shows a `reports.PatientSummary` (the same numbers as the patient PDF, computed by the reports
package through the scoring API); numbers are rounded for display by `reports.fmt` only.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyleOptionHeader,
    QTableWidget,
    QTableWidgetItem,
)

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
    """What the table's SF-36 scores and MCID ticks mean (thresholds of the study); the SF-36
    scoring named in `lang` (`summary.sf36_label` is the English name the PDFs print)."""
    m = summary.study.mcid
    return t(
        lang,
        "console.scores.legend",
        sf36=t(lang, f"console.scores.sf36.{summary.study.sf36_reported}"),
        vas=f"{m.vas_points:g}",
        vas_pct=f"{m.vas_percent:g}",
        odi=f"{m.odi_points:g}",
        odi_pct=f"{m.odi_percent:g}",
        pcs=f"{m.pcs_points:g}",
        mcs=f"{m.mcs_points:g}",
    )


# Room around a text inside a cell: the style's margins (3 px a side) and the grid line.
_CELL_PADDING = 8


class ScoreTable(QTableWidget):
    """Rows: visit status, each measure, each change from baseline, responder; a column a visit.

    Where the table is too narrow for its row labels on one line beside columns wide enough
    for their texts (a portrait tablet, large text, French labels), the labels wrap
    (`fit_columns`) so that no visit's heading or date is cut: a cut date or "M12 principa"
    reads as another value."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        self.setObjectName("scoreTable")
        self.setAccessibleName(t(lang, "console.subject.scores"))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setDefaultSectionSize(24)
        self.verticalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap
        )
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
        self.fit_columns()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def column_need(self) -> int:
        """The width a visit's column needs: its widest line of text (heading or cell)."""
        cells, heads = self.fontMetrics(), _SectionText(self.horizontalHeader())
        widest = 0
        for c in range(self.columnCount()):
            for line in _header_text(self.horizontalHeaderItem(c)).split("\n"):
                widest = max(widest, heads.width(line))
            for r in range(self.rowCount()):
                item = self.item(r, c)
                for line in (item.text() if item is not None else "").split("\n"):
                    widest = max(widest, cells.horizontalAdvance(line) + _CELL_PADDING)
        return widest

    def fit_columns(self) -> None:
        """The row labels' width: their natural one when the visits' columns still get what
        they need (`column_need`) beside it, else what is left them, the labels wrapping on two
        lines at most (the table would otherwise grow taller than a portrait screen and hide
        its last rows, the responder's, under a scroll); each row as tall as its label's lines
        and its cells' (`_lines`)."""
        header = self.verticalHeader()
        labels = [_header_text(self.verticalHeaderItem(r)) for r in range(self.rowCount())]
        text = _SectionText(header)
        natural = max((text.width(x) for x in labels), default=0)
        two_lines = max((text.two_lines(x) for x in labels), default=0)
        total = self.width() - 2 * self.frameWidth()
        if self.verticalScrollBar().isVisible():
            total -= self.verticalScrollBar().width()
        left = total - self.columnCount() * self.column_need()
        width = natural if left >= natural else max(left, two_lines)
        header.setFixedWidth(width)
        line = self.fontMetrics().lineSpacing()
        for r, label in enumerate(labels):
            tall = max(text.height(text.wrapped(label, width)), self._lines(r) * line + 10)
            header.resizeSection(r, max(header.defaultSectionSize(), tall))

    def _lines(self, row: int) -> int:
        """The most lines a cell of `row` holds (a status and its date, a change and its MCID
        tick: two)."""
        items = (self.item(row, c) for c in range(self.columnCount()))
        return max((x.text().count("\n") + 1 for x in items if x is not None), default=1)

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


class _SectionText:
    """A header's section size for a text, as its style makes it (the header's font, and the
    padding and border of ``QHeaderView::section`` in the console style sheet): `width` and
    `height` of a section holding a text, `wrapped` a text in lines that fit a width (at its
    spaces, as the section's word wrap breaks it)."""

    def __init__(self, header: QHeaderView) -> None:
        self.header = header
        self.option = QStyleOptionHeader()
        self.option.initFrom(header)
        self.option.orientation = header.orientation()
        self._sizes: dict[str, QSize] = {}

    def _size(self, text: str) -> QSize:
        if text not in self._sizes:
            self.option.text = text
            self._sizes[text] = self.header.style().sizeFromContents(
                QStyle.ContentsType.CT_HeaderSection, self.option, QSize(), self.header
            )
        return self._sizes[text]

    def width(self, text: str) -> int:
        return self._size(text).width()

    def height(self, text: str) -> int:
        return self._size(text).height()

    def two_lines(self, text: str) -> int:
        """The least width of a section holding `text` on at most two lines."""
        words = text.split()
        return min(
            (
                max(self.width(" ".join(words[:k])), self.width(" ".join(words[k:])))
                for k in range(1, len(words))
            ),
            default=self.width(text),
        )

    def wrapped(self, text: str, width: int) -> str:
        lines: list[str] = []
        for word in text.split():
            if lines and self.width(f"{lines[-1]} {word}") <= width:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return "\n".join(lines)


def _cell(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
    return item
