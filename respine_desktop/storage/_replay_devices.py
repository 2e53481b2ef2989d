"""`verify`'s replay of the other devices' chains: what each kiosk's chain says, held by this file.

A hub holds, beside its own chain, a copy of every kiosk's chain (and a kiosk that received a
hub's bundle holds the hub's and the other kiosks'). The database's own replay (`_replay`)
rebuilds the tables from its own chain, whose ``bundle.imported`` entries carry every row a
merge wrote; a row edited behind the app's back *and* its image rewritten consistently in the
file's own chain passes that replay. This module catches it with the chain of the device that
wrote the row, which the file cannot rewrite without breaking that chain (or the heads recorded
outside the file).

**Which images.** Each other device's chain is replayed in seq order, keeping per row its last
image, from the entries of that device's *own* changes only: the entries of an import on that
device (a ``bundle.imported`` entry and the ``rows.changed`` / ``bundle.mismatch`` /
``bundle.conflict`` entries of its transaction, which precede it) describe that device's copy of
someone else's rows and are skipped. Tables replayed: ``sites``, ``devices``, ``staff``,
``subjects``, ``visits``, ``sessions``, ``session_choices``, ``scores``, ``withdrawals`` (what a
bundle carries; ``settings``, calibrations and signatures never leave their device).

**The rule** (what a merge may legitimately change, `_merge_rules`, `bundle_merge`,
`_merge_withdrawals`): each row the device's chain images must be in this file and be the image,
or a state the merge may reach from it:

- ``sites``: the code is present (each database records when it first knew a site).
- ``devices``, ``session_choices``, ``subjects`` held under the same id: every column equal
  (a choice's visit may be the visit its session belongs to here: a subject matched by code).
- ``staff``: role, creation time and creator equal; the username the image's, or the one the
  merge gives an imported account (``<username>@<site>.<hex>``, ``.<n>`` on a collision): it
  starts with the image's (or the image's is that rename of this one: the device changed its
  imported copy locally); ``active`` (imported accounts are disabled), the PIN hash's digest
  (an imported account has no PIN here) and login counters aside.
- ``subjects`` held under another id (the same code registered on two kiosks): the subject with
  that code; its day 0 equal, or the difference flagged (a ``bundle.mismatch`` entry, any chain).
- ``visits`` (found by id, or by the subject here and the visit code): merging the image into
  this file's row changes nothing (`merged_visit`: the row is as far as the image, or further:
  ``parked -> in_progress -> complete / missed``), or the disagreement (complete vs missed, two
  dates) is flagged by a ``bundle.mismatch`` entry for that visit.
- ``sessions``: `session_outcome` of the image over this file's row is *unchanged*: same visit
  (mapped), subject, code, start and starter; a submitted session equal in every column; an open
  one may have moved on here (resumed on another device, submitted).
- ``scores``: `score_outcome` *unchanged*: the content equal; the row may have been superseded
  here since (a correction on the hub), never the reverse.
- ``withdrawals``: the same row (its subject mapped), or the subject here has its own withdrawal
  (two kiosks recorded one: the hub's kept), of the same day and reason or the difference
  flagged (``bundle.mismatch``, as the merge flags it): another withdrawal put in the row's
  place, unflagged, is named.
- A row this file lacks altogether (for a withdrawal: its subject has none here either, or
  another of a different day or reason, which the merge flags only when it saw the kiosk's) is
  missing, an error, when the bundle that brought the device's entry carried the member; the
  member may genuinely not have been there for ``withdrawals`` only. Row images came with a
  version whose bundles did not carry withdrawals yet (the optional member came later, in
  formats 2 and 3, and the merge still accepts a bundle without it); ``session_choices`` came
  with format 2, before row images, so every bundle that carries an image of a choice carries
  the choices (check 5 of `_verify` names a missing one first, from its ``conflict.resolved``
  entry). A withdrawal's bundle carried the member when (`_Carried`; 1 and 2 are read from the
  device's own chain, so a rewrite of this file's chain cannot hide them):

  1. the device's ``subject.withdrawn`` entry says ``in_bundles`` (`_withdrawal.IN_BUNDLES`):
     the version that wrote it puts withdrawals in every bundle, and a relay that imported such
     a bundle runs a version that does too (an older one refuses the member);
  2. the device's own chain holds a ``bundle.imported`` entry whose ``tables`` name
     ``withdrawals``: its version then carried the member, so the bundle that brought that entry
     here, and any that brought a later one, carried all of the device's withdrawals;
  3. a ``bundle.imported`` entry of any chain here (this file's own included) records a bundle
     of that device that had withdrawal rows and carried its chain to the withdrawal's entry or
     past it (a device's bundle holds all of its withdrawals).

  Otherwise the row is counted and shown in the summary ("not carried by their bundles"), not
  failed. A row the file holds is compared as above.

A change made later on another device (a hub-side correction, a conflict choice, a session
resumed on the hub) is audited in that device's chain and takes one of the steps above: scores
superseded, new choice rows, sessions and visits moving forward. A ``bundle.mismatch`` entry
(any chain) is the only way a row may disagree with its writer's chain, and it is itself audited.
IDs map as the merge maps them: a subject by id, else by the code of the device's image of it,
else by the ``subject_map`` of a ``bundle.imported`` entry; a visit by id, else by (subject,
visit code).

**What a device's chain cannot settle** (the file's own chain and the anchors outside the file
still do): what the merge rules leave to the hub (an imported account's ``active``, a missed
visit's reason once the hub had it final, a session the image shows open whose copy here went
further, a site's creation time); a row the hub itself changed last; a withdrawal whose entry
predates ``in_bundles``, of a device that imported nothing since, when only this file's own
import entries said the member came. A
``rows.changed`` entry of a local change written just before an import's entries on that device
is taken for part of the import and skipped (coverage lost, never a false alarm).

**Speed.** As `_replay`: only a 64-bit hash of each last image is kept; a row equal to its
image (its `row_images.DIGESTED` columns digested as the images hold them) is settled by the
hash while the tables are scanned once; a row that differs (few: staff
renamed, visits moved on, scores superseded) is decided by the rule above, its image read again
from its entry.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from respine_desktop import json_text
from respine_desktop.storage import _row_images as row_images
from respine_desktop.storage._audit import BUNDLE_IMPORTED
from respine_desktop.storage._bundle_rows import ScoreLine, SessionLine, VisitLine
from respine_desktop.storage._database import plain_rows
from respine_desktop.storage._merge_rules import (
    first_difference,
    merged_visit,
    score_outcome,
    session_outcome,
)
from respine_desktop.storage._merge_withdrawals import agrees, withdrawal_of
from respine_desktop.storage._replay import (
    _ABSENT,
    _MARK,
    _OLD_PAYLOADS,
    UNREADABLE,
    Replay,
    ReplayMismatch,
    _short,
    row_image,
    unreadable,
)
from respine_desktop.storage._withdrawal import IN_BUNDLES

__all__ = ["FOREIGN_TABLES", "DeviceReplay"]

# the tables a bundle carries (the other tracked ones never leave their device)
FOREIGN_TABLES = (
    "sites",
    "devices",
    "staff",
    "subjects",
    "visits",
    "sessions",
    "session_choices",
    "scores",
    "withdrawals",
)
# the entries of an import's transaction on a device, before its ``bundle.imported`` entry
_IMPORT_RUN = frozenset({"rows.changed", "bundle.mismatch", "bundle.conflict"})
_MISMATCH = "bundle.mismatch"
_STAFF_SAME = ("role", "created_at", "created_by")
_VISIT_STATE = ("state", "actual_date", "missed_reason")
_CACHE = 64
# the member a bundle may lack while carrying the entries that image its rows (`bundle_merge`,
# `exports.bundle`): a row missing here may never have come, unless `_Carried` says it did
OPTIONAL = frozenset({"withdrawals"})

Held = tuple[int, str, str | None, str]
# what breaks the rule: (column, this file's value, the image's[, this file's key of the row]),
# or a sentence; None: nothing
Problem = tuple[str, Any, Any] | tuple[str, Any, Any, str] | str | None


class DeviceReplay:
    """Fed every other device's entries in (device, seq) order (`feed`), then `compare`d."""

    def __init__(self, conn: sqlite3.Connection, own_device: str) -> None:
        self.conn = conn
        self.own_device = own_device
        self.replays: dict[str, Replay] = {}
        self._held: dict[str, list[Held]] = {}
        self._payloads: dict[tuple[str, int], dict[str, Any]] = {}
        self._subjects: dict[str, str | None] = {}
        self._subject_images: dict[str, tuple[str, int]] = {}  # device's subject id -> (dev, seq)
        self._subject_map: dict[str, str] | None = None
        self._flags: set[tuple[str, str]] | None = None
        self._carried: dict[str, _Carried] = {}
        self.compared = 0
        self.not_carried: dict[str, int] = {}

    def feed(
        self,
        device: str,
        seq: int,
        action: str,
        entity_id: str | None,
        payload: str,
        parsed: Mapping[str, Any] | None = None,
    ) -> None:
        """One entry of another device's chain (in seq order within each device); `parsed`:
        its payload already decoded, if it was."""
        if action in _IMPORT_RUN:
            if _MARK in payload:  # held until we know whether an import's entry follows
                self._held.setdefault(device, []).append((seq, action, entity_id, payload))
            return
        held = self._held.pop(device, [])
        if action == BUNDLE_IMPORTED:
            return  # the import's rows: that device's copy of others' rows
        if _MARK not in payload and action not in _OLD_PAYLOADS and not held:
            return
        replay = self._replay(device)
        for entry in held:
            replay.feed(*entry)
        replay.feed(seq, action, entity_id, payload, parsed)

    def _replay(self, device: str) -> Replay:
        found = self.replays.get(device)
        if found is None:
            found = self.replays[device] = Replay(self.conn, device)
        return found

    def finish(self) -> None:
        """The chains are all fed: entries held at a chain's end were no import's."""
        for device, held in sorted(self._held.items()):
            replay = self._replay(device)
            for entry in held:
                replay.feed(*entry)
        self._held.clear()

    def summary(self) -> str:
        text = (
            f"{self.compared} rows written by {len(self.replays)} other device(s) agree with "
            "their chains"
        )
        gaps = [f"{table} {n}" for table, n in self.not_carried.items() if n]
        if gaps:
            text += "; rows of optional members not carried by their bundles: " + ", ".join(gaps)
        return text

    # -- comparing ---------------------------------------------------------------------------

    def compare(self) -> None:
        """Every row another device's chain images against this file (`ReplayMismatch` at the
        first that breaks the rule of the module docstring)."""
        self.finish()
        for replay in self.replays.values():
            replay.raise_rewritten()
        for device, replay in self.replays.items():
            for key, (colset, _, seq) in replay.state["subjects"].items():
                if colset >= 0:
                    self._subject_images.setdefault(key, (device, seq))
        for table in FOREIGN_TABLES:
            columns = row_images.evidence_columns(self.conn, table)
            wanted = [
                (device, replay)
                for device, replay in self.replays.items()
                if replay.state.get(table)
            ]
            if not columns or not wanted:
                continue
            # per device: its state of the table and the projection of a row on each colset
            scans = [
                (
                    device,
                    replay.state[table],
                    [Replay._projection(columns, c) for c in replay.colsets],
                )
                for device, replay in wanted
            ]
            sql = f"SELECT {', '.join(columns)} FROM main.{table} ORDER BY rowid"
            digested = table in row_images.DIGESTED
            for row in plain_rows(self.conn, sql):
                if digested:  # as the images hold it
                    row = tuple(row_images.image_values(table, row, columns))
                key = str(row[0])
                for device, state, projections in scans:
                    want = state.pop(key, None)
                    if want is None or want[0] < 0:
                        continue
                    colset, digest, seq = want
                    index = projections[colset]
                    if index is None:
                        values = row
                    else:
                        padded = (*row, _ABSENT)  # a column gone from the table
                        values = tuple(padded[i] for i in index)
                    if hash(values) != digest:
                        self._check(table, device, seq, key, dict(zip(columns, row, strict=True)))
                    self.compared += 1
            for device, replay in wanted:
                for key, (colset, _, seq) in replay.state[table].items():
                    if colset < 0:
                        continue
                    if (
                        table in OPTIONAL
                        and self._uncompared(table, device, seq, key)
                        and not self._was_carried(table, device, seq)
                    ):
                        self.not_carried[table] = self.not_carried.get(table, 0) + 1
                        continue
                    self._check(table, device, seq, key, None)
                    self.compared += 1

    def _uncompared(self, table: str, device: str, seq: int, key: str) -> bool:
        """Whether a withdrawal is absent altogether (its subject has none here either), or its
        subject has another here (another day or reason): a merge compares the two, and flags
        their difference, only when its bundle carried the member."""
        image = self._image(device, seq, table, key)
        here = withdrawal_of(self.conn, self.subject_here(str(image["subject_id"])))
        # (a column an image lacks, written by no version, reads as None: compared, named)
        return here is None or not agrees(here, image)

    def _was_carried(self, table: str, device: str, seq: int) -> bool:
        """Whether the bundle that brought entry `seq` of `device` carried `table`'s member
        (the evidence of the module docstring)."""
        if self._payload(device, seq).get(IN_BUNDLES) is True:
            return True
        if table not in self._carried:
            self._carried[table] = _Carried(self.conn, table)
        return self._carried[table].proven(device, seq)

    def _check(
        self, table: str, device: str, seq: int, key: str, row: dict[str, Any] | None
    ) -> None:
        image = self._image(device, seq, table, key)
        problem = getattr(self, f"_rule_{table}")(image, row)
        if problem is not None:
            where = f"audit entry #{seq} of device {device}"
            if isinstance(problem, tuple):
                column, mine, theirs, *held_as = problem
                name = key
                if held_as and held_as[0] != key:  # a row the merge gave another id here
                    name = f"{held_as[0]} (row {key} of device {device})"
                raise ReplayMismatch(
                    f"table {table} row {name}: column {column} is {_short(mine)}, {where} "
                    f"recorded {_short(theirs)}"
                )
            raise ReplayMismatch(f"table {table} row {key}: {problem} ({where})")

    def _image(self, device: str, seq: int, table: str, key: str) -> dict[str, Any]:
        """The image of row `key` of `table` in entry `seq` of `device`, by column
        (`ReplayMismatch` naming the entry if it cannot be read)."""
        payload = self._payload(device, seq)
        try:
            return row_image(payload, payload["\0action"], payload["\0entity"], table, key)
        except UNREADABLE as exc:
            entry = f"audit entry #{seq} of device {device}"
            raise ReplayMismatch(unreadable(entry, table, key, exc)) from None

    def _payload(self, device: str, seq: int) -> dict[str, Any]:
        """Entry `seq` of `device`'s payload (its action and entity id under ``\0`` keys)."""
        payload = self._payloads.get((device, seq))
        if payload is None:
            found = self.conn.execute(
                "SELECT action, entity_id, payload FROM audit_log WHERE device_id=? AND seq=?",
                [device, seq],
            ).fetchone()
            payload = json_text.loads(found[2])
            payload["\0action"], payload["\0entity"] = found[0], found[1]
            if len(self._payloads) >= _CACHE:
                self._payloads.clear()
            self._payloads[(device, seq)] = payload
        return payload

    # -- ids as the merge maps them ----------------------------------------------------------

    def _one(self, sql: str, params: list[Any]) -> tuple[Any, ...] | None:
        found: tuple[Any, ...] | None = plain_rows(self.conn, sql, params).fetchone()
        return found

    def subject_here(self, subject_id: str) -> str | None:
        """This file's id of a subject another device knows as `subject_id` (None: absent)."""
        if subject_id in self._subjects:
            return self._subjects[subject_id]
        found: str | None = None
        if self._one("SELECT id FROM subjects WHERE id=?", [subject_id]) is not None:
            found = subject_id
        else:
            imaged = self._subject_images.get(subject_id)
            if imaged is not None:
                code = self._image(*imaged, "subjects", subject_id).get("code")
                row = self._one("SELECT id FROM subjects WHERE code=?", [code])
                found = None if row is None else str(row[0])
            if found is None:
                found = self._mapped().get(subject_id)
        self._subjects[subject_id] = found
        return found

    def _mapped(self) -> dict[str, str]:
        """Every import's ``subject_map`` (another device's subject id -> this file's)."""
        if self._subject_map is None:
            self._subject_map = {}
            for (text,) in plain_rows(
                self.conn,
                "SELECT payload FROM audit_log WHERE action=? AND instr(payload, "
                "'\"subject_map\"') > 0 ORDER BY rowid",
                [BUNDLE_IMPORTED],
            ):
                mapping = json_text.loads(text).get("subject_map") or {}
                self._subject_map.update({str(k): str(v) for k, v in mapping.items()})
        return self._subject_map

    def _visit_here(self, subject_id: str, visit_code: str) -> dict[str, Any] | None:
        here = self.subject_here(subject_id)
        if here is None:
            return None
        columns = VisitLine._fields
        row = self._one(
            f"SELECT {', '.join(columns)} FROM visits WHERE subject_id=? AND visit_code=?",
            [here, visit_code],
        )
        return None if row is None else dict(zip(columns, row, strict=True))

    def flagged(self, table: str, record: str) -> bool:
        """Whether a ``bundle.mismatch`` entry (any chain) flagged this record."""
        if self._flags is None:
            self._flags = set()
            for (text,) in plain_rows(
                self.conn, "SELECT payload FROM audit_log WHERE action=?", [_MISMATCH]
            ):
                p = json_text.loads(text)
                self._flags.add((str(p.get("table")), str(p.get("record"))))
        return (table, record) in self._flags

    # -- the rule, per table (None: the row is what the merge may make of the image) ---------

    @staticmethod
    def _equal(image: Mapping[str, Any], row: Mapping[str, Any]) -> Problem:
        for column, value in image.items():
            if column in row and row[column] != value:
                return column, row[column], value
        return None

    def _rule_sites(self, image: dict[str, Any], row: dict[str, Any] | None) -> Problem:
        return "missing" if row is None else None

    def _rule_devices(self, image: dict[str, Any], row: dict[str, Any] | None) -> Problem:
        return "missing" if row is None else self._equal(image, row)

    def _rule_staff(self, image: dict[str, Any], row: dict[str, Any] | None) -> Problem:
        if row is None:
            return "missing"
        found = self._equal({c: image[c] for c in _STAFF_SAME if c in image}, row)
        mine, theirs = str(row["username"]), str(image["username"])
        # renamed by the merge here, or the device's own copy was a rename of this account's
        if found is None and not (mine.startswith(theirs) or theirs.startswith(mine + "@")):
            return "username", row["username"], image["username"]
        return found

    def _rule_subjects(self, image: dict[str, Any], row: dict[str, Any] | None) -> Problem:
        if row is not None:
            return self._equal(image, row)
        code = image.get("code")
        found = self._one("SELECT id, day0 FROM subjects WHERE code=?", [code])
        if found is None:
            return "missing (no subject with its id or its code)"
        if found[1] != image.get("day0") and not self.flagged("subjects", str(code)):
            return (
                f"subject {code} is held as {found[0]}, whose column day0 is "
                f"{_short(found[1])}, but the chain recorded {_short(image.get('day0'))} "
                "and no mismatch was flagged"
            )
        return None

    def _rule_visits(self, image: dict[str, Any], row: dict[str, Any] | None) -> Problem:
        here = self._visit_here(str(image["subject_id"]), str(image["visit_code"]))
        if here is None:
            return "missing (no visit with its id, nor of its subject and visit code)"
        if row is not None and row["id"] != here["id"]:  # the row of that id is another visit
            moved = "visit_code" if row["visit_code"] != image["visit_code"] else "subject_id"
            return moved, row[moved], image[moved]
        mine = VisitLine(**here)
        theirs = VisitLine(**{c: image.get(c, here[c]) for c in VisitLine._fields})
        merged, mismatch = merged_visit(
            mine, theirs._replace(id=mine.id, subject_id=mine.subject_id)
        )
        if mismatch is not None:
            if self.flagged("visits", str(here["id"])):
                return None
            name = "actual_date" if mismatch.startswith("date") else "state"
            return name, here[name], image.get(name), here["id"]
        column = first_difference(
            _VISIT_STATE,
            [here[c] for c in _VISIT_STATE],
            [getattr(merged, c) for c in _VISIT_STATE],
        )
        if column is not None:  # this file's visit is behind what its writer recorded
            return column, here[column], image.get(column), here["id"]
        return None

    def _rule_sessions(self, image: dict[str, Any], row: dict[str, Any] | None) -> Problem:
        if row is None:
            return "missing"
        mine = SessionLine(**{c: row[c] for c in SessionLine._fields if c in row}, position=0)
        visit = self._visit_here(str(image["subject_id"]), str(image["visit_code"]))
        subject = self.subject_here(str(image["subject_id"]))
        theirs = SessionLine(
            **{
                **{c: image.get(c, row.get(c)) for c in SessionLine._fields},
                "position": 0,
                "subject_id": subject if subject is not None else image["subject_id"],
                "visit_id": visit["id"] if visit is not None else image["visit_id"],
            }
        )
        outcome, column = session_outcome(mine._replace(position=0), theirs)
        if outcome == "unchanged":
            return None
        if column is None:  # this file's session is behind what its writer recorded
            column = first_difference(SessionLine._fields, mine, theirs)
        assert column is not None
        return column, getattr(mine, column), image.get(column)

    def _rule_session_choices(self, image: dict[str, Any], row: dict[str, Any] | None) -> Problem:
        if row is None:
            return "missing"
        if row["visit_id"] != image["visit_id"]:
            session = self._one("SELECT visit_id FROM sessions WHERE id=?", [row["session_id"]])
            known = self._one("SELECT 1 FROM visits WHERE id=?", [image["visit_id"]])
            if known is not None or session is None or session[0] != row["visit_id"]:
                return "visit_id", row["visit_id"], image["visit_id"]
        return self._equal({c: v for c, v in image.items() if c != "visit_id"}, row)

    def _rule_scores(self, image: dict[str, Any], row: dict[str, Any] | None) -> Problem:
        if row is None:
            return "missing"
        mine = ScoreLine(**{c: row[c] for c in ScoreLine._fields})
        theirs = ScoreLine(**{c: image.get(c, row[c]) for c in ScoreLine._fields})
        outcome, column = score_outcome(mine, theirs)
        if outcome == "unchanged":
            return None
        column = column or "superseded_at"  # this file's row is not superseded, its writer's is
        return column, getattr(mine, column), getattr(theirs, column)

    def _rule_withdrawals(self, image: dict[str, Any], row: dict[str, Any] | None) -> Problem:
        subject = self.subject_here(str(image["subject_id"]))
        if row is None:
            here = withdrawal_of(self.conn, subject)
            if here is None:
                return "missing (its subject has no withdrawal here)"
            if agrees(here, image):
                return None
            if self.flagged("withdrawals", str(here.code)):
                return None  # two withdrawals merged: the one here kept, the other flagged
            return (
                f"missing, and its subject's withdrawal here ({here.id}: "
                f"{_short(here.withdrawn_on)}, {_short(here.reason)}) differs and no "
                "bundle.mismatch flags it"
            )
        if subject != row["subject_id"]:
            return "subject_id", row["subject_id"], image["subject_id"]
        return self._equal({c: v for c, v in image.items() if c != "subject_id"}, row)


