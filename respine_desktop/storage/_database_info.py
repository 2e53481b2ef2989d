"""`DatabaseInfo`, in a module of its own: opening a database (the kiosk's start) needs it and
not the other records (`_records`, some 30 ms of dataclasses to define)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """What the `settings` table says about a database file."""

    path: str
    study_id: str
    site_code: str
    device_id: str
    app_version: str
    created_at: str
    migrations: tuple[str, ...]
