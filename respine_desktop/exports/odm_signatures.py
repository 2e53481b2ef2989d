"""Electronic signatures in the CDISC ODM 1.3.2 export (`exports.odm`), snapshot and --history.

* **AdminData** gets one ``SignatureDef`` per meaning used by a visit or subject signature:
  ``OID`` ``SD.<MEANING>``, ``Methodology="Electronic"`` (a username and PIN typed again, not a
  cryptographic signature), ``Meaning`` (the attestation text the signer confirmed, §11.50) and
  ``LegalReason`` (21 CFR Part 11, the components checked again). Every signer is a ``User``
  (``USR.<staff id>``) there.
* A signature is a ``Signature`` (``UserRef``, ``LocationRef`` of the signing device's site,
  ``SignatureRef``, ``DateTimeStamp`` of signing) placed on what it signs, where the schema's
  content order puts it: right after the element's ``AuditRecord`` and before its ``SiteRef``
  / ``Annotation``s: the visit's ``StudyEventData``, the subject's ``SubjectData``.
* A document signature (the qualification report of ``validate``) signs no clinical record and
  appears nowhere in ClinicalData.

ODM 1.3.2 allows ONE ``Signature`` per element, and a ``Signature`` element states that the data
it sits on are signed as they are. So:

* the ``Signature`` written is the newest signature whose record is unchanged since (state
  ``valid`` of `storage.signature_states`);
* a **broken** signature (the record changed after it: a correction, another session counted) is
  never written as a ``Signature``, which a reader would take for valid. It becomes an
  ``Annotation`` whose ``Comment`` starts with ``SIGNATURE_BROKEN`` (who, meaning, when, the
  signature id, and whether it was signed again since) and whose ``Flag`` is ``SIGNATURE_BROKEN``
  (type ``SIGNATURE``, both in the MetaDataVersion's flag code lists). Leaving the broken
  signature out keeps the file truthful for any ODM reader; the annotation keeps the event
  visible for a reviewer (the audit trail has the full record);
* any other still-valid signature of the same record (e.g. ``reviewed`` then ``approved``) is an
  ``Annotation`` with the flag ``SIGNED`` and its details, so none is lost.

Both file types carry the state at export time: in --history the ``Signature`` is the current
one too (the signatures' own audit entries are in the audit-trail export).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from respine_desktop.storage import SignatureStatus, StudyDb, signature_states

SIGNATURE_FLAG_TYPE = "SIGNATURE"
# flag value -> (flag type, English decode); merged into `odm.FLAGS`
SIGNATURE_FLAGS: Mapping[str, tuple[str, str]] = {
    "SIGNATURE_BROKEN": (
        SIGNATURE_FLAG_TYPE,
        "an electronic signature no longer valid: the data changed after signing",
    ),
    "SIGNED": (SIGNATURE_FLAG_TYPE, "another electronic signature of the same record, valid"),
}
SIGNATURE_FLAG_TYPES: Mapping[str, str] = {SIGNATURE_FLAG_TYPE: "electronic signature status"}
LEGAL_REASON = (
    "Electronic signature under 21 CFR Part 11: both components of the signer's identification "
    "(username and PIN) entered again at signing (11.200(a)); the signature is linked to the "
    "SHA-256 of the signed record's content (11.70)"
)
_FLAG_VALUES = "CL.FLAG.VALUE"
_FLAG_TYPES = "CL.FLAG.TYPE"

_SPECIAL = re.compile(r'[&<>"\r\n\t]')
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;"}
_ESCAPES["\t"] = "&#9;"


def _esc(text: str) -> str:
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group()], text)


def signature_def_oid(meaning: str) -> str:
    return f"SD.{meaning.upper()}"


@dataclass(frozen=True)
class Placed:
    """What goes on one element: its ``Signature`` (or "") and its ``Annotation``s (or "")."""

    signature: str
    annotations: str


@dataclass
class OdmSignatures:
    """The visit and subject signatures of a database, by the record they sign."""

    # (subject code, visit code or None for the subject) -> its signatures, oldest first
    by_record: dict[tuple[str, str | None], list[SignatureStatus]] = field(default_factory=dict)
    statements: dict[str, str] = field(default_factory=dict)  # meaning -> attestation text

    @staticmethod
    def load(db: StudyDb) -> OdmSignatures:
        """Every visit and subject signature with its state now (documents left out)."""
        out = OdmSignatures()
        for status in signature_states(db):
            sig = status.signature
            if sig.target_kind not in ("visit", "subject") or sig.subject_code is None:
                continue
            key = (sig.subject_code, sig.visit_code if sig.target_kind == "visit" else None)
            out.by_record.setdefault(key, []).append(status)
            out.statements.setdefault(sig.meaning, sig.statement)
        return out

    @property
    def staff_ids(self) -> set[str]:
        """The signers (each must be a User in AdminData)."""
        return {s.signature.staff_id for rows in self.by_record.values() for s in rows}

    def signature_defs(self) -> str:
        """The AdminData ``SignatureDef`` of each meaning used (after Users and Locations)."""
        return "".join(
            f'<SignatureDef OID="{signature_def_oid(meaning)}" Methodology="Electronic">'
            f"<Meaning>{_esc(text)}</Meaning><LegalReason>{_esc(LEGAL_REASON)}</LegalReason>"
            "</SignatureDef>"
            for meaning, text in sorted(self.statements.items())
        )

    def place(
        self,
        subject_code: str,
        visit_code: str | None,
        location: Callable[[str], str],
        *,
        first_seq: int = 1,
    ) -> Placed:
        """The ``Signature`` and annotations of a subject (`visit_code` None) or of its visit.

        `location` gives the LocationOID of a device id; annotations are numbered from
        `first_seq` (after the element's other annotations)."""
        rows = self.by_record.get((subject_code, visit_code))
        if not rows:
            return Placed("", "")
        valid = [s for s in rows if s.state == "valid"]
        chosen = valid[-1] if valid else None
        signature = ""
        if chosen is not None:
            sig = chosen.signature
            signature = (
                f'<Signature ID="{_esc("SIG." + sig.id)}">'
                f'<UserRef UserOID="USR.{_esc(sig.staff_id)}"/>'
                f'<LocationRef LocationOID="{_esc(location(sig.device_id))}"/>'
                f'<SignatureRef SignatureOID="{signature_def_oid(sig.meaning)}"/>'
                f"<DateTimeStamp>{_esc(sig.signed_at)}</DateTimeStamp></Signature>"
            )
        notes = []
        seq = first_seq
        for status in rows:
            if status is chosen:
                continue
            sig = status.signature
            who = f"signature {sig.id} by {sig.username} ({sig.role}), meaning {sig.meaning}, "
            who += f"signed {sig.signed_at}"
            if status.state == "broken":
                later = [
                    s.signature.id
                    for s in valid
                    if s.signature.signed_at >= sig.signed_at and s is not status
                ]
                again = (
                    f"; signed again since: {', '.join(later)}" if later else "; not signed again"
                )
                text = f"SIGNATURE_BROKEN {who}: the data changed after signing{again}"
                flag = "SIGNATURE_BROKEN"
            else:
                text = f"SIGNED {who}: still valid (the Signature element is the newest)"
                flag = "SIGNED"
            notes.append(
                f'<Annotation SeqNum="{seq}"><Comment>{_esc(text)}</Comment><Flag>'
                f'<FlagValue CodeListOID="{_FLAG_VALUES}">{flag}</FlagValue>'
                f'<FlagType CodeListOID="{_FLAG_TYPES}">{SIGNATURE_FLAG_TYPE}</FlagType>'
                "</Flag></Annotation>"
            )
            seq += 1
        return Placed(signature, "".join(notes))
