"""Forged bundles signed with the site key (a key holder's bundles): every impossible value,
lying score and rewrite of an existing record is refused naming table, row and field, with the
hub byte-identical; true disagreements between kiosks are kept as the hub has them and flagged."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import exports, storage
from respine_desktop.exports import bundle
from respine_desktop.storage._answers import digest
from respine_desktop.storage._audit import entry_hash
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS
from tests.cli.test_cli_db import main, one_line_error
from tests.support.exports import (
    DATA_TABLES,
    TODAY,
    do_visit,
    export,
    hub_and_kiosks,
    merge,
    table_digest,
)
from tests.support.merge_modes import merge_mode
from tests.support.storage import coord

__all__ = ["merge_mode"]  # a fixture

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

SUBJECT = "RSP-01-030"
Tables = dict[str, list[list[Any]]]


def forge(source: Path, key_file: Path, out: Path, edit: Callable[[Tables], None]) -> Path:
    """`source` with its rows edited by `edit` (tables by name, rows as lists in bundle column
    order), its manifest made to match and signed as a kiosk signs (the one place that knows the
    signature: adapt it when the signature changes)."""
    key = exports.read_key_file(key_file).key
    with zipfile.ZipFile(source) as src:
        manifest = json.loads(src.read(bundle.MANIFEST))
        tables: Tables = {}
        for m in manifest["members"]:
            lines = src.read(m["name"]).decode().splitlines()
            tables[m["table"]] = [row for line in lines for row in json.loads(line)]
    edit(tables)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for m in manifest["members"]:
            rows = tables[m["table"]]
            data = (json.dumps(rows, separators=(",", ":")) + "\n").encode() if rows else b""
            m["sha256"], m["bytes"], m["rows"] = (
                hashlib.sha256(data).hexdigest(),
                len(data),
                len(rows),
            )
            zf.writestr(m["name"], data)
        zf.writestr(bundle.MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        zf.comment = b"\0" * bundle._SIGNATURE_LENGTH
    with open(out, "w+b") as f:
        f.write(buffer.getvalue())
        bundle._sign_in_place(f, key)
    return out


def col(table: str, name: str) -> int:
    return BUNDLE_COLUMNS[table].index(name)


def rows_where(tables: Tables, table: str, **match: Any) -> list[list[Any]]:
    return [r for r in tables[table] if all(r[col(table, k)] == v for k, v in match.items())]


def rechain(tables: Tables, answer: list[Any]) -> None:
    """After `answer` (a row of the bundle's answers) was edited: its entry's digest and listed
    values made to match, and the whole chain hashed again (one device's: a kiosk's bundle), as
    a key holder forging a consistent chain would."""
    for entry in tables["audit_log"]:
        payload = json.loads(entry[col("audit_log", "payload")])
        ids = [a[0] for a in payload.get("answers") or []]
        if answer[0] in ids:
            listed = [r for i in ids for r in tables["answers"] if r[0] == i]
            payload["digest"] = digest(listed)
            payload["answers"] = [[r[0], r[5], r[6]] for r in listed]
            entry[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
    prev = "0" * 64
    for entry in sorted(tables["audit_log"], key=lambda e: e[col("audit_log", "seq")]):
        entry[col("audit_log", "prev_hash")] = prev
        entry[col("audit_log", "hash")] = prev = entry_hash(prev, *entry[:10])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Kiosk A with RSP-01-030 (M0 and M1 submitted, M3 missed), its bundle `a.1`; an empty hub
    (`hub0.db`) and the hub after importing `a.1` (`hub1.db`); kiosk B registering the same
    code with another day 0 (`b.1`)."""
    root = tmp_path_factory.mktemp("forged")
    with hub_and_kiosks(root) as (hub, a, b, c):
        shutil.copy(hub, root / "hub0.db")
        day0 = TODAY - timedelta(days=100)
        with storage.open_database(a) as db:
            storage.register_subject(db, SUBJECT, day0=day0, staff=coord(db))
            do_visit(db, c, SUBJECT, "M0", day0, vas=67.6, odi=3, sf36=3)
            do_visit(db, c, SUBJECT, "M1", day0 + timedelta(days=30), vas=40.0, odi=2, sf36=2)
            c.day(day0 + timedelta(days=95))
            storage.mark_missed(db, SUBJECT, "M3", staff=coord(db), reason="travelling")
        export(a, root / "a.1")
        merge(hub, root / "a.1")
        shutil.copy(hub, root / "hub1.db")
        with storage.open_database(b) as db:
            storage.register_subject(db, SUBJECT, day0=day0 + timedelta(days=2), staff=coord(db))
        export(b, root / "b.1")
    yield root


@pytest.fixture
def hub0(site: Path, tmp_path: Path) -> Path:
    shutil.copy(site / "hub0.db", tmp_path / "hub.db")
    return tmp_path / "hub.db"


@pytest.fixture
def hub1(site: Path, tmp_path: Path) -> Path:
    shutil.copy(site / "hub1.db", tmp_path / "hub.db")
    return tmp_path / "hub.db"


def refused(hub: Path, forged: Path, *texts: str) -> str:
    """Import `forged` into `hub`: refused, naming every text, the hub byte-identical."""
    before = table_digest(hub)
    with pytest.raises(exports.BundleError) as caught:
        merge(hub, forged)
    message = str(caught.value)
    assert "\n" not in message
    for text in texts:
        assert text in message, message
    assert table_digest(hub) == before
    return message


def set_value(table: str, name: str, value: Any, **match: Any) -> Callable[[Tables], None]:
    def edit(tables: Tables) -> None:
        found = rows_where(tables, table, **match)
        assert found
        found[0][col(table, name)] = value

    return edit


VALUE_ATTACKS = [
    ("vas 1000", "answers", "value", 1000.0, {"item_id": "vas_pain"}, "outside 0..100"),
    ("vas step", "answers", "value", 80.04, {"item_id": "vas_pain"}, "finer than the step 0.1"),
    ("odi 42", "answers", "value", 42.0, {"item_id": "odi_01"}, "not one of the codes"),
    ("odi -3", "answers", "value", -3.0, {"item_id": "odi_02"}, "not one of the codes"),
    ("sf36 code", "answers", "value", 6.0, {"item_id": "sf36_01"}, "not one of the codes"),
    ("no value", "answers", "value", None, {"item_id": "odi_03"}, "not an integer code"),
    ("unknown item", "answers", "item_id", "odi_99", {"item_id": "odi_04"}, "not an item"),
    ("wrong instrument", "answers", "instrument_id", "sf36", {"item_id": "odi_05"}, "instrument"),
    ("day 0", "subjects", "day0", "not-a-date", {"code": SUBJECT}, "not a date"),
    ("site code", "sites", "code", "X" * 1100, {}, "site code"),
    ("subject site", "subjects", "site_code", "x", {"code": SUBJECT}, "2 to 8 digits"),
    ("subject code", "subjects", "code", "RSP-01-3", {"code": SUBJECT}, "must look like"),
    ("year of birth", "subjects", "year_of_birth", 1200, {"code": SUBJECT}, "1900..2100"),
    ("visit code", "visits", "visit_code", "M99", {"visit_code": "M0"}, "not a visit"),
    ("visit state", "visits", "state", "done", {"visit_code": "M0"}, "is not one of"),
    ("missed reason", "visits", "missed_reason", None, {"visit_code": "M3"}, "its reason"),
    ("session state", "sessions", "state", "closed", {"visit_code": "M0"}, "is not one of"),
    ("session time", "sessions", "submitted_at", None, {"visit_code": "M0"}, "submission time"),
    ("position", "sessions", "position", -1, {"visit_code": "M0"}, "0..10000"),
    ("id", "sessions", "id", "not-a-uuid", {"visit_code": "M0"}, "not an id"),
    ("time", "answers", "given_at", "yesterday", {"item_id": "odi_06"}, "not a stored time"),
    ("score method", "scores", "method", "magic", {"instrument_id": "odi"}, "not a method"),
    ("score json", "scores", "scores", "[1, 2]", {"instrument_id": "odi"}, "JSON object"),
    ("score number", "scores", "scores", '{"odi": "high"}', {"instrument_id": "odi"}, "number"),
    ("audit hash", "audit_log", "hash", "abc", {"seq": 1}, "SHA-256"),
    ("calibration", "answers", "vas_calibration", "ruler", {"item_id": "vas_pain"}, "UUID"),
    ("odi line", "answers", "vas_calibration", "uncalibrated", {"item_id": "odi_07"}, "no calib"),
    ("staff role", "staff", "role", "superuser", {}, "is not one of"),
]


@pytest.mark.parametrize(
    ("table", "field", "value", "match", "rule"),
    [a[1:] for a in VALUE_ATTACKS],
    ids=[a[0] for a in VALUE_ATTACKS],
)
def test_an_impossible_value_is_refused_naming_table_row_and_field(
    site: Path,
    hub0: Path,
    tmp_path: Path,
    table: str,
    field: str,
    value: Any,
    match: dict[str, Any],
    rule: str,
) -> None:
    forged = forge(
        site / "a.1",
        site / "site.key",
        tmp_path / "x.bundle",
        set_value(table, field, value, **match),
    )
    refused(hub0, forged, f"bundle {table} row ", f"field {field}", rule)


def test_a_row_of_the_wrong_width_is_refused(site: Path, hub0: Path, tmp_path: Path) -> None:
    def edit(tables: Tables) -> None:
        tables["visits"][0].append("extra")

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub0, forged, "bundle table visits, row 1: expected 7 columns")


