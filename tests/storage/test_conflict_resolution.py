"""Resolving a conflict on a real hub: kiosks a and b both did RSP-01-030's M1 (b submitting
last, so b's version counts by the rule) and an investigator chooses a's version with a reason.
The choice counts everywhere (reports, worklist, CSV, ODM), is audited, append-only, superseded
by a later one, travels in bundles (idempotent, older bundles still import), is checked by verify,
and a database of schema 0002 upgrades to hold it."""

from __future__ import annotations

import csv
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from respine_desktop import exports, reports, storage
from respine_desktop.storage import _schema as schema
from tests.support.exports import (
    NOW,
    TODAY,
    Clock,
    conflicted_hub,
    export,
    hub_and_kiosks,
    install,
    merge,
    new_db,
    odm_errors,
    table_digest,
    without_members,
)
from tests.support.storage import ADMIN_PIN, coord, inv, old_schema_db

SUBJECT = "RSP-01-030"
WHY = "kiosk b was a staff test run; the patient answered on kiosk a"
ODM = "{http://www.cdisc.org/ns/odm/v1.3}"

Hub = tuple[Path, Path, Path, Clock, str, str]


@pytest.fixture
def conflicted(tmp_path: Path) -> Iterator[Hub]:
    """(hub, kiosk a, kiosk b, clock, a's M1 session, b's M1 session): b's counts by the rule."""
    with hub_and_kiosks(tmp_path) as (hub, a, b, c):
        first, second = conflicted_hub(hub, a, b, c)
        c.at(NOW)
        yield hub, a, b, c, first, second


def admin(db: storage.StudyDb) -> storage.Staff:
    return storage.get_staff(db, "admin")


def resolve(path: Path, session_id: str, staff: str = "inv", reason: str = WHY) -> str:
    with storage.open_database(path) as db:
        choice = storage.resolve_conflict(
            db, SUBJECT, "M1", session_id, staff=storage.get_staff(db, staff), reason=reason
        )
        return choice.id


def verified(path: Path) -> None:
    result = storage.verify_database(path)
    assert result.ok, result.message


def wide_row(folder: Path) -> dict[str, str]:
    with open(folder / "visits_wide.csv", newline="") as f:
        rows = {(r["subject_id"], r["visit"]): r for r in csv.DictReader(f)}
    return rows[SUBJECT, "M1"]


def odm_visit(path: Path) -> tuple[list[str], dict[tuple[str, str], str | None]]:
    """The M1 event's annotation comments and its (form, item) -> value after replaying it."""
    root = ET.parse(path).getroot()
    event = root.find(
        f".//{ODM}SubjectData[@SubjectKey='{SUBJECT}']/{ODM}StudyEventData[@StudyEventOID='SE.M1']"
    )
    assert event is not None
    comments = [c.text or "" for c in event.findall(f"{ODM}Annotation/{ODM}Comment")]
    values: dict[tuple[str, str], str | None] = {}
    for form in event.findall(f"{ODM}FormData"):
        for item in form.iter(f"{ODM}ItemData"):
            values[form.get("FormOID", ""), item.get("ItemOID", "")] = item.get("Value")
    return comments, values


