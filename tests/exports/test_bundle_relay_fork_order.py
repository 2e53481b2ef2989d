"""A fork relayed with ``--since``: the receiving hub takes the row the source hub takes.

Kiosk a's sitting, parked before odi_02, reaches kiosk b through the hub; both kiosks resume
it and answer odi_02 (two first answers: a fork). The hub merges the two kiosks' bundles, the
one of the device whose id sorts first last: that device's row, the last written, counts
there. The hub's bundle cut with ``--since`` (after the sitting reached kiosk b) brings both
rows to another hub that had the sitting: it must write them in the source hub's order, so
that both hubs take the same row (a bundle listing the answers device chain by device chain,
by device id, wrote them the other way round and made the other row count).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from respine_desktop import storage
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS, bundle_rows
from tests.exports.test_bundle_answer_fork import parked_before_odi_02
from tests.support.exports import (
    TODAY,
    Clock,
    export,
    hub_and_kiosks,
    install,
    merge,
    new_db,
)
from tests.support.storage import coord

CODE = "RSP-01-041"
ID = BUNDLE_COLUMNS["answers"].index("id")


class Relayed(NamedTuple):
    source: Path
    receiver: Path
    session: str
    since_bundle: Path
    cut: str


def sitting_on_the_hub(root: Path, hub: Path, a: Path, b: Path, c: Clock) -> str:
    """Kiosk b's chain so far merged into the hub; `CODE` registered on kiosk a, its M0 sitting
    parked before odi_02 (`parked_before_odi_02`) and merged into the hub: the session."""
    export(b, root / "b.1")
    merge(hub, root / "b.1")
    with storage.open_database(a) as db:
        storage.register_subject(db, CODE, day0=TODAY, staff=coord(db))
        session = parked_before_odi_02(db, c, CODE)
    export(a, root / "a.1")
    merge(hub, root / "a.1")
    return session


def _answer_odi_02(path: Path, session: str, code: int) -> str:
    with storage.open_database(path) as db:
        storage.resume_session(db, session, staff=coord(db))
        row = storage.record_answer(db, session, "odi_02", code, language="en").id
        storage.park_session(db, session, position=3, staff=coord(db))
    return row


def _device(path: Path) -> str:
    with storage.open_database(path, readonly=True) as db:
        return db.device_id


@pytest.fixture(scope="module")
def relayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relayed]:
    root = tmp_path_factory.mktemp("relay-fork")
    with hub_and_kiosks(root) as (hub, a, b, c):
        session = sitting_on_the_hub(root, hub, a, b, c)  # (kiosk b's chain in hub.1 too)
        c.day(TODAY, minutes=30)
        cut = export(hub, root / "hub.1").created_at
        merge(b, root / "hub.1")
        receiver = root / "receiver.db"  # another hub that had the sitting
        new_db(receiver, device_label="receiver").close()
        install(receiver, root / "site.key")
        merge(receiver, root / "hub.1")
        c.day(TODAY, minutes=60)
        _answer_odi_02(a, session, 1)
        c.day(TODAY, minutes=70)
        _answer_odi_02(b, session, 4)
        export(a, root / "a.2")
        export(b, root / "b.2")
        # the device whose id sorts first is merged last: its row, the last written, counts
        first, second = sorted([(_device(a), "a.2"), (_device(b), "b.2")])
        merge(hub, root / second[1])
        summary = merge(hub, root / first[1])
        assert any("answered first by 2 rows" in m for m in summary.result.mismatches)
        c.day(TODAY, minutes=90)
        export(hub, root / "hub.2", since=cut)
        yield Relayed(hub, receiver, session, root / "hub.2", cut)


def test_the_receiving_hub_takes_the_row_the_source_hub_takes(
    relayed: Relayed, tmp_path: Path
) -> None:
    receiver = tmp_path / "receiver.db"
    shutil.copy(relayed.receiver, receiver)
    summary = merge(receiver, relayed.since_bundle)
    assert any("answered first by 2 rows" in m for m in summary.result.mismatches)
    with storage.open_database(relayed.source, readonly=True) as db:
        source = storage.current_answers(db, relayed.session)["odi_02"]
    with storage.open_database(receiver, readonly=True) as db:
        received = storage.current_answers(db, relayed.session)["odi_02"]
    assert (received.id, received.value) == (source.id, source.value)
    result = storage.verify_database(receiver)
    assert result.ok, result.message


def test_the_since_bundle_lists_the_answers_in_the_source_hubs_written_order(
    relayed: Relayed,
) -> None:
    with storage.open_database(relayed.source, readonly=True) as db:
        written = [r[0] for r in db.conn.execute("SELECT id FROM answers ORDER BY rowid")]
        listed = [r[ID] for r in bundle_rows(db, "answers", relayed.cut)]
    assert len(listed) >= 2, "the cut lists the fork's rows"
    assert listed == [i for i in written if i in set(listed)]
