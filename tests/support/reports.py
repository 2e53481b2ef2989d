"""Helpers shared by the report tests: a study database built through the storage API with a
fixed clock, expected numbers computed through the scoring API, and PDF text extraction."""

from __future__ import annotations

import os
import random
import re
import statistics
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from respine_desktop import clock, scoring, storage
from respine_desktop.instruments import load_instrument
from respine_desktop.scoring import endpoints
from respine_desktop.storage import SKIPPED, StudyDb
from tests.support.storage import coord
from tests.support.storage import new_db as _new_db

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TODAY = date(2026, 3, 2)
# Day 0 far enough back that M0..M12 windows have closed and M24 is not yet due.
OLD_DAY0 = TODAY - timedelta(days=400)
FOLLOW_UPS = ("M1", "M3", "M6", "M12", "M24")
MEASURES = ("VAS", "ODI", "PCS", "MCS")


@contextmanager
def fixed_clock(moment: datetime = NOW) -> Iterator[None]:
    """Every stored time is `moment` while the block runs; the system clock afterwards."""
    clock.set_clock(lambda: moment)
    try:
        yield
    finally:
        clock.set_clock(None)


Answers = dict[str, object]


def visit_answers(
    *, vas: float, odi: list[int | None] | int, sf36: Mapping[int, int] | int = 2
) -> Answers:
    """Answers of one full visit: VAS in mm, ODI section codes (None = skipped), SF-36 codes."""
    out: Answers = {"vas_pain": vas}
    sections = odi if isinstance(odi, list) else [odi] * 10
    for n, code in enumerate(sections, start=1):
        out[f"odi_{n:02d}"] = SKIPPED if code is None else code
    for item in load_instrument("sf36").items:
        number = int(item.id[-2:])
        wanted = sf36 if isinstance(sf36, int) else sf36.get(number, 2)
        out[item.id] = min(wanted, max(item.codes))
    return out


def random_answers(rng: random.Random, level: float) -> Answers:
    """Plausible random answers; `level` 0 (well) .. 1 (worst)."""
    vas = round(min(100.0, max(0.0, rng.gauss(100 * level, 10))) * 2) / 2  # halves: x.5 mm
    odi: list[int | None] = [
        None if rng.random() < 0.05 else min(5, max(0, round(5 * level + rng.gauss(0, 0.8))))
        for _ in range(10)
    ]
    out: Answers = {"vas_pain": vas}
    for n, code in enumerate(odi, start=1):
        out[f"odi_{n:02d}"] = SKIPPED if code is None else code
    for item in load_instrument("sf36").items:
        out[item.id] = SKIPPED if rng.random() < 0.03 else rng.choice(item.codes)
    return out


def do_visit(db: StudyDb, code: str, visit: str, answers: Answers, on: date) -> str:
    """Start, answer and submit one visit on day `on`; returns the session id."""
    session = storage.start_session(db, code, visit, staff=coord(db), language="en", on=on)
    storage.record_answers(db, session.id, answers, language="en", vas_line_mm=100.0)  # type: ignore[arg-type]
    storage.submit_session(db, session.id, on=on)
    return session.id


def visit_day(db: StudyDb, day0: date, visit: str) -> date:
    return day0 + timedelta(days=db.study.visit(visit).day)


@dataclass
class StudyPlan:
    """What `build_study` wrote: subjects and which visits they did (for expectations)."""

    subjects: list[str] = field(default_factory=list)
    missed: dict[tuple[str, str], str] = field(default_factory=dict)


