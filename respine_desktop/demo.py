"""Synthetic demo data: pseudonymous subjects with realistic VAS/ODI/SF-36 trajectories.

Everything is written through the same storage API the kiosk uses (register, start, record the
answers of one questionnaire per transaction, park, submit, mark missed, correct), with the
application clock set to each simulated moment, so answers, audit entries and scores look like
real use. Events are replayed in time order, so each device's audit chain runs forward in time.

The model (nothing of it is stored: the trial is blinded, the database never holds the arm):

* day 0 spread over the past ~26 months, so late visits are often not due yet;
* baseline pain VAS ~ 68 ± 12 mm and ODI ~ 42 ± 12 %; the treated half improves by up to ~45 %
  over months, the sham half by up to ~18 %, each subject with their own responsiveness and
  visit-to-visit noise; SF-36 answers follow the subject's disability;
* a few skipped items (ODI section 8 "sex life" more often), missed visits (with a reason),
  overdue visits, parked sessions, dropouts and staff corrections.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from respine_desktop import clock, schedule
from respine_desktop.instruments import load_instrument
from respine_desktop.storage import (
    SKIPPED,
    AlreadyExists,
    AnswerValue,
    AuthenticationError,
    Role,
    Skipped,
    Staff,
    StudyDb,
    UnknownStaff,
    UnknownSubject,
    authenticate,
    correct_answer,
    create_staff,
    get_staff,
    get_subject,
    mark_missed,
    park_session,
    record_answers,
    register_subject,
    start_session,
    subject_code,
    submit_session,
    transaction,
)

DEMO_ADMIN = "admin"
DEMO_ADMIN_PIN = "860427"
DEMO_COORDINATOR = "coord"
DEMO_COORDINATOR_PIN = "731592"
DEMO_INVESTIGATOR = "inv"
DEMO_INVESTIGATOR_PIN = "594318"

# RAND recode direction per SF-36 item: True when code 1 is the best answer.
_SF36_CODE1_BEST = frozenset({1, 2, 20, 21, 22, 23, 26, 27, 30, 34, 36})
_SF36_MENTAL = frozenset({17, 18, 19, 23, 24, 25, 26, 27, 28, 29, 30, 31})
_MISSED_REASONS = (
    "subject did not attend",
    "subject unreachable",
    "subject withdrew consent",
    "intercurrent illness",
)

Progress = Callable[[str, str, str], None]


@dataclass
class DemoSummary:
    """What `generate` wrote."""

    subjects: int = 0
    sessions_submitted: int = 0
    sessions_open: int = 0
    questionnaires: int = 0
    missed: int = 0
    corrections: int = 0


@dataclass
class _Subject:
    code: str
    day0: date
    treated: bool
    vas0: float
    odi0: float
    response: float
    dropout_after: int | None
    year_of_birth: int | None


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    kind: str = field(compare=False)
    subject: _Subject = field(compare=False)
    visit: str = field(compare=False, default="")
    outcome: str = field(compare=False, default="")


def _clip(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _improvement(subject: _Subject, day: int) -> float:
    months = max(0.0, day / 30.44)
    if subject.treated:
        return 0.45 * (1 - math.exp(-months / 3.0)) * subject.response
    return 0.18 * (1 - math.exp(-months / 2.0)) * subject.response


def _answers(
    rng: random.Random, subject: _Subject, day: int
) -> dict[str, dict[str, AnswerValue | Skipped]]:
    """One visit's answers for the three instruments, by instrument id."""
    gain = _improvement(subject, day)
    vas = _clip(subject.vas0 * (1 - gain) + rng.gauss(0, 8), 0, 100)
    odi = _clip(subject.odi0 * (1 - gain) + rng.gauss(0, 6), 0, 100)
    out: dict[str, dict[str, AnswerValue | Skipped]] = {"vas": {"vas_pain": round(vas, 1)}}
    odi_items: dict[str, AnswerValue | Skipped] = {}
    for n in range(1, 11):
        section = f"odi_{n:02d}"
        if rng.random() < (0.15 if n == 8 else 0.015):
            odi_items[section] = SKIPPED
        else:
            odi_items[section] = int(_clip(round(odi / 20 + rng.gauss(0, 0.9)), 0, 5))
    out["odi"] = odi_items
    health = 1 - odi / 100
    sf36: dict[str, AnswerValue | Skipped] = {}
    for item in load_instrument("sf36").items:
        n = int(item.id[-2:])
        if rng.random() < 0.02:
            sf36[item.id] = SKIPPED
            continue
        h = 0.55 + 0.5 * (health - 0.55) if n in _SF36_MENTAL else health
        h = _clip(h + rng.gauss(0, 0.15), 0, 1)
        k = len(item.choices)
        position = round((1 - h) * (k - 1)) if n in _SF36_CODE1_BEST else round(h * (k - 1))
        sf36[item.id] = item.codes[int(_clip(position, 0, k - 1))]
    out["sf36"] = sf36
    return out


