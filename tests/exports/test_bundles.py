"""Site bundles: merging two kiosks gives the union, a second import changes nothing, conflicting
visits are kept and flagged, and a damaged, tampered, truncated, foreign or out-of-order bundle is
refused with the hub unchanged and still passing verify."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from respine_desktop import exports, reports, storage
from respine_desktop.study import load_study
from tests.support.exports import (
    TODAY,
    Clock,
    conflicted_hub,
    controlled_clock,
    demo_db,
    do_visit,
    export,
    hub_and_kiosks,
    install,
    merge,
    odm_errors,
    row_counts,
    table_digest,
)
from tests.support.storage import ADMIN_PIN, coord


def ids(path: Path, table: str) -> set[str]:
    with storage.open_database(path, readonly=True) as db:
        return {r[0] for r in db.conn.execute(f"SELECT id FROM {table}")}


def codes(path: Path) -> set[str]:
    with storage.open_database(path, readonly=True) as db:
        return {r[0] for r in db.conn.execute("SELECT code FROM subjects")}


def verified(path: Path) -> bool:
    result = storage.verify_database(path)
    assert result.ok, result.message
    return True


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Two demo kiosks (subjects 1-8 and 101-108), an empty hub, one site key, two bundles."""
    root = tmp_path_factory.mktemp("site")
    demo_db(root / "a.db", subjects=8, first=1, seed=1)
    demo_db(root / "b.db", subjects=8, first=101, seed=2)
    with controlled_clock():
        with storage.create_database(root / "hub.db", admin_pin=ADMIN_PIN) as hub:
            exports.write_key_file(hub, root / "site.key")
        install(root / "a.db", root / "site.key")
        install(root / "b.db", root / "site.key")
        export(root / "a.db", root / "a.bundle")
        export(root / "b.db", root / "b.bundle")
    yield root


@pytest.fixture
def hub(site: Path, tmp_path: Path) -> Path:
    """A fresh copy of the empty hub."""
    shutil.copy(site / "hub.db", tmp_path / "hub.db")
    return tmp_path / "hub.db"


@pytest.mark.req("BUN-01")
def test_merging_two_kiosks_gives_the_union(site: Path, hub: Path) -> None:
    first = merge(hub, site / "a.bundle")
    second = merge(hub, site / "b.bundle")
    assert first.result.changed and second.result.changed
    for table in ("answers", "sessions", "visits", "scores"):
        assert ids(hub, table) == ids(site / "a.db", table) | ids(site / "b.db", table)
    assert codes(hub) == codes(site / "a.db") | codes(site / "b.db")
    hub_entries = ids(hub, "audit_log")
    assert ids(site / "a.db", "audit_log") | ids(site / "b.db", "audit_log") <= hub_entries
    with storage.open_database(hub, readonly=True) as db:
        imports = storage.audit_entries(db, action="bundle.imported")
        assert [e.payload["device_id"] for e in imports] == [
            first.bundle.device_id,
            second.bundle.device_id,
        ]
        assert storage.counts(db).devices == 3
    assert verified(hub)


def test_imported_visits_show_their_session_answers_and_scores_on_the_hub(
    site: Path, hub: Path
) -> None:
    merge(hub, site / "a.bundle")
    merge(hub, site / "b.bundle")
    with storage.open_database(hub, readonly=True) as db:
        for code in ("RSP-01-001", "RSP-01-101"):
            summary = reports.patient_summary(db, code)
            complete = [v for v in summary.visits if v.status == "complete"]
            assert complete, code
            for visit in complete:
                assert visit.session_id is not None and visit.has_scores, (code, visit.code)
                assert visit.value("VAS") is not None, (code, visit.code)
                assert storage.current_answers(db, visit.session_id)
                stored = db.conn.execute(
                    "SELECT v.session_id FROM visits v JOIN subjects j ON j.id = v.subject_id "
                    "WHERE j.code=? AND v.visit_code=?",
                    [code, visit.code],
                ).fetchone()[0]
                assert stored == visit.session_id
            assert summary.instruments  # the instruments used, read from the answers
    assert verified(hub)


@pytest.mark.req("BUN-01")
def test_a_second_import_changes_nothing(site: Path, hub: Path) -> None:
    merge(hub, site / "a.bundle")
    merge(hub, site / "b.bundle")
    before = table_digest(hub)
    again = merge(hub, site / "a.bundle")
    assert not again.result.changed and again.result.audit_entry is None
    assert "already imported" in again.describe()
    merge(hub, site / "b.bundle")
    assert table_digest(hub) == before
    assert verified(hub)