def test_a_score_that_differs_from_its_answers_is_refused(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    """VAS 67.6 answered, the bundle says 3.0: the hub recomputes and refuses (not stored)."""

    def edit(tables: Tables) -> None:
        for row in rows_where(tables, "scores", instrument_id="vas"):
            values = json.loads(row[col("scores", "scores")])
            if values.get("VAS") == 67.6:
                values["VAS"] = 3.0
                row[col("scores", "scores")] = json.dumps(values)
                return
        raise AssertionError("no VAS score of 67.6")

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub0, forged, "scores row", "field scores", "recomputation from the merged answers")


def test_a_score_superseded_without_replacement_is_refused(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    def edit(tables: Tables) -> None:
        current = [r for r in tables["scores"] if r[col("scores", "superseded_at")] is None]
        target, other = current[0], current[-1]
        assert target[col("scores", "instrument_id")] != other[col("scores", "instrument_id")]
        target[col("scores", "superseded_at")] = target[col("scores", "computed_at")]
        target[col("scores", "superseded_by")] = other[0]

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub0, forged, "no current score", "superseded only by its replacement")


def test_a_superseding_stamp_on_a_merged_score_is_refused_without_its_replacement(
    site: Path, hub1: Path, tmp_path: Path
) -> None:
    """The hub has the score current; a later bundle stamps it superseded by a score of
    another kind: nothing replaces it, refused."""

    def edit(tables: Tables) -> None:
        odi = rows_where(tables, "scores", instrument_id="odi")[0]
        vas = rows_where(tables, "scores", instrument_id="vas")[0]
        odi[col("scores", "superseded_at")] = odi[col("scores", "computed_at")]
        odi[col("scores", "superseded_by")] = vas[0]

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub1, forged, "odi default", "no current score")


