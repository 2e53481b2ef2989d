"""Withdrawals in site bundles: carried from kiosk to hub as an optional member, append-only on
the hub, a different withdrawal of the same subject from another kiosk flagged (``bundle.mismatch``)
and never overwritten; forged rows refused naming table, row and field, the hub unchanged."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import exports, storage
from respine_desktop.exports import bundle
from tests.exports.test_bundle_forged import Tables, col, forge, refused
from tests.storage.test_verify_devices import as_an_older_version_wrote_it, rechain, rechain_text
from tests.support.exports import TODAY, do_visit, export, hub_and_kiosks, merge, table_digest
from tests.support.merge_modes import merge_mode
from tests.support.storage import coord

__all__ = ["merge_mode"]  # a fixture

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

SUBJECT = "RSP-01-040"
DAY0 = TODAY - timedelta(days=100)
ON_A = TODAY - timedelta(days=10)
ON_B = TODAY - timedelta(days=5)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Kiosk A registers SUBJECT, does M0 and records the withdrawal (bundle `a.1`; `a-old.1`:
    the same, its ``subject.withdrawn`` entry as a version before ``in_bundles`` wrote it); kiosk B
    registers the same code with the same day 0 and records another withdrawal (`b.1`). The
    empty hub is `hub0.db`, the hub after `a.1` `hub1.db`."""
    root = tmp_path_factory.mktemp("withdrawn")
    with hub_and_kiosks(root) as (hub, a, b, c):
        shutil.copy(hub, root / "hub0.db")
        with storage.open_database(a) as db:
            storage.register_subject(db, SUBJECT, day0=DAY0, staff=coord(db))
            do_visit(db, c, SUBJECT, "M0", DAY0, vas=60.0, odi=3, sf36=3)
            c.day(ON_A, minutes=30)
            storage.withdraw_subject(db, SUBJECT, staff=coord(db), on=ON_A, reason="moved away")
        export(a, root / "a.1")
        # the same kiosk as a version before `in_bundles` left it (its entry without the mark)
        shutil.copy(a, root / "a-old.db")
        rechain(root / "a-old.db", as_an_older_version_wrote_it)
        export(root / "a-old.db", root / "a-old.1")
        merge(hub, root / "a.1")
        shutil.copy(hub, root / "hub1.db")
        with storage.open_database(b) as db:
            storage.register_subject(db, SUBJECT, day0=DAY0, staff=coord(db))
            c.day(ON_B, minutes=30)
            storage.withdraw_subject(
                db, SUBJECT, staff=coord(db), on=ON_B, reason="consent withdrawn"
            )
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


def test_the_withdrawal_travels_to_the_hub_once(site: Path, hub0: Path) -> None:
    with zipfile.ZipFile(site / "a.1") as zf:
        manifest = json.loads(zf.read(bundle.MANIFEST))
    assert [m["table"] for m in manifest["members"]][-1] == "withdrawals"
    summary = merge(hub0, site / "a.1")
    assert summary.result.inserted["withdrawals"] == 1
    with storage.open_database(site / "a.db", readonly=True) as db:
        kiosk = storage.get_withdrawal(db, SUBJECT)
    with storage.open_database(hub0, readonly=True) as db:
        hub = storage.get_withdrawal(db, SUBJECT)
    assert kiosk is not None and hub == kiosk
    assert hub.withdrawn_on == ON_A and hub.reason == "moved away"
    assert storage.verify_database(hub0).ok
    before = table_digest(hub0)
    again = merge(hub0, site / "a.1")
    assert not again.result.changed and again.result.unchanged["withdrawals"] == 1
    assert table_digest(hub0) == before


def test_another_kiosks_different_withdrawal_is_flagged_not_written(site: Path, hub1: Path) -> None:
    summary = merge(hub1, site / "b.1")
    result = summary.result
    assert result.conflicting["withdrawals"] == 1 and result.inserted["withdrawals"] == 0
    assert result.mismatches == [
        f"subject {SUBJECT}: withdrawal: hub {ON_A} (moved away), bundle {ON_B} (consent withdrawn)"
    ]
    with storage.open_database(hub1, readonly=True) as db:
        kept = storage.get_withdrawal(db, SUBJECT)
        assert kept is not None and (kept.withdrawn_on, kept.reason) == (ON_A, "moved away")
        flagged = [e for e in storage.audit_entries(db) if e.action == "bundle.mismatch"]
        assert len(flagged) == 1 and flagged[0].payload["table"] == "withdrawals"
    assert storage.verify_database(hub1).ok
    again = merge(hub1, site / "b.1")  # flagged once: a second import writes nothing
    assert not again.result.changed and again.result.conflicting["withdrawals"] == 1


