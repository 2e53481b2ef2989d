"""Kiosk events for the audit trail: refused Escape / Alt+F4 / close, lock, quit, restore.

A restore is the window brought back after it was minimised, hidden or deactivated in patient
mode.

Each is one entry of this device's audit chain, written through storage's `log_event`.
"""

from __future__ import annotations

from collections.abc import Mapping

from respine_desktop.storage import Staff, StudyDb, log_event

KIOSK_ACTIONS: tuple[str, ...] = (
    "kiosk.escape_intercepted",
    "kiosk.close_intercepted",
    "kiosk.locked",
    "kiosk.idle_locked",
    "kiosk.quit",
    "kiosk.restored",
    "kiosk.pin_change_required",
)


def log_kiosk_event(
    db: StudyDb,
    action: str,
    *,
    staff: Staff | None = None,
    subject_id: str | None = None,
    payload: Mapping[str, object] | None = None,
) -> None:
    """Append one kiosk event to this device's audit chain (committed at once)."""
    if action not in KIOSK_ACTIONS:
        raise ValueError(f"unknown kiosk event {action!r} (known: {', '.join(KIOSK_ACTIONS)})")
    log_event(
        db,
        action,
        entity="kiosk",
        entity_id=db.device_id,
        subject_id=subject_id,
        actor=staff.id if staff is not None else None,
        payload=dict(payload or {}),
    )