def test_staff_travel_without_pin_hashes_and_cannot_log_in_on_the_hub(
    site: Path, hub: Path
) -> None:
    with zipfile.ZipFile(site / "a.bundle") as zf:
        manifest = json.loads(zf.read("manifest.json"))
        staff = zf.read("data/staff.jsonl").decode()
    columns = next(m["columns"] for m in manifest["members"] if m["table"] == "staff")
    assert "pin_hash" not in columns and "scrypt" not in staff
    merge(hub, site / "a.bundle")
    with storage.open_database(hub) as db:
        imported = [s for s in storage.list_staff(db) if "@" in s.username]
        assert {s.username.split("@")[0] for s in imported} == {"admin", "coord", "inv"}
        assert not any(s.active for s in imported)
        with pytest.raises(storage.AuthenticationError):
            storage.authenticate(db, imported[0].username, "860427")


def test_the_merged_hub_exports_valid_odm_with_every_user_defined(site: Path, hub: Path) -> None:
    merge(hub, site / "a.bundle")
    merge(hub, site / "b.bundle")
    with controlled_clock(), storage.open_database(hub, readonly=True) as db:
        exports.export_odm(db, hub.with_name("h.xml"), history=True)
        exports.export_odm(db, hub.with_name("s.xml"))
    assert odm_errors(hub.with_name("h.xml")) == []
    assert odm_errors(hub.with_name("s.xml")) == []


def _refused(hub: Path, bundle: Path, match: str) -> None:
    before, counts = table_digest(hub), row_counts(hub)
    with pytest.raises(exports.BundleError, match=match):
        merge(hub, bundle)
    assert table_digest(hub) == before and row_counts(hub) == counts
    assert verified(hub)


@pytest.mark.req("BUN-02")
@pytest.mark.parametrize("where", [0.0, 0.1, 0.5, 0.9, 0.999, -1])
def test_a_flipped_byte_anywhere_is_refused_and_the_hub_is_unchanged(
    site: Path, hub: Path, tmp_path: Path, where: float
) -> None:
    merge(hub, site / "b.bundle")
    data = bytearray((site / "a.bundle").read_bytes())
    at = len(data) - 1 if where == -1 else int(len(data) * where)
    data[at] ^= 0x01
    (tmp_path / "bad.bundle").write_bytes(bytes(data))
    _refused(hub, tmp_path / "bad.bundle", "tampered|damaged|truncated|not a RESPINE")


