"""The investigator console's screens for `python main.py screenshots` (after the kiosk's).

Driven through the kiosk on the screenshot command's throw-away copy of the database:
the console of an administrator (every tab; the conflicts tab shows its empty state on a kiosk,
the first conflict's versions on a hub that merged two kiosks' visits, then the administrator
choosing the other version with a reason, and the resolved conflict), then a subject seen by an
account that may correct answers (scores, charts, the correction form, the audit history), then
an investigator e-signing the subject's baseline visit (the signing form, the visit signed).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

from respine_desktop import storage
from respine_desktop.storage import CORRECTION_ROLES, VISIT_STATUSES, Staff
from ui.app import install_console
from ui.console.page import ConsolePage
from ui.console.signing import SIGNING_ROLES
from ui.kiosk.flow import KioskFlow
from ui.widgets.jobs import running_jobs

Shot = Callable[[str], None]
SHOT_PIN = "583920"


def _open_console(kiosk: KioskFlow, staff: Staff) -> ConsolePage:
    kiosk.staff = staff
    kiosk.show_staff_home()
    kiosk.window.page().buttons["console"].click()  # type: ignore[attr-defined]
    page = kiosk.window.page()
    if not isinstance(page, ConsolePage):
        raise RuntimeError(f"expected the console, on {type(page).__name__}")
    return page


def _wait_for_jobs() -> None:
    for job in running_jobs():
        job.wait()
    app = QApplication.instance()
    while running_jobs() and app is not None:
        app.processEvents()


def _shoot_resolution(page: ConsolePage, shot: Shot) -> None:
    """On a hub with conflicts: the administrator makes the other version of the first one
    count (the reason form, then the resolved conflict). Written to the throw-away copy only."""
    view = page.conflicts
    review = view.current()
    if review is None or view.resolve_panel is None:
        return
    other = next(
        (n for n, v in enumerate(review.versions) if not v.chosen and v.state == "submitted"),
        None,
    )
    if other is None:
        return
    view.versions.setCurrentCell(other, 0)
    view.ask_resolution()
    view.resolve_panel.reason.setText("The other kiosk's sitting was a staff test run")
    # The credentials re-entered: the administrator's PIN is set to a known one first (on the
    # throw-away copy; the screenshots never know the real PINs).
    storage.reset_pin(page.db, page.staff, page.staff.username, SHOT_PIN)
    view.resolve_panel.reauth.username.setText(page.staff.username)
    view.resolve_panel.reauth.pin.setText(SHOT_PIN)
    shot("console-conflicts-resolve")
    view.resolve_panel.confirm()
    shot("console-conflicts-resolved")


def shoot_console(kiosk: KioskFlow, shot: Shot, subject_code: str) -> None:
    """Picture the console's screens; `subject_code` has a submitted visit."""
    assert kiosk.db is not None
    install_console(kiosk)
    accounts = [s for s in storage.list_staff(kiosk.db) if s.active]
    admin = next(s for s in accounts if s.role == "admin")
    page = _open_console(kiosk, admin)
    shot("console-worklist")
    page.worklist.set_statuses(VISIT_STATUSES)
    page.worklist.select(subject_code, "M0")
    shot("console-worklist-all-statuses")
    for tab, name in (
        (page.register, "register"),
        (page.reports, "study-report"),
        (page.exports, "export"),
        (page.review, "conflicts"),
        (page.staff_admin, "staff-accounts"),
    ):
        if tab is not None:
            page.tabs.setCurrentWidget(tab)
            shot(f"console-{name}")
            if tab is page.review:
                page.review.show_mismatches()
                shot("console-mismatches")
                page.review.show_conflicts()
                _shoot_resolution(page, shot)
    corrector = next((s for s in accounts if s.role in CORRECTION_ROLES), admin)
    page = _open_console(kiosk, corrector)
    view = page.open_subject(subject_code)
    shot("console-subject-scores")
    loop = QEventLoop()
    view.charts.drawn.connect(loop.quit)
    view.charts.failed.connect(loop.quit)
    view.show_charts()
    loop.exec()
    _wait_for_jobs()
    shot("console-subject-charts")
    view.tabs.setCurrentIndex(2)
    view.correction.open_form()
    view.correction.choose("M0", "odi_03")
    shot("console-subject-correction")
    view.correction.reauth.keyboard_button.click()
    view.correction.reauth.username.setFocus()
    shot("console-subject-correction-keyboard")
    view.correction.reauth.keyboard_button.click()
    view.tabs.setCurrentIndex(3)
    shot("console-subject-audit")
    page.close_subject()
    _shoot_signing(kiosk, shot, subject_code, admin, accounts)
    kiosk.lock()


def _shoot_signing(
    kiosk: KioskFlow, shot: Shot, subject_code: str, admin: Staff, accounts: list[Staff]
) -> None:
    """An investigator (else the administrator) signs the subject's M0 as approved: the form
    with the credentials typed, then the visit signed. Written to the throw-away copy only."""
    signer = next((s for s in accounts if s.role == "investigator"), admin)
    assert signer.role in SIGNING_ROLES
    # A known PIN set first on the throw-away copy (the screenshots never know the real PINs).
    assert kiosk.db is not None
    storage.reset_pin(kiosk.db, admin, signer.username, SHOT_PIN)
    page = _open_console(kiosk, signer)
    view = page.open_subject(subject_code)
    panel = view.signing
    panel.open_button.click()
    if not panel.choose("M0", "approved"):
        page.close_subject()
        return
    panel.reauth.username.setText(signer.username)
    panel.reauth.pin.setText(SHOT_PIN)
    shot("console-subject-sign")
    panel.confirm()
    shot("console-subject-signed")
    page.close_subject()
