"""VisitPickerPage: staff search a subject by id and choose one of its visits open today."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QListWidget, QListWidgetItem

from respine_desktop.i18n import t
from ui.widgets.fields import line_edit
from ui.widgets.keyboard import OnScreenKeyboard, keyboard_toggle
from ui.widgets.page import Page, button, label
from ui.widgets.signals import emit
from ui.widgets.touch_scroll import touch_scroll
from ui.widgets.units import mm

CODE_ROLE = Qt.ItemDataRole.UserRole


def _list(name: str) -> QListWidget:
    widget = QListWidget()
    widget.setAccessibleName(name)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    widget.setWordWrap(True)
    touch_scroll(widget)
    return widget


class VisitPickerPage(Page):
    """Search field, matching subjects, the chosen subject's visits, and Hand over.

    The flow answers `search_changed` with `show_subjects` and `subject_chosen` with
    `show_visits`; `hand_over_requested(subject_code, visit_code)` ends the page's work.
    """

    search_changed = Signal(str)
    subject_chosen = Signal(str)
    hand_over_requested = Signal(str, str)
    cancelled = Signal()

    def __init__(self, lang: str) -> None:
        super().__init__(t(lang, "staff.picker.title"), max_width_mm=170)
        self.lang = lang
        self.title = label(t(lang, "staff.picker.title"), "title")
        self.add(self.title)
        self.search = line_edit(t(lang, "staff.picker.search"))
        self.search.setPlaceholderText(t(lang, "staff.picker.search_hint"))
        self.search.textChanged.connect(self.search_changed)
        self.search_hint = label(t(lang, "staff.picker.search"), "hint")
        self.add(self.search_hint)
        self.keyboard = OnScreenKeyboard(self.search, lang=lang)
        # The keys take the visits' room while typing; choosing a subject puts them away.
        self.keyboard_button = keyboard_toggle(
            self.keyboard, lambda on: self._show_visit_list(not on)
        )
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        row.addWidget(self.keyboard_button)
        self.column.addLayout(row)
        self.add(self.keyboard)
        self.subjects = _list(t(lang, "staff.picker.subjects"))
        self.subjects.currentItemChanged.connect(self._on_subject_changed)
        self.subjects.setMinimumHeight(mm(18, self))  # two rows: room for the keys when shown
        self.add(self.subjects, 2)
        self.visits_title = label("", "subtitle")
        self.add(self.visits_title)
        self.visits = _list(self.visits_title.text())
        self.visits.currentItemChanged.connect(lambda *_: self._refresh())
        self.visits.itemActivated.connect(lambda *_: self._on_hand_over())
        self.visits.setMinimumHeight(mm(30, self))
        self.add(self.visits, 1)
        self.error = label("", "error")
        self.error.hide()
        self.add(self.error)
        back = button(t(lang, "common.back"))
        back.clicked.connect(self.cancelled)
        self.hand_over_button = button(t(lang, "staff.picker.hand_over"), "primary")
        self.hand_over_button.clicked.connect(self._on_hand_over)
        self.footer.addWidget(back)
        self.footer.addStretch(1)
        self.footer.addWidget(self.hand_over_button)
        self._refresh()

    def focus_first(self) -> None:
        self.search.setFocus()

    def show_subjects(self, codes: Sequence[str], notes: Mapping[str, str] | None = None) -> None:
        """`codes` in the order shown (the flow puts those due today first); `notes` shown
        beside a code (e.g. "due today")."""
        self.subjects.clear()
        for code in codes:
            note = (notes or {}).get(code)
            text = (
                t(self.lang, "staff.picker.subject_row", subject=code, status=note)
                if note
                else code
            )
            item = QListWidgetItem(text)
            item.setData(CODE_ROLE, code)
            self.subjects.addItem(item)
        if not codes:
            empty = QListWidgetItem(t(self.lang, "staff.picker.no_subjects"))
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.subjects.addItem(empty)
        self.show_visits("", [])

    def show_visits(self, subject_code: str, visits: Sequence[tuple[str, str]]) -> None:
        """`visits` as (visit code, text shown) pairs."""
        self.visits.clear()
        self.visits_title.setText(
            t(self.lang, "staff.picker.visits", subject=subject_code) if subject_code else ""
        )
        self.visits.setAccessibleName(self.visits_title.text())
        for code, text in visits:
            item = QListWidgetItem(text)
            item.setData(CODE_ROLE, code)
            self.visits.addItem(item)
        if subject_code and not visits:
            empty = QListWidgetItem(t(self.lang, "staff.picker.no_visits"))
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.visits.addItem(empty)
        if len(visits) == 1:
            self.visits.setCurrentRow(0)
        self._refresh()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def selected(self) -> tuple[str, str] | None:
        subject, visit = self.subjects.currentItem(), self.visits.currentItem()
        if subject is None or visit is None:
            return None
        subject_code, visit_code = subject.data(CODE_ROLE), visit.data(CODE_ROLE)
        if not subject_code or not visit_code:
            return None
        return str(subject_code), str(visit_code)

    def _show_visit_list(self, shown: bool) -> None:
        # While typing, the field (its placeholder says what to type) and the keys matter.
        self.title.setVisible(shown)
        self.search_hint.setVisible(shown)
        self.visits_title.setVisible(shown)
        self.visits.setVisible(shown)

    def _on_subject_changed(self, current: QListWidgetItem | None, *_: object) -> None:
        code = current.data(CODE_ROLE) if current is not None else None
        if code:
            self.keyboard_button.setChecked(False)
            emit(self.subject_chosen, str(code))
        self._refresh()

    def _refresh(self) -> None:
        self.hand_over_button.setEnabled(self.selected() is not None)

    def _on_hand_over(self) -> None:
        chosen = self.selected()
        if chosen is None:
            self.show_error(t(self.lang, "staff.picker.choose_visit"))
            return
        emit(self.hand_over_requested, *chosen)