def _moment(day: date, rng: random.Random) -> datetime:
    """A clinic-hours moment (UTC) on `day`."""
    return datetime.combine(day, time(8, 0), UTC) + timedelta(minutes=rng.randrange(0, 9 * 60))


@contextmanager
def _simulated_clock() -> Iterator[Callable[[datetime], None]]:
    """Let the caller set the application clock; restore the previous clock afterwards."""
    previous = clock._now
    current = [clock.now()]
    clock.set_clock(lambda: current[0])

    def set_to(moment: datetime) -> None:
        current[0] = moment

    try:
        yield set_to
    finally:
        clock.set_clock(previous)


def _ensure_staff(db: StudyDb) -> tuple[Staff, Staff]:
    """The demo coordinator and investigator (created with the demo admin if missing)."""
    accounts = []
    wanted: tuple[tuple[str, Role, str], ...] = (
        (DEMO_COORDINATOR, "coordinator", DEMO_COORDINATOR_PIN),
        (DEMO_INVESTIGATOR, "investigator", DEMO_INVESTIGATOR_PIN),
    )
    for username, role, pin in wanted:
        try:
            try:
                get_staff(db, username)
            except UnknownStaff:
                admin = authenticate(db, DEMO_ADMIN, DEMO_ADMIN_PIN)
                with contextlib.suppress(AlreadyExists):  # another demo process was faster
                    create_staff(db, admin, username, role, pin)
            accounts.append(authenticate(db, username, pin))
        except AuthenticationError as exc:
            raise AuthenticationError(
                f"{exc}: the demo needs the demo accounts ({DEMO_ADMIN}/{DEMO_ADMIN_PIN}, "
                f"{DEMO_COORDINATOR}/{DEMO_COORDINATOR_PIN}, {DEMO_INVESTIGATOR}/"
                f"{DEMO_INVESTIGATOR_PIN})"
            ) from None
    return accounts[0], accounts[1]


