"""What one subject × visit exports: current answers, scores and endpoints, one rule for all files.

Rules shared by the wide CSV, the REDCap records and the ODM snapshot:

* The session of a visit: the submitted one; when several were submitted (two kiosks did the
  same visit and a hub merged them) the one submitted last (ties by session id), by the rule the
  reports use too (`storage.chosen_session`), and the visit is flagged ``conflict`` (the long
  CSV and the ODM --history file keep every version). Without a submitted session, the last one
  started (parked or in progress): its answers so far, no scores.
* Current answer of an item: the row no other row of the session supersedes (of two such rows, a
  fork that a merge flagged, the one written last, never the later by its clock), as
  `storage.current_answers` reads it.
* Scores are derived at export time through `respine_desktop.scoring.score` from the current
  answers of submitted sessions (the stored score rows are the history, exported by ODM
  --history), with `SCORING_VERSION` named in the codebook and the ODM metadata. (The CSV
  export's `wide_rows` reads the stored current rows where they are sure to be these values.)
* A subject's withdrawal (`storage.withdraw_subject`): every visit not done (not submitted, not
  marked missed) whose window had not closed on the withdrawal day has the status ``withdrawn``
  (the study report's rule); what was recorded before stays as it is.
* Change from baseline, MCID attainment and the responder status use `scoring.endpoints` with the
  study configuration's thresholds, for every follow-up visit against the baseline visit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from respine_desktop import scoring
from respine_desktop.exports.errors import ExportError
from respine_desktop.schedule import ScheduledVisit
from respine_desktop.scoring import endpoints
from respine_desktop.storage import Answer, Session, choose_session
from respine_desktop.storage.export_reads import AnswerFields, SubjectRecord, VisitRow
from respine_desktop.study import Study

_A = TypeVar("_A", bound=AnswerFields)

ScoreValue = float | None
EndpointValue = float | bool | None

# Export column -> (instrument, scoring method or None, key of `scoring.score`'s result).
SCORE_COLUMNS: tuple[tuple[str, str, str | None, str], ...] = (
    ("VAS", "vas", None, "VAS"),
    ("ODI", "odi", None, "ODI"),
    *((f"SF36_{k}", "sf36", "standard", k) for k in scoring.score_keys("sf36", "standard")),
    *((f"RAND36_{k}", "sf36", "rand", k) for k in scoring.score_keys("sf36", "rand")),
)
SCORE_NAMES: tuple[str, ...] = tuple(c[0] for c in SCORE_COLUMNS)
# instrument -> stored method name -> [(column, key)]
_SCORE_KEYS: dict[str, dict[str, list[tuple[str, str]]]] = {}
for _name, _instrument, _method, _key in SCORE_COLUMNS:
    _SCORE_KEYS.setdefault(_instrument, {}).setdefault(_method or "default", []).append(
        (_name, _key)
    )

# (measure, score column) with a change from baseline and an MCID flag.
ENDPOINT_MEASURES: tuple[tuple[endpoints.Measure, str], ...] = (
    ("VAS", "VAS"),
    ("ODI", "ODI"),
    ("PCS", "SF36_PCS"),
    ("MCS", "SF36_MCS"),
)
CHANGE_NAMES: tuple[str, ...] = tuple(f"{col}_CHG" for _, col in ENDPOINT_MEASURES)
MCID_NAMES: tuple[str, ...] = tuple(f"{col}_MCID" for _, col in ENDPOINT_MEASURES)
RESPONDER = "RESPONDER"
ENDPOINT_NAMES: tuple[str, ...] = (*CHANGE_NAMES, *MCID_NAMES, RESPONDER)
CONFLICT = "conflict"
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class VisitValues:
    """One scheduled visit of one subject, as exported."""

    code: str
    status: str
    visit_date: date | None
    visit: VisitRow | None
    session: Session | None
    answers: Mapping[str, Answer] = field(default_factory=dict)
    scores: Mapping[str, ScoreValue] = field(default_factory=dict)
    endpoints: Mapping[str, EndpointValue] = field(default_factory=dict)
    sessions: tuple[Session, ...] = ()

    @property
    def conflict(self) -> bool:
        return self.status == CONFLICT

    @property
    def submitted(self) -> bool:
        return self.session is not None and self.session.state == "submitted"


def current_answers(
    answers: tuple[Answer, ...], session_id: str, written: Mapping[str, int] | None = None
) -> dict[str, Answer]:
    """The current answer of each item of one session (`answers` oldest first; `written` when
    each was written, `SubjectRecord.written`)."""
    return _current([a for a in answers if a.session_id == session_id], written)


def _current(rows: list[Answer], written: Mapping[str, int] | None = None) -> dict[str, Answer]:
    """`current_answers` of one session's rows (oldest first): of two current rows of an item
    (a fork), the one written last (`written`; without it, the later in `rows`)."""
    superseded = {a.supersedes for a in rows if a.supersedes is not None}
    out: dict[str, Answer] = {}
    current = 0
    for a in rows:
        if a.id not in superseded:
            out[a.item_id] = a
            current += 1
    if current != len(out) and written:
        order = written
        return last_written((a for a in rows if a.id not in superseded), lambda a: order[a.id])
    return out


def last_written(current: Iterable[_A], written: Callable[[_A], int]) -> dict[str, _A]:
    """Of a session's current rows, by item, the one written last (`written`: its rank)."""
    out: dict[str, _A] = {}
    for a in current:
        prior = out.get(a.item_id)
        if prior is None or written(a) > written(prior):
            out[a.item_id] = a
    return out


