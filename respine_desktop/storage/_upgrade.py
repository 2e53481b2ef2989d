"""Before a schema upgrade: a verified backup of the database as it was, kept beside it.

A kiosk upgraded with data on it must be able to go back. So before the first migration runs,
`backup_before_upgrade` copies the file (the backup API, verified like `verify` does) to
``<name>.before-<last applied migration>-<UTC time>.bak`` in the same folder; if the copy
cannot be made or does not verify, the upgrade does not start (`BackupFailed`, nothing
migrated). docs/deployment.md tells the site what to do with it.
"""

from __future__ import annotations

from pathlib import Path

from respine_desktop import clock
from respine_desktop.storage._database import StudyDb


def backup_path(path: Path, applied: tuple[str, ...]) -> Path:
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    return path.with_name(f"{path.name}.before-{applied[-1]}-{stamp}.bak")


def backup_before_upgrade(db: StudyDb, path: Path, applied: tuple[str, ...]) -> Path:
    """The verified copy of `db` (at `path`, migrations `applied`) made before upgrading it."""
    from respine_desktop.storage._backup import backup_database

    out = backup_path(path, applied)
    backup_database(db, out)
    return out