def test_an_investigators_choice_counts_for_reports_the_worklist_and_the_exports(
    conflicted: Hub,
) -> None:
    hub, _, _, _, first, second = conflicted
    with storage.open_database(hub) as db:
        assert storage.chosen_session(db, SUBJECT, "M1") == second  # the rule: submitted last
        choice = storage.resolve_conflict(
            db, SUBJECT, "M1", first, staff=inv(db), reason=f"  {WHY} "
        )
        assert (choice.session_id, choice.reason, choice.chosen_by_username) == (
            first,
            WHY,
            "inv",
        )
        assert choice.chosen_by == inv(db).id and choice.device_id == db.device_id

        # Reports: the chosen session and its scores.
        assert storage.chosen_session(db, SUBJECT, "M1") == first
        scored = storage.subject_scores(db, SUBJECT)["M1"]
        assert {s.session_id for s in scored} == {first}
        chosen = {s.instrument_id: s.values for s in storage.session_scores(db, first)}
        assert chosen["vas"]["VAS"] == 50.0
        (scores,) = [x for x in storage.iter_study_scores(db) if x.code == SUBJECT]
        assert scores.scores["M1"]["vas"]["VAS"] == 50.0
        assert scores.scores["M1"]["odi"]["ODI"] == chosen["odi"]["ODI"]
        m1 = next(v for v in reports.patient_summary(db, SUBJECT).visits if v.code == "M1")
        assert m1.session_id == first and m1.value("VAS") == 50.0

        # The worklist and the visit record point at it; the sessions say why it counts.
        assert storage.subject_visit(db, SUBJECT, "M1", on=TODAY).session_id == first
        line = next(
            e
            for e in storage.worklist(db, on=TODAY, statuses=None)
            if (e.subject_code, e.visit_code) == (SUBJECT, "M1")
        )
        assert line.session_id == first
        flags = {s.id: s.chosen_by_review for s in storage.subject_sessions(db, SUBJECT)}
        assert flags[first] and not flags[second]
        assert storage.choose_session(storage.subject_sessions(db, SUBJECT)).id in (first,)

        # The audit trail of the subject has the resolution.
        (entry,) = storage.audit_entries(db, subject_code=SUBJECT, action="conflict.resolved")
        assert entry.actor == inv(db).id and entry.entity_id == choice.id
        assert entry.payload["reason"] == WHY and entry.payload["session_id"] == first
        assert entry.payload["counted_before"] == second and entry.payload["supersedes"] is None

        # The review shows who chose, when and why.
        reviews = storage.review_conflicts(db)
        assert len(reviews) == 3
        for review in reviews:
            assert review.reason == "chosen_by_review"
            assert [v.chosen for v in review.versions] == [True, False]
            assert review.resolution == choice
            assert review.explain().startswith("a reviewer chose this version (kiosk a ")
            assert f"by inv on {choice.chosen_at}: {WHY}; both versions are kept" in (
                review.explain()
            )

        exports.export_csv(db, hub.parent / "csv", workers=1)
        exports.export_odm(db, hub.parent / "s.xml")
        exports.export_odm(db, hub.parent / "h.xml", history=True)
    verified(hub)

    row = wide_row(hub.parent / "csv")
    assert row["status"] == "conflict"
    assert row["vas_pain"] == "50" and float(row["VAS"]) == 50.0
    assert float(row["ODI"]) == chosen["odi"]["ODI"]

    assert odm_errors(hub.parent / "s.xml") == [] and odm_errors(hub.parent / "h.xml") == []
    comments, snapshot = odm_visit(hub.parent / "s.xml")
    assert snapshot["F.VAS", "IT.VAS_PAIN"] == "50"
    expected = f"values from session {first}, chosen by review; other session(s): {second}"
    assert comments == [expected]
    history_comments, history = odm_visit(hub.parent / "h.xml")
    assert history == snapshot  # replaying the history ends at the chosen version
    assert "chosen by review" in history_comments[0]


def test_a_coordinator_is_refused_and_nothing_is_written(conflicted: Hub) -> None:
    hub, _, _, _, first, second = conflicted
    before = table_digest(hub)
    with storage.open_database(hub) as db:
        with pytest.raises(storage.PermissionDenied, match="needs investigator or admin"):
            storage.resolve_conflict(db, SUBJECT, "M1", first, staff=coord(db), reason=WHY)
        assert storage.chosen_session(db, SUBJECT, "M1") == second
    assert table_digest(hub) == before


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_blank_reason_is_refused(conflicted: Hub, reason: str) -> None:
    hub, _, _, _, first, _ = conflicted
    before = table_digest(hub)
    with (
        storage.open_database(hub) as db,
        pytest.raises(storage.InvalidInput, match="a reason is required"),
    ):
        storage.resolve_conflict(db, SUBJECT, "M1", first, staff=inv(db), reason=reason)
    assert table_digest(hub) == before
    # The schema refuses a blank reason too, whatever writes the row.
    conn = sqlite3.connect(hub)
    visit, device = conn.execute(
        "SELECT visit_id, device_id FROM sessions WHERE id=?", [first]
    ).fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute(
            "INSERT INTO session_choices VALUES ('x', ?, ?, 'now', 'someone', ?, ' ')",
            [visit, first, device],
        )
    conn.close()


