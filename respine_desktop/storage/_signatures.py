"""Electronic signatures (21 CFR Part 11): a staff member signs a visit, a subject or a document.

A signature needs both components of the signer's identity typed again at the moment of signing
(§11.200(a)): the username and the PIN, checked by the staff sign-in (`_staff.authenticate`, so
wrong PINs count towards the escalating lockout and are audited). It records who (staff id,
username and role at the time), when (the app's clock, UTC), where (device), the meaning and its
attestation text (§11.50), what (target) and the SHA-256 of the canonical text of what was signed
(`_signed_content`): the link between signature and record (§11.70). A later change to the record
(a correction, a conflict choice that counts another session) changes that text, and the
signature shows as ``broken`` (`signature_states`) until someone signs again.

Who may sign: an investigator or an administrator signs visits and subjects; any active staff
member signs a document they produced (the qualification report of `validate`, meaning
``performed``). Rows are append-only (``signatures``, migration ``0011_signatures``), imaged in
their ``signature.signed`` audit entry like every state table, so `verify` covers them.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from typing import Literal

from respine_desktop import clock
from respine_desktop.storage import _audit as audit
from respine_desktop.storage import _signed_content as content
from respine_desktop.storage._database import StudyDb, new_id, transaction
from respine_desktop.storage._errors import InvalidInput, PermissionDenied
from respine_desktop.storage._reauth import Reauthenticated, reauthenticated_staff
from respine_desktop.storage._records import Role, Staff
from respine_desktop.storage._staff import authenticate, staff_by_id
from respine_desktop.storage._subjects import get_subject

Meaning = Literal["reviewed", "approved", "responsibility", "performed"]
TargetKind = Literal["visit", "subject", "document"]
SignatureState = Literal["valid", "broken"]

# meaning -> its attestation text (§11.50(a)(3)), in English and French
MEANINGS: dict[str, tuple[str, str]] = {
    "reviewed": ("I have reviewed these data", "J'ai revu ces données"),
    "approved": (
        "I approve these data as accurate and complete",
        "J'approuve ces données comme exactes et complètes",
    ),
    "responsibility": ("I am responsible for these data", "Je suis responsable de ces données"),
    "performed": ("I performed this qualification", "J'ai réalisé cette qualification"),
}
DATA_MEANINGS: tuple[str, ...] = ("reviewed", "approved", "responsibility")
DOCUMENT_MEANINGS: tuple[str, ...] = ("performed",)
DATA_SIGNERS: tuple[Role, ...] = ("investigator", "admin")
_SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_TITLE = 200


@dataclass(frozen=True, slots=True)
class Signature:
    """One electronic signature as recorded (the signer's username and role at signing time)."""

    id: str
    signed_at: str
    device_id: str
    staff_id: str
    username: str
    role: str
    meaning: str
    statement: str
    target_kind: str
    target_id: str
    subject_code: str | None
    visit_code: str | None
    title: str | None
    content_sha256: str

    @property
    def target(self) -> str:
        """What was signed, in words: ``RSP-01-001 M12``, ``RSP-01-001``, a document's title."""
        if self.target_kind == "visit":
            return f"{self.subject_code} {self.visit_code}"
        if self.target_kind == "subject":
            return str(self.subject_code)
        return f"{self.title or 'document'} (SHA-256 {self.target_id})"


@dataclass(frozen=True, slots=True)
class SignatureStatus:
    """A signature and whether the record it signed is unchanged since (`valid`) or not."""

    signature: Signature
    state: SignatureState


_SELECT = (
    "SELECT g.id, g.signed_at, g.device_id, g.staff_id, g.username, g.role, g.meaning, "
    "g.statement, g.target_kind, g.target_id, j.code AS subject_code, g.visit_code, g.title, "
    "g.content_sha256 FROM signatures g LEFT JOIN subjects j ON j.id = g.subject_id"
)


def _row(r: sqlite3.Row) -> Signature:
    return Signature(**{k: r[k] for k in r.keys()})  # noqa: SIM118 (sqlite3.Row)


def has_table(db: StudyDb) -> bool:
    """Whether the file has the table (a read-only open of an older file may not)."""
    found = db.conn.execute(
        "SELECT 1 AS x FROM sqlite_master WHERE type='table' AND name='signatures'"
    ).fetchone()
    return found is not None


def statement(meaning: str) -> str:
    """The attestation text of `meaning` (English; `MEANINGS` has the French)."""
    return MEANINGS[meaning][0]


def _check_meaning(meaning: str, allowed: tuple[str, ...]) -> str:
    if meaning not in allowed:
        raise InvalidInput(
            f"unknown signature meaning {meaning!r}: choose one of {', '.join(allowed)}"
        )
    return meaning


def _signer(
    db: StudyDb,
    username: str,
    pin: str,
    roles: tuple[Role, ...] | None,
    proof: Reauthenticated | None = None,
) -> Staff:
    """Both components checked again now (§11.200(a)(1)), or a fresh re-entry `proof` (the
    console's credential fields, `reauthenticate`), then the role."""
    if proof is not None:
        staff, _ = reauthenticated_staff(db, proof)
    else:
        if not isinstance(username, str) or not username.strip():
            raise InvalidInput("a signature needs the signer's username and PIN")
        if not isinstance(pin, str) or not pin:
            raise InvalidInput("a signature needs the signer's username and PIN")
        staff = authenticate(db, username, pin)
    current = staff_by_id(db, staff.id)
    if roles is not None and current.role not in roles:
        raise PermissionDenied(
            f"{current.username!r} ({current.role}) may not sign data: it needs the role "
            f"{' or '.join(roles)}"
        )
    return current


def _insert(
    db: StudyDb,
    signer: Staff,
    meaning: str,
    kind: TargetKind,
    target_id: str,
    sha256: str,
    *,
    subject_id: str | None = None,
    visit_code: str | None = None,
    title: str | None = None,
) -> str:
    sid = new_id()
    at = clock.now_iso()
    text = statement(meaning)
    db.conn.execute(
        "INSERT INTO signatures (id, signed_at, device_id, staff_id, username, role, meaning, "
        "statement, target_kind, target_id, subject_id, visit_code, title, content_sha256) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [sid, at, db.device_id, signer.id, signer.username, signer.role, meaning, text, kind,
         target_id, subject_id, visit_code, title, sha256],
    )  # fmt: skip
    audit.append(
        db,
        action="signature.signed",
        entity="signature",
        entity_id=sid,
        subject_id=subject_id,
        actor=signer.id,
        payload={
            "meaning": meaning,
            "statement": text,
            "target_kind": kind,
            "target_id": target_id,
            "visit_code": visit_code,
            "content_sha256": sha256,
        },
    )
    return sid


