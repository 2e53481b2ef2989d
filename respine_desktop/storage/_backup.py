"""Backups: a consistent copy through SQLite's backup API, verified before it is kept.

The copy is taken in one step under a read transaction, so it is a consistent snapshot even while
the kiosk keeps writing (WAL readers do not block the writer). It is written beside the target as
``<out>.partial``, switched to a self-contained rollback-journal file, fsynced, verified like
`verify` does, and only then renamed to `out`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from respine_desktop import files
from respine_desktop.storage._database import StudyDb
from respine_desktop.storage._errors import AlreadyExists, BackupFailed, InvalidInput, WriteFailed
from respine_desktop.storage._records import VerifyResult
from respine_desktop.storage._verify import verify_database


def backup_database(db: StudyDb, out: str | Path) -> VerifyResult:
    """Copy `db` to the new file `out` and verify the copy (refuses an existing `out`)."""
    out = Path(out)
    if out.exists():
        raise AlreadyExists(f"{out}: the file exists already")
    if not out.parent.is_dir():
        raise InvalidInput(f"{out.parent}: no such directory")
    partial = out.with_name(out.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        dest = sqlite3.connect(str(partial), isolation_level=None)
        try:
            db.conn.backup(dest)
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()
        fd = os.open(partial, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        result = verify_database(partial)
        if not result.ok:
            raise BackupFailed(f"the backup copy failed verification: {result.message}")
        files.replace(partial, out)
        return result
    except (sqlite3.Error, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise WriteFailed(f"{out}: could not write the backup ({reason})") from exc
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(OSError):  # a read-only file system refuses even that
                Path(f"{partial}{suffix}").unlink(missing_ok=True)
