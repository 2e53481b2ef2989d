"""Helpers shared by the export and bundle tests: study databases built through the storage API
(and the demo generator) under a controlled clock, the ODM validator, table digests."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sqlite3
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from respine_desktop import clock, demo, exports, storage
from respine_desktop.exports import bundle as bundle_format
from respine_desktop.instruments import load_instrument
from respine_desktop.storage import SKIPPED, StudyDb
from respine_desktop.storage import _schema as schema
from tests.support.storage import coord, inv
from tests.support.storage import new_db as _new_db

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
PYTHON = sys.executable
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TODAY = date(2026, 3, 2)


class Clock:
    """The application clock, moved by the test (every stored time comes from it)."""

    def __init__(self, moment: datetime = NOW) -> None:
        self.moment = moment
        clock.set_clock(lambda: self.moment)

    def at(self, moment: datetime) -> None:
        self.moment = moment

    def day(self, day: date, minutes: int = 0) -> None:
        self.moment = datetime(day.year, day.month, day.day, 9, tzinfo=UTC) + timedelta(
            minutes=minutes
        )


@contextmanager
def controlled_clock(moment: datetime = NOW) -> Iterator[Clock]:
    c = Clock(moment)
    try:
        yield c
    finally:
        clock.set_clock(None)


def answers_for(instrument_id: str, code: int, vas: float = 55.0) -> dict[str, Any]:
    """Every item of one instrument answered `code` (clipped to its options), or the VAS."""
    if instrument_id == "vas":
        return {"vas_pain": vas}
    out: dict[str, Any] = {}
    for item in load_instrument(instrument_id).items:
        codes = item.codes
        out[item.id] = codes[min(max(code - codes[0], 0), len(codes) - 1)]
    return out


def do_visit(
    db: StudyDb,
    c: Clock,
    code: str,
    visit: str,
    day: date,
    *,
    vas: float,
    odi: int,
    sf36: int,
    skip: tuple[str, ...] = (),
    submit: bool = True,
) -> str:
    """One questionnaire sitting on `day`: each instrument in its own transaction."""
    c.day(day)
    s = storage.start_session(db, code, visit, staff=coord(db), language="en", on=day)
    for n, instrument in enumerate(("vas", "odi", "sf36"), start=1):
        c.day(day, minutes=n)
        given = answers_for(instrument, odi if instrument == "odi" else sf36, vas)
        given.update({k: SKIPPED for k in skip if k in given})
        storage.record_answers(db, s.id, given, language="en", vas_line_mm=100.0)
    if submit:
        c.day(day, minutes=5)
        storage.submit_session(db, s.id, on=day)
    else:
        c.day(day, minutes=5)
        storage.park_session(db, s.id, position=3)
    return s.id


def scenario_db(path: Path) -> None:
    """Three subjects with every case the exports must carry (fixed dates, fixed clock):

    RSP-01-001: M0 (ODI section 8 and SF-36 item 5 skipped), M1 with a staff correction of
    odi_03 (reason), M3 missed (reason), M6 and M12 complete, M24 not due.
    RSP-01-002: M0, M1 complete, M3 parked after the VAS.  RSP-01-003: registered, M0 due.
    """
    with controlled_clock() as c:
        day0 = TODAY - timedelta(days=400)
        c.day(day0 - timedelta(days=10))
        with new_db(path) as db:
            storage.register_subject(
                db, "RSP-01-001", day0=day0, staff=coord(db), year_of_birth=1961
            )
            do_visit(
                db, c, "RSP-01-001", "M0", day0, vas=72.5, odi=3, sf36=3, skip=("odi_08", "sf36_05")
            )
            m1 = do_visit(
                db, c, "RSP-01-001", "M1", day0 + timedelta(days=30), vas=60.1, odi=2, sf36=2
            )
            c.day(day0 + timedelta(days=31))
            storage.correct_answer(
                db, m1, "odi_03", 4, staff=inv(db), reason="patient ticked the wrong statement"
            )
            c.day(day0 + timedelta(days=110))
            storage.mark_missed(
                db,
                "RSP-01-001",
                "M3",
                staff=coord(db),
                reason="subject unreachable",
                on=day0 + timedelta(days=110),
            )
            do_visit(db, c, "RSP-01-001", "M6", day0 + timedelta(days=182), vas=30.0, odi=1, sf36=2)
            do_visit(
                db, c, "RSP-01-001", "M12", day0 + timedelta(days=365), vas=20.4, odi=1, sf36=1
            )
            day0b = TODAY - timedelta(days=100)
            c.day(day0b - timedelta(days=3))
            storage.register_subject(db, "RSP-01-002", day0=day0b, staff=coord(db))
            do_visit(db, c, "RSP-01-002", "M0", day0b, vas=80.0, odi=4, sf36=4)
            do_visit(db, c, "RSP-01-002", "M1", day0b + timedelta(days=29), vas=79.0, odi=4, sf36=4)
            do_visit(
                db,
                c,
                "RSP-01-002",
                "M3",
                TODAY - timedelta(days=5),
                vas=75.5,
                odi=3,
                sf36=3,
                submit=False,
            )
            c.at(NOW)
            storage.register_subject(db, "RSP-01-003", day0=TODAY, staff=coord(db))


def demo_db(path: Path, *, subjects: int, first: int = 1, seed: int = 1) -> None:
    """A kiosk database filled by the demo generator, as of the fixed test day."""
    with (
        controlled_clock(),
        storage.create_database(
            path, admin_pin=demo.DEMO_ADMIN_PIN, admin_username=demo.DEMO_ADMIN, durable=False
        ) as db,
    ):
        demo.generate(db, subjects=subjects, first=first, seed=seed)


def odm_validator() -> ModuleType:
    """The reference `odm_validate.py` (tests/data/schemas) as a module."""
    spec = importlib.util.spec_from_file_location(
        "odm_validate", DATA / "schemas" / "odm_validate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def odm_errors(path: Path) -> list[str]:
    """XSD errors, then unresolved OID references, of an ODM file (empty = valid)."""
    v = odm_validator()
    tree = v.parse(path)
    return list(v.validate(tree, v.load_schema())) or list(v.check_references(tree))


# The audit log and the devices (whose rows hold each chain's head) change with every entry.
DATA_TABLES = tuple(t for t in schema.TABLES if t not in ("audit_log", "devices"))


def table_digest(path: Path, tables: tuple[str, ...] = schema.TABLES) -> str:
    """SHA-256 over every row of every table, in key order: any change to the file shows.

    With ``tables=DATA_TABLES``: every table but the audit log and its chain heads (a signed-in
    command adds its sign-in and its own entry)."""
    h = hashlib.sha256()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
                h.update(repr(row).encode())
    finally:
        conn.close()
    return h.hexdigest()


def row_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in schema.TABLES}
    finally:
        conn.close()


def env() -> dict[str, str]:
    """Environment for child processes running this checkout's code."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def new_db(path: Path, **options: Any) -> StudyDb:
    """`support.storage.new_db` without fsync at every commit (these tests don't cut power)."""
    return _new_db(path, durable=False, **options)


