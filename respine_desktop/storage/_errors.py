"""Errors of the study database: each message is one clear line naming what and where."""

from __future__ import annotations

from respine_desktop.errors import RespineError


class StorageError(RespineError):
    """Base of every error raised by `respine_desktop.storage` (message: one line for a user)."""


class SnapshotChanged(StorageError):
    """A reader expected the state another reader saw, and the database had changed since."""


class DatabaseMissing(StorageError):
    """The database file does not exist or cannot be read (nothing was created)."""


class NotARespineDatabase(StorageError):
    """The file exists but is not a RESPINE study database (it was left untouched)."""


class DatabaseCorrupt(StorageError):
    """SQLite found the file damaged (a failed ``quick_check``, or a malformed page on reading).

    Raised before anything is written: a damaged file is never written into. ``verify`` names
    the problem; the last backup is the way back.
    """


class SchemaTooNew(StorageError):
    """The database was written by a newer version of the application."""


class SchemaTooOld(StorageError):
    """A read-only open of a database whose schema this version would first have to upgrade."""


class AlreadyExists(StorageError):
    """A record with this natural key exists already (e.g. a subject code or a staff username)."""


class NotFound(StorageError):
    """An unknown subject, visit, session, staff account or answer."""


class UnknownSubject(NotFound):
    """No subject with this pseudonymous code."""


class UnknownVisit(NotFound):
    """The visit code is not in the study schedule."""


class UnknownSession(NotFound):
    """No session with this id."""


class UnknownStaff(NotFound):
    """No staff account with this username or id."""


class InvalidInput(StorageError, ValueError):
    """A value the caller gave is not acceptable (bad PIN format, bad code, bad date...)."""


class InvalidAnswer(InvalidInput):
    """An answer refused by the instrument definition (unknown item, value out of range...)."""


class VisitNotAvailable(StorageError):
    """The visit cannot be started now: not yet due, already complete, missed, or open elsewhere."""


class SessionStateError(StorageError):
    """The session is not in a state that allows this (e.g. answering a submitted session)."""


class SessionIncomplete(SessionStateError):
    """Submission refused: some items have neither an answer nor an explicit skip."""


class PermissionDenied(StorageError):
    """The staff member's role does not allow this action (or the account is disabled)."""


class AuthenticationError(StorageError):
    """A login was refused (the attempt itself is recorded in the audit log)."""


class WrongPin(AuthenticationError):
    """The PIN does not match."""


class AccountLocked(AuthenticationError):
    """Too many wrong PINs: the account is locked for a while."""


class AccountDisabled(AuthenticationError):
    """The account was disabled by an administrator."""


class WriteFailed(StorageError):
    """SQLite could not write (database locked past the busy timeout, disk full, I/O error).

    Nothing of the call was written: the transaction was rolled back. The caller must tell the
    user the answer was NOT saved.
    """


class BackupFailed(StorageError):
    """The backup copy failed verification: refused, nothing kept (exit 2, as every refusal)."""