@pytest.mark.req("BUN-02")
def test_a_truncated_bundle_is_refused(site: Path, hub: Path, tmp_path: Path) -> None:
    data = (site / "a.bundle").read_bytes()
    (tmp_path / "cut.bundle").write_bytes(data[: len(data) // 2])
    _refused(hub, tmp_path / "cut.bundle", "truncated")
    (tmp_path / "empty.bundle").write_bytes(b"")
    _refused(hub, tmp_path / "empty.bundle", "not a RESPINE bundle")


def test_a_bundle_of_another_study_is_refused(hub: Path, tmp_path: Path) -> None:
    other = replace(load_study(), id="OTHERSTUDY", oid="ST.OTHERSTUDY")
    with (
        controlled_clock(),
        storage.create_database(tmp_path / "o.db", admin_pin=ADMIN_PIN, study=other) as db,
    ):
        exports.export_bundle(db, tmp_path / "o.bundle")
    _refused(hub, tmp_path / "o.bundle", "study 'OTHERSTUDY'.*study 'RESPINE'")


@pytest.mark.req("BUN-02")
def test_a_bundle_signed_with_another_key_is_refused(site: Path, hub: Path, tmp_path: Path) -> None:
    with storage.create_database(tmp_path / "x.db", admin_pin=ADMIN_PIN) as db:
        exports.export_bundle(db, tmp_path / "x.bundle")  # its own key, made at first use
    _refused(hub, tmp_path / "x.bundle", "signed with site key")


def test_a_rebuilt_bundle_with_consistent_hashes_but_no_key_is_refused(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    """An attacker without the key edits a row and fixes the manifest: the signature catches it."""
    src = zipfile.ZipFile(site / "a.bundle")
    manifest = json.loads(src.read("manifest.json"))
    out = tmp_path / "forged.bundle"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for m in manifest["members"]:
            data = src.read(m["name"])
            if m["table"] == "subjects":
                data = data.replace(b'"RSP-01-001"', b'"RSP-01-999"')
                m["sha256"], m["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
            dst.writestr(m["name"], data)
        dst.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
        dst.comment = src.comment
    src.close()
    _refused(hub, out, "signature does not match")


def test_a_bundle_without_a_site_key_on_the_hub_is_refused(site: Path, tmp_path: Path) -> None:
    with storage.create_database(tmp_path / "bare.db", admin_pin=ADMIN_PIN):
        pass
    _refused(tmp_path / "bare.db", site / "a.bundle", "no site key")


# -- conflicts, same subject on two kiosks, --since --------------------------------------------


@pytest.fixture
def kiosks(tmp_path: Path) -> Iterator[tuple[Path, Path, Path, Clock]]:
    """A hub and two kiosks sharing the site key, under the test clock."""
    with hub_and_kiosks(tmp_path) as made:
        yield made


def test_two_kiosks_doing_the_same_visit_are_both_kept_and_flagged(
    kiosks: tuple[Path, Path, Path, Clock],
) -> None:
    hub, a, b, c = kiosks
    day0 = TODAY - timedelta(days=40)
    with storage.open_database(a) as db:
        storage.register_subject(db, "RSP-01-010", day0=day0, staff=coord(db))
        do_visit(db, c, "RSP-01-010", "M0", day0, vas=70.0, odi=3, sf36=3)
    export(a, a.with_suffix(".1"))
    merge(hub, a.with_suffix(".1"))
    export(hub, hub.with_suffix(".1"))
    merge(b, hub.with_suffix(".1"))  # kiosk B now knows the subject (same UUID)
    with storage.open_database(a) as db:
        do_visit(db, c, "RSP-01-010", "M1", day0 + timedelta(days=30), vas=50.0, odi=2, sf36=2)
    with storage.open_database(b) as db:
        do_visit(db, c, "RSP-01-010", "M1", day0 + timedelta(days=31), vas=45.0, odi=2, sf36=2)
    export(a, a.with_suffix(".2"))
    export(b, b.with_suffix(".1"))
    merge(hub, a.with_suffix(".2"))
    flagged = merge(hub, b.with_suffix(".1"))
    assert sorted(x.instrument_id for x in flagged.result.conflicts) == ["odi", "sf36", "vas"]
    with storage.open_database(hub) as db:
        sessions = [s for s in storage.subject_sessions(db, "RSP-01-010") if s.visit_code == "M1"]
        assert len(sessions) == 2 and all(s.state == "submitted" for s in sessions)
        conflicts = exports.list_conflicts(db)
        assert {x.visit_code for x in conflicts} == {"M1"}
        assert all(set(x.session_ids) == {s.id for s in sessions} for x in conflicts)
        assert len({x.device_ids for x in conflicts}) == 1
        again = exports.import_bundle(db, b.with_suffix(".1"))
        assert not again.result.changed and len(exports.list_conflicts(db)) == 3
        exports.export_csv(db, hub.parent / "csv")
        exports.export_odm(db, hub.parent / "h.xml", history=True)
        exports.export_odm(db, hub.parent / "s.xml")
    assert verified(hub)
    with open(hub.parent / "csv" / "visits_wide.csv", newline="") as f:
        wide = {(r["subject_id"], r["visit"]): r for r in csv.DictReader(f)}
    assert wide["RSP-01-010", "M1"]["status"] == "conflict"
    assert wide["RSP-01-010", "M1"]["vas_pain"] == "45"  # the session submitted last
    with open(hub.parent / "csv" / "answers_long.csv", newline="") as f:
        vas = [r for r in csv.DictReader(f) if r["visit"] == "M1" and r["item"] == "vas_pain"]
    assert sorted(r["code"] for r in vas) == ["45", "50"]
    assert odm_errors(hub.parent / "h.xml") == [] and odm_errors(hub.parent / "s.xml") == []


def test_a_conflicted_visit_reads_the_same_session_everywhere(
    kiosks: tuple[Path, Path, Path, Clock],
) -> None:
    hub, a, b, c = kiosks
    first, second = conflicted_hub(hub, a, b, c)
    with storage.open_database(hub) as db:
        assert storage.chosen_session(db, "RSP-01-030", "M1") == second  # submitted last
        chosen = {s.instrument_id: s.values for s in storage.session_scores(db, second)}
        other = {s.instrument_id: s.values for s in storage.session_scores(db, first)}
        vas, odi = chosen["vas"]["VAS"], chosen["odi"]["ODI"]
        assert vas == 35.5 and odi is not None and odi != other["odi"]["ODI"]
        summary = reports.patient_summary(db, "RSP-01-030")
        m1 = next(v for v in summary.visits if v.code == "M1")
        assert m1.session_id == second
        assert (m1.value("VAS"), m1.value("ODI")) == (vas, odi)
        scored = storage.subject_scores(db, "RSP-01-030")["M1"]
        assert {s.session_id for s in scored} == {second}
        (subject,) = [x for x in storage.iter_study_scores(db) if x.code == "RSP-01-030"]
        assert subject.scores["M1"]["vas"]["VAS"] == vas
        assert subject.scores["M1"]["odi"]["ODI"] == odi
        study = reports.study_summary(db).groups[0]
        assert (study.stat("M1", "VAS").mean, study.stat("M1", "ODI").mean) == (vas, odi)
        exports.export_csv(db, hub.parent / "csv")
    with open(hub.parent / "csv" / "visits_wide.csv", newline="") as f:
        wide = {(r["subject_id"], r["visit"]): r for r in csv.DictReader(f)}
    row = wide["RSP-01-030", "M1"]
    assert row["status"] == "conflict"
    assert (float(row["VAS"]), float(row["ODI"])) == (vas, odi)
    assert verified(hub)


def final_values(path: Path, subject: str, visit: str) -> dict[tuple[str, str], str | None]:
    """(form, item) -> the value an ODM file leaves for one visit after replaying it in order
    (None for IsNull); also checks the visit's CONFLICT flag."""
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
    root = ET.parse(path).getroot()
    event = root.find(
        f".//odm:SubjectData[@SubjectKey='{subject}']/odm:StudyEventData[@StudyEventOID='SE.{visit}']",
        ns,
    )
    assert event is not None
    flags = [f.text for f in event.findall("odm:Annotation/odm:Flag/odm:FlagValue", ns)]
    assert flags == ["CONFLICT"]
    out: dict[tuple[str, str], str | None] = {}
    for form in event.findall("odm:FormData", ns):
        for item in form.iter(f"{{{ns['odm']}}}ItemData"):
            out[form.get("FormOID", ""), item.get("ItemOID", "")] = item.get("Value")
    return out


def test_the_odm_history_of_a_conflicted_visit_is_flagged_and_ends_at_the_snapshot(
    kiosks: tuple[Path, Path, Path, Clock],
) -> None:
    hub, a, b, c = kiosks
    conflicted_hub(hub, a, b, c)
    with storage.open_database(hub, readonly=True) as db:
        exports.export_odm(db, hub.parent / "h.xml", history=True)
        exports.export_odm(db, hub.parent / "s.xml")
    assert odm_errors(hub.parent / "h.xml") == [] and odm_errors(hub.parent / "s.xml") == []
    history = final_values(hub.parent / "h.xml", "RSP-01-030", "M1")
    snapshot = final_values(hub.parent / "s.xml", "RSP-01-030", "M1")
    assert ("F.ODI", "IT.ODI_02") in snapshot and ("F.SCORES", "IT.SCORE.ODI") in snapshot
    assert history == snapshot


def test_the_same_subject_registered_on_two_kiosks_is_one_subject_on_the_hub(
    kiosks: tuple[Path, Path, Path, Clock],
) -> None:
    hub, a, b, c = kiosks
    day0 = TODAY - timedelta(days=40)
    with storage.open_database(a) as db:
        storage.register_subject(db, "RSP-01-020", day0=day0, staff=coord(db))
        do_visit(db, c, "RSP-01-020", "M0", day0, vas=70.0, odi=3, sf36=3)
    with storage.open_database(b) as db:
        storage.register_subject(db, "RSP-01-020", day0=day0, staff=coord(db))
        do_visit(db, c, "RSP-01-020", "M1", day0 + timedelta(days=30), vas=40.0, odi=1, sf36=2)
    export(a, a.with_suffix(".1"))
    export(b, b.with_suffix(".1"))
    merge(hub, a.with_suffix(".1"))
    result = merge(hub, b.with_suffix(".1")).result
    assert result.subjects_matched_by_code == 1 and not result.conflicts
    with storage.open_database(hub, readonly=True) as db:
        assert [s.code for s in storage.list_subjects(db)] == ["RSP-01-020"]
        visits = {v.code: v.status for v in storage.subject_visits(db, "RSP-01-020", on=TODAY)}
        assert visits["M0"] == "complete" and visits["M1"] == "complete"
        assert set(storage.subject_scores(db, "RSP-01-020")) == {"M0", "M1"}
        # Both kiosks' entries for the subject are its history on the hub, though kiosk b's
        # entries keep b's own subject id (the chain cannot be rewritten).
        history = storage.audit_entries(db, subject_code="RSP-01-020")
        submitted = [e for e in history if e.action == "session.submitted"]
        assert len({e.device_id for e in submitted}) == 2
        assert len({e.subject_id for e in history}) == 2
    assert verified(hub)
    before = table_digest(hub)
    merge(hub, b.with_suffix(".1"))
    assert table_digest(hub) == before


def test_since_bundles_continue_the_chain_and_need_the_earlier_ones(
    kiosks: tuple[Path, Path, Path, Clock], tmp_path: Path
) -> None:
    hub, a, _, c = kiosks
    day0 = TODAY - timedelta(days=40)
    with storage.open_database(a) as db:
        storage.register_subject(db, "RSP-01-030", day0=day0, staff=coord(db))
        do_visit(db, c, "RSP-01-030", "M0", day0, vas=70.0, odi=3, sf36=3)
    export(a, a.with_suffix(".full"))
    merge(hub, a.with_suffix(".full"))
    cut = day0 + timedelta(days=10)
    with storage.open_database(a) as db:
        do_visit(db, c, "RSP-01-030", "M1", day0 + timedelta(days=30), vas=50.0, odi=2, sf36=2)
    since = exports.parse_since(cut.isoformat())
    info = export(a, a.with_suffix(".inc"), since=since)
    assert info.since == since and 0 < info.rows["answers"] < len(ids(a, "answers"))
    merge(hub, a.with_suffix(".inc"))
    for table in ("answers", "sessions", "scores"):
        assert ids(a, table) <= ids(hub, table)
    assert ids(a, "audit_log") <= ids(hub, "audit_log")
    assert verified(hub)
    # A hub that never saw the first bundle cannot link the incremental one.
    with controlled_clock(), storage.create_database(tmp_path / "h2.db", admin_pin=ADMIN_PIN) as db:
        exports.install_key_file(db, hub.parent / "site.key")
    _refused(tmp_path / "h2.db", a.with_suffix(".inc"), "earlier bundles")


def test_parse_since_accepts_dates_and_zoned_times_only() -> None:
    assert exports.parse_since("2026-03-01") == "2026-03-01T00:00:00.000Z"
    assert exports.parse_since("2026-03-01T10:00:00+01:00") == "2026-03-01T09:00:00.000Z"
    for bad in ("yesterday", "2026-03-01T10:00:00", "2026-13-01"):
        with pytest.raises(ValueError, match="--since"):
            exports.parse_since(bad)


def test_site_keys_are_installed_on_purpose_only(tmp_path: Path) -> None:
    with controlled_clock():
        with storage.create_database(tmp_path / "one.db", admin_pin=ADMIN_PIN) as db:
            one = exports.write_key_file(db, tmp_path / "one.key")
        with storage.create_database(tmp_path / "two.db", admin_pin=ADMIN_PIN) as db:
            exports.write_key_file(db, tmp_path / "two.key")
            assert not exports.install_key_file(db, tmp_path / "two.key")  # same key: no-op
            with pytest.raises(storage.AlreadyExists, match="another site key"):
                exports.install_key_file(db, tmp_path / "one.key")
            assert exports.install_key_file(db, tmp_path / "one.key", replace=True)
            assert storage.get_site_key(db) == one.key
            actions = [e.action for e in storage.audit_entries(db) if e.entity == "settings"]
            assert actions == ["site_key.created", "site_key.replaced"]
            assert all(
                one.key.hex() not in json.dumps(e.payload) for e in storage.audit_entries(db)
            )
        with (
            pytest.raises(exports.ExportError, match="exists already"),
            storage.open_database(tmp_path / "one.db") as db,
        ):
            exports.write_key_file(db, tmp_path / "one.key")
        other = replace(load_study(), id="OTHERSTUDY", oid="ST.OTHERSTUDY")
        with (
            storage.create_database(tmp_path / "o.db", admin_pin=ADMIN_PIN, study=other) as db,
            pytest.raises(exports.ExportError, match="study 'RESPINE'"),
        ):
            exports.install_key_file(db, tmp_path / "one.key")
    (tmp_path / "bad.key").write_text("{}")
    with pytest.raises(exports.ExportError, match="not a RESPINE site key"):
        exports.read_key_file(tmp_path / "bad.key")
