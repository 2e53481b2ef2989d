"""One subject's numbers for the subject view and the patient summary, gathered in frozen records.

Everything comes through the storage API, read in ONE read transaction (`read_snapshot`) and as
known at the end of the `on` day (`storage.report_reads`: visits, scores, withdrawal; answers and
corrections by their time stamps), and `scoring.endpoints` (change from baseline, MCID,
responder), with the thresholds of the study configuration. Nothing here draws or writes a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from respine_desktop import schedule
from respine_desktop.instruments import Item, load_instrument
from respine_desktop.reports.measures import (
    MeasureSpec,
    chart_measures,
    score_methods,
    sf36_label,
    table_measures,
)
from respine_desktop.scoring import endpoints
from respine_desktop.scoring.endpoints import Measure
from respine_desktop.storage import (
    Answer,
    AnswerStatus,
    AnswerValue,
    StudyDb,
    VisitStatus,
    answer_history,
    get_subject,
    get_vas_calibration,
    list_staff,
    read_snapshot,
    signature_states,
)
from respine_desktop.storage.report_reads import ReportVisit, cutoff, iter_report_subjects
from respine_desktop.study import Study

# Measures whose change from baseline and MCID attainment are reported (standard SF-36 only for
# PCS/MCS: RAND-36 has no summary scores and no MCID in the study configuration).
CHANGE_MEASURES: tuple[Measure, ...] = ("VAS", "ODI", "PCS", "MCS")


@dataclass(frozen=True, slots=True)
class VisitRow:
    """One scheduled visit of the subject with its status and (if submitted) its scores."""

    code: str
    label: str
    target: date
    opens: date
    closes: date
    status: VisitStatus
    actual_date: date | None
    missed_reason: str | None
    session_id: str | None
    values: Mapping[str, float | None]

    @property
    def has_scores(self) -> bool:
        return bool(self.values)

    def value(self, key: str) -> float | None:
        return self.values.get(key)


@dataclass(frozen=True, slots=True)
class Change:
    """A measure at a follow-up visit against baseline: signed change, % improvement, MCID."""

    visit: str
    measure: Measure
    baseline: float | None
    value: float | None
    change: float | None
    percent_improvement: float | None
    mcid: bool | None


@dataclass(frozen=True, slots=True)
class ResponderStatus:
    """Responder status at a follow-up visit; `primary` marks the primary endpoint's visit."""

    visit: str
    primary: bool
    has_data: bool
    responder: bool | None
    vas_criterion: bool | None
    odi_criterion: bool | None
    vas_improvement: float | None
    vas_percent: float | None
    odi_improvement: float | None
    odi_percent: float | None


@dataclass(frozen=True, slots=True)
class SignatureLine:
    """An electronic signature of the subject's data as the patient summary shows it (21 CFR
    11.50): who (username, role), when (UTC), the meaning, what, and whether the data signed are
    unchanged today (``valid``) or changed since (``broken``)."""

    username: str
    role: str
    signed_at: str
    meaning: str
    statement: str
    target: str  # a visit code, or "all visits"
    state: str


@dataclass(frozen=True, slots=True)
class Correction:
    """A staff correction of a submitted answer: old and new value, who, when and why."""

    visit: str
    session_id: str
    instrument_id: str
    item_id: str
    item_label: str
    old_value: AnswerValue | None
    old_status: AnswerStatus | None
    new_value: AnswerValue | None
    new_status: AnswerStatus
    by: str
    at: str
    reason: str


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One item's answer as it counts on the cut-off day, for source data verification."""

    instrument_id: str
    item_id: str
    item_label: str
    text: str
    code: AnswerValue | None
    answer_label: str
    skipped: bool
    given_at: str
    corrected_by: str | None = None
    corrected_at: str | None = None


@dataclass(frozen=True, slots=True)
class VisitItems:
    """Every answer of one completed visit (its counting session), in instrument order."""

    visit: str
    session_id: str
    items: tuple[ItemRow, ...]
    # The languages the answers were given in (ISO 639 codes, e.g. "fr" or an installed "xx").
    languages: tuple[str, ...] = ()

    def skipped(self, instrument_id: str) -> int:
        return sum(1 for i in self.items if i.instrument_id == instrument_id and i.skipped)

    def count(self, instrument_id: str) -> int:
        return sum(1 for i in self.items if i.instrument_id == instrument_id)


@dataclass(frozen=True, slots=True)
class InstrumentUse:
    """An instrument version the subject's current answers were given on."""

    instrument_id: str
    title: str
    version: str
    checksum: str
    credit: str


