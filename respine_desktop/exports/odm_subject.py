"""ODM subject-level and visit-level data: day 0, year of birth, withdrawal, visit facts.

Metadata (declared in the MetaDataVersion, see `write_metadata_*`):

* ``SE.SUBJECT`` (Type ``Common``, first in the Protocol) with the form ``F.SUBJECT``
  (``IT.DAY0`` date, ``IT.YEAR_OF_BIRTH`` integer) and the form ``F.WITHDRAWAL``
  (``IT.WITHDRAWN_ON`` date, ``IT.WITHDRAWAL_REASON`` text), present only for a withdrawn subject;
* ``F.VISIT``, the first form of every visit: ``IT.VISIT_NUMBER`` (1 for the first visit of the
  schedule), ``IT.VISIT_DATE``, ``IT.STUDY_DAY`` (days from day 0, day 0 = 0), ``IT.SESSION_ID``
  (the session the visit's values come from) and ``IT.VISIT_STATUS`` (code list
  ``CL.VISIT_STATUS``, the statuses of ``visits_wide.csv``, ``withdrawn`` included).

The values are those of ``visits_wide.csv`` (`missing_codes.wide_head`); a value that is not known
(no visit date yet, no session) has no ItemData. In --history the subject form carries the
registration's AuditRecord, the withdrawal form the withdrawal's (who recorded it, when, the
reason as ReasonForChange) and the visit form its visit's own AuditRecord.
"""

from __future__ import annotations

from collections.abc import Mapping

from respine_desktop.exports.missing_codes import study_day, visit_number
from respine_desktop.exports.odm_xml import Xml, audit_record, esc, oid, texts
from respine_desktop.exports.visit_values import CONFLICT, WITHDRAWN, VisitValues
from respine_desktop.storage import VISIT_STATUSES, Withdrawal
from respine_desktop.storage.export_reads import SubjectRecord
from respine_desktop.study import Study

SUBJECT_EVENT = "SE.SUBJECT"
SUBJECT_FORM = "F.SUBJECT"
SUBJECT_GROUP = "IG.SUBJECT"
WITHDRAWAL_FORM = "F.WITHDRAWAL"
WITHDRAWAL_GROUP = "IG.WITHDRAWAL"
VISIT_FORM = "F.VISIT"
VISIT_GROUP = "IG.VISIT"
STATUS_LIST = "CL.VISIT_STATUS"

