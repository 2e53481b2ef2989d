"""Before a schema upgrade: a verified backup of the database as it was, kept beside it.

A kiosk upgraded with data on it must be able to go back. So before the first migration runs,
`backup_before_upgrade` copies the file (the backup API, verified like `verify` does) to
``<name>.before-<last applied migration>-<UTC time>.bak`` in the same folder; if the copy
cannot be made or does not verify, the upgrade does not start (`BackupFailed`, nothing
migrated). docs/deployment.md tells the site what to do with it.

An upgrade killed while it made that copy left ``<name>.before-...bak.partial`` (an unverified,
maybe half-made copy, never a backup) and nothing migrated, so the next open upgrades again: it
first removes every such leftover of the database no process is still making (with SQLite's
side files and a key file written for it), saying so in one line on stderr (a warning of the
``respine_desktop.storage`` logger, which Python prints as its bare message when no logging is
set up), then makes its own copy.
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path

from respine_desktop import clock
from respine_desktop.storage import _partial
from respine_desktop.storage._database import StudyDb

_log = logging.getLogger(__name__)


def backup_path(path: Path, applied: tuple[str, ...]) -> Path:
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    return path.with_name(f"{path.name}.before-{applied[-1]}-{stamp}.bak")


def remove_interrupted_backups(path: Path) -> list[Path]:
    """The unfinished copies that upgrades of the database at `path` killed while backing it up
    left beside it, removed (those another process is still making are left to it)."""
    removed = []
    for partial in sorted(path.parent.glob(f"{glob.escape(path.name)}.before-*.bak.partial")):
        try:
            if _partial.remove_abandoned(partial):
                removed.append(partial)
                _log.warning(
                    "%s: removed: the unfinished copy of an upgrade backup that was interrupted "
                    "(not a backup; the upgrade makes a new one now)",
                    partial,
                )
        except OSError:  # being made, or not removable: the new backup says if it matters
            continue
    return removed


def backup_before_upgrade(db: StudyDb, path: Path, applied: tuple[str, ...]) -> Path:
    """The verified copy of `db` (at `path`, migrations `applied`) made before upgrading it."""
    from respine_desktop.storage._backup import backup_database

    remove_interrupted_backups(path)
    out = backup_path(path, applied)
    backup_database(db, out)
    return out
