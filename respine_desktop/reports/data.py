"""One subject's numbers for the subject view and the patient summary, gathered in frozen records.

Everything comes through the storage API (visits with statuses, the current stored scores,
answer history for corrections) and `scoring.endpoints` (change from baseline, MCID, responder),
with the thresholds of the study configuration. Nothing here draws or writes a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from respine_desktop import schedule
from respine_desktop.instruments import load_instrument
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
    Score,
    StudyDb,
    VisitStatus,
    answer_history,
    current_answers,
    get_subject,
    get_vas_calibration,
    list_staff,
    subject_scores,
    subject_visits,
)
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
    # "VAS line: M0 calibrated 2026-03-02, M3 uncalibrated" ("" without a VAS drawn on a line).
    vas_line: str = ""

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
    scores: list[Score], methods: Mapping[str, str], measures: tuple[MeasureSpec, ...]
) -> dict[str, float | None]:
    """The wanted measures of one visit, from its current score rows of the reported methods."""
    by_instrument = {
        s.instrument_id: s.values for s in scores if methods.get(s.instrument_id) == s.method
    }
    out: dict[str, float | None] = {}
    for spec in measures:
        values = by_instrument.get(spec.instrument_id)
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


def _corrections(
    db: StudyDb, visit: str, session_id: str, staff_names: Mapping[str, str]
) -> list[Correction]:
    history = answer_history(db, session_id)
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


def patient_summary(db: StudyDb, subject_code: str, *, on: date | None = None) -> PatientSummary:
    """Gather one subject's summary (statuses as of `on`, default today).

    Raises `UnknownSubject` (a `StorageError`) for an unknown code.
    """
    study = db.study
    subject = get_subject(db, subject_code)
    on = on or schedule.today()
    methods = score_methods(study)
    measures = table_measures(study)
    charted = chart_measures(study)
    wanted = (*measures, *(m for m in charted if m not in measures))
    scores = subject_scores(db, subject.code)
    staff_names = {s.id: s.username for s in list_staff(db)}
    labels = {v.code: v.label.get("en", v.code) for v in study.visits}

    rows: list[VisitRow] = []
    corrections: list[Correction] = []
    uses: dict[tuple[str, str, str], InstrumentUse] = {}
    versions: set[str] = set()
    vas_lines: list[str] = []
    for record in subject_visits(db, subject.code, on):
        visit_scores = scores.get(record.code, []) if record.status == "complete" else []
        versions.update(s.scoring_version for s in visit_scores)
        values = _values(visit_scores, methods, wanted)
        rows.append(
            VisitRow(
                code=record.code,
                label=labels[record.code],
                target=record.window.target,
                opens=record.window.opens,
                closes=record.window.closes,
                status=record.status,
                actual_date=record.actual_date,
                missed_reason=record.missed_reason,
                session_id=record.session_id,
                values=values,
            )
        )
        if record.session_id is not None and record.status == "complete":
            corrections += _corrections(db, record.code, record.session_id, staff_names)
            for answer in current_answers(db, record.session_id).values():
                if answer.vas_line_mm is not None:
                    vas_lines.append(f"{record.code} {_vas_line(db, answer.vas_calibration)}")
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
    order = {i: n for n, i in enumerate(study.instrument_order)}
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
        vas_line=f"VAS line: {', '.join(vas_lines)}" if vas_lines else "",
    )


def _vas_line(db: StudyDb, calibration_id: str | None) -> str:
    """ "calibrated <date>" for a VAS answer's calibration, else "uncalibrated"."""
    found = get_vas_calibration(db, calibration_id) if calibration_id else None
    return f"calibrated {found.calibrated_at[:10]}" if found else "uncalibrated"