def score_answers(study: Study, answers: Mapping[str, AnswerFields]) -> dict[str, ScoreValue]:
    """Every score column computed through the scoring API from current answers."""
    by_instrument: dict[str, dict[str, int | float | None]] = {}
    for a in answers.values():
        by_instrument.setdefault(a.instrument_id, {})[a.item_id] = a.value
    out: dict[str, ScoreValue] = dict.fromkeys(SCORE_NAMES)
    for instrument, given in by_instrument.items():
        try:
            by_method = scoring.score_methods(
                instrument, given, min_sections=study.odi_min_sections
            )
        except ValueError as exc:  # scoring's word for an answer no kiosk could have stored
            session = next(iter(answers.values())).session_id
            raise ExportError(
                f"session {session}: a stored answer breaks its instrument's rule ({exc}); "
                "every way in validates answers, so the database was changed outside this "
                "program: run `verify` to name the rows and restore the last backup"
            ) from None
        for name, key in _SCORE_KEYS.get(instrument, {}).get("default", ()):
            out[name] = by_method["default"].get(key)
        for method in ("standard", "rand"):
            for name, key in _SCORE_KEYS.get(instrument, {}).get(method, ()):
                out[name] = by_method[method].get(key)
    return out


def endpoint_values(
    study: Study, baseline: Mapping[str, ScoreValue], followup: Mapping[str, ScoreValue]
) -> dict[str, EndpointValue]:
    """Change from baseline, MCID flags and responder status of a follow-up visit."""
    if all(followup.get(col) is None for _, col in ENDPOINT_MEASURES):
        return dict.fromkeys(ENDPOINT_NAMES)  # nothing to compare: every result is undetermined
    mcid, ep = study.mcid, study.endpoint
    out: dict[str, EndpointValue] = {}
    for measure, col in ENDPOINT_MEASURES:
        out[f"{col}_CHG"] = endpoints.change_from_baseline(
            measure, baseline.get(col), followup.get(col)
        )
    b_vas, f_vas = baseline.get("VAS"), followup.get("VAS")
    b_odi, f_odi = baseline.get("ODI"), followup.get("ODI")
    b_pcs, f_pcs = baseline.get("SF36_PCS"), followup.get("SF36_PCS")
    b_mcs, f_mcs = baseline.get("SF36_MCS"), followup.get("SF36_MCS")
    out["VAS_MCID"] = endpoints.vas_mcid(
        b_vas, f_vas, points=mcid.vas_points, percent=mcid.vas_percent
    )
    out["ODI_MCID"] = endpoints.odi_mcid(
        b_odi, f_odi, points=mcid.odi_points, percent=mcid.odi_percent
    )
    out["SF36_PCS_MCID"] = endpoints.pcs_mcid(b_pcs, f_pcs, points=mcid.pcs_points)
    out["SF36_MCS_MCID"] = endpoints.mcs_mcid(b_mcs, f_mcs, points=mcid.mcs_points)
    out[RESPONDER] = endpoints.is_responder(
        b_vas,
        f_vas,
        b_odi,
        f_odi,
        odi_rule=ep.odi_rule,
        vas_points=ep.vas_points,
        vas_percent=ep.vas_percent,
        odi_threshold=ep.odi_threshold,
    )
    return out


def _withdrawn(planned: ScheduledVisit, withdrawn_on: date) -> bool:
    """A visit not done (not submitted, not marked missed) whose window had not closed when the
    subject withdrew is *withdrawn*, the study report's rule (`reports.study_data`)."""
    return planned.status not in ("complete", "missed") and withdrawn_on <= planned.window.closes


def visit_values(
    study: Study, record: SubjectRecord, *, with_endpoints: bool = True, with_scores: bool = True
) -> Iterator[VisitValues]:
    """Every scheduled visit of the subject in schedule order (see the module docstring).

    Without `with_endpoints` the change / MCID / responder values are left empty (the files that
    do not carry them skip their cost); without `with_scores` the scores too (the ODM --history
    visit facts need statuses and dates only).
    """
    by_visit: dict[str, list[Session]] = {}
    for s in record.sessions:
        by_visit.setdefault(s.visit_code, []).append(s)
    answered_sessions = {a.session_id for a in record.answers if a.status == "answered"}
    by_session: dict[str, list[Answer]] = {}
    for a in record.answers:
        by_session.setdefault(a.session_id, []).append(a)
    stored = {v.visit_code: v for v in record.visits}
    baseline: Mapping[str, ScoreValue] | None = None
    withdrawn_on = record.withdrawal.withdrawn_on if record.withdrawal is not None else None
    for planned in record.schedule:
        sessions = by_visit.get(planned.code, [])
        session = choose_session(sessions)
        answers = _current(by_session.get(session.id, []), record.written) if session else {}
        scores: dict[str, ScoreValue] = {}
        if with_scores and session is not None and session.state == "submitted":
            scores = score_answers(study, answers)
        else:
            scores = dict.fromkeys(SCORE_NAMES)
        status: str = planned.status
        if sum(1 for s in sessions if s.id in answered_sessions) > 1:
            status = CONFLICT
        elif withdrawn_on is not None and _withdrawn(planned, withdrawn_on):
            status = WITHDRAWN
        values: dict[str, EndpointValue] = dict.fromkeys(ENDPOINT_NAMES)
        if planned.code == study.endpoint.baseline_visit:
            baseline = scores
        elif baseline is not None and with_endpoints:
            values = endpoint_values(study, baseline, scores)
        yield VisitValues(
            code=planned.code,
            status=status,
            visit_date=planned.actual_date,
            visit=stored.get(planned.code),
            session=session,
            answers=answers,
            scores=scores,
            endpoints=values,
            sessions=tuple(sessions),
        )