REWRITES = [
    ("score value", "scores", "scores", '{"VAS": 1.0}', "scores"),
    ("score stamp", "scores", "computed_at", "2020-01-01T00:00:00.000Z", "computed_at"),
    (
        "session device",
        "sessions",
        "device_id",
        "0190aaaa-0000-7000-8000-000000000001",
        "device_id",
    ),
    (
        "submitter",
        "sessions",
        "submitted_by",
        "0190aaaa-0000-7000-8000-000000000002",
        "submitted_by",
    ),
    ("submission time", "sessions", "submitted_at", "2020-01-01T00:00:00.000Z", "submitted_at"),
    ("session start", "sessions", "started_at", "2020-01-01T00:00:00.000Z", "started_at"),
    ("subject day 0", "subjects", "day0", "2020-01-01", "day0"),
    ("subject birth", "subjects", "year_of_birth", 1950, "year_of_birth"),
    ("device label", "devices", "label", "another kiosk", "label"),
    ("staff role", "staff", "role", "admin", "role"),
]


@pytest.mark.parametrize(
    ("table", "field", "value", "named"), [r[1:] for r in REWRITES], ids=[r[0] for r in REWRITES]
)
def test_an_existing_record_is_never_rewritten_by_a_bundle(
    site: Path, hub1: Path, tmp_path: Path, table: str, field: str, value: Any, named: str
) -> None:
    def edit(tables: Tables) -> None:
        rows = tables[table]
        if table == "sessions":
            rows = [r for r in rows if r[col(table, "state")] == "submitted"]
        if table == "staff":
            rows = [r for r in rows if r[col(table, "role")] != "admin"]
        rows[0][col(table, field)] = value

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub1, forged, f"bundle {table} row", f"field {named}", "hub's copy differs")


