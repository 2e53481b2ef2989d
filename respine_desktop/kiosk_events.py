"""Kiosk events for the audit trail: an intercepted Escape / Alt+F4 / close, a lock, a quit.

Storage's public API has no call to log an application event yet, so this goes through its
audit chain's own `append` inside its `transaction` (no SQL here). Swap for the public call
once storage offers one.
"""

from __future__ import annotations

from collections.abc import Mapping

from respine_desktop.storage import Staff, StudyDb
from respine_desktop.storage.audit import append
from respine_desktop.storage.database import transaction

KIOSK_ACTIONS: tuple[str, ...] = (
    "kiosk.escape_intercepted",
    "kiosk.close_intercepted",
    "kiosk.locked",
    "kiosk.idle_locked",
    "kiosk.quit",
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
    with transaction(db):
        append(
            db,
            action=action,
            entity="kiosk",
            entity_id=db.device_id,
            subject_id=subject_id,
            actor=staff.id if staff is not None else None,
            payload=dict(payload or {}),
        )