def sign(
    db: StudyDb,
    *,
    subject_code: str,
    meaning: str,
    visit_code: str | None = None,
    username: str = "",
    pin: str = "",
    proof: Reauthenticated | None = None,
) -> Signature:
    """Sign a subject's visit (`visit_code`) or the whole subject, with `meaning`.

    The username and PIN are checked again (wrong PIN: the sign-in's errors and lockout), or
    `proof` stands for that re-entry (made by `reauthenticate` moments before: forged, foreign
    or stale proofs are refused);
    PermissionDenied for a role other than investigator or admin; InvalidInput for an unknown
    meaning or a visit without a questionnaire session; UnknownSubject / UnknownVisit.
    """
    _check_meaning(meaning, DATA_MEANINGS)
    subject = get_subject(db, subject_code)
    if visit_code is not None and visit_code not in db.study.visit_codes:
        from respine_desktop.storage._errors import UnknownVisit

        raise UnknownVisit(
            f"unknown visit {visit_code!r}: the study's visits are "
            f"{', '.join(db.study.visit_codes)}"
        )
    # what is signed must exist before the PIN is checked (no failed attempt for a typo)
    if visit_code is not None:
        content.visit_text(db, subject_code, visit_code)
        state = content.counted_state(db, subject_code, visit_code)
        if state != "submitted":
            raise InvalidInput(
                f"{subject_code} {visit_code}: the questionnaires are not submitted yet "
                f"({state}): sign the visit once they are"
            )
    else:
        content.subject_text(db, subject_code)
    if not has_table(db):  # pragma: no cover - a writable open always migrates
        raise InvalidInput("this database has no signatures table")
    signer = _signer(db, username, pin, DATA_SIGNERS, proof)
    with transaction(db):
        # the text again inside the transaction: what is signed is what is stored
        text = (
            content.visit_text(db, subject_code, visit_code)
            if visit_code is not None
            else content.subject_text(db, subject_code)
        )
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if visit_code is not None:
            from respine_desktop.storage._visits import visit_id

            sid = _insert(db, signer, meaning, "visit", visit_id(subject.id, visit_code), sha,
                          subject_id=subject.id, visit_code=visit_code)  # fmt: skip
        else:
            sid = _insert(db, signer, meaning, "subject", subject.id, sha, subject_id=subject.id)
    return get_signature(db, sid)


