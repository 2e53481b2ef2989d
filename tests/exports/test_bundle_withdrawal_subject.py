"""A withdrawal is the withdrawal of the subject its ``subject.withdrawn`` entry names.

The merge and `verify` compared a withdrawal row with its entry by device, staff, day and
reason, never by subject: a signed bundle (or a file rewritten consistently: the row and its
image, the chain re-hashed) whose row withdrew another patient than the one its entry names was
imported (and verified): that patient was withdrawn (visits shown "withdrawn", exports and
reports), while the audit history showed the other one withdrawn. The row's subject must be the
entry's, when the entry names a subject here (a relay's entry of a kiosk whose subject another
database matched by code names an id known nowhere here).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.storage._audit import entry_hash
from tests.exports.test_bundle_forged import Tables, col, forge, refused
from tests.storage.test_verify_devices import one, rewrite
from tests.support.exports import TODAY, export, hub_and_kiosks, merge
from tests.support.merge_modes import merge_mode
from tests.support.storage import coord

__all__ = ["merge_mode"]  # a fixture

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

WITHDRAWN, STAYING = "RSP-01-050", "RSP-01-051"
DAY0 = TODAY - timedelta(days=100)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Kiosk a registers two subjects and withdraws the first (`a.db`, its bundle `a.1`); the
    empty hub `hub0.db`."""
    root = tmp_path_factory.mktemp("withdrawal-subject")
    with hub_and_kiosks(root) as (hub, a, _b, c):
        shutil.copy(hub, root / "hub0.db")
        with storage.open_database(a) as db:
            for code in (WITHDRAWN, STAYING):
                storage.register_subject(db, code, day0=DAY0, staff=coord(db))
            c.day(TODAY, minutes=30)
            storage.withdraw_subject(db, WITHDRAWN, staff=coord(db), on=TODAY, reason="moved")
        export(a, root / "a.1")
        shutil.copy(a, root / "a0.db")
    yield root


@pytest.fixture
def hub0(site: Path, tmp_path: Path) -> Path:
    shutil.copy(site / "hub0.db", tmp_path / "hub.db")
    return tmp_path / "hub.db"


def _subject(tables: Tables, code: str) -> str:
    return str(next(r[0] for r in tables["subjects"] if r[col("subjects", "code")] == code))


def _rehash(tables: Tables) -> None:
    prev = "0" * 64
    for entry in sorted(tables["audit_log"], key=lambda e: e[col("audit_log", "seq")]):
        entry[col("audit_log", "prev_hash")] = prev
        entry[col("audit_log", "hash")] = prev = entry_hash(prev, *entry[:10])


def _row_of_the_other_subject(tables: Tables) -> None:
    """The row (and its image in the entry) withdraws STAYING; the entry still names WITHDRAWN."""
    other = _subject(tables, STAYING)
    (row,) = tables["withdrawals"]
    row[col("withdrawals", "subject_id")] = other
    for entry in tables["audit_log"]:
        payload = json.loads(entry[col("audit_log", "payload")])
        image = (payload.get("rows_after") or {}).get("withdrawals")
        if image is not None:
            where = image["columns"].index("subject_id")
            for values in image["values"]:
                values[where] = other
            entry[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
    _rehash(tables)


def _entry_of_the_other_subject(tables: Tables) -> None:
    """The entry names STAYING (its subject's history shows the withdrawal); the row is
    WITHDRAWN's."""
    other = _subject(tables, STAYING)
    for entry in tables["audit_log"]:
        if entry[col("audit_log", "action")] == "subject.withdrawn":
            entry[col("audit_log", "subject_id")] = other
    _rehash(tables)


@pytest.mark.parametrize(
    "edit",
    [_row_of_the_other_subject, _entry_of_the_other_subject],
    ids=["row", "entry"],
)
def test_a_withdrawal_of_another_subject_than_its_entry_names_is_refused(
    site: Path, hub0: Path, tmp_path: Path, edit: object
) -> None:
    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)  # type: ignore[arg-type]
    refused(hub0, forged, "bundle withdrawals row ", "field subject_id", "records the withdrawal")


def test_the_true_bundle_imports_and_verifies(site: Path, hub0: Path) -> None:
    merge(hub0, site / "a.1")
    with storage.open_database(hub0, readonly=True) as db:
        assert storage.get_withdrawal(db, WITHDRAWN) is not None
        assert storage.get_withdrawal(db, STAYING) is None
    result = storage.verify_database(hub0)
    assert result.ok, result.message


def test_verify_names_a_withdrawal_moved_to_another_subject(site: Path, tmp_path: Path) -> None:
    """The kiosk's file rewritten: the row and its image withdraw STAYING, chain re-hashed."""
    path = tmp_path / "a.db"
    shutil.copy(site / "a0.db", path)
    withdrawal = one(path, "SELECT id FROM withdrawals")
    other = one(path, f"SELECT id FROM subjects WHERE code='{STAYING}'")
    rewrite(path, "withdrawals", withdrawal, "subject_id", other)
    result = storage.verify_database(path)
    assert not result.ok
    assert f"table withdrawals row {withdrawal}: column subject_id is '{other}'" in (
        result.message
    ), result.message
    assert "recorded the withdrawal of subject" in result.message, result.message