def _withdrawal(tables: Tables) -> list[object]:
    rows = tables["withdrawals"]
    assert len(rows) == 1
    return rows[0]


def test_a_withdrawal_unlike_its_audit_entry_is_refused(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    def edit(tables: Tables) -> None:
        _withdrawal(tables)[col("withdrawals", "reason")] = "forged reason"

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub0, forged, "withdrawal", "differs from its audit entry")


def test_a_withdrawal_without_its_audit_entry_is_refused(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    def edit(tables: Tables) -> None:
        row = _withdrawal(tables)
        row[col("withdrawals", "id")] = "01a24112-0000-7000-8000-000000000000"

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub0, forged, "withdrawal 01a24112-0000-7000-8000-000000000000 has no audit entry")


@pytest.mark.parametrize(
    ("column", "value", "text"),
    [
        ("withdrawn_on", "2026-13-01", "field withdrawn_on: '2026-13-01' is not a date"),
        ("reason", "", "field reason: '' is not a reason of 1 to 500 characters"),
        ("reason", "x" * 501, "field reason:"),
        ("recorded_by", None, "field recorded_by: None is not an id"),
        ("withdrawn_on", str(DAY0 - timedelta(days=1)), "before the subject's day 0"),
    ],
)
def test_an_impossible_withdrawal_is_refused_naming_table_row_and_field(
    site: Path, hub0: Path, tmp_path: Path, column: str, value: object, text: str
) -> None:
    def edit(tables: Tables) -> None:
        _withdrawal(tables)[col("withdrawals", column)] = value

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    message = refused(hub0, forged, "withdrawals row", text)
    assert "\n" not in message


def test_a_withdrawal_the_hub_has_is_never_rewritten(
    site: Path, hub1: Path, tmp_path: Path
) -> None:
    def edit(tables: Tables) -> None:
        _withdrawal(tables)[col("withdrawals", "withdrawn_on")] = str(ON_B)

    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub1, forged, "withdrawals row", "field withdrawn_on", "cannot be rewritten")


