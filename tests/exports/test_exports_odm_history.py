"""ODM --history of a conflict an investigator resolved: valid, every entity's AuditRecords in
increasing DateTimeStamp (ODM 1.3.2 §2.10), the choice its own audited change with the reviewer
and reason, scores by the system user, and replaying it ends at the snapshot's values."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import exports, storage
from tests.support.exports import (
    TODAY,
    conflicted_hub,
    controlled_clock,
    demo_db,
    do_visit,
    hub_and_kiosks,
    odm_errors,
    scenario_db,
)
from tests.support.storage import coord, inv

NS = "{http://www.cdisc.org/ns/odm/v1.3}"
WHY = "source document shows kiosk A's answers"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    root = tmp_path_factory.mktemp("odmh")
    with hub_and_kiosks(root) as (hub, a, b, c):
        first, _ = conflicted_hub(hub, a, b, c)
        with storage.open_database(hub) as db:
            storage.resolve_conflict(db, "RSP-01-030", "M1", first, staff=inv(db), reason=WHY)
            reviewer = inv(db).id
        with storage.open_database(hub, readonly=True) as db:
            exports.export_odm(db, root / "h.xml", history=True)
            exports.export_odm(db, root / "s.xml")
    yield root, first, reviewer


def events(path: Path, subject: str) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    subject_data = root.find(f".//{NS}SubjectData[@SubjectKey='{subject}']")
    assert subject_data is not None
    return {e.get("StudyEventOID", ""): e for e in subject_data.findall(f"{NS}StudyEventData")}


def replay(event: ET.Element) -> dict[tuple[str, str, str], str | None]:
    """(form, group, item) -> the value left after applying every ItemData in order."""
    out: dict[tuple[str, str, str], str | None] = {}
    for form in event.findall(f"{NS}FormData"):
        for group in form.findall(f"{NS}ItemGroupData"):
            for item in group.findall(f"{NS}ItemData"):
                key = (
                    form.get("FormOID", ""),
                    group.get("ItemGroupOID", ""),
                    item.get("ItemOID", ""),
                )
                out[key] = item.get("Value")
    return out


def stamp(element: ET.Element) -> str:
    found = element.find(f"{NS}AuditRecord/{NS}DateTimeStamp")
    assert found is not None and found.text
    return found.text


def test_the_history_validates(files: tuple[Path, str, str]) -> None:
    root, _, _ = files
    assert odm_errors(root / "h.xml") == [] and odm_errors(root / "s.xml") == []


def test_audit_records_of_every_entity_are_in_increasing_time(
    files: tuple[Path, str, str],
) -> None:
    root, _, _ = files
    times: dict[tuple[str, ...], list[str]] = {}
    for visit, event in events(root / "h.xml", "RSP-01-030").items():
        for form in event.findall(f"{NS}FormData"):
            for group in form.findall(f"{NS}ItemGroupData"):
                g = (visit, form.get("FormOID", ""), group.get("ItemGroupOID", ""))
                if group.find(f"{NS}AuditRecord") is not None:
                    times.setdefault(g, []).append(stamp(group))
                for item in group.findall(f"{NS}ItemData"):
                    if item.find(f"{NS}AuditRecord") is not None:  # scores: on their group
                        times.setdefault((*g, item.get("ItemOID", "")), []).append(stamp(item))
    assert len(times) > 40
    for entity, stamps in times.items():
        assert stamps == sorted(stamps), entity


def test_the_choice_is_an_audited_change_by_the_reviewer_with_the_reason(
    files: tuple[Path, str, str],
) -> None:
    root, first, reviewer = files
    m1 = events(root / "h.xml", "RSP-01-030")["SE.M1"]
    choices = [
        record
        for record in m1.iter(f"{NS}AuditRecord")
        if (record.findtext(f"{NS}SourceID") or "").startswith("conflict choice")
    ]
    assert choices
    for record in choices:
        user = record.find(f"{NS}UserRef")
        assert user is not None and user.get("UserOID") == f"USR.{reviewer}"
        assert record.findtext(f"{NS}ReasonForChange") == WHY
        assert f"session {first} counts" in (record.findtext(f"{NS}SourceID") or "")
    # a choice of kiosk A: VAS 50 (kiosk B gave 35.5 and submitted last)
    final = replay(m1)
    assert final["F.VAS", "IG.VAS", "IT.VAS_PAIN"] == "50"
    assert final["F.SCORES", "IG.SCORES.VAS", "IT.SCORE.VAS"] == "50"


def test_replaying_the_history_ends_at_the_snapshot(files: tuple[Path, str, str]) -> None:
    root, _, _ = files
    history = events(root / "h.xml", "RSP-01-030")
    snapshot = events(root / "s.xml", "RSP-01-030")
    for visit in ("SE.M0", "SE.M1"):
        assert replay(history[visit]) == replay(snapshot[visit]), visit


def test_scores_are_by_the_system_user(files: tuple[Path, str, str]) -> None:
    root, _, _ = files
    m1 = events(root / "h.xml", "RSP-01-030")["SE.M1"]
    scores = m1.find(f"{NS}FormData[@FormOID='F.SCORES']")
    assert scores is not None
    users = set()
    for group in scores.findall(f"{NS}ItemGroupData"):
        if (group.findtext(f"{NS}AuditRecord/{NS}SourceID") or "").startswith("conflict"):
            continue
        user = group.find(f"{NS}AuditRecord/{NS}UserRef")
        assert user is not None
        users.add(user.get("UserOID"))
    assert users == {"USR.SYSTEM"}


def test_an_uncomputable_score_is_flagged_not_null(tmp_path: Path) -> None:
    scenario_db(tmp_path / "s.db")
    pf_items = tuple(f"sf36_{n:02d}" for n in range(3, 13))  # every physical functioning item
    with controlled_clock() as c, storage.open_database(tmp_path / "s.db") as db:
        day0 = TODAY - timedelta(days=5)
        storage.register_subject(db, "RSP-01-004", day0=day0, staff=coord(db))
        do_visit(db, c, "RSP-01-004", "M0", day0, vas=50.0, odi=2, sf36=2, skip=pf_items)
        exports.export_odm(db, tmp_path / "s.xml")
        exports.export_odm(db, tmp_path / "h.xml", history=True)
    for name in ("s.xml", "h.xml"):
        assert odm_errors(tmp_path / name) == []
        m0 = events(tmp_path / name, "RSP-01-004")["SE.M0"]
        scores = m0.find(f"{NS}FormData[@FormOID='F.SCORES']")
        assert scores is not None
        assert not [i for i in scores.iter(f"{NS}ItemData") if i.get("IsNull")]
        flagged = {
            g.get("ItemGroupOID"): g.findtext(f"{NS}Annotation/{NS}Comment") or ""
            for g in scores.findall(f"{NS}ItemGroupData")
            if g.findtext(f"{NS}Annotation/{NS}Flag/{NS}FlagValue") == "UNCOMPUTABLE"
        }
        standard = next(text for oid, text in flagged.items() if oid and "RAND" not in oid)
        assert "PF" in standard and "PCS" in standard and "MCS" in standard, flagged
        items = {i.get("ItemOID", "") for i in scores.iter(f"{NS}ItemData")}
        assert not any(i.endswith(("SF36_PF", "SF36_PCS")) for i in items), items


def test_the_locations_effective_date_is_the_first_data_not_the_export_day(
    tmp_path: Path,
) -> None:
    demo_db(tmp_path / "d.db", subjects=3)  # made on the test day, subjects back-dated
    with controlled_clock(), storage.open_database(tmp_path / "d.db", readonly=True) as db:
        exports.export_odm(db, tmp_path / "d.xml")
        first = db.conn.execute("SELECT min(created_at) AS at FROM subjects").fetchone()["at"]
    root = ET.parse(tmp_path / "d.xml").getroot()
    refs = root.findall(f".//{NS}Location/{NS}MetaDataVersionRef")
    assert refs and {r.get("EffectiveDate") for r in refs} == {first[:10]}
    assert first[:10] < TODAY.isoformat()


def test_events_forms_and_groups_carry_their_own_audit_records(
    files: tuple[Path, str, str],
) -> None:
    root, _, _ = files
    tree = ET.parse(root / "h.xml").getroot()
    subject = tree.find(f".//{NS}SubjectData[@SubjectKey='RSP-01-030']")
    assert subject is not None
    registered = stamp(subject)
    for event in subject.findall(f"{NS}StudyEventData"):
        if event.get("StudyEventOID") == "SE.SUBJECT":
            assert stamp(event) == registered  # the subject-level data: the registration's
            continue
        assert stamp(event) > registered  # not inherited from the registration
        for form in event.findall(f"{NS}FormData"):
            assert stamp(form) >= stamp(event)
            for group in form.findall(f"{NS}ItemGroupData"):
                assert stamp(group) >= stamp(form)
    m1 = next(
        e for e in subject.findall(f"{NS}StudyEventData") if e.get("StudyEventOID") == "SE.M1"
    )
    assert (m1.findtext(f"{NS}AuditRecord/{NS}SourceID") or "").endswith("started")
