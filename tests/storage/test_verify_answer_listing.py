"""`verify`: every answer row is recorded by exactly one audit entry, once.

Counting the answers the entries list is not enough: a file rewritten so that one entry records
another entry's answer (or one of its own twice) in place of its own, digest fixed and the chain
re-hashed consistently, lists as many answers as the table holds, yet one answer has no entry.
Such a row is named (the answer recorded twice, and by which entry).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import clock, storage
from respine_desktop.storage._answers import digest, select_rows
from tests.storage.test_verify_devices import rechain
from tests.support.storage import TODAY, coord, fixed_clock, full_visit, new_db


@pytest.fixture
def path(tmp_path: Path) -> Iterator[Path]:
    """A submitted M0 whose answers were recorded by three entries (VAS, ODI, SF-36)."""
    fixed_clock()
    file = tmp_path / "study.db"
    answers = full_visit()
    with new_db(file) as db:
        storage.register_subject(db, "RSP-01-001", day0=TODAY, staff=coord(db))
        s = storage.start_session(db, "RSP-01-001", "M0", staff=coord(db))
        for prefix in ("vas_", "odi_", "sf36_"):
            part = {k: v for k, v in answers.items() if k.startswith(prefix)}
            assert part
            storage.record_answers(db, s.id, part, language="en")  # type: ignore[arg-type]
        storage.submit_session(db, s.id)
    yield file
    clock.set_clock(None)


def _answer_rows(path: Path) -> dict[str, Any]:
    with storage.open_database(path, readonly=True) as db:
        return {r.id: r for r in select_rows(db.conn, "", [])}


def _relist(path: Path, pick: Any) -> str:
    """The answer entries' lists rewritten by `pick(k, listed)` (k: the entry's rank among
    them; None: unchanged), digests fixed, the chain re-hashed; the first answer id then
    recorded twice."""
    rows = _answer_rows(path)
    seen: list[str] = []
    rank = iter(range(1000))

    def edit(_seq: int, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if action != "answer.recorded":
            return None
        listed = pick(next(rank), payload["answers"])
        seen.extend(a[0] for a in listed or payload["answers"])
        if listed is None:
            return None
        ids = [a[0] for a in listed]
        return {**payload, "answers": listed, "digest": digest([rows[i] for i in ids])}

    rechain(path, edit)
    twice = [i for n, i in enumerate(seen) if i in seen[:n]]
    assert twice and len(seen) == len(rows), "the edit must keep the count, one answer twice"
    return twice[0]


def _vas_in_place_of_first_odi(vas: list[Any]) -> Any:
    """A `pick` for `_relist`: the ODI entry (the second) records the VAS answer (kept in
    `vas`) in place of its first answer."""

    def pick(k: int, listed: list[Any]) -> list[Any] | None:
        if k == 0:
            vas.extend(listed)
            return None
        return [vas[0], *listed[1:]] if k == 1 else None

    return pick


def test_an_answer_recorded_by_two_entries_is_named(path: Path) -> None:
    """The ODI entry records the VAS answer in place of its first ODI answer: as many answers
    listed as stored, the VAS answer twice, the first ODI answer by none."""
    before = storage.verify_database(path)
    assert before.ok, before.message
    vas: list[Any] = []
    pick = _vas_in_place_of_first_odi(vas)
    twice = _relist(path, pick)
    assert twice == vas[0][0]
    result = storage.verify_database(path)
    assert not result.ok
    assert f"table answers row {twice} (vas_pain)" in result.message, result.message
    assert "recorded again by audit entry #" in result.message, result.message
    assert "\n" not in result.message


def test_an_answer_recorded_twice_by_one_entry_is_named(path: Path) -> None:
    """The ODI entry records its first answer again in place of its last one."""

    def pick(k: int, listed: list[Any]) -> list[Any] | None:
        return [*listed[:-1], listed[0]] if k == 1 else None

    twice = _relist(path, pick)
    result = storage.verify_database(path)
    assert not result.ok
    assert f"table answers row {twice} (odi_01)" in result.message, result.message
    assert "recorded again by audit entry #" in result.message, result.message


@pytest.mark.parametrize("rowid", [10**12, -7], ids=["sparse", "negative"])
def test_an_answer_recorded_twice_is_named_whatever_its_rowid(path: Path, rowid: int) -> None:
    """The rows are told apart by rowid (a byte each up to the largest): a row moved far
    beyond the others, or below zero, is followed in a set instead."""
    vas: list[Any] = []
    pick = _vas_in_place_of_first_odi(vas)
    twice = _relist(path, pick)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER answers_no_update")
        conn.execute("UPDATE answers SET rowid=? WHERE id=?", [rowid, twice])
    finally:
        conn.close()
    result = storage.verify_database(path)
    assert not result.ok
    assert f"table answers row {twice} (vas_pain): recorded again by" in result.message, (
        result.message
    )
