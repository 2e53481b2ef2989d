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
  visits and every stored score row (with its scoring version) appear the same way; events,
  forms and groups carry their own AuditRecord (a visit: its first session's start or its missed
  mark; a form and its group: their first answer; the scores form: its first computation).

Users: ODM says study subjects are not users, so patient self-entry is attributed to one kiosk
account per device (``USR.KIOSK.<device id>``, "patient self-entry"); staff are
``USR.<staff id>`` with their username (never a PIN hash); ``USR.SYSTEM`` is the application
(scores computed at submission). Every referenced user and location is defined in AdminData.

Skipped items, the ODM 1.3.2 way: ``ItemData IsNull="Yes"`` (an explicitly empty value, no
``Value`` attribute) with an ``Annotation`` carrying a ``Comment`` and a ``Flag`` whose
``FlagValue`` is ``SKIPPED`` from the code list ``CL.FLAG.VALUE`` and whose ``FlagType`` is
``MISSING_DATA_REASON`` from ``CL.FLAG.TYPE`` (both defined in the MetaDataVersion). A missed
visit is a ``StudyEventData`` with a ``MISSED`` flag and the reason as comment; a visit two kiosks
both recorded carries a ``CONFLICT`` flag (``DATA_REVIEW``), in the snapshot and in --history;
its comment names the chosen session and adds "chosen by review" when an investigator chose it
(`storage.resolve_conflict`). In --history every version comes in time order (each entity's
AuditRecords in increasing DateTimeStamp, ODM 1.3.2 §2.10), then the choice is its own audited
change: the chosen session's current answers and score rows set again (``Update``) with an
AuditRecord naming the reviewer, the time of the choice and the reviewer's reason (``USR.SYSTEM``
and "the version submitted last" when no one chose), so that replaying the transactions ends at
the snapshot's values. A score
that cannot be computed (too few answers) has no ItemData (``IsNull`` is for a value set to
null): its ItemGroupData carries an ``UNCOMPUTABLE`` flag (``MISSING_DATA_REASON``) naming it.
Score AuditRecords name ``USR.SYSTEM`` (the application computes them; a staff member whose
correction triggered the recomputation is named in the SourceID). In the snapshot,
the answers of a visit whose session is not submitted (parked or in progress: answers so far)
are FormData flagged ``INCOMPLETE`` (``DATA_REVIEW``), with the session id as comment.

Written as a stream (see `_Xml`), subject by subject from `storage.export_reads`, so memory stays
flat however many subjects there are.

