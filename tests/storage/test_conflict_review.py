"""Conflict review on a real hub: two kiosks did the same visit, both sessions were merged, and
each flagged conflict reads back with both versions item by item and the version that counts by
the chosen-session rule (submitted last), on a read-only database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.instruments import load_instrument
from tests.support.exports import (
    TODAY,
    Clock,
    answers_for,
    conflicted_hub,
    export,
    hub_and_kiosks,
    merge,
    table_digest,
)
from tests.support.storage import coord

Kiosks = tuple[Path, Path, Path, Clock]


@pytest.fixture
def kiosks(tmp_path: Path) -> Iterator[Kiosks]:
    with hub_and_kiosks(tmp_path) as made:
        yield made


def test_each_conflict_shows_both_versions_and_the_one_submitted_last_counts(
    kiosks: Kiosks,
) -> None:
    hub, a, b, c = kiosks
    first, second = conflicted_hub(hub, a, b, c)
    before = table_digest(hub)
    with storage.open_database(hub, readonly=True) as db:
        reviews = storage.review_conflicts(db)
        assert storage.chosen_session(db, "RSP-01-030", "M1") == second
    assert table_digest(hub) == before  # reviewing writes nothing
    by_instrument = {r.instrument_id: r for r in reviews}
    assert sorted(by_instrument) == ["odi", "sf36", "vas"]
    for review in reviews:
        assert (review.subject_code, review.visit_code) == ("RSP-01-030", "M1")
        assert [v.session_id for v in review.versions] == [first, second]
        assert [v.device_label for v in review.versions] == ["kiosk a", "kiosk b"]
        assert [v.chosen for v in review.versions] == [False, True]
        assert review.chosen is review.versions[1]
        assert review.reason == "submitted_last"
        device = review.versions[1].device_id[-6:]
        assert review.explain() == (
            f"the version submitted last counts (kiosk b {device}); both versions are kept"
        )
        older, newer = review.versions
        assert older.state == newer.state == "submitted"
        assert older.submitted_at is not None and newer.submitted_at is not None
        assert older.submitted_at < newer.submitted_at and older.started_at < newer.started_at
        assert older.submitted_by is None and newer.submitted_by is None  # the patient submitted
        items = load_instrument(review.instrument_id).item_ids
        assert [i.item_id for i in review.items] == list(items)
        assert older.answer_count == newer.answer_count == len(items)

    vas = by_instrument["vas"]
    (row,) = vas.items
    assert [a.value if a else None for a in row.answers] == [50.0, 35.5] and row.differs
    assert vas.differing_items == ("vas_pain",)
    assert [v.differing_items for v in vas.versions] == [1, 1]

    # A's ODI: every item 1, then odi_02 corrected to 2 (the current answer is the correction).
    odi = by_instrument["odi"]
    values = {i.item_id: tuple(a.value if a else None for a in i.answers) for i in odi.items}
    assert values["odi_02"] == (2, 4) and values["odi_01"] == (1, 4)
    assert len(odi.differing_items) == 10

    # SF-36 items with fewer options clip both kiosks' codes to the same answer: not a difference.
    sf36 = by_instrument["sf36"]
    a_given, b_given = answers_for("sf36", 2), answers_for("sf36", 3)
    expected = tuple(i for i in a_given if a_given[i] != b_given[i])
    assert sf36.differing_items == expected and 0 < len(expected) < len(a_given)
    assert [v.differing_items for v in sf36.versions] == [len(expected)] * 2
    same = next(i for i in sf36.items if not i.differs)
    assert same.answers[0] is not None and same.answers[1] is not None
    assert same.answers[0].value == same.answers[1].value


def test_a_submitted_version_counts_over_an_open_one_and_names_its_staff(kiosks: Kiosks) -> None:
    hub, a, b, c = kiosks
    day0 = TODAY - timedelta(days=10)
    with storage.open_database(a) as db:
        storage.register_subject(db, "RSP-01-040", day0=day0, staff=coord(db))
    export(a, a.with_suffix(".1"))
    merge(hub, a.with_suffix(".1"))
    export(hub, hub.with_suffix(".1"))
    merge(b, hub.with_suffix(".1"))  # kiosk B knows the subject
    c.day(day0)
    with storage.open_database(a) as db:
        done = storage.start_session(db, "RSP-01-040", "M0", staff=coord(db), on=day0)
        storage.record_answers(db, done.id, answers_for("vas", 0, vas=20.0), language="en")
        storage.submit_session(db, done.id, staff=coord(db), skip_unanswered=True, on=day0)
    c.day(day0, minutes=30)  # B starts later but never submits: A's submitted version counts
    with storage.open_database(b) as db:
        open_ = storage.start_session(db, "RSP-01-040", "M0", staff=coord(db), on=day0)
        storage.record_answers(db, open_.id, answers_for("vas", 0, vas=20.0), language="en")
    export(a, a.with_suffix(".2"))
    export(b, b.with_suffix(".1"))
    merge(hub, a.with_suffix(".2"))
    merge(hub, b.with_suffix(".1"))
    with storage.open_database(hub, readonly=True) as db:
        (review,) = storage.review_conflicts(db)
        assert storage.chosen_session(db, "RSP-01-040", "M0") == done.id
    assert review.instrument_id == "vas" and review.reason == "only_submitted"
    submitted, still_open = review.versions
    assert (submitted.session_id, still_open.session_id) == (done.id, open_.id)
    assert submitted.chosen and not still_open.chosen
    assert (submitted.state, still_open.state) == ("submitted", "in_progress")
    assert still_open.submitted_at is None and still_open.submitted_by is None
    # Staff accounts arrive renamed on the hub: <username>@<site>.<id suffix>.
    assert submitted.submitted_by is not None and submitted.submitted_by.startswith("coord@")
    # The same VAS on both kiosks: a conflict with no differing item.
    assert review.differing_items == () and [v.differing_items for v in review.versions] == [0, 0]
    assert "only submitted version counts" in review.explain()


def test_a_database_without_conflicts_has_nothing_to_review(kiosks: Kiosks) -> None:
    hub, _, _, _ = kiosks
    with storage.open_database(hub, readonly=True) as db:
        assert storage.review_conflicts(db) == []