@dataclass(frozen=True, slots=True)
class PatientSummary:
    """Everything the subject view and the patient summary PDF show about one subject."""

    study: Study
    subject_code: str
    site_code: str
    day0: date
    on: date
    sf36_label: str
    table_measures: tuple[MeasureSpec, ...]
    chart_measures: tuple[MeasureSpec, ...]
    baseline_visit: str
    visits: tuple[VisitRow, ...]
    changes: tuple[Change, ...]
    responders: tuple[ResponderStatus, ...]
    corrections: tuple[Correction, ...]
    instruments: tuple[InstrumentUse, ...]
    scoring_versions: tuple[str, ...]
    items: tuple[VisitItems, ...] = ()
    withdrawn_on: date | None = None
    withdrawal_reason: str | None = None
    # "VAS line: M0 calibrated 2026-03-02, M3 uncalibrated" ("" without a VAS drawn on a line).
    vas_line: str = ""
    # e-signatures recorded by the cut-off, oldest first (states as of the report's making)
    signatures: tuple[SignatureLine, ...] = ()

    def signed(self, visit: str) -> str | None:
        """The state of the visit's latest e-signature (``valid``/``broken``), None if unsigned."""
        found = [g.state for g in self.signatures if g.target == visit]
        return found[-1] if found else None

    def corrected(self, visit: str) -> tuple[Correction, ...]:
        """The corrections of one visit's answers."""
        return tuple(c for c in self.corrections if c.visit == visit)

    def visit(self, code: str) -> VisitRow:
        for row in self.visits:
            if row.code == code:
                return row
        raise KeyError(code)

    def change(self, visit: str, measure: str) -> Change | None:
        for c in self.changes:
            if c.visit == visit and c.measure == measure:
                return c
        return None

    @property
    def primary(self) -> ResponderStatus | None:
        """The responder status at the primary endpoint's visit."""
        for r in self.responders:
            if r.primary:
                return r
        return None


def _values(
    record: ReportVisit | None, measures: tuple[MeasureSpec, ...]
) -> dict[str, float | None]:
    """The wanted measures of one visit, from the counting session's scores known on the day."""
    if record is None:
        return {}
    out: dict[str, float | None] = {}
    for spec in measures:
        values = record.scores.get(spec.instrument_id)
        if values is not None:
            out[spec.key] = values.get(spec.key)
    return out


def _mcid(
    study: Study, measure: Measure, baseline: float | None, value: float | None
) -> bool | None:
    m = study.mcid
    if measure == "VAS":
        return endpoints.vas_mcid(baseline, value, points=m.vas_points, percent=m.vas_percent)
    if measure == "ODI":
        return endpoints.odi_mcid(baseline, value, points=m.odi_points, percent=m.odi_percent)
    if measure == "PCS":
        return endpoints.pcs_mcid(baseline, value, points=m.pcs_points)
    return endpoints.mcs_mcid(baseline, value, points=m.mcs_points)


def change_measures(study: Study) -> tuple[Measure, ...]:
    """The measures with change and MCID columns for this study's reported SF-36 set."""
    if study.sf36_reported == "rand":
        return ("VAS", "ODI")
    return CHANGE_MEASURES


def changes_for(
    study: Study,
    baseline: Mapping[str, float | None],
    visit: str,
    values: Mapping[str, float | None],
) -> list[Change]:
    """Change from baseline and MCID attainment of every change measure at one follow-up."""
    out = []
    for measure in change_measures(study):
        b, v = baseline.get(measure), values.get(measure)
        out.append(
            Change(
                visit=visit,
                measure=measure,
                baseline=b,
                value=v,
                change=endpoints.change_from_baseline(measure, b, v),
                percent_improvement=endpoints.percent_improvement(measure, b, v),
                mcid=_mcid(study, measure, b, v),
            )
        )
    return out


def responder_for(
    study: Study,
    baseline: Mapping[str, float | None],
    visit: str,
    values: Mapping[str, float | None],
    *,
    has_data: bool,
) -> ResponderStatus:
    """The responder status (study thresholds) at one follow-up visit."""
    ep = study.endpoint
    vb, vf = baseline.get("VAS"), values.get("VAS")
    ob, of = baseline.get("ODI"), values.get("ODI")
    return ResponderStatus(
        visit=visit,
        primary=visit == ep.visit,
        has_data=has_data,
        responder=endpoints.is_responder(
            vb,
            vf,
            ob,
            of,
            odi_rule=ep.odi_rule,
            vas_points=ep.vas_points,
            vas_percent=ep.vas_percent,
            odi_threshold=ep.odi_threshold,
        ),
        vas_criterion=endpoints.vas_responder(vb, vf, points=ep.vas_points, percent=ep.vas_percent),
        odi_criterion=endpoints.odi_responder(ob, of, rule=ep.odi_rule, threshold=ep.odi_threshold),
        vas_improvement=endpoints.improvement("VAS", vb, vf),
        vas_percent=endpoints.percent_improvement("VAS", vb, vf),
        odi_improvement=endpoints.improvement("ODI", ob, of),
        odi_percent=endpoints.percent_improvement("ODI", ob, of),
    )


