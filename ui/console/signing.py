"""SigningPanel: an investigator (or administrator) e-signs a subject's visit or whole casebook
(21 CFR Part 11 §11.50, §11.200), and everyone sees the signature state of each visit.

The form offers what may be signed (each submitted visit, or the whole casebook), the meaning
(one big option per meaning) with its attestation text in the staff language, and the
credentials re-entered in the fields of the console page's `ReauthSession`: the username and
the PIN at the first re-entry of the page's lifetime, the PIN only afterwards. `storage.sign`
does the work and keeps the rules (both components checked again, wrong PINs counted toward the
lockout and audited, the role, the hash of exactly what is signed). A later correction or
conflict choice on a signed visit shows its signature BROKEN until it is signed again.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
)

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.reports import PatientSummary
from respine_desktop.storage import (
    SIGNATURE_MEANINGS,
    Signature,
    SignatureStatus,
    Staff,
    StorageError,
    StudyDb,
)
from ui.console.layout import FormGrid
from ui.console.reauth import ReauthFields, ReauthSession
from ui.console.texts import local_time, refused, role_text
from ui.widgets.page import button, label
from ui.widgets.signals import emit

# The roles storage lets sign data (storage/_signatures.py DATA_SIGNERS), and the meanings of a
# signature of data (a document's "performed" is not offered here).
SIGNING_ROLES: tuple[str, ...] = ("investigator", "admin")
DATA_MEANINGS: tuple[str, ...] = ("reviewed", "approved", "responsibility")
CASEBOOK = ""  # the "what is signed" choice of the whole casebook (a visit's is its code)


def may_sign(staff: Staff) -> bool:
    """Whether `staff`'s role is one storage lets sign visits and casebooks."""
    return staff.role in SIGNING_ROLES


def attestation(lang: str, meaning: str) -> str:
    """The attestation text of `meaning` in the staff language (English or French)."""
    english, french = SIGNATURE_MEANINGS[meaning]
    return french if lang == "fr" else english


def signature_text(lang: str, status: SignatureStatus) -> str:
    """One line: what was signed, by whom, with which meaning, when; or that it is broken."""
    sig: Signature = status.signature
    what = (
        t(lang, "console.sign.casebook")
        if sig.target_kind == "subject"
        else str(sig.visit_code or "")
    )
    key = "console.sign.state_broken" if status.state == "broken" else "console.sign.state_valid"
    return t(
        lang,
        key,
        what=what,
        username=sig.username,
        role=role_text(lang, sig.role),
        meaning=t(lang, f"console.sign.meaning.{sig.meaning}"),
        attestation=attestation(lang, sig.meaning),
        time=local_time(sig.signed_at),
    )