def test_only_a_submitted_session_of_the_visit_in_conflict_can_be_chosen(conflicted: Hub) -> None:
    hub, _, _, _, first, _ = conflicted
    before = table_digest(hub)
    with storage.open_database(hub) as db:
        m0 = storage.subject_visit(db, SUBJECT, "M0").session_id
        assert m0 is not None
        with pytest.raises(storage.InvalidInput, match="not a session of RSP-01-030 M1"):
            storage.resolve_conflict(db, SUBJECT, "M1", m0, staff=inv(db), reason=WHY)
        with pytest.raises(storage.UnknownSession):
            storage.resolve_conflict(db, SUBJECT, "M1", "no-such", staff=inv(db), reason=WHY)
        with pytest.raises(storage.InvalidInput, match="one session only"):
            storage.resolve_conflict(db, SUBJECT, "M0", m0, staff=inv(db), reason=WHY)
        with pytest.raises(storage.UnknownVisit):
            storage.resolve_conflict(db, SUBJECT, "M3", first, staff=inv(db), reason=WHY)
    assert table_digest(hub) == before


def test_a_later_choice_supersedes_the_earlier_and_both_are_kept(conflicted: Hub) -> None:
    hub, _, _, c, first, second = conflicted
    earlier = resolve(hub, first)
    c.at(NOW + timedelta(hours=1))
    with storage.open_database(hub) as db:
        with pytest.raises(storage.InvalidInput, match="already"):
            storage.resolve_conflict(db, SUBJECT, "M1", first, staff=inv(db), reason=WHY)
        later = storage.resolve_conflict(
            db, SUBJECT, "M1", second, staff=admin(db), reason="kiosk a's sitting was abandoned"
        )
        assert storage.chosen_session(db, SUBJECT, "M1") == second
        assert storage.subject_visit(db, SUBJECT, "M1").session_id == second
        visit = storage.subject_visit(db, SUBJECT, "M1").visit_id
        assert visit is not None
        assert [x.id for x in storage.visit_choices(db, visit)] == [later.id, earlier]
        entries = storage.audit_entries(db, subject_code=SUBJECT, action="conflict.resolved")
        assert [e.entity_id for e in entries] == [earlier, later.id]
        assert entries[1].payload["supersedes"] == earlier
        assert entries[1].payload["counted_before"] == first
        (review, *_) = storage.review_conflicts(db)
        assert review.resolution == later and review.resolution.chosen_by_username == "admin"
        assert [v.chosen for v in review.versions] == [False, True]
        assert review.reason == "chosen_by_review"
    verified(hub)
    # Append-only: the triggers refuse changing or removing a choice.
    conn = sqlite3.connect(hub)
    with pytest.raises(sqlite3.IntegrityError, match="append-only: UPDATE refused"):
        conn.execute("UPDATE session_choices SET reason='changed'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE refused"):
        conn.execute("DELETE FROM session_choices")
    conn.close()