Modules by concept: this one writes the ClinicalData and the file; `odm_metadata` the Study and
its MetaDataVersion, `odm_admin` the AdminData, `odm_subject` the subject-level and visit forms,
`odm_xml` the escaping, the streaming writer, OIDs and AuditRecords.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from respine_desktop import __version__, clock
from respine_desktop.exports import odm_subject
from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.files import atomic_binary, output_file
from respine_desktop.exports.odm_admin import (
    SOURCE_SYSTEM,
    SYSTEM_USER,
    Admin,
    user_oid,
    write_admin,
)
from respine_desktop.exports.odm_metadata import (
    FLAG_TYPES,
    FLAG_VALUES,
    FLAGS,
    SCORES_FORM,
    metadata_version_oid,
    score_group_oid,
    score_item_oid,
    write_study,
)
from respine_desktop.exports.odm_signatures import OdmSignatures
from respine_desktop.exports.odm_xml import Xml as _Xml
from respine_desktop.exports.odm_xml import audit_record, esc, oid
from respine_desktop.exports.progress import Progress, Ticker
from respine_desktop.exports.visit_values import (
    SCORE_COLUMNS,
    WITHDRAWN,
    VisitValues,
    current_answers,
    visit_values,
)
from respine_desktop.instruments import load_instrument
from respine_desktop.storage import (
    Answer,
    Score,
    Session,
    StudyDb,
    choose_session,
    list_staff,
    read_snapshot,
)
from respine_desktop.storage.export_reads import (
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


@dataclass(frozen=True)
class OdmExport:
    """What `export_odm` wrote."""

    path: Path
    file_type: str
    subjects: int
    item_data: int


def _annotation_text(flag: str, comment: str | None = None) -> str:
    """An ``Annotation`` with an optional comment and one flag of `FLAGS`."""
    text = f"<Comment>{esc(comment)}</Comment>" if comment else ""
    return (
        f'<Annotation SeqNum="1">{text}<Flag>'
        f'<FlagValue CodeListOID="{FLAG_VALUES}">{flag}</FlagValue>'
        f'<FlagType CodeListOID="{FLAG_TYPES}">{FLAGS[flag][0]}</FlagType></Flag></Annotation>'
    )


_SKIPPED = _annotation_text("SKIPPED", "skipped")


def _value(value: float | None) -> str:
    """The ``Value`` text of a number: integral values without a decimal point."""
    if value is None:
        return ""
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return repr(value)


class _Writer:
    """Writes the ClinicalData of one subject at a time."""

    def __init__(
        self,
        x: _Xml,
        study: Study,
        devices: Mapping[str, str | None],
        signatures: OdmSignatures | None = None,
    ) -> None:
        self.x = x
        self.signatures = signatures or OdmSignatures()
        self.study = study
        self.site_of_device = devices
        self.item_data = 0
        self.item_oid = {
            item.id: oid("IT", item.id)
            for i in study.instrument_order
            for item in load_instrument(i).items
        }
        self.order = {
            i: {item: n for n, item in enumerate(load_instrument(i).item_ids)}
            for i in study.instrument_order
        }
        self.score_columns: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
        for column, instrument, method, key in SCORE_COLUMNS:
            self.score_columns.setdefault((instrument, method), []).append(
                (score_item_oid(column), key)
            )

    def location(self, device_id: str, subject_site: str) -> str:
        return oid("LOC", self.site_of_device.get(device_id) or subject_site)

    def _signing_site(self, subject_site: str) -> Callable[[str], str]:
        return lambda device_id: self.location(device_id, subject_site)

    def item(self, a: Answer, history: tuple[str, str, str] | None) -> str:
        """One answer as ItemData; `history` = (TransactionType, user, location) in --history."""
        self.item_data += 1
        item_oid = self.item_oid.get(a.item_id) or oid("IT", a.item_id)
        kind = f' TransactionType="{history[0]}"' if history is not None else ""
        if a.status == "skipped":
            head = f'<ItemData ItemOID="{item_oid}"{kind} IsNull="Yes">'
            tail = f"{_SKIPPED}</ItemData>"
        else:
            head = f'<ItemData ItemOID="{item_oid}"{kind} Value="{_value(a.value)}"'
            if history is None:
                return head + "/>"
            head += ">"
            tail = "</ItemData>"
        if history is None:
            return head + tail
        source = f"answer {a.id}; session {a.session_id}; device {a.device_id}"
        return head + audit_record(history[1], history[2], a.given_at, a.reason, source) + tail

    # -- snapshot -----------------------------------------------------------------------------

    def snapshot(self, record: SubjectRecord) -> None:
        x = self.x
        subject = record.subject
        signed = self.signatures.place(subject.code, None, self._signing_site(subject.site_code))
        x.write(
            f'<SubjectData SubjectKey="{esc(subject.code)}">{signed.signature}'
            f'<SiteRef LocationOID="{esc(oid("LOC", subject.site_code))}"/>{signed.annotations}'
        )
        x.write(odm_subject.subject_event(record))
        for v in visit_values(self.study, record, with_endpoints=False):
            if v.visit is None and v.session is None and v.status != WITHDRAWN:
                continue
            self._snapshot_visit(record, v)
        x.write("</SubjectData>\n")

    def _snapshot_visit(self, record: SubjectRecord, v: VisitValues) -> None:
        x = self.x
        x.write(f'<StudyEventData StudyEventOID="{esc(oid("SE", v.code))}">')
        subject = record.subject
        signed = self.signatures.place(
            subject.code, v.code, self._signing_site(subject.site_code), first_seq=2
        )
        x.write(signed.signature)
        if v.conflict:
            others = ", ".join(s.id for s in v.sessions if s is not v.session)
            chosen = v.session.id if v.session else "?"
            x.write(
                _annotation_text(
                    "CONFLICT",
                    f"values from session {chosen}{_reviewed(v.session)}; "
                    f"other session(s): {others}",
                )
            )
        elif v.visit is not None and v.visit.state == "missed":
            x.write(_annotation_text("MISSED", v.visit.missed_reason))
        x.write(signed.annotations)
        x.write(odm_subject.visit_form(self.study, record, v))
        by_form: dict[str, list[Answer]] = {}
        for a in v.answers.values():
            by_form.setdefault(a.instrument_id, []).append(a)
        for instrument_id in self.study.instrument_order:
            answers = by_form.get(instrument_id)
            if not answers:
                continue
            order = self.order[instrument_id]
            answers.sort(key=lambda a: order.get(a.item_id, 0))
            form, group = oid("F", instrument_id), oid("IG", instrument_id)
            x.write(f'<FormData FormOID="{form}">')
            if v.session is not None and not v.submitted:
                x.write(_annotation_text("INCOMPLETE", f"session {v.session.id} not submitted"))
            x.write(f'<ItemGroupData ItemGroupOID="{group}">')
            x.write("".join(self.item(a, None) for a in answers))
            x.write("</ItemGroupData></FormData>")
        if v.submitted:
            x.write(f'<FormData FormOID="{SCORES_FORM}">')
            for (instrument, method), columns in self.score_columns.items():
                x.write(f'<ItemGroupData ItemGroupOID="{score_group_oid(instrument, method)}">')
                values = [(item_oid, v.scores.get(_COLUMN_OF[item_oid])) for item_oid, _ in columns]
                x.write(_uncomputable(values))
                x.write("".join(self._score_item(i, value, None) for i, value in values))
                x.write("</ItemGroupData>")
            x.write("</FormData>")
        x.write("</StudyEventData>")

    def _score_item(self, item_oid: str, value: float | None, kind: str | None) -> str:
        """A score's ItemData; nothing for a score that cannot be computed (its group carries
        the UNCOMPUTABLE flag: IsNull is for a value set to null, not one never computed)."""
        if value is None:
            return ""
        self.item_data += 1
        t = f' TransactionType="{kind}"' if kind else ""
        return f'<ItemData ItemOID="{item_oid}"{t} Value="{_value(value)}"/>'

    # -- history ------------------------------------------------------------------------------

    def history(self, record: SubjectRecord) -> None:
        x = self.x
        subject = record.subject
        visit_of = {s.id: s.visit_code for s in record.sessions}
        answers: dict[str, dict[str, list[Answer]]] = {}
        for a in record.answers:
            visit = visit_of.get(a.session_id, "")
            answers.setdefault(visit, {}).setdefault(a.instrument_id, []).append(a)
        scores: dict[str, list[Score]] = {}
        for s in record.scores:
            scores.setdefault(visit_of.get(s.session_id, ""), []).append(s)
        missed = {v.visit_code: v for v in record.visits if v.state == "missed"}
        conflicts = _history_conflicts(record)
        site = subject.site_code
        location = esc(oid("LOC", site))
        x.write(f'<SubjectData SubjectKey="{esc(subject.code)}" TransactionType="Insert">')
        registered = audit_record(
            user_oid(subject.created_by, record.device_id),
            oid("LOC", site),
            subject.created_at,
            None,
            f"subject {subject.id} registered",
        )
        x.write(registered)
        signed = self.signatures.place(subject.code, None, self._signing_site(site))
        x.write(f'{signed.signature}<SiteRef LocationOID="{location}"/>{signed.annotations}')
        withdrawal = record.withdrawal
        left = odm_subject.withdrawal_audit(withdrawal, oid("LOC", site)) if withdrawal else ""
        x.write(odm_subject.subject_event(record, registered=registered, left=left))
        facts = {
            v.code: v
            for v in visit_values(self.study, record, with_endpoints=False, with_scores=False)
        }
        for visit in self.study.visit_codes:
            fact = facts.get(visit)
            withdrawn = fact is not None and fact.status == WITHDRAWN
            recorded = visit in answers or visit in scores or visit in missed
            if not recorded and not withdrawn:
                continue
            x.write(
                f'<StudyEventData StudyEventOID="{esc(oid("SE", visit))}" TransactionType="Upsert">'
            )
            gone = missed.get(visit)
            # the element's AuditRecord, then its Signature, then its Annotations (ODM order)
            signed = self.signatures.place(
                subject.code, visit, self._signing_site(site), first_seq=2
            )
            if gone is not None:
                event_audit = audit_record(
                    f"USR.{gone.missed_by}" if gone.missed_by else SYSTEM_USER,
                    oid("LOC", site),
                    gone.missed_at or gone.updated_at,
                    gone.missed_reason,
                    f"visit {gone.id} marked missed",
                )
                x.write(event_audit)
                x.write(signed.signature)
                x.write(_annotation_text("MISSED", gone.missed_reason))
            else:
                event_audit = self._event_audit(record, visit, site) or left
                x.write(event_audit)
                x.write(signed.signature)
            chosen, others = conflicts.get(visit, ("", ()))
            if others:
                session = next((s for s in record.sessions if s.id == chosen), None)
                x.write(
                    _annotation_text(
                        "CONFLICT",
                        f"values from session {chosen}{_reviewed(session)}; "
                        f"other session(s): {', '.join(others)}; "
                        "the chosen session's versions come last",
                    )
                )
            x.write(signed.annotations)
            if fact is not None:
                x.write(odm_subject.visit_form(self.study, record, fact, event_audit or registered))

            forms = answers.get(visit, {})
            choice = _Reapply.of(record, visit, chosen, others, forms, scores.get(visit, []))
            for instrument_id in sorted(forms, key=self._form_rank):
                self._history_form(instrument_id, forms[instrument_id], site, choice)
            if visit in scores:
                self._history_scores(scores[visit], site, choice)
            x.write("</StudyEventData>")
        x.write("</SubjectData>\n")

    def _event_audit(self, record: SubjectRecord, visit: str, site: str) -> str:
        """The StudyEventData's own AuditRecord: its first session started (by whom, where)."""
        sessions = [s for s in record.sessions if s.visit_code == visit]
        if not sessions:
            return ""
        first = min(sessions, key=lambda s: s.started_at)
        return audit_record(
            user_oid(first.started_by, first.device_id),
            self.location(first.device_id, site),
            first.started_at,
            None,
            f"session {first.id} started",
        )

    def _form_rank(self, instrument_id: str) -> int:
        order = self.study.instrument_order
        return order.index(instrument_id) if instrument_id in order else len(order)

    def _history_form(
        self, instrument_id: str, rows: list[Answer], site: str, choice: _Reapply | None
    ) -> None:
        seen: set[str] = set()
        # the form and its group carry their own AuditRecord: their first answer's
        first = rows[0]
        audit = audit_record(
            user_oid(first.given_by, first.device_id),
            self.location(first.device_id, site),
            first.given_at,
            None,
            f"{instrument_id} first recorded; session {first.session_id}",
        )
        parts = [
            f'<FormData FormOID="{esc(oid("F", instrument_id))}" TransactionType="Upsert">'
            f"{audit}"
            f'<ItemGroupData ItemGroupOID="{esc(oid("IG", instrument_id))}" '
            f'TransactionType="Upsert">{audit}'
        ]
        for a in rows:
            kind = "Update" if a.item_id in seen else "Insert"
            seen.add(a.item_id)
            user = user_oid(a.given_by, a.device_id)
            parts.append(self.item(a, (kind, user, self.location(a.device_id, site))))
        if choice is not None:
            # the conflict choice: the chosen session's values are set again, as one audited
            # change by the reviewer (or the system's rule) after every version above
            for a in choice.answers.get(instrument_id, []):
                parts.append(choice.item(self, a, site))
        parts.append("</ItemGroupData></FormData>")
        self.x.write("".join(parts))

    def _history_scores(self, rows: list[Score], site: str, choice: _Reapply | None) -> None:
        """Every stored score row as one ItemGroupData with its own AuditRecord (then, in a
        conflict, the chosen session's current rows again under the choice's AuditRecord)."""
        seen: set[str] = set()
        first = rows[0]
        parts = [
            f'<FormData FormOID="{SCORES_FORM}" TransactionType="Upsert">'
            + audit_record(
                SYSTEM_USER,
                self.location(first.device_id, site),
                first.computed_at,
                None,
                f"scores first computed; session {first.session_id}",
            )
        ]
        for row, record in [(r, None) for r in rows] + [
            (r, choice) for r in (choice.scores if choice is not None else [])
        ]:
            method = None if row.method == "default" else row.method
            wanted = self.score_columns.get((row.instrument_id, method))
            if not wanted:
                continue
            parts.append(
                f'<ItemGroupData ItemGroupOID="{score_group_oid(row.instrument_id, method)}" '
                'TransactionType="Upsert">'
            )
            by = row.computed_by
            after = f"; recomputed after a change by USR.{by}" if by else ""
            if record is not None:
                parts.append(record.audit(self.location(row.device_id, site), f"score {row.id}"))
            else:
                parts.append(
                    audit_record(
                        SYSTEM_USER,  # computed by the application, whoever triggered it
                        self.location(row.device_id, site),
                        row.computed_at,
                        None,
                        f"score {row.id}; session {row.session_id}; {row.scoring_version}{after}",
                    )
                )
            values = [(item_oid, row.values.get(key)) for item_oid, key in wanted]
            parts.append(_uncomputable(values))
            for item_oid, value in values:
                if value is None:
                    continue
                kind = "Update" if item_oid in seen else "Insert"
                seen.add(item_oid)
                parts.append(self._score_item(item_oid, value, kind))
            parts.append("</ItemGroupData>")
        parts.append("</FormData>")
        self.x.write("".join(parts))


_COLUMN_OF = {score_item_oid(c[0]): c[0] for c in SCORE_COLUMNS}


def _uncomputable(values: list[tuple[str, float | None]]) -> str:
    """The UNCOMPUTABLE annotation of a score group naming its scores that have no value."""
    missing = [item_oid for item_oid, value in values if value is None]
    if not missing:
        return ""
    return _annotation_text("UNCOMPUTABLE", "not computable: " + ", ".join(missing))


def _reviewed(session: Session | None) -> str:
    """What a CONFLICT annotation adds when a reviewer chose the session (not the rule's times)."""
    return ", chosen by review" if session is not None and session.chosen_by_review else ""


@dataclass(frozen=True)
class _Reapply:
    """A conflict's choice as its own audited change: after every version in time order, the
    chosen session's current answers and score rows are set again, with an AuditRecord naming
    the reviewer (``USR.SYSTEM`` when no one chose: the rule, last submitted), the time of the
    choice (never before the visit's last change, so each entity's AuditRecords stay in
    increasing DateTimeStamp, ODM 1.3.2 §2.10) and the reviewer's reason.

    Likewise a fork (two current rows of an item, `visit_values.last_written`) whose last
    written row is not the later by its clock: that row is set again, by ``USR.SYSTEM``, so
    that replaying the versions ends at the snapshot's value."""

    user: str
    at: str
    reason: str
    session_id: str
    answers: Mapping[str, list[Answer]]
    scores: list[Score]
    why: str = "conflict choice"

    @staticmethod
    def of(
        record: SubjectRecord,
        visit: str,
        chosen: str,
        others: tuple[str, ...],
        forms: Mapping[str, list[Answer]],
        scores: list[Score],
    ) -> _Reapply | None:
        if not others:
            return _Reapply._fork(record, visit, forms)
        latest = max(
            [a.given_at for rows in forms.values() for a in rows]
            + [s.computed_at for s in scores]
            + [s.superseded_at for s in scores if s.superseded_at]
        )
        choice = next((c for c in reversed(record.choices) if c.visit_code == visit), None)
        if choice is not None and choice.session_id == chosen:
            user, at, reason = f"USR.{choice.chosen_by}", choice.chosen_at, choice.reason
        else:
            user, at, reason = SYSTEM_USER, latest, "no review yet: the version submitted last"
        current = current_answers(record.answers, chosen, record.written)
        answers: dict[str, list[Answer]] = {}
        for a in current.values():
            answers.setdefault(a.instrument_id, []).append(a)
        return _Reapply(
            user=user,
            at=max(at, latest),
            reason=reason,
            session_id=chosen,
            answers=answers,
            scores=[s for s in scores if s.session_id == chosen and s.superseded_at is None],
        )

    @staticmethod
    def _fork(
        record: SubjectRecord, visit: str, forms: Mapping[str, list[Answer]]
    ) -> _Reapply | None:
        """The rows a fork's last written sets again (see the class), or None (most visits:
        no session with two current rows of an item)."""
        if not record.written or not forms:
            return None
        session = choose_session([s for s in record.sessions if s.visit_code == visit])
        if session is None:
            return None
        rows = tuple(a for form in forms.values() for a in form if a.session_id == session.id)
        superseded = {a.supersedes for a in rows}
        items = [a.item_id for a in rows if a.id not in superseded]
        if len(items) == len(set(items)):
            return None  # no item with two current rows
        by_time = current_answers(rows, session.id)
        current = current_answers(rows, session.id, record.written)
        again = [a for item, a in current.items() if by_time.get(item) is not a]
        if not again:
            return None
        answers: dict[str, list[Answer]] = {}
        for a in again:
            answers.setdefault(a.instrument_id, []).append(a)
        return _Reapply(
            user=SYSTEM_USER,
            at=max(a.given_at for rows in forms.values() for a in rows),
            reason="a fork: two devices replaced one answer; the row written last counts",
            session_id=session.id,
            answers=answers,
            scores=[],
            why="fork",
        )

    def audit(self, location: str, what: str) -> str:
        source = f"{self.why}: session {self.session_id} counts; {what}"
        return audit_record(self.user, location, self.at, self.reason, source)

    def item(self, writer: _Writer, a: Answer, site: str) -> str:
        writer.item_data += 1
        item_oid = writer.item_oid.get(a.item_id) or oid("IT", a.item_id)
        audit = self.audit(writer.location(a.device_id, site), f"answer {a.id}")
        if a.status == "skipped":
            body = f'IsNull="Yes">{audit}{_SKIPPED}'
        else:
            body = f'Value="{_value(a.value)}">{audit}'
        return f'<ItemData ItemOID="{item_oid}" TransactionType="Update" {body}</ItemData>'


def _history_conflicts(record: SubjectRecord) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Visit code -> (chosen session id, the other sessions' ids) of every visit that more
    than one session answered (the snapshot's CONFLICT rule, `visit_values`)."""
    answered = {a.session_id for a in record.answers if a.status == "answered"}
    by_visit: dict[str, list[Session]] = {}
    for session in record.sessions:
        by_visit.setdefault(session.visit_code, []).append(session)
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for visit, sessions in by_visit.items():
        chosen = choose_session(sessions)
        if chosen is None or sum(1 for s in sessions if s.id in answered) < 2:
            continue
        out[visit] = (chosen.id, tuple(s.id for s in sessions if s.id != chosen.id))
    return out


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
    # One consistent view: the header's staff and devices and every subject from the same state.
    with read_snapshot(db):
        study = db.study
        mdv = metadata_version_oid(study)
        staff = list_staff(db)
        known_staff = {s.id for s in staff}
        devices = list_devices(db)
        known_devices = {d.id for d in devices}
        signatures = OdmSignatures.load(db)
        admin = Admin(
            staff=staff,
            unknown_staff=sorted((referenced_staff_ids(db) | signatures.staff_ids) - known_staff),
            devices=devices,
            unknown_devices=sorted(referenced_device_ids(db) - known_devices),
            sites=list_site_rows(db),
            signatures=signatures,
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
                write_study(x, study, mdv)
                x.newline()
                write_admin(x, study, mdv, admin)
                x.newline()
                writer = _Writer(x, study, {d.id: d.site_code for d in devices}, signatures)
                with x.element("ClinicalData", {"StudyOID": study.oid, "MetaDataVersionOID": mdv}):
                    x.newline()
                    for record in iter_subject_records(db, history=history):
                        if history:
                            writer.history(record)
                        else:
                            writer.snapshot(record)
                        subjects += 1
                        ticker.tick(subjects, record.subject.code)
                x.newline()
            x.end_document()
        ticker.done(
            f"ODM export: {subjects} subjects, {writer.item_data} ItemData written to {path}"
        )
        return OdmExport(path, file_type, subjects, writer.item_data)
