"""Signed bundles that would cost memory or time: refused before inflating, the hub unchanged."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import threading
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import exports, storage
from respine_desktop.exports import bundle
from tests.cli.test_cli_db import main, one_line_error
from tests.support.exports import controlled_clock, demo_db, export, install, merge, table_digest
from tests.support.storage import ADMIN_PIN


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A kiosk and an empty hub sharing one site key, and the kiosk's signed bundle."""
    root = tmp_path_factory.mktemp("caps")
    demo_db(root / "kiosk.db", subjects=2)
    with controlled_clock():
        with storage.create_database(root / "hub.db", admin_pin=ADMIN_PIN) as hub:
            exports.write_key_file(hub, root / "site.key")
        install(root / "kiosk.db", root / "site.key")
        export(root / "kiosk.db", root / "kiosk.bundle")
    yield root


@pytest.fixture
def hub(site: Path, tmp_path: Path) -> Path:
    shutil.copy(site / "hub.db", tmp_path / "hub.db")
    return tmp_path / "hub.db"


def signed(
    site: Path,
    out: Path,
    table: str,
    data: bytes,
    *,
    twice: bool = False,
    declared: int | None = None,
) -> Path:
    """The kiosk's bundle with `table`'s member replaced by `data` (its manifest entry made to
    match), rebuilt and signed with the site key as a kiosk signs: a key holder's bundle."""
    key = exports.read_key_file(site / "site.key").key
    with zipfile.ZipFile(site / "kiosk.bundle") as src:
        manifest = json.loads(src.read(bundle.MANIFEST))
        members = {m["name"]: src.read(m["name"]) for m in manifest["members"]}
    name = bundle.member_name(table)
    members[name] = data
    for m in manifest["members"]:
        if m["name"] == name:
            m["sha256"], m["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for member, content in members.items():
            zf.writestr(member, content)
        if twice:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # zipfile warns of the duplicate it writes
                zf.writestr(name, members[name])
        zf.writestr(bundle.MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        zf.comment = b"\0" * bundle._SIGNATURE_LENGTH
    if declared is not None:
        raw = buffer.getvalue()
        entry = raw.index(b"PK\x01\x02")
        while raw[entry + 46 : entry + 46 + len(name)] != name.encode():
            entry = raw.index(b"PK\x01\x02", entry + 4)
        buffer.seek(entry + 24)
        buffer.write(struct.pack("<I", declared))
    bundle._sign_in_place(buffer, key)
    out.write_bytes(buffer.getvalue())
    return out


def refused(hub: Path, path: Path, match: str) -> None:
    before = table_digest(hub)
    with pytest.raises(exports.BundleError, match=match):
        merge(hub, path)
    assert table_digest(hub) == before


def test_the_rebuilt_bundle_is_accepted_as_it_is(site: Path, hub: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(site / "kiosk.bundle") as src:
        same = src.read(bundle.member_name("answers"))
    merge(hub, signed(site, tmp_path / "same.bundle", "answers", same))


def test_a_deflate_bomb_is_refused_from_the_central_directory(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    bomb = signed(site, tmp_path / "bomb.bundle", "answers", b" " * (64 << 20))
    assert bomb.stat().st_size < 1 << 20
    refused(hub, bomb, "would inflate [0-9,]+ times .* refused before inflating")
    result = main("import", "bundle", "--db", str(hub), str(bomb))
    one_line_error(result, 2, "refused before inflating")


def test_a_member_or_a_bundle_above_the_caps_is_refused(
    site: Path, hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(3 << 19).hex().encode()  # 3 MiB of text that hardly compresses
    big = signed(site, tmp_path / "big.bundle", "answers", data)
    monkeypatch.setattr(bundle, "MAX_MEMBER_BYTES", 2 << 20)  # lowered: 1 GiB costs a test
    refused(hub, big, "more than the 2,097,152 a bundle member may hold")
    monkeypatch.setattr(bundle, "MAX_MEMBER_BYTES", 4 << 20)
    monkeypatch.setattr(bundle, "MAX_TOTAL_BYTES", 3 << 20)
    refused(hub, big, "the bundle would inflate to [0-9,]+ bytes, more than 3,145,728")


def test_a_line_longer_than_the_cap_is_refused_while_hashing(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    line = b'[["' + os.urandom((bundle.MAX_LINE_BYTES + 64) // 2).hex().encode() + b'"]]\n'
    long = signed(site, tmp_path / "long.bundle", "audit_log", line)
    refused(hub, long, "has a line longer than 33,554,432 bytes")


def test_a_member_named_twice_is_refused(site: Path, hub: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(site / "kiosk.bundle") as src:
        same = src.read(bundle.member_name("subjects"))
    twice = signed(site, tmp_path / "twice.bundle", "subjects", same, twice=True)
    refused(hub, twice, "holds data/subjects.jsonl more than once")


def test_a_member_inflating_past_its_declared_size_stops_there(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    """The central directory says 1,000 bytes, the data inflates to 64 MiB: reading stops at the
    declared size (whose CRC then fails) instead of inflating the rest."""
    lying = signed(site, tmp_path / "lying.bundle", "answers", b" " * (64 << 20), declared=1000)
    with zipfile.ZipFile(lying) as zf:
        assert zf.getinfo(bundle.member_name("answers")).file_size == 1000
    refused(hub, lying, "damaged")


def test_members_are_read_two_at_a_time_and_the_first_refused_in_order_is_named(
    site: Path, hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import reads its members on two threads; two refused members (the subjects' hash,
    the audit log's line length, later in the manifest but refused first in time, the subjects'
    read held back until the audit log's refusal is made) name the first in the manifest's
    order, as a read one after another does; the threads have ended when the refusal is raised
    (a merge forks its checks only from a single thread)."""
    line = b'[["' + os.urandom((bundle.MAX_LINE_BYTES + 64) // 2).hex().encode() + b'"]]\n'
    both = signed(site, tmp_path / "both.bundle", "audit_log", line)
    with zipfile.ZipFile(both) as zf:
        manifest = json.loads(zf.read(bundle.MANIFEST))
    order = [m["name"] for m in manifest["members"]]
    assert order.index(bundle.member_name("subjects")) < order.index(
        bundle.member_name("audit_log")
    )
    check, audit_refused = bundle._check_member, threading.Event()
    seen: list[str] = []

    def held(zf: zipfile.ZipFile, m: dict[str, object], keep: bool) -> bytes:
        if m["name"] == bundle.member_name("subjects"):
            assert audit_refused.wait(60)  # the later member refuses first
            m = {**m, "sha256": "0" * 64}  # and this one is refused too, by its hash
        try:
            return check(zf, m, keep)
        except exports.BundleError as exc:
            seen.append(str(m["name"]))
            if m["name"] == bundle.member_name("audit_log"):
                audit_refused.set()
            raise exc from None

    monkeypatch.setattr(bundle, "_check_member", held)
    refused(hub, both, "subjects.jsonl does not match its hash in the manifest")
    assert seen == [bundle.member_name("audit_log"), bundle.member_name("subjects")]
    assert threading.active_count() == 1
    sequential = bundle._check_members
    monkeypatch.setattr(
        bundle, "_check_members", lambda zf, manifest, keep=False: sequential(zf, manifest)
    )
    audit_refused.set()
    seen.clear()
    refused(hub, both, "subjects.jsonl does not match its hash in the manifest")
    assert seen == [bundle.member_name("subjects")]  # one after another: stopped at the first


# A line of 5,000 nested lists: Python's parser stops at its recursion limit (json_text).
NESTED = b"[" * 5000 + b"]" * 5000


def test_a_member_line_nested_too_deeply_is_refused(site: Path, hub: Path, tmp_path: Path) -> None:
    nested = signed(site, tmp_path / "nested.bundle", "answers", NESTED + b"\n")
    refused(hub, nested, "data/answers.jsonl line 1 is nested too deeply to hold rows: refused")
    result = main("import", "bundle", "--db", str(hub), str(nested))
    one_line_error(result, 2, "line 1 is nested too deeply")


def test_a_manifest_nested_too_deeply_is_refused(site: Path, hub: Path, tmp_path: Path) -> None:
    """The key holder's manifest (signed) is parsed after the signature: refused as no JSON."""
    key = exports.read_key_file(site / "site.key").key
    buffer = io.BytesIO()
    with zipfile.ZipFile(site / "kiosk.bundle") as src, zipfile.ZipFile(buffer, "w") as zf:
        for name in src.namelist():
            zf.writestr(name, NESTED if name == bundle.MANIFEST else src.read(name))
        zf.comment = b"\0" * bundle._SIGNATURE_LENGTH
    bundle._sign_in_place(buffer, key)
    (tmp_path / "nested.bundle").write_bytes(buffer.getvalue())
    refused(hub, tmp_path / "nested.bundle", r"the manifest is not valid JSON \(nested too deeply")
    result = main("import", "bundle", "--db", str(hub), str(tmp_path / "nested.bundle"))
    one_line_error(result, 2, "the manifest is not valid JSON (nested too deeply")


def test_a_payload_nested_too_deeply_in_a_signed_row_is_refused(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    """An audit entry's payload (a JSON text in a row) nested too deeply: no JSON object."""
    columns = bundle.BUNDLE_COLUMNS["audit_log"]
    with zipfile.ZipFile(site / "kiosk.bundle") as src:
        lines = src.read(bundle.member_name("audit_log")).decode().splitlines()
    rows = json.loads(lines[-1])
    rows[-1][columns.index("payload")] = NESTED.decode()
    lines[-1] = json.dumps(rows)
    data = ("\n".join(lines) + "\n").encode()
    nested = signed(site, tmp_path / "nested.bundle", "audit_log", data)
    refused(hub, nested, "field payload: .* is not a JSON object")
    result = main("import", "bundle", "--db", str(hub), str(nested))
    one_line_error(result, 2, "is not a JSON object")


def test_a_member_line_with_an_integer_too_long_to_convert_is_refused(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    """5,000 digits: ``json.loads`` refuses them with a plain ValueError (not a JSON error)."""
    long = signed(site, tmp_path / "long.bundle", "answers", b"[[" + b"7" * 5000 + b"]]\n")
    refused(hub, long, "data/answers.jsonl line 1 is not valid JSON")
    result = main("import", "bundle", "--db", str(hub), str(long))
    one_line_error(result, 2, "line 1 is not valid JSON")