def test_the_choice_travels_to_another_hub_and_a_second_import_changes_nothing(
    conflicted: Hub, tmp_path: Path
) -> None:
    hub, a, b, _, first, second = conflicted
    resolve(hub, first)
    info = export(hub, tmp_path / "hub.bundle")
    assert info.rows["session_choices"] == 1
    other = tmp_path / "other.db"
    new_db(other, device_label="hub 2").close()
    install(other, tmp_path / "site.key")
    for bundle in (a.with_suffix(".1"), a.with_suffix(".2"), b.with_suffix(".1")):
        merge(other, bundle)  # both kiosks' data: the rule alone picks b's version
    with storage.open_database(other, readonly=True) as db:
        assert storage.chosen_session(db, SUBJECT, "M1") == second
    result = merge(other, tmp_path / "hub.bundle").result
    assert result.inserted["session_choices"] == 1
    with storage.open_database(other, readonly=True) as db:
        assert storage.chosen_session(db, SUBJECT, "M1") == first
        assert storage.subject_visit(db, SUBJECT, "M1").session_id == first
        reviews = storage.review_conflicts(db)
        assert reviews and all(r.reason == "chosen_by_review" for r in reviews)
        (entry,) = storage.audit_entries(db, subject_code=SUBJECT, action="conflict.resolved")
        assert entry.payload["reason"] == WHY
    verified(other)
    before = table_digest(other)
    again = merge(other, tmp_path / "hub.bundle")
    assert not again.result.changed and table_digest(other) == before


def behind_the_trigger(path: Path, sql: str) -> None:
    """Run `sql` with the trigger refusing updates of choices dropped, then put it back (what
    someone editing the file around the application could do)."""
    conn = sqlite3.connect(path, isolation_level=None)
    (trigger,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE name='session_choices_no_update'"
    ).fetchone()
    conn.execute("DROP TRIGGER session_choices_no_update")
    conn.execute(sql)
    conn.execute(trigger)
    conn.close()


def format_1(bundle: Path, out: Path, key: bytes) -> Path:
    """`bundle` as a version without session choices wrote it: format 1, no such member (format
    1 knew neither session choices nor the optional withdrawals member)."""
    return without_members(bundle, out, key, ("session_choices", "withdrawals"), 1)


def test_a_bundle_of_an_older_format_without_choices_still_imports(
    conflicted: Hub, tmp_path: Path
) -> None:
    hub, a, _, _, _, _ = conflicted
    with storage.open_database(hub, readonly=True) as db:
        key = storage.get_site_key(db)
    assert key is not None
    old = format_1(a.with_suffix(".1"), tmp_path / "old.bundle", key)
    with zipfile.ZipFile(old) as zf:
        assert "data/session_choices.jsonl" not in zf.namelist()
    other = tmp_path / "other.db"
    new_db(other).close()
    install(other, tmp_path / "site.key")
    summary = merge(other, old)
    assert summary.result.inserted["subjects"] == 1 and summary.result.inserted["answers"] > 0
    assert summary.result.inserted["session_choices"] == 0
    verified(other)
    assert not merge(other, old).result.changed


def test_a_bundle_of_format_1_with_a_choice_in_its_chain_is_refused(
    conflicted: Hub, tmp_path: Path
) -> None:
    """A bundle signed with the site key, made to look older (format 1, no choices member)
    while its chain records a reviewer's choice: what verify would name missing on the hub
    (check 5) is refused by the merge, the hub unchanged."""
    hub, a, b, _, first, _ = conflicted
    choice = resolve(hub, first)
    export(hub, tmp_path / "hub.bundle")
    with storage.open_database(hub, readonly=True) as db:
        key = storage.get_site_key(db)
    assert key is not None
    forged = format_1(tmp_path / "hub.bundle", tmp_path / "forged.bundle", key)
    other = tmp_path / "other.db"
    new_db(other, device_label="hub 2").close()
    install(other, tmp_path / "site.key")
    for bundle in (a.with_suffix(".1"), a.with_suffix(".2"), b.with_suffix(".1")):
        merge(other, bundle)
    before = table_digest(other)
    with storage.open_database(other) as db, pytest.raises(exports.ExportError) as refused:
        exports.import_bundle(db, forged)
    message = str(refused.value)
    assert "\n" not in message
    assert f"records session choice {choice}, which the bundle does not carry" in message
    assert table_digest(other) == before
    verified(other)