# -- site bundles: kiosks merging into a hub -------------------------------------------------


def export(db_path: Path, out: Path, since: str | None = None) -> exports.BundleInfo:
    with storage.open_database(db_path) as db:
        return exports.export_bundle(db, out, since=since)


def merge(hub: Path, bundle: Path) -> exports.ImportSummary:
    with storage.open_database(hub) as db:
        return exports.import_bundle(db, bundle)


def install(db_path: Path, key: Path) -> None:
    with storage.open_database(db_path) as db:
        exports.install_key_file(db, key)


def without_members(
    bundle: Path, out: Path, key: bytes, tables: tuple[str, ...], format_version: int | None = None
) -> Path:
    """`bundle` as an older version wrote it: the members of `tables` left out (and the format
    version `format_version`, if given), signed again with the site `key`."""
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        manifest = json.loads(src.read(bundle_format.MANIFEST))
        if format_version is not None:
            manifest["format_version"] = format_version
        manifest["members"] = [m for m in manifest["members"] if m["table"] not in tables]
        for m in manifest["members"]:
            dst.writestr(m["name"], src.read(m["name"]))
        dst.writestr(bundle_format.MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        dst.comment = b"\0" * len(src.comment)
    with open(out, "r+b") as f:
        bundle_format._sign_in_place(f, key)
    return out


@contextmanager
def hub_and_kiosks(root: Path) -> Iterator[tuple[Path, Path, Path, Clock]]:
    """A hub and two kiosks ("kiosk a", "kiosk b") sharing the site key, under a test clock."""
    with controlled_clock() as c:
        c.at(NOW - timedelta(days=60))
        with new_db(root / "hub.db", device_label="hub") as db:
            exports.write_key_file(db, root / "site.key")
        for name in ("a", "b"):
            new_db(root / f"{name}.db", device_label=f"kiosk {name}").close()
            install(root / f"{name}.db", root / "site.key")
        yield root / "hub.db", root / "a.db", root / "b.db", c


def conflicted_hub(hub: Path, a: Path, b: Path, c: Clock) -> tuple[str, str]:
    """RSP-01-030's M1 done on both kiosks with different answers, B submitting last, then a
    correction of A's ODI (so A's ODI score is the newest row); both merged into the hub.
    Returns the M1 session ids (A's, B's)."""
    day0 = TODAY - timedelta(days=40)
    with storage.open_database(a) as db:
        storage.register_subject(db, "RSP-01-030", day0=day0, staff=coord(db))
        do_visit(db, c, "RSP-01-030", "M0", day0, vas=70.0, odi=3, sf36=3)
    export(a, a.with_suffix(".1"))
    merge(hub, a.with_suffix(".1"))
    export(hub, hub.with_suffix(".1"))
    merge(b, hub.with_suffix(".1"))
    with storage.open_database(a) as db:
        first = do_visit(
            db, c, "RSP-01-030", "M1", day0 + timedelta(days=30), vas=50, odi=1, sf36=2
        )
    with storage.open_database(b) as db:
        second = do_visit(
            db, c, "RSP-01-030", "M1", day0 + timedelta(days=31), vas=35.5, odi=4, sf36=3
        )
    with storage.open_database(a) as db:
        c.day(day0 + timedelta(days=32))
        storage.correct_answer(db, first, "odi_02", 2, staff=inv(db), reason="wrong box ticked")
    export(a, a.with_suffix(".2"))
    export(b, b.with_suffix(".1"))
    merge(hub, a.with_suffix(".2"))
    merge(hub, b.with_suffix(".1"))
    return first, second


def one_code_on_two_kiosks(hub: Path, a: Path, b: Path, c: Clock) -> None:
    """RSP-01-040 registered on both kiosks (the same day 0), its M0 done on a and its M1 on b,
    both kiosks' bundles merged into the hub (``a.1``, ``b.1``): the hub keeps one subject."""
    day0 = TODAY - timedelta(days=40)
    for kiosk, visit in ((a, "M0"), (b, "M1")):
        with storage.open_database(kiosk) as db:
            storage.register_subject(db, "RSP-01-040", day0=day0, staff=coord(db))
            days = 0 if visit == "M0" else 30
            do_visit(db, c, "RSP-01-040", visit, day0 + timedelta(days=days), vas=40, odi=2, sf36=1)
        export(kiosk, kiosk.with_suffix(".1"))
        merge(hub, kiosk.with_suffix(".1"))


def mismatched_hub(hub: Path, a: Path, b: Path, c: Clock) -> None:
    """Two true disagreements flagged by the hub's imports: RSP-01-040's M0 complete on kiosk a
    and missed on kiosk b; RSP-01-041 registered on each kiosk with another day 0."""
    day0 = TODAY - timedelta(days=40)
    with storage.open_database(a) as db:
        storage.register_subject(db, "RSP-01-040", day0=day0, staff=coord(db))
    export(a, a.with_suffix(".1"))
    merge(hub, a.with_suffix(".1"))
    export(hub, hub.with_suffix(".1"))
    merge(b, hub.with_suffix(".1"))
    with storage.open_database(a) as db:
        do_visit(db, c, "RSP-01-040", "M0", day0, vas=70.0, odi=3, sf36=3)
        storage.register_subject(db, "RSP-01-041", day0=day0, staff=coord(db))
    c.day(TODAY)
    with storage.open_database(b) as db:
        storage.mark_missed(db, "RSP-01-040", "M0", staff=coord(db), reason="no show")
        storage.register_subject(db, "RSP-01-041", day0=day0 + timedelta(days=2), staff=coord(db))
    export(a, a.with_suffix(".2"))
    export(b, b.with_suffix(".1"))
    merge(hub, a.with_suffix(".2"))
    merge(hub, b.with_suffix(".1"))