class SigningPanel(QFrame):
    """The signature state of each submitted visit and of the casebook, and the signing form
    (opened by `open_button`, shown to investigators and administrators only)."""

    signed = Signal(str)  # the visit code signed, or CASEBOOK

    def __init__(
        self,
        db: StudyDb,
        staff: Staff,
        lang: str,
        subject_code: str,
        reauth: ReauthSession | None = None,
    ) -> None:
        super().__init__()
        self.db, self.staff, self.lang = db, staff, lang
        self.subject_code = subject_code
        self.reauth_session = reauth if reauth is not None else ReauthSession()
        self.allowed = may_sign(staff)
        self.visits: list[tuple[str, str]] = []  # submitted visits: (code, label)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        # The action, placed by the subject view in its header; other roles never see it.
        self.open_button = button(t(lang, "console.sign.open"))
        self.open_button.setObjectName("signOpen")
        self.open_button.clicked.connect(self.open_form)
        self.open_button.setVisible(self.allowed)
        self.states_title = label(t(lang, "console.sign.states"), "subtitle")
        column.addWidget(self.states_title)
        self.states = QVBoxLayout()
        self.states.setSpacing(2)
        column.addLayout(self.states)
        self.state_labels: dict[str, QLabel] = {}
        self.form = self._form()
        self.form.hide()
        column.addWidget(self.form)
        self.done = label("", "hint")
        self.done.hide()
        column.addWidget(self.done)
        column.addStretch(1)

    def _form(self) -> QFrame:
        lang = self.lang
        frame = QFrame()
        frame.setObjectName("signForm")
        frame.setProperty("role", "card")
        frame.setMaximumWidth(1000)
        column = QVBoxLayout(frame)
        title = t(lang, "console.sign.title", subject=self.subject_code)
        column.addWidget(label(title, "subtitle"))
        form = FormGrid()
        self.target = QComboBox()
        self.target.setAccessibleName(t(lang, "console.sign.what"))
        self.target.currentIndexChanged.connect(lambda *_: self._refresh())
        form.add_row(t(lang, "console.sign.what"), self.target)
        column.addLayout(form)
        column.addWidget(label(t(lang, "console.sign.meaning"), "hint"))
        self.meanings = QButtonGroup(self)
        self.meaning_buttons: dict[str, QRadioButton] = {}
        options = QHBoxLayout()
        for meaning in DATA_MEANINGS:
            option = QRadioButton(t(lang, f"console.sign.meaning.{meaning}"))
            option.setProperty("role", "meaning")  # a big touch target (console.qss)
            option.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            option.toggled.connect(lambda *_: self._show_attestation())
            self.meanings.addButton(option)
            self.meaning_buttons[meaning] = option
            options.addWidget(option)
        column.addLayout(options)
        self.attestation = label("", "subtitle")
        self.attestation.setObjectName("signAttestation")
        column.addWidget(self.attestation)
        self.reauth = ReauthFields(self.db, self.staff, lang, self.reauth_session)
        self.reauth.changed.connect(self._refresh)
        column.addWidget(self.reauth)
        self.error = label("", "error")
        self.error.hide()
        column.addWidget(self.error)
        row = QHBoxLayout()
        self.cancel_button = button(t(lang, "common.cancel"))
        self.cancel_button.clicked.connect(self.close_form)
        self.sign_button = button(t(lang, "console.sign.sign"), "primary")
        self.sign_button.clicked.connect(self.confirm)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.sign_button)
        column.addLayout(row)
        return frame

    # -- what is shown -------------------------------------------------------------------------

    def set_summary(self, summary: PatientSummary) -> None:
        """The submitted visits become the choices; the signature states are read again."""
        self.visits = [
            (v.code, v.label)
            for v in summary.visits
            if v.status == "complete" and v.session_id is not None
        ]
        keep = self.target.currentData()
        self.target.blockSignals(True)
        self.target.clear()
        for code, name in self.visits:
            self.target.addItem(f"{code} \u00b7 {name}", code)
        self.target.addItem(t(self.lang, "console.sign.casebook"), CASEBOOK)
        self.target.setCurrentIndex(max(0, self.target.findData(keep)))
        self.target.blockSignals(False)
        self.show_states()
        self._refresh()

    def show_states(self) -> None:
        """One line per submitted visit and one for the casebook: the newest signature (signed
        by whom, meaning, time), BROKEN in the warning colour once the data changed, or none."""
        while self.states.count():
            item = self.states.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:  # hidden now: deleted only when the event loop runs
                widget.hide()
                widget.deleteLater()
        newest: dict[str, SignatureStatus] = {}
        for found in storage.signature_states(self.db, self.subject_code):
            sig = found.signature
            if sig.target_kind == "visit" and sig.visit_code is not None:
                newest[sig.visit_code] = found
            elif sig.target_kind == "subject":
                newest[CASEBOOK] = found
        self.state_labels = {}
        rows = [(code, code) for code, _ in self.visits]
        rows.append((CASEBOOK, t(self.lang, "console.sign.casebook")))
        for key, what in rows:
            status = newest.get(key)
            if status is None:
                line = label(t(self.lang, "console.sign.state_none", what=what), "hint")
            else:
                role = "error" if status.state == "broken" else "hint"
                line = label(signature_text(self.lang, status), role)
            line.setObjectName("signState")
            self.states.addWidget(line)
            self.state_labels[key] = line

    def state_text(self, key: str) -> str:
        """The line shown for a visit code, or for CASEBOOK (for tests and the screenshots)."""
        line = self.state_labels.get(key)
        return line.text() if line is not None else ""

    def state_role(self, key: str) -> str:
        """The style of that line: ``error`` (the warning colour) for a broken signature."""
        line = self.state_labels.get(key)
        return str(line.property("role")) if line is not None else ""

    def open_form(self) -> None:
        if not self.allowed:
            return
        self.error.hide()
        self.done.hide()
        self.reauth.prepare()
        self.meanings.setExclusive(False)
        for option in self.meaning_buttons.values():
            option.setChecked(False)
        self.meanings.setExclusive(True)
        self._show_attestation()
        self.form.show()

    def close_form(self) -> None:
        """Cancel: nothing is signed, the credentials typed are forgotten."""
        self.reauth.prepare()
        self.form.hide()

    def choose(self, target: str, meaning: str) -> bool:
        """Choose what to sign (a visit code or CASEBOOK) and the meaning; False if not offered."""
        n = self.target.findData(target)
        if n < 0 or meaning not in self.meaning_buttons:
            return False
        self.target.setCurrentIndex(n)
        self.meaning_buttons[meaning].setChecked(True)
        return True

    def meaning(self) -> str | None:
        return next((m for m, b in self.meaning_buttons.items() if b.isChecked()), None)

    # -- the signature -------------------------------------------------------------------------

    def confirm(self) -> None:
        """Sign through storage; a refused PIN says why in the reauth line, nothing is signed."""
        target = self.target.currentData()
        meaning = self.meaning()
        if not self.allowed or target is None or meaning is None:
            return
        self.error.hide()
        fields = self.reauth
        # The re-entry is checked in the domain (a refusal said in the credential line), and its
        # proof signs: the same path as corrections and conflict choices.
        proof = fields.verify()
        if proof is None:
            return
        try:
            storage.sign(
                self.db,
                proof=proof,
                subject_code=self.subject_code,
                meaning=meaning,
                visit_code=target or None,
            )
        except StorageError as exc:
            self.error.setText(refused(self.lang, exc))
            self.error.show()
            return
        fields.prepare()
        self.form.hide()
        what = t(self.lang, "console.sign.casebook") if target == CASEBOOK else target
        self.done.setText(t(self.lang, "console.sign.done", what=what))
        self.done.show()
        emit(self.signed, target)

    # -- inside the form -----------------------------------------------------------------------

    def _show_attestation(self) -> None:
        meaning = self.meaning()
        self.attestation.setText(
            t(self.lang, "console.sign.attestation", text=attestation(self.lang, meaning))
            if meaning is not None
            else t(self.lang, "console.sign.choose_meaning")
        )
        self._refresh()

    def _refresh(self) -> None:
        ready = (
            self.allowed
            and self.target.currentData() is not None
            and self.meaning() is not None
            and self.reauth.ready()
        )
        self.sign_button.setEnabled(ready)
