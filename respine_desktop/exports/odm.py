"""CDISC ODM 1.3.2 export: metadata, admin data and clinical data, streamed element by element.

One file holds ``Study`` (GlobalVariables, BasicDefinitions with the mm unit, and one
MetaDataVersion: the visits as StudyEventDefs, one FormDef / ItemGroupDef per instrument, an
ItemDef per item with its question texts in every language, CodeLists with the option texts, and a
derived ``F.SCORES`` form), ``AdminData`` (users and locations) and ``ClinicalData``:

* **Snapshot** (default): the current value of every item of each visit's session (the rules of
  `visit_values`: the last submitted session when two kiosks did a visit) and the scores
  derived at export through the scoring API. No TransactionType, no AuditRecord.
* **Transactional** (``history=True``): every answer version in the order it was given, each
  ``ItemData`` with ``TransactionType`` (Insert the first time the item of that visit appears,
  Update afterwards) and its own ``AuditRecord``: ``UserRef`` (the staff member who corrected
  it, or the kiosk account for patient self-entry), ``LocationRef`` (the site of the device),
  ``DateTimeStamp`` (when it was given), ``ReasonForChange`` (the correction's reason, when there
  is one) and ``SourceID`` (answer, session and device ids). Subject registration, missed
  visits and every stored score row (with its scoring version) appear the same way.

Users: ODM says study subjects are not users, so patient self-entry is attributed to one kiosk
account per device (``USR.KIOSK.<device id>``, "patient self-entry"); staff are
``USR.<staff id>`` with their username (never a PIN hash); ``USR.SYSTEM`` is the application
(scores computed at submission). Every referenced user and location is defined in AdminData.

Skipped items, the ODM 1.3.2 way: ``ItemData IsNull="Yes"`` (an explicitly empty value, no
``Value`` attribute) with an ``Annotation`` carrying a ``Comment`` and a ``Flag`` whose
``FlagValue`` is ``SKIPPED`` from the code list ``CL.FLAG.VALUE`` and whose ``FlagType`` is
``MISSING_DATA_REASON`` from ``CL.FLAG.TYPE`` (both defined in the MetaDataVersion). A missed
visit is a ``StudyEventData`` with a ``MISSED`` flag and the reason as comment; a visit two kiosks
both recorded carries a ``CONFLICT`` flag (``DATA_REVIEW``). A score that cannot be computed
(too few answers) is ``IsNull="Yes"`` without a flag.

Written with the standard library's streaming `XMLGenerator` (no runtime dependency), subject by
subject from `storage.export_reads`, so memory stays flat however many subjects there are.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from respine_desktop import __version__, clock, scoring
from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.files import atomic_binary, output_file
from respine_desktop.exports.progress import Progress, Ticker
from respine_desktop.exports.visit_values import SCORE_COLUMNS, VisitValues, visit_values
from respine_desktop.instruments import Instrument, Item, load_instrument
from respine_desktop.storage import Answer, Staff, StudyDb, list_staff
from respine_desktop.storage.export_reads import (
    DeviceRow,
    ScoreRow,
    SiteRow,
    SubjectRecord,
    count_subject_records,
    iter_subject_records,
    list_devices,
    list_site_rows,
    referenced_device_ids,
    referenced_staff_ids,
)
from respine_desktop.study import Study

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
SOURCE_SYSTEM = "RESPINE Desktop"
SYSTEM_USER = "USR.SYSTEM"
FLAG_VALUES = "CL.FLAG.VALUE"
FLAG_TYPES = "CL.FLAG.TYPE"
SCORES_FORM = "F.SCORES"
MM = "MU.MM"
Attrs = Mapping[str, str]

# Flag value -> (flag type, English decode)
FLAGS: Mapping[str, tuple[str, str]] = {
    "SKIPPED": ("MISSING_DATA_REASON", "skipped by the patient (or unanswered at submission)"),
    "MISSED": ("MISSING_DATA_REASON", "visit marked missed by staff"),
    "CONFLICT": ("DATA_REVIEW", "two kiosks recorded this visit; review needed"),
}
FLAG_TYPE_TEXT: Mapping[str, str] = {
    "MISSING_DATA_REASON": "why a value is missing",
    "DATA_REVIEW": "the data needs review",
}


@dataclass(frozen=True)
class OdmExport:
    """What `export_odm` wrote."""

    path: Path
    file_type: str
    subjects: int
    item_data: int


def oid(prefix: str, name: str) -> str:
    """An OID like ``IT.ODI_01`` from a prefix and an id."""
    return f"{prefix}.{name.upper()}"


def user_oid(staff_id: str | None, device_id: str) -> str:
    """The user an entry is attributed to: the staff member, else the device's kiosk account."""
    return f"USR.{staff_id}" if staff_id else f"USR.KIOSK.{device_id}"