def plan_subjects(n: int, *, seed: int, first: int, site_code: str, today: date) -> list[_Subject]:
    """The synthetic subjects (deterministic for a seed)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        day0 = today - timedelta(days=rng.randrange(-5, 790))
        out.append(
            _Subject(
                code=subject_code(site_code, first + i),
                day0=day0,
                treated=rng.random() < 0.5,
                vas0=_clip(rng.gauss(68, 12), 40, 100),
                odi0=_clip(rng.gauss(42, 12), 20, 80),
                response=_clip(rng.gauss(1.0, 0.35), 0.1, 2.0),
                dropout_after=rng.randrange(1, 5) if rng.random() < 0.06 else None,
                year_of_birth=rng.randrange(1950, 2000) if rng.random() < 0.9 else None,
            )
        )
    return out


def _events(
    db: StudyDb, subjects: list[_Subject], rng: random.Random, today: date, now: datetime
) -> list[_Event]:
    events: list[_Event] = []
    order = 0
    for s in subjects:
        # Screening comes before the baseline window (day 0 - 14) opens.
        registered = _moment(min(s.day0 - timedelta(days=rng.randrange(15, 22)), today), rng)
        events.append(_Event(min(registered, now), order, "register", s))
        order += 1
        for index, visit in enumerate(db.study.visits):
            window = schedule.visit_window(visit, s.day0)
            if window.opens > today:
                continue
            if s.dropout_after is not None and index > s.dropout_after:
                if window.closes < today:
                    at = _moment(window.closes + timedelta(days=1), rng)
                    events.append(_Event(at, order, "missed", s, visit.code, _MISSED_REASONS[2]))
                    order += 1
                continue
            r = rng.random()
            if window.closes >= today:  # due now
                if r < 0.45:
                    outcome = "complete"
                elif r < 0.55:
                    outcome = "parked"
                else:
                    continue  # still due
                last = today
            else:
                if r < 0.06:
                    at = _moment(window.closes + timedelta(days=1), rng)
                    events.append(
                        _Event(at, order, "missed", s, visit.code, rng.choice(_MISSED_REASONS))
                    )
                    order += 1
                    continue
                if r < 0.10:
                    continue  # overdue, nobody marked it
                outcome = "complete"
                last = window.closes
            spread = max(1, (window.closes - window.opens).days // 3)
            offset = round(rng.gauss(0, spread))
            day = window.target + timedelta(days=offset)
            day = max(window.opens, min(last, day))
            at = _moment(day, rng)
            if day == today and at > now:
                # Earlier today, never before midnight: just after midnight "30 minutes ago" was
                # yesterday, when a window opening today was not due yet (the demo then failed).
                midnight = datetime.combine(day, time(0, 0), UTC)
                earlier = now - timedelta(minutes=rng.randrange(30, 120))
                at = max(earlier, midnight + (now - midnight) / 2)
            events.append(_Event(at, order, "sitting", s, visit.code, outcome))
            order += 1
    events.sort()
    return events


def generate(
    db: StudyDb,
    *,
    subjects: int,
    seed: int = 1,
    first: int = 1,
    site_code: str | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Write `subjects` synthetic subjects numbered from `first` into `db`.

    `progress(subject, visit, instrument)` is called after each questionnaire's transaction
    commits. Refuses (AlreadyExists, before writing) if any of the subject codes exists.
    """
    site = site_code or db.site_code
    today = schedule.today()
    now = clock.now()
    planned = plan_subjects(subjects, seed=seed, first=first, site_code=site, today=today)
    for s in planned:
        try:
            get_subject(db, s.code)
        except UnknownSubject:
            continue
        raise AlreadyExists(f"subject {s.code} exists already: choose another --first")
    coordinator, investigator = _ensure_staff(db)
    rng = random.Random(seed * 7919 + first)
    summary = DemoSummary()
    with _simulated_clock() as set_clock:
        for event in _events(db, planned, rng, today, now):
            set_clock(event.at)
            s = event.subject
            if event.kind == "register":
                register_subject(
                    db,
                    s.code,
                    day0=s.day0,
                    staff=coordinator,
                    site_code=site,
                    year_of_birth=s.year_of_birth,
                )
                summary.subjects += 1
            elif event.kind == "missed":
                mark_missed(db, s.code, event.visit, staff=coordinator, reason=event.outcome)
                summary.missed += 1
            else:
                _sitting(db, event, rng, coordinator, investigator, summary, set_clock, progress)
    return summary


def _sitting(
    db: StudyDb,
    event: _Event,
    rng: random.Random,
    coordinator: Staff,
    investigator: Staff,
    summary: DemoSummary,
    set_clock: Callable[[datetime], None],
    progress: Progress | None,
) -> None:
    s = event.subject
    day = event.at.date()
    visit = db.study.visit(event.visit)
    answers = _answers(rng, s, (day - s.day0).days)
    moment = event.at
    position = 0
    instruments = visit.instruments
    stop_at = rng.randrange(1, len(instruments)) if event.outcome == "parked" else None
    session_id = ""
    for index, instrument_id in enumerate(instruments):
        if stop_at is not None and index == stop_at:
            moment += timedelta(minutes=3)
            set_clock(moment)
            park_session(db, session_id, position=position)
            summary.sessions_open += 1
            return
        given = answers[instrument_id]
        # One transaction per questionnaire; the first one also opens the session and the last
        # one also submits it (nested calls become savepoints of the same transaction).
        with transaction(db):
            if index == 0:
                session_id = start_session(
                    db, s.code, visit.code, staff=coordinator, language="en", on=day
                ).id
            moment += timedelta(seconds=20 + 15 * len(given) + rng.randrange(0, 60))
            set_clock(moment)
            position += len(given)
            record_answers(
                db,
                session_id,
                given,
                language="en",
                vas_line_mm=100.0 if instrument_id == "vas" else None,
                position=position,
            )
            if index == len(instruments) - 1:
                moment += timedelta(seconds=30)
                set_clock(moment)
                submit_session(db, session_id, on=day)
                summary.sessions_submitted += 1
        summary.questionnaires += 1
        if progress is not None:
            progress(s.code, visit.code, instrument_id)
    if rng.random() < 0.01:
        set_clock(moment + timedelta(hours=2))
        current = answers["odi"].get("odi_03")
        new = 1 if current is SKIPPED or not isinstance(current, int) else (current + 1) % 6
        correct_answer(
            db,
            session_id,
            "odi_03",
            new,
            staff=investigator,
            reason="patient reported ticking the wrong statement",
        )
        summary.corrections += 1