class _Carried:
    """What the ``bundle.imported`` entries of every chain here say about the bundles that
    carried a member (`table`): evidence 2 and 3 of the module docstring. Read once, only the
    few fields needed (SQLite's JSON functions: the images the entries hold are not parsed)."""

    def __init__(self, conn: sqlite3.Connection, table: str) -> None:
        self.devices: set[str] = set()  # evidence 2: their versions carried the member
        self.through: dict[str, int] = {}  # evidence 3: a device's chain carried with the rows
        for device, sender, heads, member, rows in plain_rows(
            conn,
            "SELECT device_id, json_extract(payload, '$.device_id'), "
            "json_extract(payload, '$.chain_heads'), json_type(payload, ?), "
            "(SELECT total(value) FROM json_each(payload, ?)) "
            "FROM audit_log WHERE action=? ORDER BY device_id, seq",
            [f"$.tables.{table}", f"$.tables.{table}", BUNDLE_IMPORTED],
        ):
            if member == "object":
                self.devices.add(str(device))
            head = (json_text.loads(heads) if heads else {}).get(str(sender))
            if rows and isinstance(head, list) and head and isinstance(head[0], int):
                self.through[str(sender)] = max(self.through.get(str(sender), 0), head[0])

    def proven(self, device: str, seq: int) -> bool:
        return device in self.devices or self.through.get(device, 0) >= seq