def score_item_oid(column: str) -> str:
    return oid("IT.SCORE", column)


def score_group_oid(instrument: str, method: str | None) -> str:
    return "IG.SCORES." + ("RAND36" if method == "rand" else instrument.upper())


class _Xml:
    """A thin streaming writer over `XMLGenerator`: nested elements as context managers."""

    def __init__(self, out: IO[bytes]) -> None:
        self._g = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)

    def start_document(self) -> None:
        self._g.startDocument()

    def newline(self) -> None:
        self._g.ignorableWhitespace("\n")

    @contextlib.contextmanager
    def element(self, tag: str, attrs: Attrs | None = None) -> Iterator[None]:
        self._g.startElement(tag, cast("AttributesImpl[str]", attrs or {}))
        yield
        self._g.endElement(tag)

    def leaf(self, tag: str, attrs: Attrs | None = None, text: str | None = None) -> None:
        self._g.startElement(tag, cast("AttributesImpl[str]", attrs or {}))
        if text:
            self._g.characters(text)
        self._g.endElement(tag)

    def end_document(self) -> None:
        self._g.endDocument()


def _texts(x: _Xml, tag: str, texts: Mapping[str, str]) -> None:
    with x.element(tag):
        for lang, text in sorted(texts.items()):
            x.leaf("TranslatedText", {"xml:lang": lang}, text)


def _question(item: Item) -> dict[str, str]:
    return {
        lang: (item.stem.get(lang, "") + " " + text).strip() for lang, text in item.text.items()
    }


def _code_lists(instruments: list[Instrument]) -> tuple[dict[str, str], list[tuple[str, Item]]]:
    """The code list OID of every choice item, and the distinct lists (first item using each)."""
    by_content: dict[tuple[object, ...], str] = {}
    of_item: dict[str, str] = {}
    distinct: list[tuple[str, Item]] = []
    for instrument in instruments:
        for item in instrument.items:
            if item.type != "choice":
                continue
            key = tuple((c.code, tuple(sorted(c.text.items()))) for c in item.choices)
            if key not in by_content:
                by_content[key] = oid("CL", item.id)
                distinct.append((by_content[key], item))
            of_item[item.id] = by_content[key]
    return of_item, distinct


def metadata_version_oid(study: Study) -> str:
    """Changes whenever an instrument file or the scoring version changes."""
    content = "|".join(
        [*(load_instrument(i).checksum for i in study.instrument_order), scoring.SCORING_VERSION]
    )
    return f"MDV.{study.id.upper()}.{hashlib.sha256(content.encode()).hexdigest()[:12]}"


def _write_study(x: _Xml, study: Study, mdv: str) -> None:
    instruments = [load_instrument(i) for i in study.instrument_order]
    with x.element("Study", {"OID": study.oid}):
        with x.element("GlobalVariables"):
            x.leaf("StudyName", None, study.id)
            x.leaf("StudyDescription", None, study.title)
            x.leaf("ProtocolName", None, study.protocol)
        with x.element("BasicDefinitions"), x.element("MeasurementUnit", {"OID": MM, "Name": "mm"}):
            _texts(x, "Symbol", {"en": "mm"})
        names = ", ".join(f"{i.id} {i.version}" for i in instruments)
        with x.element("MetaDataVersion", {"OID": mdv, "Name": f"{study.id} ePRO ({names})"}):
            _write_metadata(x, study, instruments)


