"""ResolutionPanel: the reason form with which a reviewer chooses the version that counts."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.storage import (
    RESOLUTION_ROLES,
    ConflictReview,
    PermissionDenied,
    Reauthenticated,
    Staff,
    StudyDb,
)
from ui.console.reauth import ReauthFields, ReauthSession
from ui.console.texts import visit_label
from ui.widgets.reason_panel import ReasonPanel
from ui.widgets.signals import emit


def may_resolve(staff: Staff | None) -> bool:
    """Whether `staff`'s role is one storage lets choose the version that counts."""
    return staff is not None and staff.role in RESOLUTION_ROLES


class ResolutionPanel(ReasonPanel):
    """Shown under the versions by `ask(...)`: the mandatory reason, then Confirm or Cancel.

    Enter in the reason confirms, Escape cancels; storage checks the role, the reason and the
    session. `resolved(subject, visit, session id)` is emitted once the choice is recorded.
    """

    resolved = Signal(str, str, str)

    def __init__(
        self, db: StudyDb, staff: Staff, lang: str, reauth: ReauthSession | None = None
    ) -> None:
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
        self.proof: Reauthenticated | None = None
        # The credentials go under the reason, above the refusal line and the buttons.
        self.reauth = ReauthFields(db, staff, lang, reauth, compact=True)
        self.reauth.changed.connect(self._refresh)
        column = self.layout()
        assert isinstance(column, QVBoxLayout)
        column.insertWidget(column.indexOf(self.error), self.reauth)

    def confirm(self) -> None:
        """Re-entered credentials first (checked by storage), then the choice with its reason."""
        if not self._pending() or not self.confirm_button.isEnabled():
            return
        self.error.hide()
        self.proof = self.reauth.verify()
        if self.proof is None:
            return
        super().confirm()

    def _open(self, title: str) -> None:
        self.reauth.prepare()
        super()._open(title)

    def _refresh(self) -> None:
        ready = bool(self.reason.text().strip()) and self.reauth.ready()
        self.confirm_button.setEnabled(ready)

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
            staff=self._proof(),
            reason=reason,
        )

    def _proof(self) -> Reauthenticated:
        if self.proof is None:
            raise PermissionDenied("the credentials were not re-entered")
        return self.proof

    def _finish(self) -> None:
        done = (self.subject_code, self.visit_code, self.session_id)
        self._clear()
        emit(self.resolved, *done)

    def _clear(self) -> None:
        self.subject_code = self.visit_code = self.session_id = ""
        self.proof = None
        self.reauth.prepare()
