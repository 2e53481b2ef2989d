"""Pseudonymous study subjects: a code like ``RSP-01-023``, a site, day 0, a year of birth at most.

No name, birth date or contact data is accepted anywhere: the code is the only identifier.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date

from respine_desktop import clock
from respine_desktop.storage import _audit as audit
from respine_desktop.storage._database import StudyDb, check_site_code, new_id, transaction
from respine_desktop.storage._errors import AlreadyExists, InvalidInput, NotFound, UnknownSubject
from respine_desktop.storage._records import Staff, Subject
from respine_desktop.storage._staff import require

SUBJECT_CODE = re.compile(r"^RSP-([0-9A-Z]{2,8})-([0-9]{3,6})\Z")
_COLUMNS = "id, code, site_code, day0, year_of_birth, created_at, created_by"


def subject_code(site_code: str, number: int) -> str:
    """The code of subject `number` at `site_code`, e.g. ``RSP-01-023``."""
    return f"RSP-{site_code}-{number:03d}"


def check_subject_code(code: str, site_code: str | None = None) -> str:
    """`code` if it has the form ``RSP-<site>-<NNN>`` (and names `site_code`), else InvalidInput."""
    match = SUBJECT_CODE.match(code) if isinstance(code, str) else None
    if match is None:
        raise InvalidInput(f"subject code {code!r} must look like RSP-01-023").keyed(
            "subject_code", code=code
        )
    if site_code is not None and match.group(1) != site_code:
        raise InvalidInput(f"subject code {code!r} does not belong to site {site_code}").keyed(
            "subject_site", code=code, site=site_code
        )
    return code


def row_to_subject(row: sqlite3.Row) -> Subject:
    return Subject(
        id=row["id"],
        code=row["code"],
        site_code=row["site_code"],
        day0=date.fromisoformat(row["day0"]),
        year_of_birth=row["year_of_birth"],
        created_at=row["created_at"],
        created_by=row["created_by"],
    )


def get_subject(db: StudyDb, code: str) -> Subject:
    """The subject with this code (UnknownSubject if none)."""
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM subjects WHERE code=?", [code]).fetchone()
    if row is None:
        raise UnknownSubject(f"unknown subject {code!r}")
    return row_to_subject(row)


def list_subjects(db: StudyDb, site_code: str | None = None) -> list[Subject]:
    """Every subject (of one site if given), by code."""
    if site_code is None:
        rows = db.conn.execute(f"SELECT {_COLUMNS} FROM subjects ORDER BY code")
    else:
        rows = db.conn.execute(
            f"SELECT {_COLUMNS} FROM subjects WHERE site_code=? ORDER BY code", [site_code]
        )
    return [row_to_subject(r) for r in rows]


def register_subject(
    db: StudyDb,
    code: str,
    *,
    day0: date,
    staff: Staff,
    site_code: str | None = None,
    year_of_birth: int | None = None,
) -> Subject:
    """Register a subject (any active staff); day 0 is the injection day visits count from."""
    site = check_site_code(site_code or db.site_code)
    check_subject_code(code, site)
    if not isinstance(day0, date):
        raise InvalidInput(f"{code}: day 0 {day0!r} is not a date")
    if year_of_birth is not None:
        this_year = clock.now().year
        if (
            isinstance(year_of_birth, bool)
            or not isinstance(year_of_birth, int)
            or not 1900 <= year_of_birth <= this_year
        ):
            raise InvalidInput(
                f"{code}: year of birth {year_of_birth!r} is not in 1900..{this_year}"
            )
    with transaction(db):
        actor = require(db, staff, doing="register subjects")
        conn = db.conn
        if conn.execute("SELECT 1 FROM subjects WHERE code=?", [code]).fetchone():
            raise AlreadyExists(f"subject {code} exists already").keyed("subject_exists", code=code)
        if not conn.execute("SELECT 1 FROM sites WHERE code=?", [site]).fetchone():
            raise NotFound(f"unknown site {site!r}")
        subject_id = new_id()
        conn.execute(
            "INSERT INTO subjects (id, code, site_code, day0, year_of_birth, device_id, "
            "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                subject_id,
                code,
                site,
                day0.isoformat(),
                year_of_birth,
                db.device_id,
                clock.now_iso(),
                actor.id,
            ],
        )
        audit.append(
            db,
            action="subject.registered",
            entity="subject",
            entity_id=subject_id,
            subject_id=subject_id,
            actor=actor.id,
            payload={
                "code": code,
                "site_code": site,
                "day0": day0.isoformat(),
                "year_of_birth": year_of_birth,
            },
        )
    return get_subject(db, code)


def add_site(db: StudyDb, site_code: str, *, staff: Staff) -> None:
    """Register another site code (admin only), e.g. on a hub that merges several sites."""
    check_site_code(site_code)
    with transaction(db):
        actor = require(db, staff, ("admin",), "add sites")
        if db.conn.execute("SELECT 1 FROM sites WHERE code=?", [site_code]).fetchone():
            raise AlreadyExists(f"site {site_code} exists already")
        db.conn.execute(
            "INSERT INTO sites (code, created_at) VALUES (?, ?)", [site_code, clock.now_iso()]
        )
        audit.append(
            db,
            action="site.added",
            entity="site",
            entity_id=site_code,
            actor=actor.id,
            payload={"site_code": site_code},
        )


def list_sites(db: StudyDb) -> list[str]:
    """Every site code, sorted."""
    return [r["code"] for r in db.conn.execute("SELECT code FROM sites ORDER BY code")]
