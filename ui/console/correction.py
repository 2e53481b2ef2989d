"""CorrectionPanel: correct one answer of a submitted visit (correcting roles only, with a reason
and the credentials re-entered, `ui.console.reauth`).

Storage does the work and keeps the rules: the role (`storage.CORRECTION_ROLES`), the mandatory
reason, the original row kept and superseded, the scores recomputed, the audit entries. Other
roles see the action disabled with the reason why.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.instruments import Item, load_instrument
from respine_desktop.reports import PatientSummary
from respine_desktop.storage import (
    CORRECTION_ROLES,
    SKIPPED,
    AnswerValue,
    Skipped,
    Staff,
    StorageError,
    StudyDb,
)
from ui.console.layout import FormGrid
from ui.console.reauth import ReauthFields, ReauthSession
from ui.console.texts import answer_text, item_name, item_question, refused, role_text
from ui.widgets.page import button, label
from ui.widgets.signals import emit


def may_correct(staff: Staff) -> bool:
    """Whether `staff`'s role is one storage lets correct answers."""
    return staff.role in CORRECTION_ROLES


class CorrectionPanel(QFrame):
    """The "Correct an answer…" button and, once pressed, the form: visit, item, value, reason."""

    corrected = Signal(str, str)  # visit code, item id

    def __init__(
        self, db: StudyDb, staff: Staff, lang: str, reauth: ReauthSession | None = None
    ) -> None:
        super().__init__()
        self.db, self.staff, self.lang = db, staff, lang
        self.reauth_session = reauth if reauth is not None else ReauthSession()
        self.allowed = may_correct(staff)
        self.sessions: dict[str, str] = {}
        self._instruments: dict[str, str] = {}
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.open_button = button(t(lang, "console.correct.open"))
        self.open_button.clicked.connect(self.open_form)
        self.open_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        row.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.why_not = label(
            t(
                lang,
                "console.correct.not_allowed",
                role=role_text(lang, staff.role),
                roles=", ".join(role_text(lang, r) for r in CORRECTION_ROLES),
            ),
            "hint",
        )
        row.addWidget(self.why_not, 1)
        column.addLayout(row)
        if not self.allowed:
            self.open_button.setEnabled(False)
            self.open_button.setToolTip(self.why_not.text())
        else:
            self.why_not.hide()
        self.form = self._form()
        self.form.hide()
        # In a row of its own, beside a stretch: the column asked the form (capped at its
        # maximum width) for its height at the column's wider width, where its hints wrap on
        # fewer lines, and gave it too little (its lower fields cut, in French)
        beside = QHBoxLayout()
        beside.setContentsMargins(0, 0, 0, 0)
        beside.addWidget(self.form, 1)
        beside.addStretch(0)
        column.addLayout(beside)

    def _form(self) -> QFrame:
        lang = self.lang
        frame = QFrame()
        frame.setProperty("role", "card")
        frame.setMaximumWidth(1000)
        column = QVBoxLayout(frame)
        column.addWidget(label(t(lang, "console.correct.title"), "subtitle"))
        form = FormGrid()
        self.visit = QComboBox()
        self.visit.setAccessibleName(t(lang, "console.correct.visit"))
        self.visit.currentIndexChanged.connect(lambda *_: self._fill_items())
        form.add_row(t(lang, "console.correct.visit"), self.visit)
        self.item = QComboBox()
        self.item.setAccessibleName(t(lang, "console.correct.item"))
        self.item.currentIndexChanged.connect(lambda *_: self._show_item())
        form.add_row(t(lang, "console.correct.item"), self.item)
        self.question = label("", "hint")
        form.add_row(t(lang, "console.correct.question"), self.question)
        self.current = label("", "hint")
        form.add_row(t(lang, "console.correct.current"), self.current)
        self.value_stack = QStackedWidget()
        self.choice = QComboBox()
        self.choice.setAccessibleName(t(lang, "console.correct.new"))
        self.value_stack.addWidget(self.choice)
        vas_row = QWidget()
        vas_layout = QHBoxLayout(vas_row)
        vas_layout.setContentsMargins(0, 0, 0, 0)
        self.vas = QDoubleSpinBox()
        self.vas.setAccessibleName(t(lang, "console.correct.new"))
        self.vas.setSuffix(" mm")
        self.vas.setDecimals(1)
        self.vas.setMinimumWidth(160)
        self.vas_skipped = QCheckBox(t(lang, "console.answer.skipped"))
        self.vas_skipped.toggled.connect(self.vas.setDisabled)
        vas_layout.addWidget(self.vas)
        vas_layout.addWidget(self.vas_skipped)
        vas_layout.addStretch(1)
        self.value_stack.addWidget(vas_row)
        form.add_row(t(lang, "console.correct.new"), self.value_stack)
        self.reason = QLineEdit()
        self.reason.setAccessibleName(t(lang, "console.correct.reason"))
        self.reason.setPlaceholderText(t(lang, "console.correct.reason_hint"))
        self.reason.textChanged.connect(lambda *_: self._refresh())
        form.add_row(t(lang, "console.correct.reason"), self.reason)
        column.addLayout(form)
        self.reauth = ReauthFields(self.db, self.staff, lang, self.reauth_session)
        self.reauth.changed.connect(self._refresh)
        column.addWidget(self.reauth)
        self.error = label("", "error")
        self.error.hide()
        column.addWidget(self.error)
        row = QHBoxLayout()
        cancel = button(t(lang, "common.cancel"))
        cancel.clicked.connect(self.close_form)
        self.save_button = button(t(lang, "console.correct.save"), "primary")
        self.save_button.clicked.connect(self.confirm)
        row.addWidget(cancel)
        row.addStretch(1)
        row.addWidget(self.save_button)
        column.addLayout(row)
        return frame

    # -- what is shown -------------------------------------------------------------------------

    def set_summary(self, summary: PatientSummary) -> None:
        """The subject's submitted visits become the choices (the current one is kept)."""
        keep = self.visit.currentData()
        self.sessions = {
            v.code: v.session_id
            for v in summary.visits
            if v.status == "complete" and v.session_id is not None
        }
        self.visit.blockSignals(True)
        self.visit.clear()
        for v in summary.visits:
            if v.code in self.sessions:
                self.visit.addItem(f"{v.code} \u00b7 {v.label}", v.code)
        self.visit.setCurrentIndex(max(0, self.visit.findData(keep)))
        self.visit.blockSignals(False)
        self.open_button.setEnabled(self.allowed and bool(self.sessions))
        self._fill_items()

    def open_form(self) -> None:
        if not self.allowed or not self.sessions:
            return
        self.reason.clear()
        self.error.hide()
        self.reauth.prepare()
        self.form.show()
        self._show_item()

    def close_form(self) -> None:
        """Cancel: nothing is written, the credentials typed are forgotten."""
        self.reauth.prepare()
        self.form.hide()

    def choose(self, visit_code: str, item_id: str) -> bool:
        """Choose the visit and item to correct; False if either is not offered."""
        n = self.visit.findData(visit_code)
        if n < 0:
            return False
        self.visit.setCurrentIndex(n)
        m = self.item.findData(item_id)
        if m < 0:
            return False
        self.item.setCurrentIndex(m)
        return True

    def set_value(self, value: AnswerValue | Skipped) -> None:
        """Put `value` (a code, mm, or SKIPPED) into the new-value field."""
        item = self._item()
        if item is None:
            return
        if item.type == "vas":
            self.vas_skipped.setChecked(value is SKIPPED)
            if not isinstance(value, Skipped):
                self.vas.setValue(float(value))
            return
        self.choice.setCurrentIndex(self.choice.findData("skipped" if value is SKIPPED else value))

    def value(self) -> AnswerValue | Skipped | None:
        item = self._item()
        if item is None:
            return None
        if item.type == "vas":
            return SKIPPED if self.vas_skipped.isChecked() else self.vas.value()
        data = self.choice.currentData()
        return SKIPPED if data == "skipped" else data

    # -- the correction ------------------------------------------------------------------------

    def confirm(self) -> None:
        """Send the correction to storage; its refusal (role, reason, same value) is shown."""
        visit = self.visit.currentData()
        item_id = self.item.currentData()
        value = self.value()
        if visit is None or item_id is None or value is None:
            return
        self.error.hide()
        # Credentials re-entered (21 CFR 11.200), checked by storage, whose proof signs the change.
        proof = self.reauth.verify()
        if proof is None:
            return
        try:
            storage.correct_answer(
                self.db,
                self.sessions[visit],
                item_id,
                value,
                staff=proof,
                reason=self.reason.text(),
            )
        except StorageError as exc:
            self.error.setText(refused(self.lang, exc))
            self.error.show()
            return
        self.form.hide()
        emit(self.corrected, visit, item_id)

    # -- inside the form -----------------------------------------------------------------------

    def _item(self) -> Item | None:
        item_id = self.item.currentData()
        instrument_id = self._instruments.get(item_id) if item_id else None
        return load_instrument(instrument_id).item(item_id) if instrument_id else None

    def _fill_items(self) -> None:
        visit = self.visit.currentData()
        keep = self.item.currentData()
        self._instruments = {}
        self.item.blockSignals(True)
        self.item.clear()
        if visit is not None:
            for instrument_id in self.db.study.visit(visit).instruments:
                for item in load_instrument(instrument_id).items:
                    self._instruments[item.id] = instrument_id
                    self.item.addItem(item_name(self.lang, instrument_id, item.id), item.id)
        self.item.setCurrentIndex(max(0, self.item.findData(keep)))
        self.item.blockSignals(False)
        self._show_item()

    def _show_item(self) -> None:
        item = self._item()
        visit = self.visit.currentData()
        if item is None or visit is None:
            self._refresh()
            return
        instrument_id = self._instruments[item.id]
        self.question.setText(item_question(self.lang, instrument_id, item.id))
        answers = storage.current_answers(self.db, self.sessions[visit])
        now = answers.get(item.id)
        self.current.setText(
            answer_text(
                self.lang,
                instrument_id,
                item.id,
                now.value if now else None,
                now.status if now else None,
            )
        )
        if item.type == "vas":
            self.value_stack.setCurrentIndex(1)
            self.vas.setRange(item.minimum, item.maximum)
            self.vas.setSingleStep(item.step)
            self.vas_skipped.setChecked(now is not None and now.status == "skipped")
            if now is not None and now.value is not None:
                self.vas.setValue(float(now.value))
        else:
            self.value_stack.setCurrentIndex(0)
            self.choice.clear()
            for choice in item.choices:
                text = answer_text(self.lang, instrument_id, item.id, choice.code, "answered")
                self.choice.addItem(text, choice.code)
            self.choice.addItem(t(self.lang, "console.answer.skipped"), "skipped")
            if now is not None:
                self.choice.setCurrentIndex(
                    self.choice.findData("skipped" if now.status == "skipped" else now.value)
                )
        self._refresh()

    def _refresh(self) -> None:
        ready = (
            self.allowed
            and bool(self.reason.text().strip())
            and self.item.currentData() is not None
            and self.reauth.ready()
        )
        self.save_button.setEnabled(ready)