def item_label(instrument_id: str, item_id: str) -> str:
    """How an item is named in a report: "ODI section 3", "SF-36 item 3a", "Pain VAS"."""
    instrument = load_instrument(instrument_id)
    try:
        item = instrument.item(item_id)
    except KeyError:
        return item_id
    if instrument_id == "odi":
        return f"ODI section {item.label}"
    if instrument_id == "sf36":
        return f"SF-36 item {item.label}"
    return "Pain VAS"


def _known(history: list[Answer], cut: str) -> list[Answer]:
    return [a for a in history if a.given_at < cut]


def _corrections(
    visit: str, session_id: str, history: list[Answer], staff_names: Mapping[str, str]
) -> list[Correction]:
    by_id: dict[str, Answer] = {a.id: a for a in history}
    out = []
    for a in history:
        # A staff correction carries who and why; a patient going back carries neither.
        if a.supersedes is None or a.given_by is None or a.reason is None:
            continue
        old = by_id.get(a.supersedes)
        out.append(
            Correction(
                visit=visit,
                session_id=session_id,
                instrument_id=a.instrument_id,
                item_id=a.item_id,
                item_label=item_label(a.instrument_id, a.item_id),
                old_value=old.value if old else None,
                old_status=old.status if old else None,
                new_value=a.value,
                new_status=a.status,
                by=staff_names.get(a.given_by, a.given_by),
                at=a.given_at,
                reason=a.reason,
            )
        )
    return out


def _answer_label(item: Item, value: AnswerValue | None) -> str:
    if value is None:
        return ""
    if item.type == "choice":
        choice = next((c for c in item.choices if c.code == value), None)
        return choice.text.get("en", "") if choice else ""
    return f"{float(value):.1f} mm"


def _items(
    visit: str,
    session_id: str,
    history: list[Answer],
    corrections: list[Correction],
    order: Mapping[str, int],
) -> VisitItems:
    superseded = {a.supersedes for a in history if a.supersedes}
    # one row per item: of two current rows (a fork two devices made) the last written counts,
    # as for the scores (`history` is in written order)
    current = list({a.item_id: a for a in history if a.id not in superseded}.values())
    corrected = {(c.instrument_id, c.item_id): c for c in corrections}
    rows = []
    for a in current:
        instrument = load_instrument(a.instrument_id)
        try:
            item = instrument.item(a.item_id)
        except KeyError:
            continue
        position = {i.id: n for n, i in enumerate(instrument.items)}
        c = corrected.get((a.instrument_id, a.item_id))
        skipped = a.status == "skipped"
        rows.append(
            (
                (order.get(a.instrument_id, 99), position.get(a.item_id, 999)),
                ItemRow(
                    instrument_id=a.instrument_id,
                    item_id=a.item_id,
                    item_label=item_label(a.instrument_id, a.item_id),
                    text=item.text.get("en", ""),
                    code=None if skipped else a.value,
                    answer_label="skipped" if skipped else _answer_label(item, a.value),
                    skipped=skipped,
                    given_at=a.given_at,
                    corrected_by=c.by if c else None,
                    corrected_at=c.at if c else None,
                ),
            )
        )
    rows.sort(key=lambda r: r[0])
    languages = tuple(sorted({a.language for a in current if a.language}))
    return VisitItems(visit, session_id, tuple(r for _, r in rows), languages)


def patient_summary(db: StudyDb, subject_code: str, *, on: date | None = None) -> PatientSummary:
    """Gather one subject's summary as known at the end of `on` (default today), in one read
    snapshot.

    Raises `UnknownSubject` (a `StorageError`) for an unknown code.
    """
    with read_snapshot(db):
        return _patient_summary(db, subject_code, on or schedule.today())