def test_verify_and_import_refuse_a_choice_without_its_audit_entry(
    conflicted: Hub, tmp_path: Path
) -> None:
    hub, _, _, _, first, second = conflicted
    resolve(hub, first)
    verified(hub)
    # Rows written around the application (raw SQL): verify names them.
    forged = tmp_path / "forged.db"
    shutil.copy(hub, forged)
    conn = sqlite3.connect(forged, isolation_level=None)
    visit, device = conn.execute(
        "SELECT visit_id, device_id FROM sessions WHERE id=?", [second]
    ).fetchone()
    conn.execute(
        "INSERT INTO session_choices VALUES ('forged', ?, ?, '2026-03-02T10:00:00.000Z', "
        "'someone', ?, 'because')",
        [visit, second, device],
    )
    conn.close()
    result = storage.verify_database(forged)
    assert (
        not result.ok
        and result.message == "table session_choices row forged: no audit entry records it"
    )
    with storage.open_database(forged, readonly=True) as db:
        assert storage.chosen_session(db, SUBJECT, "M1") == second  # what verify guards against

    # The same forged row in a bundle is refused by the hub importing it.
    with storage.open_database(forged) as db:
        exports.export_bundle(db, tmp_path / "forged.bundle")
    other = tmp_path / "other.db"
    new_db(other).close()
    install(other, tmp_path / "site.key")
    before = table_digest(other)
    with pytest.raises(exports.BundleError, match="row forged, field id"):
        merge(other, tmp_path / "forged.bundle")
    assert table_digest(other) == before

    # A recorded choice whose content was edited (triggers dropped) no longer matches its entry.
    edited = tmp_path / "edited.db"
    shutil.copy(hub, edited)
    behind_the_trigger(edited, "UPDATE session_choices SET reason='another reason'")
    result = storage.verify_database(edited)
    assert not result.ok and "differs from what audit entry" in result.message

    # A choice naming a session of another visit.
    moved = tmp_path / "moved.db"
    shutil.copy(hub, moved)
    with sqlite3.connect(moved) as conn:
        m0 = conn.execute("SELECT id FROM sessions WHERE visit_code='M0'").fetchone()[0]
    conn.close()
    behind_the_trigger(moved, f"UPDATE session_choices SET session_id='{m0}'")
    result = storage.verify_database(moved)
    assert not result.ok and f"session {m0} is not a session of visit" in result.message


def test_a_database_of_schema_0002_upgrades_when_opened_for_writing(tmp_path: Path) -> None:
    path = old_schema_db(tmp_path / "old.db", before="0003_session_choices")
    pending = len(schema.migration_names()) - 2  # 0003, 0004 and every later one
    with pytest.raises(storage.SchemaTooOld, match=rf"\({pending} schema upgrade"):
        storage.open_database(path, readonly=True)
    with storage.open_database(path) as db:
        assert db.info.migrations == schema.migration_names()
        assert db.info.migrations[2:4] == ("0003_session_choices", "0004_views")
        assert db.conn.execute("SELECT count(*) FROM session_choices").fetchone()[0] == 0
        triggers = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master")}
        assert set(schema.TRIGGERS) <= triggers
        (m0, *_) = storage.subject_visits(db, "RSP-01-001", on=TODAY)
        assert (m0.code, m0.status) == ("M0", "missed")
    with storage.open_database(path, readonly=True) as db:  # upgraded: read-only opens work
        assert storage.chosen_session(db, "RSP-01-001", "M0") is None


def test_an_administrator_may_resolve(tmp_path: Path) -> None:
    """Roles: investigators and administrators; the check does not depend on the visit."""
    assert storage.RESOLUTION_ROLES == ("investigator", "admin")
    with hub_and_kiosks(tmp_path) as (hub, a, b, c):
        first, _ = conflicted_hub(hub, a, b, c)
        with storage.open_database(hub) as db:
            admin_ = storage.authenticate(db, "admin", ADMIN_PIN)
            choice = storage.resolve_conflict(db, SUBJECT, "M1", first, staff=admin_, reason=WHY)
            assert choice.chosen_by_username == "admin"
            assert storage.chosen_session(db, SUBJECT, "M1") == first
