"""A record a bundle brings is recorded by exactly one audit entry: a signed bundle whose chain
(re-hashed consistently) holds a second entry recording a withdrawal or a session choice the
bundle carries, with other content, is refused. Checking only that *an* entry matches the row
(the first one found) let the second one in, the hub's audit trail then recording one
withdrawal, or one reviewer's choice, twice with two contents (`verify` names a choice recorded
twice: the merge let in what the hub's own `verify` then refuses)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.storage._audit import entry_hash
from tests.exports.test_bundle_forged import Tables, col, forge, refused
from tests.support.exports import (
    NOW,
    TODAY,
    conflicted_hub,
    do_visit,
    export,
    hub_and_kiosks,
    install,
    merge,
    new_db,
)
from tests.support.merge_modes import merge_mode
from tests.support.storage import coord

__all__ = ["merge_mode"]  # a fixture

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

WITHDRAWN = "RSP-01-040"
CONFLICTED = "RSP-01-030"
SECOND_ID = "0190aaaa-0000-7000-8000-0000000000cc"


Change = Callable[[dict[str, Any], Tables], None]


def recorded_again(action: str, change: Change) -> Callable[[Tables], None]:
    """A bundle edit: a second entry of `action`, recording the entity of the first, appended to
    the chain of the device that wrote the first, its payload (without row images) changed by
    `change(payload, tables)`, the chain's hashes consistent."""

    def edit(tables: Tables) -> None:
        entries = tables["audit_log"]
        first = next(e for e in entries if e[col("audit_log", "action")] == action)
        device = first[col("audit_log", "device_id")]
        chain = sorted(
            (e for e in entries if e[col("audit_log", "device_id")] == device),
            key=lambda e: e[col("audit_log", "seq")],
        )
        last = chain[-1]
        payload = json.loads(first[col("audit_log", "payload")])
        payload.pop("rows_after", None)
        change(payload, tables)
        second = list(first)
        second[col("audit_log", "id")] = SECOND_ID
        second[col("audit_log", "seq")] = last[col("audit_log", "seq")] + 1
        second[col("audit_log", "at")] = last[col("audit_log", "at")]
        second[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
        prev = last[col("audit_log", "hash")]
        second[col("audit_log", "prev_hash")] = prev
        second[col("audit_log", "hash")] = entry_hash(prev, *second[:10])
        entries.append(second)

    return edit


def _recorded_again_refused(
    root: Path,
    source: str,
    bundle: Path,
    action: str,
    change: Change,
    tmp_path: Path,
    *texts: str,
    merged_first: bool = True,
) -> None:
    """A copy of the hub `root / source` (after `bundle` is merged, if `merged_first`): `bundle`
    with a second entry recording the same record (`recorded_again`) is refused, naming
    `texts`, the hub unchanged."""
    hub = tmp_path / "hub.db"
    shutil.copy(root / source, hub)
    if merged_first:
        merge(hub, bundle)
    forged = forge(bundle, root / "site.key", tmp_path / "x.bundle", recorded_again(action, change))
    refused(hub, forged, *texts)


# -- withdrawals ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def withdrawn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Kiosk A registers WITHDRAWN, does M0 and records the withdrawal (bundle `a.1`); the empty
    hub is `hub0.db`."""
    root = tmp_path_factory.mktemp("withdrawn-once")
    with hub_and_kiosks(root) as (hub, a, _, c):
        shutil.copy(hub, root / "hub0.db")
        day0 = TODAY - timedelta(days=100)
        with storage.open_database(a) as db:
            storage.register_subject(db, WITHDRAWN, day0=day0, staff=coord(db))
            do_visit(db, c, WITHDRAWN, "M0", day0, vas=60.0, odi=3, sf36=3)
            c.day(TODAY - timedelta(days=10), minutes=30)
            storage.withdraw_subject(
                db, WITHDRAWN, staff=coord(db), on=TODAY - timedelta(days=10), reason="moved away"
            )
        export(a, root / "a.1")
    yield root


def _other_reason(payload: dict[str, Any], _: Tables) -> None:
    payload["reason"] = "consent withdrawn"


def _other_day(payload: dict[str, Any], _: Tables) -> None:
    payload["withdrawn_on"] = str(TODAY - timedelta(days=20))


@pytest.mark.parametrize("change", [_other_reason, _other_day], ids=["reason", "day"])
def test_a_withdrawal_recorded_by_a_second_entry_is_refused(
    withdrawn: Path, tmp_path: Path, change: Change
) -> None:
    """The kiosk's chain records its withdrawal a second time, with another reason (or day),
    after the first entry that matches the row: refused, naming the second entry."""
    _recorded_again_refused(
        withdrawn,
        "hub0.db",
        withdrawn / "a.1",
        "subject.withdrawn",
        change,
        tmp_path,
        "withdrawal ",
        "recorded by more than one audit entry",
        merged_first=False,
    )


def test_a_withdrawal_the_hub_has_recorded_again_by_a_later_entry_is_refused(
    withdrawn: Path, tmp_path: Path
) -> None:
    """The hub has the withdrawal and its entry; the kiosk's next bundle brings a second entry
    recording it, with another reason: refused, naming that entry."""
    _recorded_again_refused(
        withdrawn,
        "hub0.db",
        withdrawn / "a.1",
        "subject.withdrawn",
        _other_reason,
        tmp_path,
        "records withdrawal ",
        "which another audit entry records already",
    )


# -- session choices ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chosen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A hub where kiosks a and b both did CONFLICTED's M1 and an investigator chose a's
    version (its bundle `hub.bundle`); `other.db`: another hub holding both kiosks' bundles."""
    root = tmp_path_factory.mktemp("chosen-once")
    with hub_and_kiosks(root) as (hub, a, b, c):
        first, _ = conflicted_hub(hub, a, b, c)
        c.at(NOW)
        with storage.open_database(hub) as db:
            storage.resolve_conflict(
                db,
                CONFLICTED,
                "M1",
                first,
                staff=storage.get_staff(db, "inv"),
                reason="the patient answered on kiosk a",
            )
        export(hub, root / "hub.bundle")
        other = root / "other.db"
        new_db(other, device_label="hub 2").close()
        install(other, root / "site.key")
        for bundle in (a.with_suffix(".1"), a.with_suffix(".2"), b.with_suffix(".1")):
            merge(other, bundle)
    yield root


def _other_session(payload: dict[str, Any], tables: Tables) -> None:
    """The choice's entry made to name the visit's other session."""
    chosen = next(r for r in tables["sessions"] if r[0] == payload["session_id"])
    visit = chosen[col("sessions", "visit_id")]
    payload["session_id"] = next(
        r[0] for r in tables["sessions"] if r[col("sessions", "visit_id")] == visit and r != chosen
    )


@pytest.mark.parametrize(
    ("merged_first", "texts"),
    [
        (False, ("session choice ", "recorded by more than one audit entry")),
        (True, ("records session choice ", "which another audit entry records already")),
    ],
    ids=["in one bundle", "the hub has it"],
)
def test_a_choice_recorded_by_a_second_entry_is_refused(
    chosen: Path, tmp_path: Path, merged_first: bool, texts: tuple[str, str]
) -> None:
    """The reviewing hub's chain records its reviewer's choice a second time, naming the
    other session: refused (the merge compared the choice with the first entry only); and
    when the other hub has the choice and its entry already, the next bundle's second entry is
    refused, naming that entry."""
    _recorded_again_refused(
        chosen,
        "other.db",
        chosen / "hub.bundle",
        "conflict.resolved",
        _other_session,
        tmp_path,
        *texts,
        merged_first=merged_first,
    )
