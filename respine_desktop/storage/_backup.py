"""Backups: a consistent copy through SQLite's backup API, verified before it is kept.

The copy is taken in one step under a read transaction, so it is a consistent snapshot even while
the kiosk keeps writing (WAL readers do not block the writer). It is written in a folder beside
the target that only this user may write into (SQLite opens it by name: nobody can put a link
there for it to write through), switched to a self-contained rollback-journal file, fsynced,
verified like `verify` does, and only then renamed to `out`. ``<out>.partial``, naming that
folder, is held by the process making it (`_partial`): one a killed backup left is removed, with
its folder, by the next backup to `out`; one another process is still making refuses this one.

The backup of an encrypted database is encrypted with the same key (SQLCipher copies the
encrypted pages), and the database's key file is copied beside it as ``<out>.key`` before the
copy appears: the backup opens with the same passphrase, recovery code or stored key, and
nothing in it is readable without one.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from respine_desktop import files
from respine_desktop.storage import _encryption as encryption
from respine_desktop.storage import _partial
from respine_desktop.storage._database import StudyDb
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage._errors import AlreadyExists, BackupFailed, InvalidInput, WriteFailed
from respine_desktop.storage._keys import key_file_path, read_key_file, write_key_file
from respine_desktop.storage._records import VerifyResult
from respine_desktop.storage._verify import verify_database

_log = logging.getLogger(__name__)


def backup_database(db: StudyDb, out: str | Path) -> VerifyResult:
    """Copy `db` to the new file `out` and verify the copy (refuses an existing `out`); an
    encrypted database's copy is encrypted alike, its key file copied to ``<out>.key``."""
    out = Path(out)
    try:
        os.stat(out)
    except FileNotFoundError:
        pass
    except NotADirectoryError:  # a name under a file: the name of that file says why
        raise InvalidInput(files.no_folder(out.parent)) from None
    except OSError as exc:  # a name too long, a folder that cannot be searched
        raise WriteFailed(f"{out}: could not write the backup ({exc.strerror})") from None
    else:
        raise AlreadyExists(f"{out}: the file exists already")
    if not out.parent.is_dir():
        raise InvalidInput(files.no_folder(out.parent))
    key = db.sql_key
    key_file = read_key_file(db.path) if key is not None else None
    partial = out.with_name(out.name + ".partial")
    wrote_key_file = False
    claimed: int | None = None
    private: Path | None = None
    try:
        try:  # one a killed backup left is removed; one another process is making is not
            if _partial.remove_abandoned(partial):
                _log.warning(
                    "%s: removed: the unfinished copy of a backup that was interrupted (not a "
                    "backup; this one makes a new copy)",
                    partial,
                )
            private = _partial.private_folder(partial)
            claimed = _partial.claim(partial, private)
        except (BlockingIOError, FileExistsError):
            raise WriteFailed(
                f"{out}: not written: another backup to this name is being made ({partial.name});"
                " wait for it to end, or give another name"
            ) from None
        # The copy is made in a folder only this user may write into (`_partial`): SQLite
        # opens it by name, following a link, which nobody else can put there.
        copy = private / out.name
        dest = sqlite3.connect(str(copy), isolation_level=None)
        try:
            encryption.apply_key(dest, key)
            db.conn.backup(dest)
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()
        fd = os.open(copy, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        result = verify_database(copy, key=key)
        if not result.ok:  # the copy is the database's own pages: the database is at fault
            raise BackupFailed(
                f"{out}: not written: the copy of {db.path} fails verification "
                f"({result.message}); check the database with 'verify --db {db.path}'"
            )
        if key_file is not None:
            write_key_file(out, key_file.fields)
            wrote_key_file = True
        files.replace(copy, out)
        return result
    except (sqlite3.Error, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise WriteFailed(f"{out}: could not write the backup ({reason})") from exc
    finally:
        if wrote_key_file and not out.exists():
            key_file_path(out).unlink(missing_ok=True)
        if claimed is not None:  # only this process's own partial
            for suffix in ("", *_partial.SQLITE_SIDE_FILES):
                with contextlib.suppress(OSError):  # a read-only file system refuses even that
                    Path(f"{partial}{suffix}").unlink(missing_ok=True)
        if private is not None:
            _partial.remove_private(private)
        if claimed is not None:
            os.close(claimed)  # after the rename or the removal: another run may take it now