def test_an_answer_changed_through_a_forged_chain_is_refused(
    site: Path, hub1: Path, tmp_path: Path
) -> None:
    """A key holder changes an answer the hub has, fixes its audit digest and re-hashes the
    whole chain: the answer row differs from the hub's and is refused first."""

    def edit(tables: Tables) -> None:
        answer = rows_where(tables, "answers", item_id="vas_pain")[0]
        answer[col("answers", "value")] = 12.5
        rechain(tables, answer)

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub1, forged, "bundle answers row", "field value", "an answer is never changed")
    # The chain alone would not show it (the forged chain is consistent); the hub is intact.
    with storage.open_database(hub1, readonly=True) as db:
        assert storage.verify_database(db.path).ok


def test_a_missed_visit_is_not_turned_complete_the_mismatch_is_flagged(
    site: Path, hub1: Path, tmp_path: Path
) -> None:
    def edit(tables: Tables) -> None:
        visit = rows_where(tables, "visits", visit_code="M3")[0]
        visit[col("visits", "state")] = "complete"
        visit[col("visits", "missed_reason")] = None
        visit[col("visits", "actual_date")] = str(TODAY)

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    summary = merge(hub1, forged)
    result = summary.result
    assert result.conflicting["visits"] == 1 and result.new_mismatches == 1
    assert result.mismatches == [
        f"visit M3 ({rows_id(site, 'M3')}): state: hub missed, bundle complete"
    ]
    with storage.open_database(hub1, readonly=True) as db:
        visit = storage.subject_visit(db, SUBJECT, "M3")
        assert visit.state == "missed"
        entries = [e for e in storage.audit_entries(db) if e.action == "bundle.mismatch"]
        assert len(entries) == 1 and entries[0].payload["table"] == "visits"
    assert storage.verify_database(hub1).ok
    again = merge(hub1, forged)  # flagged once: a second import writes nothing
    assert not again.result.changed and again.result.conflicting["visits"] == 1


def rows_id(site: Path, visit_code: str) -> str:
    with storage.open_database(site / "hub1.db", readonly=True) as db:
        found = storage.subject_visit(db, SUBJECT, visit_code).visit_id
        assert found is not None
        return found


