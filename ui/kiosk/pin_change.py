"""The PIN change a staff member whose PIN predates the PIN policy makes right after signing in.

`KioskFlow` calls `require` when the PIN just typed breaks today's policy: the change page comes
before anything else (audited ``kiosk.pin_change_required``); a wrong current PIN counts toward
the lockout, and once locked only signing out is left. The change itself is
`storage.change_pin` (audited ``staff.pin_changed``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respine_desktop import storage
from respine_desktop.i18n import error_text, t
from respine_desktop.kiosk_events import log_kiosk_event
from ui.kiosk.pin_change_page import ChangePinPage
from ui.kiosk.staff_exit import locked_message

if TYPE_CHECKING:
    from ui.kiosk.flow import KioskFlow

__all__ = ["require"]


def require(flow: KioskFlow) -> None:
    """Show the change page to the staff member just signed in."""
    assert flow.db is not None and flow.staff is not None
    log_kiosk_event(
        flow.db,
        "kiosk.pin_change_required",
        staff=flow.staff,
        payload={"username": flow.staff.username},
    )
    page = ChangePinPage(flow.lang, flow.staff.username)
    page.submitted.connect(lambda old, new, _again: _on_change(flow, page, old, new))
    page.signed_out.connect(lambda: flow.lock(reason="staff"))
    flow.window.show_page(page)
    flow.idle.start()


def _on_change(flow: KioskFlow, page: ChangePinPage, old: str, new: str) -> None:
    assert flow.db is not None and flow.staff is not None
    try:
        flow.staff = storage.change_pin(flow.db, flow.staff, old, new)
    except storage.AccountLocked:
        # Locked by wrong current PINs: said here; only signing out is left.
        page.show_error(locked_message(flow.db, flow.staff.username, flow.lang))
        page.change_button.setEnabled(False)
        return
    except (storage.WrongPin, storage.AccountDisabled):
        page.show_error(t(flow.lang, "staff.change_pin.wrong_current"))
        return
    except storage.StorageError as exc:
        if storage.pin_policy_problem(new) is not None:
            key = "staff.change_pin.weak"
        elif new == old:
            key = "staff.change_pin.same"
        else:
            page.show_error(
                t(flow.lang, "staff.change_pin.refused", message=error_text(flow.lang, exc))
            )
            return
        page.show_error(t(flow.lang, key))
        return
    flow.show_staff_home()
