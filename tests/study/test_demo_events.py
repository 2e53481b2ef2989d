"""The demo's simulated sittings never happen before their visit is due, whatever the time of
day it runs (just after midnight, "an hour ago" was yesterday)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from respine_desktop import schedule
from respine_desktop.demo import _events, plan_subjects
from respine_desktop.study import load_study

TODAY = date(2026, 12, 4)


@pytest.mark.parametrize("hour, minute", [(0, 5), (0, 40), (1, 20), (13, 0)])
def test_every_sitting_is_inside_its_window_and_not_in_the_future(hour: int, minute: int) -> None:
    now = datetime(2026, 12, 4, hour, minute, tzinfo=UTC)
    study = load_study()
    subjects = plan_subjects(3000, seed=7, first=1, site_code="01", today=TODAY)
    db = SimpleNamespace(study=study)
    events = _events(db, subjects, random.Random(7), TODAY, now)  # type: ignore[arg-type]
    visits = {v.code: v for v in study.visits}
    sittings = [e for e in events if e.kind == "sitting"]
    assert any(e.at.date() == TODAY for e in sittings)  # the case that failed is exercised
    for e in sittings:
        window = schedule.visit_window(visits[e.visit], e.subject.day0)
        assert e.at <= now, e
        assert window.opens <= e.at.date() <= window.closes, e