def build_study(db: StudyDb, n: int = 14, seed: int = 7) -> StudyPlan:
    """`n` subjects with random answers: most did M0..M12, some missed visits, a few are recent."""
    rng = random.Random(seed)
    plan = StudyPlan()
    for i in range(1, n + 1):
        code = storage.subject_code("01", i)
        recent = i % 7 == 0  # M1 due today: the first one has it parked half-way
        day0 = TODAY - timedelta(days=30 if recent else 400 + i)
        storage.register_subject(db, code, day0=day0, staff=coord(db), year_of_birth=1950 + i)
        plan.subjects.append(code)
        base = rng.uniform(0.45, 0.8)
        gain = rng.uniform(0.0, 0.6)
        for visit in ("M0", "M1", "M3", "M6", "M12"):
            if recent and visit != "M0":
                if i == 7:
                    session = storage.start_session(
                        db, code, "M1", staff=coord(db), language="en", on=TODAY
                    )
                    storage.record_answer(db, session.id, "vas_pain", 50.0, language="en")
                    storage.park_session(db, session.id, position=1)
                break
            if visit in ("M3", "M6") and rng.random() < 0.2:
                reason = "subject did not attend"
                storage.mark_missed(db, code, visit, staff=coord(db), reason=reason, on=TODAY)
                plan.missed[(code, visit)] = reason
                continue
            if visit == "M1" and rng.random() < 0.1:
                continue  # overdue, nobody marked it
            level = base * (1 - gain * (0 if visit == "M0" else 1))
            day = visit_day(db, day0, visit)
            do_visit(db, code, visit, random_answers(rng, level), day)
    return plan


def answers_for_scoring(db: StudyDb, session_id: str) -> dict[str, object]:
    """The current answers of a session as the scoring API takes them (skipped = None)."""
    return {
        item: (None if a.status == "skipped" else a.value)
        for item, a in storage.current_answers(db, session_id).items()
    }


def of(answers: Mapping[str, object], instrument_id: str) -> dict[str, object]:
    """The answers of one instrument (item ids start with the instrument id)."""
    return {k: v for k, v in answers.items() if k.startswith(instrument_id + "_")}


def expected_scores(db: StudyDb, code: str) -> dict[str, dict[str, float | None]]:
    """visit -> {VAS, ODI, PCS, MCS, PF..} recomputed through the scoring API from the answers."""
    out: dict[str, dict[str, float | None]] = {}
    for record in storage.subject_visits(db, code, TODAY):
        if record.status != "complete" or record.session_id is None:
            continue
        answers = answers_for_scoring(db, record.session_id)
        values: dict[str, float | None] = {}
        values.update(scoring.score("vas", of(answers, "vas")))
        values.update(
            scoring.score("odi", of(answers, "odi"), min_sections=db.study.odi_min_sections)
        )
        values.update(scoring.score("sf36", of(answers, "sf36")))
        out[record.code] = values
    return out


def expected_responder(
    db: StudyDb, scores: Mapping[str, Mapping[str, float | None]], visit: str
) -> bool | None:
    ep = db.study.endpoint
    base, fu = scores.get("M0", {}), scores.get(visit, {})
    return endpoints.is_responder(
        base.get("VAS"),
        fu.get("VAS"),
        base.get("ODI"),
        fu.get("ODI"),
        odi_rule=ep.odi_rule,
        vas_points=ep.vas_points,
        vas_percent=ep.vas_percent,
        odi_threshold=ep.odi_threshold,
    )


def shown(value: float | None, places: int = 1) -> str:
    """A number as the reports display it: half away from zero, en dash when missing."""
    if value is None:
        return "\u2013"
    text = str(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
    return text[1:] if text.startswith("-") and Decimal(text) == 0 else text


def mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{shown(values[0])} (n=1)"
    mean, sd = shown(statistics.mean(values)), shown(statistics.stdev(values))
    return f"{mean} \u00b1 {sd} (n={len(values)})"


def pdf_pages(path: Path) -> list[str]:
    """The text of every page, whitespace runs collapsed to one space."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def pdf_text(path: Path) -> str:
    return " ".join(pdf_pages(path))


def pdf_metadata(path: Path) -> dict[str, str]:
    meta = PdfReader(path).metadata or {}
    return {str(k): str(v) for k, v in meta.items()}


IDENTIFIER_WORDS = re.compile(
    r"\b(name|surname|first name|birth|born|dob|address|phone|e-?mail|year of birth)\b",
    re.IGNORECASE,
)


def env() -> dict[str, str]:
    """Environment for child processes running this checkout's code."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e["PYTHONWARNINGS"] = "error"
    return e


def new_db(path: Path, **options: Any) -> StudyDb:
    """`support.storage.new_db` without fsync at every commit (these tests don't cut power)."""
    return _new_db(path, durable=False, **options)
