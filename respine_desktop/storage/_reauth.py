"""Re-entry of credentials before a change that needs it (21 CFR 11.200): a correction of an
answer, a choice of the version that counts.

`reauthenticate(db, staff, pin, username=...)` checks the PIN of the signed-in account here, in
the domain, through `authenticate` (so a wrong PIN counts toward the account's lockout and every
attempt is audited) and returns a `Reauthenticated` proof. `correct_answer` and
`resolve_conflict` accept that proof in place of the `Staff`; they check it is genuine (made by
this module), for the same database, and fresh (`REAUTH_VALID`), and record in their audit entry
that the credentials were re-entered and when. A username typed at the first re-entry must be
the signed-in account's: another account's credentials are refused before any PIN check, so
nobody's failure counter moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from respine_desktop import clock
from respine_desktop.storage._database import StudyDb
from respine_desktop.storage._errors import InvalidInput, PermissionDenied
from respine_desktop.storage._records import Staff
from respine_desktop.storage._staff import authenticate

REAUTH_VALID = timedelta(minutes=2)
_SEAL = object()


@dataclass(frozen=True, slots=True)
class Reauthenticated:
    """Proof that `staff` re-entered their credentials at `at` (UTC ISO) in database `path`."""

    staff: Staff
    at: str
    path: str
    with_username: bool
    _seal: object = field(default=None, repr=False, compare=False)


def reauthenticate(
    db: StudyDb, staff: Staff, pin: str, *, username: str | None = None
) -> Reauthenticated:
    """The proof that the signed-in `staff` typed their PIN (and `username`, if given) again.

    Raises InvalidInput for a username that is not `staff`'s (nothing counted), otherwise what
    `authenticate` raises (WrongPin with the attempts left, AccountLocked saying for how long,
    AccountDisabled), after recording the attempt.
    """
    if username is not None and username.strip() != staff.username:
        raise InvalidInput(
            f"the credentials re-entered must be those of the signed-in account {staff.username!r}"
        ).keyed("reauth_other", username=staff.username)
    current = authenticate(db, staff.username, pin)
    if current.id != staff.id:
        raise PermissionDenied("the credentials re-entered are not the signed-in account's")
    return Reauthenticated(
        staff=current,
        at=clock.now_iso(),
        path=str(db.path),
        with_username=username is not None,
        _seal=_SEAL,
    )


def reauthenticated_staff(db: StudyDb, proof: Staff | Reauthenticated) -> tuple[Staff, str | None]:
    """The staff behind `proof` and when its credentials were re-entered (None for a plain
    `Staff`, as the command line passes after its own sign-in). A forged, foreign or stale proof
    is refused (PermissionDenied)."""
    if isinstance(proof, Staff):
        return proof, None
    if not isinstance(proof, Reauthenticated) or proof._seal is not _SEAL:
        raise PermissionDenied("the credentials were not re-entered")
    if proof.path != str(db.path):
        raise PermissionDenied("the credentials were re-entered for another database")
    age = clock.now() - datetime.fromisoformat(proof.at.replace("Z", "+00:00"))
    if age > REAUTH_VALID or age < -REAUTH_VALID:
        raise PermissionDenied("the credentials were re-entered too long ago: enter the PIN again")
    return proof.staff, proof.at