def _write_metadata(x: _Xml, study: Study, instruments: list[Instrument]) -> None:
    with x.element("Protocol"):
        for n, visit in enumerate(study.visits, start=1):
            x.leaf(
                "StudyEventRef",
                {"StudyEventOID": oid("SE", visit.code), "OrderNumber": str(n), "Mandatory": "Yes"},
            )
    for visit in study.visits:
        name = visit.label.get("en") or visit.code
        attrs = {"OID": oid("SE", visit.code), "Name": name, "Repeating": "No", "Type": "Scheduled"}
        with x.element("StudyEventDef", attrs):
            _texts(x, "Description", {k: f"{visit.code}: {v}" for k, v in visit.label.items()})
            for n, instrument_id in enumerate(visit.instruments, start=1):
                x.leaf(
                    "FormRef",
                    {"FormOID": oid("F", instrument_id), "OrderNumber": str(n), "Mandatory": "Yes"},
                )
            x.leaf(
                "FormRef",
                {
                    "FormOID": SCORES_FORM,
                    "OrderNumber": str(len(visit.instruments) + 1),
                    "Mandatory": "No",
                },
            )
    for inst in instruments:
        with x.element(
            "FormDef",
            {"OID": oid("F", inst.id), "Name": inst.title.get("en", inst.id), "Repeating": "No"},
        ):
            _texts(
                x,
                "Description",
                {
                    lang: f"{title} (version {inst.version}, {inst.checksum}). "
                    f"{inst.credit.get(lang, '')} {inst.licence.get(lang, '')}".strip()
                    for lang, title in inst.title.items()
                },
            )
            x.leaf("ItemGroupRef", {"ItemGroupOID": oid("IG", inst.id), "Mandatory": "Yes"})
            x.leaf("Alias", {"Context": "RESPINE instrument version", "Name": inst.version})
            x.leaf("Alias", {"Context": "RESPINE instrument checksum", "Name": inst.checksum})
    groups = _score_groups()
    with x.element("FormDef", {"OID": SCORES_FORM, "Name": "Scores", "Repeating": "No"}):
        _texts(
            x,
            "Description",
            {"en": f"Scores derived from the answers with {scoring.SCORING_VERSION}"},
        )
        for group in groups:
            x.leaf("ItemGroupRef", {"ItemGroupOID": group, "Mandatory": "No"})
    for inst in instruments:
        with x.element(
            "ItemGroupDef", {"OID": oid("IG", inst.id), "Name": inst.id, "Repeating": "No"}
        ):
            for n, item in enumerate(inst.items, start=1):
                x.leaf(
                    "ItemRef",
                    {
                        "ItemOID": oid("IT", item.id),
                        "OrderNumber": str(n),
                        "Mandatory": "No" if item.optional else "Yes",
                    },
                )
    for group, columns in groups.items():
        instrument, method = columns[0][1], columns[0][2]
        with x.element(
            "ItemGroupDef",
            {"OID": group, "Name": scoring.label(instrument, method), "Repeating": "No"},
        ):
            for n, (column, *_) in enumerate(columns, start=1):
                x.leaf(
                    "ItemRef",
                    {"ItemOID": score_item_oid(column), "OrderNumber": str(n), "Mandatory": "No"},
                )
    code_list_of, code_lists = _code_lists(instruments)
    for inst in instruments:
        for item in inst.items:
            _write_item_def(x, item, code_list_of.get(item.id))
    for column, instrument, method, key in SCORE_COLUMNS:
        attrs = {"OID": score_item_oid(column), "Name": column, "DataType": "float"}
        with x.element("ItemDef", attrs):
            _texts(x, "Description", {"en": f"{scoring.label(instrument, method)}: {key}"})
    for list_oid, item in code_lists:
        with x.element(
            "CodeList", {"OID": list_oid, "Name": f"options of {item.id}", "DataType": "integer"}
        ):
            for c in item.choices:
                with x.element("CodeListItem", {"CodedValue": str(c.code)}):
                    _texts(x, "Decode", c.text)
    with x.element(
        "CodeList", {"OID": FLAG_VALUES, "Name": "RESPINE data flags", "DataType": "text"}
    ):
        for value, (_, text) in FLAGS.items():
            with x.element("CodeListItem", {"CodedValue": value}):
                _texts(x, "Decode", {"en": text})
    with x.element(
        "CodeList", {"OID": FLAG_TYPES, "Name": "RESPINE flag types", "DataType": "text"}
    ):
        for value, text in FLAG_TYPE_TEXT.items():
            with x.element("CodeListItem", {"CodedValue": value}):
                _texts(x, "Decode", {"en": text})


