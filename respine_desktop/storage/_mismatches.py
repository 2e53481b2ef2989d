"""Mismatches between kiosks flagged by bundle imports, read back for review in the console.

A hub merging a bundle keeps its own copy where the bundle truly disagrees (a day 0 that differs
for one subject code, a visit complete on one kiosk and missed on the other, two dates of one
complete visit) and writes a ``bundle.mismatch`` audit entry (`bundle_merge`); it flags so too
an answer replaced on two devices (a fork, field ``superseded_by``: both rows kept, the last
written counts). `list_mismatches`
reads those entries back, newest first: the subject, what differs, the hub's and the bundle's
values, the kiosk that sent the bundle and when it was flagged. Entries written before the merge
recorded the field and both values are read from their text (the merge's own wording).
Nothing is written here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from respine_desktop.storage._database import StudyDb
from respine_desktop.storage.stored_values import stored_payload

MISMATCH_ACTION = "bundle.mismatch"
_DAY0 = re.compile(r"^subject .+: day 0 (?P<hub>\S+) on the hub, (?P<bundle>\S+) in the bundle")
_VISIT = re.compile(
    r"^visit (?P<visit>\S+) \([^)]*\): (?P<field>\w+): hub (?P<hub>.*), bundle (?P<bundle>.*)$"
)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One flagged disagreement: `field` is ``day0``, ``state``, ``date`` or ``superseded_by``
    (a fork: the hub's and the bundle's rows that replaced one answer)."""

    entry_id: str
    flagged_at: str
    subject_code: str | None
    visit_code: str | None
    field: str
    hub_value: str
    bundle_value: str
    device_id: str
    device_label: str | None
    text: str


def _detail(payload: dict[str, object]) -> tuple[str | None, str, str, str]:
    """visit code, field, hub value, bundle value (from the payload, else from its text)."""
    text = str(payload.get("mismatch", ""))
    if "field" in payload:
        visit = payload.get("visit_code")
        return (
            str(visit) if visit is not None else None,
            str(payload["field"]),
            str(payload.get("hub", "")),
            str(payload.get("bundle", "")),
        )
    if (m := _DAY0.match(text)) is not None:
        return None, "day0", m["hub"], m["bundle"]
    if (m := _VISIT.match(text)) is not None:
        return m["visit"], m["field"], m["hub"], m["bundle"]
    return None, "other", "", ""


def list_mismatches(db: StudyDb) -> list[Mismatch]:
    """Every ``bundle.mismatch`` entry, newest first (by audit order)."""
    labels = {r["id"]: r["label"] for r in db.conn.execute("SELECT id, label FROM devices")}
    codes = {r["id"]: r["code"] for r in db.conn.execute("SELECT id, code FROM subjects")}
    found: list[Mismatch] = []
    for row in db.conn.execute(
        "SELECT id, at, subject_id, entity_id, payload FROM audit_log WHERE action=? "
        "ORDER BY rowid DESC",
        [MISMATCH_ACTION],
    ):
        payload = stored_payload(row["id"], row["payload"])
        visit, field, hub, bundle = _detail(payload)
        device = str(row["entity_id"] or "").rsplit(":", 1)[-1]
        found.append(
            Mismatch(
                entry_id=row["id"],
                flagged_at=row["at"],
                subject_code=codes.get(row["subject_id"]),
                visit_code=visit,
                field=field,
                hub_value=hub,
                bundle_value=bundle,
                device_id=device,
                device_label=labels.get(device),
                text=str(payload.get("mismatch", "")),
            )
        )
    return found