# item name -> (DataType, Length or "", English text, French text)
_ITEMS: Mapping[str, tuple[str, str, str, str]] = {
    "DAY0": ("date", "", "Day 0 (the injection day)", "Jour 0 (le jour de l'injection)"),
    "YEAR_OF_BIRTH": ("integer", "4", "Year of birth", "Année de naissance"),
    "WITHDRAWN_ON": (
        "date",
        "",
        "Day the subject withdrew from the study",
        "Jour où le sujet s'est retiré de l'étude",
    ),
    "WITHDRAWAL_REASON": ("text", "500", "Reason for the withdrawal", "Motif du retrait"),
    "VISIT_NUMBER": (
        "integer",
        "2",
        "Visit number (the visit's place in the schedule, 1 for the first)",
        "Numéro de visite (sa place dans le calendrier, 1 pour la première)",
    ),
    "VISIT_DATE": (
        "date",
        "",
        "Day the questionnaires were submitted",
        "Jour où les questionnaires ont été soumis",
    ),
    "STUDY_DAY": (
        "integer",
        "5",
        "Study day: days from day 0 (day 0 = 0) to the visit date, or to the session's start "
        "when it is not submitted",
        "Jour d'étude : jours depuis le jour 0 (jour 0 = 0) jusqu'à la date de visite, ou au "
        "début de la séance si elle n'est pas soumise",
    ),
    "SESSION_ID": (
        "text",
        "64",
        "Id of the session the visit's values come from",
        "Identifiant de la séance dont viennent les valeurs de la visite",
    ),
    "VISIT_STATUS": ("text", "11", "Visit status on the export day", "Statut de la visite"),
}
_GROUPS: Mapping[str, tuple[str, tuple[str, ...], str, str]] = {
    SUBJECT_GROUP: (SUBJECT_FORM, ("DAY0", "YEAR_OF_BIRTH"), "Subject", "Sujet"),
    WITHDRAWAL_GROUP: (
        WITHDRAWAL_FORM,
        ("WITHDRAWN_ON", "WITHDRAWAL_REASON"),
        "Withdrawal",
        "Retrait",
    ),
    VISIT_GROUP: (
        VISIT_FORM,
        ("VISIT_NUMBER", "VISIT_DATE", "STUDY_DAY", "SESSION_ID", "VISIT_STATUS"),
        "Visit",
        "Visite",
    ),
}
STATUS_TEXT: Mapping[str, tuple[str, str]] = {
    "not_yet_due": ("not yet due", "pas encore due"),
    "due": ("due (inside its window)", "due (dans sa fenêtre)"),
    "overdue": ("overdue (window closed, nothing recorded)", "en retard (fenêtre fermée)"),
    "missed": ("marked missed by staff", "marquée manquée par l'équipe"),
    "in_progress": ("session in progress", "séance en cours"),
    "parked": ("session parked", "séance suspendue"),
    "complete": ("questionnaires submitted", "questionnaires soumis"),
    CONFLICT: ("two kiosks recorded this visit", "deux bornes ont saisi cette visite"),
    WITHDRAWN: ("subject withdrew before this visit", "sujet retiré avant cette visite"),
}
STATUSES: tuple[str, ...] = (*VISIT_STATUSES, CONFLICT, WITHDRAWN)


def item_oid(name: str) -> str:
    return oid("IT", name)


def _en_fr(en: str, fr: str) -> dict[str, str]:
    return {"en": en, "fr": fr}


def write_protocol_ref(x: Xml) -> None:
    """The subject-level event's StudyEventRef: first in the Protocol (OrderNumber 1)."""
    attrs = {"StudyEventOID": SUBJECT_EVENT, "OrderNumber": "1", "Mandatory": "Yes"}
    x.leaf("StudyEventRef", attrs)


def write_event_def(x: Xml) -> None:
    """The StudyEventDef of the subject-level data."""
    attrs = {"OID": SUBJECT_EVENT, "Name": "Subject", "Repeating": "No", "Type": "Common"}
    with x.element("StudyEventDef", attrs):
        texts(x, "Description", _en_fr("Subject-level data", "Données du sujet"))
        x.leaf("FormRef", {"FormOID": SUBJECT_FORM, "OrderNumber": "1", "Mandatory": "Yes"})
        x.leaf("FormRef", {"FormOID": WITHDRAWAL_FORM, "OrderNumber": "2", "Mandatory": "No"})


def write_visit_form_ref(x: Xml) -> None:
    """The visit form's FormRef: first in every visit's StudyEventDef (OrderNumber 1)."""
    x.leaf("FormRef", {"FormOID": VISIT_FORM, "OrderNumber": "1", "Mandatory": "Yes"})


def write_form_defs(x: Xml) -> None:
    for group, (form, _, en, fr) in _GROUPS.items():
        with x.element("FormDef", {"OID": form, "Name": en, "Repeating": "No"}):
            texts(x, "Description", _en_fr(en, fr))
            x.leaf("ItemGroupRef", {"ItemGroupOID": group, "Mandatory": "Yes"})


def write_group_defs(x: Xml) -> None:
    for group, (_, items, en, _fr) in _GROUPS.items():
        with x.element("ItemGroupDef", {"OID": group, "Name": en, "Repeating": "No"}):
            for n, name in enumerate(items, start=1):
                x.leaf(
                    "ItemRef",
                    {"ItemOID": item_oid(name), "OrderNumber": str(n), "Mandatory": "No"},
                )