def _resigned(source: Path, key_file: Path, out: Path, *, drop_from_manifest: bool) -> Path:
    """`source` without the withdrawals member: removed from the ZIP and the manifest (a bundle
    written before withdrawals existed), or from the ZIP only (`drop_from_manifest` False)."""
    key = exports.read_key_file(key_file).key
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        manifest = json.loads(src.read(bundle.MANIFEST))
        for m in manifest["members"]:
            if m["table"] != "withdrawals":
                zf.writestr(m["name"], src.read(m["name"]))
        if drop_from_manifest:
            manifest["members"] = [m for m in manifest["members"] if m["table"] != "withdrawals"]
        zf.writestr(bundle.MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        zf.comment = b"\0" * bundle._SIGNATURE_LENGTH
    with open(out, "w+b") as f:
        f.write(buffer.getvalue())
        bundle._sign_in_place(f, key)
    assert hashlib.sha256(out.read_bytes()).hexdigest()
    return out


def test_a_bundle_without_the_member_imports_carrying_no_withdrawal(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    """A bundle as a version before the member wrote it: imported, and the withdrawal its chain
    records is counted by verify as not carried (nothing says that bundle carried it)."""
    older = _resigned(
        site / "a-old.1", site / "site.key", tmp_path / "x.bundle", drop_from_manifest=True
    )
    summary = merge(hub0, older)
    assert summary.result.inserted["subjects"] == 1
    assert summary.result.inserted["withdrawals"] == 0
    with storage.open_database(hub0, readonly=True) as db:
        assert storage.get_withdrawal(db, SUBJECT) is None
    result = storage.verify_database(hub0)
    assert result.ok, result.message
    assert "not carried by their bundles: withdrawals 1" in result.message


def test_a_bundle_leaving_out_a_withdrawal_its_chain_says_it_carries_is_refused(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    """This version's bundle with the member removed (and re-signed): kiosk A's entry says its
    bundles carry the row, so the hub refuses it rather than hold a chain verify would fail."""
    stripped = _resigned(
        site / "a.1", site / "site.key", tmp_path / "x.bundle", drop_from_manifest=True
    )
    with storage.open_database(site / "a.db", readonly=True) as db:
        kiosk = storage.get_withdrawal(db, SUBJECT)
        (entry,) = storage.audit_entries(db, action="subject.withdrawn")
    assert kiosk is not None
    before = table_digest(hub0)
    with pytest.raises(exports.BundleError) as refusal:
        merge(hub0, stripped)
    assert f"audit entry #{entry.seq} of device {entry.device_id} records withdrawal " in str(
        refusal.value
    )
    assert "which the bundle does not carry" in str(refusal.value)
    assert table_digest(hub0) == before


def _mark_escaped(seq: int, action: str, text: str) -> str | None:
    """The ``in_bundles`` key spelt with a JSON escape: the same payload to a JSON reader."""
    if action != "subject.withdrawn":
        return None
    assert '"in_bundles": true' in text or '"in_bundles":true' in text
    return text.replace('"in_bundles"', '"in\\u005fbundles"')


def test_a_mark_spelt_with_an_escape_is_read_as_verify_reads_it(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    """A forged chain (signed with the site key) whose entry spells the key ``in\\u005fbundles``,
    the member stripped: the merge read the mark by its spelling, so it took the bundle, and the
    hub then failed verify (the withdrawal its entry says is carried, missing). Refused now,
    the hub unchanged; the same chain with the member imports and verifies."""
    kiosk = tmp_path / "a-escaped.db"
    shutil.copy(site / "a.db", kiosk)
    rechain_text(kiosk, _mark_escaped)
    export(kiosk, tmp_path / "escaped.1")
    stripped = _resigned(
        tmp_path / "escaped.1", site / "site.key", tmp_path / "x.bundle", drop_from_manifest=True
    )
    before = table_digest(hub0)
    with pytest.raises(exports.BundleError) as refusal:
        merge(hub0, stripped)
    assert "which the bundle does not carry" in str(refusal.value)
    assert table_digest(hub0) == before
    merge(hub0, tmp_path / "escaped.1")
    result = storage.verify_database(hub0)
    assert result.ok, result.message


def test_a_member_its_manifest_lists_but_the_file_lacks_is_refused(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    torn = _resigned(
        site / "a.1", site / "site.key", tmp_path / "x.bundle", drop_from_manifest=False
    )
    before = table_digest(hub0)
    with pytest.raises(exports.BundleError):
        merge(hub0, torn)
    assert table_digest(hub0) == before


def test_a_forged_chain_without_the_mark_is_caught_by_the_kiosks_head_kept_outside(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    """What the site key alone cannot do: kiosk A's chain rewritten as an older version's
    (its entry without ``in_bundles``), the withdrawal left out, re-signed, merged first. The
    hub takes it as an older bundle (verify: 'not carried'), but A's head kept outside the hub
    (`status` on the kiosk) is not in that chain, and A's real bundle does not fit it."""
    forged = _resigned(
        site / "a-old.1", site / "site.key", tmp_path / "x.bundle", drop_from_manifest=True
    )
    merge(hub0, forged)
    assert "not carried by their bundles: withdrawals 1" in storage.verify_database(hub0).message
    with storage.open_database(site / "a.db", readonly=True) as db:
        device = db.device_id
    conn = sqlite3.connect(site / "a.db")
    try:
        seq, head = conn.execute(
            "SELECT audit_seq, audit_head FROM devices WHERE id=?", [device]
        ).fetchone()
    finally:
        conn.close()
    anchored = storage.verify_database(
        hub0, expect=storage.parse_expected(f"{device}:{seq}:{head}")
    )
    assert not anchored.ok
    assert f"entry #{seq} of device {device} has another hash" in anchored.message
    before = table_digest(hub0)
    with pytest.raises(exports.BundleError, match="the chains diverge"):
        merge(hub0, site / "a.1")
    assert table_digest(hub0) == before