def _patient_summary(db: StudyDb, subject_code: str, on: date) -> PatientSummary:
    study = db.study
    subject = get_subject(db, subject_code)
    cut = cutoff(on)
    methods = score_methods(study)
    measures = table_measures(study)
    charted = chart_measures(study)
    wanted = (*measures, *(m for m in charted if m not in measures))
    known = next(iter(iter_report_subjects(db, on=on, methods=methods, codes=[subject.code])), None)
    records = known.visits if known else {}
    staff_names = {s.id: s.username for s in list_staff(db)}
    labels = {v.code: v.label.get("en", v.code) for v in study.visits}
    order = {i: n for n, i in enumerate(study.instrument_order)}

    rows: list[VisitRow] = []
    corrections: list[Correction] = []
    items: list[VisitItems] = []
    vas_lines: list[str] = []
    uses: dict[tuple[str, str, str], InstrumentUse] = {}
    versions: set[str] = set()
    for visit in study.visits:
        window = schedule.visit_window(visit, subject.day0)
        record = records.get(visit.code)
        state = record.state if record else None
        status = schedule.visit_status(window, on, state)
        values = _values(record, wanted) if status == "complete" else {}
        rows.append(
            VisitRow(
                code=visit.code,
                label=labels[visit.code],
                target=window.target,
                opens=window.opens,
                closes=window.closes,
                status=status,
                actual_date=record.actual_date if record else None,
                missed_reason=record.missed_reason if record else None,
                session_id=record.session_id if record else None,
                values=values,
            )
        )
        if record is None or record.session_id is None or status != "complete":
            continue
        history = _known(answer_history(db, record.session_id), cut)
        drawn = [a for a in history if a.vas_line_mm is not None]  # write order: last is current
        if drawn:
            vas_lines.append(f"{visit.code} {_vas_line(db, drawn[-1].vas_calibration)}")
        mine = _corrections(visit.code, record.session_id, history, staff_names)
        corrections += mine
        visit_items = _items(visit.code, record.session_id, history, mine, order)
        items.append(visit_items)
        for answer in history:
            key = (answer.instrument_id, answer.instrument_version, answer.instrument_checksum)
            if key not in uses:
                instrument = load_instrument(answer.instrument_id)
                uses[key] = InstrumentUse(
                    instrument_id=answer.instrument_id,
                    title=instrument.title.get("en", instrument.id),
                    version=answer.instrument_version,
                    checksum=answer.instrument_checksum,
                    credit=instrument.credit.get("en", ""),
                )
    versions.update(_stored_versions(db, [r.session_id for r in rows if r.has_scores]))

    baseline_code = study.endpoint.baseline_visit
    baseline = next((r.values for r in rows if r.code == baseline_code), {})
    changes: list[Change] = []
    responders: list[ResponderStatus] = []
    for row in rows:
        if row.code == baseline_code:
            continue
        changes += changes_for(study, baseline, row.code, row.values)
        responders.append(
            responder_for(study, baseline, row.code, row.values, has_data=row.has_scores)
        )
    return PatientSummary(
        study=study,
        subject_code=subject.code,
        site_code=subject.site_code,
        day0=subject.day0,
        on=on,
        sf36_label=sf36_label(study),
        table_measures=measures,
        chart_measures=charted,
        baseline_visit=baseline_code,
        visits=tuple(rows),
        changes=tuple(changes),
        responders=tuple(responders),
        corrections=tuple(corrections),
        instruments=tuple(
            sorted(uses.values(), key=lambda u: (order.get(u.instrument_id, 99), u.version))
        ),
        scoring_versions=tuple(sorted(versions)),
        items=tuple(items),
        withdrawn_on=known.withdrawn_on if known else None,
        withdrawal_reason=known.withdrawal_reason if known else None,
        vas_line=f"VAS line: {', '.join(vas_lines)}" if vas_lines else "",
        signatures=_signatures(db, subject.code, cut),
    )


def _signatures(db: StudyDb, subject_code: str, cut: str) -> tuple[SignatureLine, ...]:
    """The subject's e-signatures made by `cut`, each with its state now."""
    return tuple(
        SignatureLine(
            username=g.signature.username,
            role=g.signature.role,
            signed_at=g.signature.signed_at,
            meaning=g.signature.meaning,
            statement=g.signature.statement,
            target=g.signature.visit_code or "all visits",
            state=g.state,
        )
        for g in signature_states(db, subject_code)
        if g.signature.signed_at < cut
    )


def _vas_line(db: StudyDb, calibration_id: str | None) -> str:
    """ "calibrated <date>" for a VAS answer's calibration, else "uncalibrated"."""
    found = get_vas_calibration(db, calibration_id) if calibration_id else None
    return f"calibrated {found.calibrated_at[:10]}" if found else "uncalibrated"


def _stored_versions(db: StudyDb, session_ids: list[str | None]) -> set[str]:
    from respine_desktop.storage import session_scores

    return {
        score.scoring_version
        for sid in session_ids
        if sid is not None
        for score in session_scores(db, sid)
    }