def write_item_defs(x: Xml) -> None:
    for name, (kind, length, en, fr) in _ITEMS.items():
        attrs = {"OID": item_oid(name), "Name": name, "DataType": kind}
        if length:
            attrs["Length"] = length
        with x.element("ItemDef", attrs):
            texts(x, "Question", _en_fr(en, fr))
            if name == "VISIT_STATUS":
                x.leaf("CodeListRef", {"CodeListOID": STATUS_LIST})


def write_code_lists(x: Xml) -> None:
    with x.element("CodeList", {"OID": STATUS_LIST, "Name": "visit statuses", "DataType": "text"}):
        for status in STATUSES:
            en, fr = STATUS_TEXT[status]
            with x.element("CodeListItem", {"CodedValue": status}):
                texts(x, "Decode", _en_fr(en, fr))


# -- clinical data --------------------------------------------------------------------------------


def _items(values: list[tuple[str, object]], kind: str) -> str:
    t = f' TransactionType="{kind}"' if kind else ""
    return "".join(
        f'<ItemData ItemOID="{item_oid(name)}"{t} Value="{esc(str(value))}"/>'
        for name, value in values
        if value is not None and value != ""
    )


def _form(form: str, group: str, body: str, audit: str, kind: str) -> str:
    t = f' TransactionType="{kind}"' if kind else ""
    return (
        f'<FormData FormOID="{form}"{t}>{audit}'
        f'<ItemGroupData ItemGroupOID="{group}"{t}>{audit}{body}</ItemGroupData></FormData>'
    )


def subject_event(
    record: SubjectRecord,
    *,
    registered: str = "",
    left: str = "",
) -> str:
    """The ``SE.SUBJECT`` StudyEventData: snapshot without audit arguments, else --history
    (`registered` the registration's AuditRecord, `left` the withdrawal's)."""
    kind = "Insert" if registered else ""
    subject = record.subject
    event_kind = ' TransactionType="Upsert"' if registered else ""
    born: list[tuple[str, object]] = [
        ("DAY0", subject.day0.isoformat()),
        ("YEAR_OF_BIRTH", subject.year_of_birth),
    ]
    body = _items(born, kind)
    out = f'<StudyEventData StudyEventOID="{SUBJECT_EVENT}"{event_kind}>{registered}'
    out += _form(SUBJECT_FORM, SUBJECT_GROUP, body, registered, kind)
    w = record.withdrawal
    if w is not None:
        values: list[tuple[str, object]] = [
            ("WITHDRAWN_ON", w.withdrawn_on.isoformat()),
            ("WITHDRAWAL_REASON", w.reason),
        ]
        out += _form(WITHDRAWAL_FORM, WITHDRAWAL_GROUP, _items(values, kind), left, kind)
    return out + "</StudyEventData>"


def withdrawal_audit(w: Withdrawal, location: str) -> str:
    """The AuditRecord of a withdrawal: who recorded it, when, and its reason."""
    return audit_record(
        f"USR.{w.recorded_by}",
        location,
        w.recorded_at,
        w.reason,
        f"withdrawal of {w.subject_code} on {w.withdrawn_on.isoformat()} recorded",
    )


def visit_form(study: Study, record: SubjectRecord, v: VisitValues, audit: str = "") -> str:
    """The ``F.VISIT`` FormData of one visit (with `audit`, the --history form of it)."""
    kind = "Upsert" if audit else ""
    day = study_day(record.subject.day0, v)
    values: list[tuple[str, object]] = [
        ("VISIT_NUMBER", visit_number(study, v.code)),
        ("VISIT_DATE", v.visit_date.isoformat() if v.visit_date is not None else None),
        ("STUDY_DAY", day),
        ("SESSION_ID", v.session.id if v.session is not None else None),
        ("VISIT_STATUS", v.status),
    ]
    return _form(VISIT_FORM, VISIT_GROUP, _items(values, "Insert" if audit else ""), audit, kind)