def _score_groups() -> dict[str, list[tuple[str, str, str | None, str]]]:
    groups: dict[str, list[tuple[str, str, str | None, str]]] = {}
    for column in SCORE_COLUMNS:
        groups.setdefault(score_group_oid(column[1], column[2]), []).append(column)
    return groups


def _write_item_def(x: _Xml, item: Item, code_list: str | None) -> None:
    if item.type == "vas":
        attrs = {
            "OID": oid("IT", item.id),
            "Name": item.id,
            "DataType": "float",
            "Length": "5",
            "SignificantDigits": "1",
        }
    else:
        width = max(len(str(c)) for c in item.codes)
        attrs = {
            "OID": oid("IT", item.id),
            "Name": item.id,
            "DataType": "integer",
            "Length": str(width),
        }
    with x.element("ItemDef", attrs):
        _texts(x, "Question", _question(item))
        if item.type == "vas":
            x.leaf("MeasurementUnitRef", {"MeasurementUnitOID": MM})
            for comparator, value in (("GE", item.minimum), ("LE", item.maximum)):
                with x.element("RangeCheck", {"Comparator": comparator, "SoftHard": "Hard"}):
                    x.leaf("CheckValue", None, f"{value:g}")
        if code_list is not None:
            x.leaf("CodeListRef", {"CodeListOID": code_list})


@dataclass(frozen=True)
class _Admin:
    staff: list[Staff]
    unknown_staff: list[str]
    devices: list[DeviceRow]
    unknown_devices: list[str]
    sites: list[SiteRow]


def _write_admin(x: _Xml, study: Study, mdv: str, admin: _Admin) -> None:
    with x.element("AdminData", {"StudyOID": study.oid}):
        for s in admin.staff:
            kind = "Investigator" if s.role == "investigator" else "Other"
            with x.element("User", {"OID": f"USR.{s.id}", "UserType": kind}):
                x.leaf("LoginName", None, s.username)
                x.leaf("DisplayName", None, f"{s.username} ({s.role})")
        for staff_id in admin.unknown_staff:
            with x.element("User", {"OID": f"USR.{staff_id}", "UserType": "Other"}):
                x.leaf("DisplayName", None, f"staff {staff_id} (account not in this database)")
        for d in admin.devices:
            with x.element("User", {"OID": f"USR.KIOSK.{d.id}", "UserType": "Other"}):
                x.leaf("LoginName", None, f"kiosk-{d.id}")
                x.leaf("DisplayName", None, f"ePRO kiosk {d.label} (patient self-entry)")
                if d.site_code:
                    x.leaf("LocationRef", {"LocationOID": oid("LOC", d.site_code)})
        for device_id in admin.unknown_devices:
            with x.element("User", {"OID": f"USR.KIOSK.{device_id}", "UserType": "Other"}):
                x.leaf("DisplayName", None, f"ePRO kiosk {device_id} (patient self-entry)")
        with x.element("User", {"OID": SYSTEM_USER, "UserType": "Other"}):
            x.leaf("DisplayName", None, f"{SOURCE_SYSTEM} (automatic scoring)")
        for site in admin.sites:
            attrs = {
                "OID": oid("LOC", site.code),
                "Name": f"Site {site.code}",
                "LocationType": "Site",
            }
            with x.element("Location", attrs):
                x.leaf(
                    "MetaDataVersionRef",
                    {
                        "StudyOID": study.oid,
                        "MetaDataVersionOID": mdv,
                        "EffectiveDate": site.created_at[:10],
                    },
                )


