"""The synthetic demo data: realistic enough to show every state the kiosk and reports handle."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime
from pathlib import Path

from respine_desktop import clock, demo, schedule, storage
from respine_desktop.storage import StudyDb


def test_demo_data_covers_every_visit_state_and_improves_over_time(tmp_path: Path) -> None:
    db: StudyDb = storage.create_database(
        tmp_path / "demo.db", admin_pin=demo.DEMO_ADMIN_PIN, durable=False
    )
    seen: list[tuple[str, str, str]] = []
    with db:
        summary = demo.generate(db, subjects=80, seed=3, progress=lambda *line: seen.append(line))
        assert summary.subjects == 80 and len(seen) == summary.questionnaires
        statuses = {e.status for e in storage.worklist(db, statuses=None)}
        assert {"complete", "missed", "not_yet_due", "due"} <= statuses
        assert summary.sessions_open > 0 and summary.corrections >= 0
        skipped = db.conn.execute("SELECT count(*) FROM answers WHERE status='skipped'")
        assert skipped.fetchone()[0] > 0
        vas: dict[str, list[float]] = {}
        for subject in storage.list_subjects(db):
            for visit, scores in storage.subject_scores(db, subject.code).items():
                for s in scores:
                    if s.instrument_id == "vas" and s.values["VAS"] is not None:
                        vas.setdefault(visit, []).append(float(s.values["VAS"]))
        assert statistics.mean(vas["M6"]) < statistics.mean(vas["M0"]) - 5
        assert storage.verify_database(db.path).ok
        # Nothing identifying: codes only, years of birth at most.
        assert all(s.code.startswith("RSP-01-") for s in storage.list_subjects(db))


def test_the_plan_is_deterministic_for_a_seed() -> None:
    today = date(2026, 3, 1)
    a = demo.plan_subjects(5, seed=9, first=40, site_code="02", today=today)
    b = demo.plan_subjects(5, seed=9, first=40, site_code="02", today=today)
    assert a == b and a[0].code == "RSP-02-040"


def test_the_demo_restores_the_clock(tmp_path: Path) -> None:
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    clock.set_clock(lambda: moment)
    try:
        with storage.create_database(tmp_path / "c.db", admin_pin=demo.DEMO_ADMIN_PIN) as db:
            demo.generate(db, subjects=3, seed=1)
            # Simulated visits happened in the past, by the clock of each moment.
            latest = db.conn.execute("SELECT max(given_at) FROM answers").fetchone()[0]
            assert latest is None or latest <= "2026-03-01T12:00:00.000Z"
        assert clock.now() == moment
        assert schedule.today() == moment.astimezone().date()
    finally:
        clock.set_clock(None)