def sign_document(
    db: StudyDb, *, username: str, pin: str, document_sha256: str, title: str,
    meaning: str = "performed",
) -> Signature:  # fmt: skip
    """Sign a document by its SHA-256 (lowercase hex), e.g. the results of `validate`.

    Any active staff member may sign a document they produced; the PIN is checked again.
    """
    _check_meaning(meaning, DOCUMENT_MEANINGS)
    if not isinstance(document_sha256, str) or not _SHA256.fullmatch(document_sha256):
        raise InvalidInput("a document is signed by its SHA-256: 64 lowercase hex digits")
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidInput(f"a signed document needs a title of 1 to {MAX_TITLE} characters")
    signer = _signer(db, username, pin, None)
    with transaction(db):
        sid = _insert(db, signer, meaning, "document", document_sha256, document_sha256,
                      title=title)  # fmt: skip
    return get_signature(db, sid)


def get_signature(db: StudyDb, signature_id: str) -> Signature:
    row = db.conn.execute(f"{_SELECT} WHERE g.id=?", [signature_id]).fetchone()
    if row is None:
        from respine_desktop.storage._errors import NotFound

        raise NotFound(f"unknown signature {signature_id!r}")
    return _row(row)


def list_signatures(db: StudyDb, subject_code: str | None = None) -> list[Signature]:
    """Every signature (of one subject if `subject_code`), oldest first."""
    if not has_table(db):
        return []
    if subject_code is not None:
        get_subject(db, subject_code)
        rows = db.conn.execute(f"{_SELECT} WHERE j.code=? ORDER BY g.rowid", [subject_code])
    else:
        rows = db.conn.execute(f"{_SELECT} ORDER BY g.rowid")
    return [_row(r) for r in rows]


def current_sha256(db: StudyDb, signature: Signature) -> str | None:
    """The SHA-256 of what `signature` signed, as the record is now (a document's own hash)."""
    if signature.target_kind == "document":
        return signature.target_id
    assert signature.subject_code is not None
    if signature.target_kind == "visit":
        assert signature.visit_code is not None
        return content.visit_sha256(db, signature.subject_code, signature.visit_code)
    return content.subject_sha256(db, signature.subject_code)


def signature_states(db: StudyDb, subject_code: str | None = None) -> list[SignatureStatus]:
    """Every signature (of one subject) with its state: ``valid`` if the record's content hash
    is the one signed, else ``broken``. The hash of each record is computed once."""
    found: dict[tuple[str, str], str | None] = {}
    out = []
    for sig in list_signatures(db, subject_code):
        key = (sig.target_kind, sig.target_id)
        if key not in found:
            found[key] = current_sha256(db, sig)
        state: SignatureState = "valid" if found[key] == sig.content_sha256 else "broken"
        out.append(SignatureStatus(sig, state))
    return out


def visit_signature_states(
    db: StudyDb, visit_code: str, *, before: str | None = None
) -> dict[str, SignatureState]:
    """Per subject code, the state of the newest signature of its visit `visit_code` (made
    before the time stamp `before`, if given); subjects whose visit nobody signed are absent."""
    if not has_table(db):
        return {}
    sql = f"{_SELECT} WHERE g.target_kind='visit' AND g.visit_code=?"
    params = [visit_code]
    if before is not None:
        sql += " AND g.signed_at < ?"
        params.append(before)
    newest: dict[str, Signature] = {}
    for r in db.conn.execute(sql + " ORDER BY g.rowid", params):
        sig = _row(r)
        newest[str(sig.subject_code)] = sig
    return {
        code: "valid" if current_sha256(db, sig) == sig.content_sha256 else "broken"
        for code, sig in newest.items()
    }