def test_a_day0_mismatch_between_kiosks_is_flagged_and_printed(site: Path, hub1: Path) -> None:
    before = table_digest(hub1)
    result = main("import", "bundle", "--db", str(hub1), str(site / "b.1"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (
        f"mismatch: subject {SUBJECT}: day 0 " in out and "(the hub's kept): review needed" in out
    )
    assert "subjects" in out and "conflicting" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("subjects"))
    assert line.split()[1:] == ["0", "0", "1", "0"]  # new updated conflicting unchanged
    assert table_digest(hub1) != before
    with storage.open_database(hub1, readonly=True) as db:
        imported = [e for e in storage.audit_entries(db) if e.action == "bundle.imported"][-1]
        assert imported.payload["tables"]["subjects"] == {
            "new": 0,
            "updated": 0,
            "conflicting": 1,
            "unchanged": 0,
        }
        assert imported.payload["day0_mismatches"] == [SUBJECT]
        assert storage.get_subject(db, SUBJECT).day0 == TODAY - timedelta(days=100)


def test_the_import_summary_counts_each_table(site: Path, hub0: Path) -> None:
    result = main("import", "bundle", "--db", str(hub0), str(site / "a.1"))
    assert result.returncode == 0, result.stderr
    lines = {
        x.split()[0]: x.split()[1:] for x in result.stdout.splitlines()[1:] if x.startswith("  ")
    }
    assert lines["table"] == ["new", "updated", "conflicting", "unchanged"]
    assert lines["subjects"] == ["1", "0", "0", "0"]
    assert int(lines["answers"][0]) > 50 and lines["answers"][1:] == ["0", "0", "0"]
    again = main("import", "bundle", "--db", str(hub0), str(site / "a.1"))
    assert "already imported" in again.stdout
    lines = {
        x.split()[0]: x.split()[1:] for x in again.stdout.splitlines()[1:] if x.startswith("  ")
    }
    assert lines["subjects"] == ["0", "0", "0", "1"]
    assert lines["answers"][:3] == ["0", "0", "0"] and int(lines["answers"][3]) > 50


def test_a_forged_bundle_is_one_line_and_exit_2_on_the_command_line(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    forged = forge(
        site / "a.1",
        site / "site.key",
        tmp_path / "x.bundle",
        set_value("answers", "value", 1000.0, item_id="vas_pain"),
    )
    # The audit log gets the sign-in and the command's own entry (the role matrix); nothing else.
    before = table_digest(hub0, DATA_TABLES)
    with storage.open_database(hub0, readonly=True) as db:
        entries = {e.id for e in storage.audit_entries(db)}
    result = main("import", "bundle", "--db", str(hub0), str(forged))
    one_line_error(result, 2, "field value: vas_pain: answer 1000")
    assert table_digest(hub0, DATA_TABLES) == before
    with storage.open_database(hub0, readonly=True) as db:
        added = [e.action for e in storage.audit_entries(db) if e.id not in entries]
    assert added == ["login.succeeded"]


def test_after_an_import_verify_passes_and_every_export_works(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    merge(hub0, site / "a.1")
    merge(hub0, site / "b.1")
    assert storage.verify_database(hub0).ok
    for args in (
        ("csv", "--out", str(tmp_path / "csv")),
        ("odm", "--out", str(tmp_path / "odm.xml")),
        ("redcap", "--out", str(tmp_path / "redcap")),
    ):
        result = main("export", args[0], "--db", str(hub0), *args[1:])
        assert result.returncode == 0, result.stderr


def _drop_middle_entry(tables: Tables) -> None:
    del tables["audit_log"][3]


def _rewrite_payload(tables: Tables) -> None:
    entry = tables["audit_log"][2]
    payload = json.loads(entry[col("audit_log", "payload")])
    payload["forged"] = True
    entry[col("audit_log", "payload")] = json.dumps(payload)


def _change_answer(tables: Tables) -> None:
    rows_where(tables, "answers", item_id="vas_pain")[0][col("answers", "value")] = 12.5


def _drop_answer(tables: Tables) -> None:
    tables["answers"].remove(rows_where(tables, "answers", item_id="odi_01")[0])


def _extra_answer(tables: Tables) -> None:
    extra = list(rows_where(tables, "answers", item_id="odi_01")[0])
    extra[0] = "0190aaaa-0000-7000-8000-0000000000aa"
    tables["answers"].append(extra)


def _recorded_twice(tables: Tables, within: bool = False) -> None:
    """One answer entry made to record another entry's answer instead of its own (or, `within`,
    its own answer twice), its digest fixed and the chain re-hashed: the count of recorded
    answers still equals the bundle's, yet one answer is recorded by no entry."""
    answers = {r[0]: r for r in tables["answers"]}
    recording = [
        e
        for e in sorted(tables["audit_log"], key=lambda e: e[col("audit_log", "seq")])
        if e[col("audit_log", "action")] == "answer.recorded"
    ]
    payloads = [json.loads(e[col("audit_log", "payload")]) for e in recording]
    if within:  # an entry of several answers: its last one replaced by its first
        k = next(k for k, p in enumerate(payloads) if len(p["answers"]) > 1)
        listed = [*payloads[k]["answers"][:-1], payloads[k]["answers"][0]]
    else:  # the second entry's first answer replaced by the first entry's
        k = 1
        listed = [payloads[0]["answers"][0], *payloads[1]["answers"][1:]]
    entry, payload = recording[k], payloads[k]
    payload["answers"] = listed
    payload["digest"] = digest([answers[a[0]] for a in listed])
    entry[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
    prev = "0" * 64
    for e in sorted(tables["audit_log"], key=lambda e: e[col("audit_log", "seq")]):
        e[col("audit_log", "prev_hash")] = prev
        e[col("audit_log", "hash")] = prev = entry_hash(prev, *e[:10])


def _recorded_twice_in_one_entry(tables: Tables) -> None:
    _recorded_twice(tables, within=True)


def _unknown_visit(tables: Tables) -> None:
    session = rows_where(tables, "sessions", visit_code="M0")[0]
    session[col("sessions", "visit_id")] = "0190aaaa-0000-7000-8000-0000000000bb"


def _unknown_device(tables: Tables) -> None:
    tables["devices"].clear()


CHAIN_ATTACKS = [
    ("sequence gap", _drop_middle_entry, "jumps from #3 to #5"),
    ("broken hash", _rewrite_payload, "hash chain broken"),
    ("answer digest", _change_answer, "do not match their digest"),
    ("answer missing", _drop_answer, "which the bundle does not carry"),
    ("answer unrecorded", _extra_answer, "its audit entries record"),
    ("answer recorded twice", _recorded_twice, "which an earlier audit entry records already"),
    ("answer twice in an entry", _recorded_twice_in_one_entry, "which it records twice"),
    ("foreign key", _unknown_visit, "refers to records this database does not have"),
    ("unregistered device", _unknown_device, "which the bundle lacks"),
]


@pytest.mark.parametrize(
    ("edit", "message"), [a[1:] for a in CHAIN_ATTACKS], ids=[a[0] for a in CHAIN_ATTACKS]
)
def test_a_bundle_whose_rows_and_chain_disagree_is_refused(
    site: Path, hub0: Path, tmp_path: Path, edit: Callable[[Tables], None], message: str
) -> None:
    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub0, forged, message)


def _drop_later_entry(tables: Tables) -> None:
    del tables["audit_log"][5]


def _answer_twice(tables: Tables) -> None:
    tables["answers"].append(list(rows_where(tables, "answers", item_id="odi_01")[0]))


@pytest.mark.parametrize(
    ("later", "alone"),
    [(_drop_later_entry, "jumps from #5 to #7"), (_answer_twice, "carries an answer twice")],
    ids=["sequence gap after it", "an answer carried twice"],
)
def test_a_broken_hash_is_named_before_a_later_problem_of_the_chain(
    site: Path,
    hub0: Path,
    tmp_path: Path,
    later: Callable[[Tables], None],
    alone: str,
) -> None:
    """The new entries' hashes are recomputed apart from their links (on another core, by the
    command line's merge): an entry whose hash is wrong is still named before a problem found
    further on, as a check made entry by entry names it."""
    only = forge(site / "a.1", site / "site.key", tmp_path / "later.bundle", later)
    refused(hub0, only, alone)

    def both(tables: Tables) -> None:
        later(tables)
        _rewrite_payload(tables)

    forged = forge(site / "a.1", site / "site.key", tmp_path / "both.bundle", both)
    refused(hub0, forged, ": hash chain broken")
    result = main("import", "bundle", "--db", str(hub0), str(forged))
    one_line_error(result, 2, "hash chain broken")
    assert "audit entry #3 of device" in result.stderr


def test_a_chain_diverging_from_the_hubs_copy_is_refused(
    site: Path, hub1: Path, tmp_path: Path
) -> None:
    def edit(tables: Tables) -> None:
        _rewrite_payload(tables)
        prev = "0" * 64
        for entry in sorted(tables["audit_log"], key=lambda e: e[col("audit_log", "seq")]):
            entry[col("audit_log", "prev_hash")] = prev
            entry[col("audit_log", "hash")] = prev = entry_hash(prev, *entry[:10])

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub1, forged, "differs from this database's copy: the chains diverge")


# -- import bundle --receipt ------------------------------------------------------------------


@pytest.mark.req("BUN-06")
def test_import_writes_a_receipt_of_the_bundle_its_counts_and_the_hub_heads(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    out = tmp_path / "receipt.json"
    with storage.open_database(hub0, readonly=True) as db:
        head_before = storage.audit_chain_head(db).hash
    result = main("import", "bundle", "--db", str(hub0), str(site / "a.1"), "--receipt", str(out))
    assert result.returncode == 0, result.stderr
    receipt = json.loads(out.read_text(encoding="utf-8"))
    assert receipt["format"] == "respine-import-receipt/1"
    assert receipt["bundle"]["sha256"] == hashlib.sha256((site / "a.1").read_bytes()).hexdigest()
    assert receipt["bundle"]["file"] == "a.1"
    assert receipt["changed"] is True
    assert receipt["tables"]["subjects"] == {
        "new": 1,
        "updated": 0,
        "conflicting": 0,
        "unchanged": 0,
    }
    assert receipt["tables"]["answers"]["new"] > 50
    assert receipt["mismatches"] == [] and receipt["conflicts"] == []
    # before: the hub's own chain only (moved by the sign-in since), no chain of the kiosk yet
    before_chains = {c["device"] for c in receipt["hub_head_before"]["chains"]}
    assert receipt["bundle"]["device"] not in before_chains
    with storage.open_database(hub0, readonly=True) as db:
        entries = storage.audit_entries(db)
        imported = [e for e in entries if e.action == "bundle.imported"][-1]
        ran = [e for e in entries if e.action == "command.run"][-1]
        assert receipt["bundle"]["device"] == imported.payload["device_id"]
        chains = {c["device"]: c["seq"] for c in receipt["hub_head_after"]["chains"]}
        # the kiosk's chain is the hub's copy after the import
        assert (
            chains[receipt["bundle"]["device"]]
            == imported.payload["chain_heads"][receipt["bundle"]["device"]][0]
        )
    assert receipt["hub_head_after"]["hash"] != head_before
    assert receipt["audit_entry"] == imported.id
    # the command's audit entry records the receipt with its SHA-256, like every file written
    files = ran.payload["files"]
    assert [f["path"] for f in files] == [str(out)]
    assert files[0]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert not list(tmp_path.glob(".receipt.json.writing"))  # written atomically, no leftover
    # a second import of the same bundle: a receipt of nothing changed, the heads unchanged
    again = main("import", "bundle", "--db", str(hub0), str(site / "a.1"), "--receipt", str(out))
    assert again.returncode == 0, again.stderr
    receipt = json.loads(out.read_text(encoding="utf-8"))
    assert receipt["changed"] is False and receipt["tables"]["subjects"]["unchanged"] == 1
    assert receipt["hub_head_before"] == receipt["hub_head_after"]


@pytest.mark.parametrize("target", ["/dev/null", "folder", "missing/receipt.json"])
def test_a_receipt_that_cannot_be_written_refuses_the_import_before_it_starts(
    site: Path, hub0: Path, tmp_path: Path, target: str
) -> None:
    (tmp_path / "folder").mkdir()
    out = target if target.startswith("/") else str(tmp_path / target)
    before = table_digest(hub0, DATA_TABLES)
    result = main("import", "bundle", "--db", str(hub0), str(site / "a.1"), "--receipt", out)
    one_line_error(result, 2, out)
    assert table_digest(hub0, DATA_TABLES) == before  # nothing imported
    assert Path("/dev/null").is_char_device()
    assert not (tmp_path / "missing").exists()
    assert list((tmp_path / "folder").iterdir()) == []