def _annotation(x: _Xml, flag: str, comment: str | None = None) -> None:
    with x.element("Annotation", {"SeqNum": "1"}):
        if comment:
            x.leaf("Comment", None, comment)
        with x.element("Flag"):
            x.leaf("FlagValue", {"CodeListOID": FLAG_VALUES}, flag)
            x.leaf("FlagType", {"CodeListOID": FLAG_TYPES}, FLAGS[flag][0])


def _value(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return repr(value)


class _Writer:
    """Writes the ClinicalData of one subject at a time."""

    def __init__(self, x: _Xml, study: Study, devices: Mapping[str, str | None]) -> None:
        self.x = x
        self.study = study
        self.site_of_device = devices
        self.item_data = 0
        self.item_group = {
            item.id: oid("IG", i)
            for i in study.instrument_order
            for item in load_instrument(i).items
        }

    def location(self, device_id: str, subject_site: str) -> str:
        return oid("LOC", self.site_of_device.get(device_id) or subject_site)

    def audit(
        self,
        user: str,
        location: str,
        at: str,
        reason: str | None = None,
        source: str | None = None,
    ) -> None:
        x = self.x
        with x.element("AuditRecord"):
            x.leaf("UserRef", {"UserOID": user})
            x.leaf("LocationRef", {"LocationOID": location})
            x.leaf("DateTimeStamp", None, at)
            if reason:
                x.leaf("ReasonForChange", None, reason)
            if source:
                x.leaf("SourceID", None, source)

    # -- snapshot -----------------------------------------------------------------------------

    def snapshot(self, record: SubjectRecord) -> None:
        x = self.x
        subject = record.subject
        with x.element("SubjectData", {"SubjectKey": subject.code}):
            x.leaf("SiteRef", {"LocationOID": oid("LOC", subject.site_code)})
            for v in visit_values(self.study, record):
                if v.visit is None and v.session is None:
                    continue
                self._snapshot_visit(v)
        x.newline()

    def _snapshot_visit(self, v: VisitValues) -> None:
        x = self.x
        with x.element("StudyEventData", {"StudyEventOID": oid("SE", v.code)}):
            if v.conflict:
                others = ", ".join(s.id for s in v.sessions if s is not v.session)
                _annotation(
                    x,
                    "CONFLICT",
                    f"values from session {v.session.id if v.session else '?'}; "
                    f"other session(s): {others}",
                )
            elif v.visit is not None and v.visit.state == "missed":
                _annotation(x, "MISSED", v.visit.missed_reason)
            by_form: dict[str, list[Answer]] = {}
            for a in v.answers.values():
                by_form.setdefault(a.instrument_id, []).append(a)
            for instrument_id in self.study.instrument_order:
                answers = by_form.get(instrument_id)
                if not answers:
                    continue
                order = {i: n for n, i in enumerate(load_instrument(instrument_id).item_ids)}
                answers.sort(key=lambda a: order.get(a.item_id, 0))
                with (
                    x.element("FormData", {"FormOID": oid("F", instrument_id)}),
                    x.element("ItemGroupData", {"ItemGroupOID": oid("IG", instrument_id)}),
                ):
                    for a in answers:
                        self._item(a, None)
            if v.submitted:
                self._snapshot_scores(v)

    def _snapshot_scores(self, v: VisitValues) -> None:
        x = self.x
        with x.element("FormData", {"FormOID": SCORES_FORM}):
            for group, columns in _score_groups().items():
                with x.element("ItemGroupData", {"ItemGroupOID": group}):
                    for column, *_ in columns:
                        value = v.scores.get(column)
                        attrs = {"ItemOID": score_item_oid(column)}
                        if value is None:
                            attrs["IsNull"] = "Yes"
                        else:
                            attrs["Value"] = _value(value)
                        x.leaf("ItemData", attrs)
                        self.item_data += 1

    def _item(self, a: Answer, history: tuple[str, str, str] | None) -> None:
        """One ItemData; `history` = (TransactionType, user OID, location OID) in --history."""
        x = self.x
        attrs = {"ItemOID": oid("IT", a.item_id)}
        if history is not None:
            attrs["TransactionType"] = history[0]
        if a.status == "skipped":
            attrs["IsNull"] = "Yes"
        else:
            attrs["Value"] = _value(a.value)
        with x.element("ItemData", attrs):
            if history is not None:
                self.audit(
                    history[1],
                    history[2],
                    a.given_at,
                    a.reason,
                    f"answer {a.id}; session {a.session_id}; device {a.device_id}",
                )
            if a.status == "skipped":
                _annotation(x, "SKIPPED", "skipped")
        self.item_data += 1

    # -- history ------------------------------------------------------------------------------

    def history(self, record: SubjectRecord) -> None:
        x = self.x
        subject = record.subject
        visit_of = {s.id: s.visit_code for s in record.sessions}
        answers: dict[str, dict[str, list[Answer]]] = {}
        for a in record.answers:
            visit = visit_of.get(a.session_id, "")
            answers.setdefault(visit, {}).setdefault(a.instrument_id, []).append(a)
        scores: dict[str, list[ScoreRow]] = {}
        for s in record.scores:
            scores.setdefault(visit_of.get(s.session_id, ""), []).append(s)
        missed = {v.visit_code: v for v in record.visits if v.state == "missed"}
        site = subject.site_code
        with x.element("SubjectData", {"SubjectKey": subject.code, "TransactionType": "Insert"}):
            self.audit(
                user_oid(subject.created_by, record.device_id),
                oid("LOC", site),
                subject.created_at,
                None,
                f"subject {subject.id} registered",
            )
            x.leaf("SiteRef", {"LocationOID": oid("LOC", site)})
            for visit in self.study.visit_codes:
                if visit not in answers and visit not in scores and visit not in missed:
                    continue
                attrs = {"StudyEventOID": oid("SE", visit), "TransactionType": "Upsert"}
                with x.element("StudyEventData", attrs):
                    gone = missed.get(visit)
                    if gone is not None:
                        self.audit(
                            f"USR.{gone.missed_by}" if gone.missed_by else SYSTEM_USER,
                            oid("LOC", site),
                            gone.missed_at or gone.updated_at,
                            gone.missed_reason,
                            f"visit {gone.id} marked missed",
                        )
                        _annotation(x, "MISSED", gone.missed_reason)
                    for instrument_id, rows in sorted(
                        answers.get(visit, {}).items(),
                        key=lambda kv: (
                            self.study.instrument_order.index(kv[0])
                            if kv[0] in self.study.instrument_order
                            else 99
                        ),
                    ):
                        self._history_form(instrument_id, rows, site)
                    if visit in scores:
                        self._history_scores(scores[visit], site)
        x.newline()

    def _history_form(self, instrument_id: str, rows: list[Answer], site: str) -> None:
        x = self.x
        seen: set[str] = set()
        attrs = {"FormOID": oid("F", instrument_id), "TransactionType": "Upsert"}
        with (
            x.element("FormData", attrs),
            x.element(
                "ItemGroupData",
                {"ItemGroupOID": oid("IG", instrument_id), "TransactionType": "Upsert"},
            ),
        ):
            for a in rows:
                kind = "Update" if a.item_id in seen else "Insert"
                seen.add(a.item_id)
                user = user_oid(a.given_by, a.device_id)
                self._item(a, (kind, user, self.location(a.device_id, site)))

    def _history_scores(self, rows: list[ScoreRow], site: str) -> None:
        x = self.x
        columns: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
        for column, instrument, method, key in SCORE_COLUMNS:
            columns.setdefault((instrument, method), []).append((column, key))
        seen: set[str] = set()
        with x.element("FormData", {"FormOID": SCORES_FORM, "TransactionType": "Upsert"}):
            for row in rows:
                method = None if row.method == "default" else row.method
                wanted = columns.get((row.instrument_id, method))
                if not wanted:
                    continue
                attrs = {
                    "ItemGroupOID": score_group_oid(row.instrument_id, method),
                    "TransactionType": "Upsert",
                }
                with x.element("ItemGroupData", attrs):
                    for column, key in wanted:
                        item_oid = score_item_oid(column)
                        value = row.values.get(key)
                        item_attrs = {
                            "ItemOID": item_oid,
                            "TransactionType": "Update" if item_oid in seen else "Insert",
                        }
                        seen.add(item_oid)
                        if value is None:
                            item_attrs["IsNull"] = "Yes"
                        else:
                            item_attrs["Value"] = _value(value)
                        with x.element("ItemData", item_attrs):
                            self.audit(
                                f"USR.{row.computed_by}" if row.computed_by else SYSTEM_USER,
                                self.location(row.device_id, site),
                                row.computed_at,
                                None,
                                f"score {row.id}; session {row.session_id}; {row.scoring_version}",
                            )
                        self.item_data += 1


def export_odm(
    db: StudyDb,
    out: str | Path,
    *,
    history: bool = False,
    progress: Progress | None = None,
) -> OdmExport:
    """Write the study as one CDISC ODM 1.3.2 file (Snapshot, or Transactional with `history`)."""
    try:
        path = output_file(Path(out))
    except OSError as exc:
        raise ExportError(str(exc)) from None
    study = db.study
    mdv = metadata_version_oid(study)
    staff = list_staff(db)
    known_staff = {s.id for s in staff}
    devices = list_devices(db)
    known_devices = {d.id for d in devices}
    admin = _Admin(
        staff=staff,
        unknown_staff=sorted(referenced_staff_ids(db) - known_staff),
        devices=devices,
        unknown_devices=sorted(referenced_device_ids(db) - known_devices),
        sites=list_site_rows(db),
    )
    now = clock.now_iso()
    file_type = "Transactional" if history else "Snapshot"
    total = count_subject_records(db)
    ticker = Ticker(progress, total, f"ODM export ({file_type.lower()})")
    subjects = 0
    with atomic_binary(path) as f:
        x = _Xml(f)
        x.start_document()
        root = {
            "xmlns": ODM_NS,
            "ODMVersion": "1.3.2",
            "FileType": file_type,
            "FileOID": f"{study.id}.{db.site_code}.{db.device_id}.{now}",
            "CreationDateTime": now,
            "AsOfDateTime": now,
            "Originator": f"{SOURCE_SYSTEM} site {db.site_code} device {db.device_id}",
            "SourceSystem": SOURCE_SYSTEM,
            "SourceSystemVersion": __version__,
            "Description": f"{study.title}: "
            + ("every answer version with its audit record" if history else "current values"),
        }
        with x.element("ODM", root):
            x.newline()
            _write_study(x, study, mdv)
            x.newline()
            _write_admin(x, study, mdv, admin)
            x.newline()
            writer = _Writer(x, study, {d.id: d.site_code for d in devices})
            with x.element("ClinicalData", {"StudyOID": study.oid, "MetaDataVersionOID": mdv}):
                x.newline()
                for record in iter_subject_records(db):
                    if history:
                        writer.history(record)
                    else:
                        writer.snapshot(record)
                    subjects += 1
                    ticker.tick(subjects, record.subject.code)
            x.newline()
        x.end_document()
    ticker.done(f"ODM export: {subjects} subjects, {writer.item_data} ItemData written to {path}")
    return OdmExport(path, file_type, subjects, writer.item_data)
