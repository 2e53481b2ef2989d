"""`verify`'s replay: the state tables rebuilt from the audit log, compared with the stored rows.

The database's own chain (the device named in ``settings``) is replayed in seq order: each
entry's ``rows_after`` images (`row_images`) set or delete rows; the last image of a row is what
the row must hold now, column by column (the columns in `row_images.EXCLUDED` aside). Other
devices' chains (kiosks merged into a hub) describe those devices' files: the hub's rows replay
from the hub's own ``bundle.imported`` entries, which carry every row the merge wrote, and the
other chains are replayed against the same rows by `_replay_devices` (what the merge may change
allowed).

A database whose first entry carries images (created with this version) is replayed strictly:
a row no entry describes is reported. An older database (its first entries without images) is
replayed as far as it can be: every image written since its upgrade, plus what the old payloads
say (`_OLD_PAYLOADS`: a subject's code, site, day 0 and year of birth; a staff account's username
and role; a site's code); rows without any image are counted as not covered, per table.

A row of an append-only table (`APPEND_ONLY`: triggers refuse UPDATE and DELETE, so no code
path of the application changes one once written) is imaged once: a later image of other values
or a deletion in the chain, as someone appending a properly chained entry after dropping a
trigger would leave (the heads kept outside still match, the tables the last images), is named
(`rewritten`, raised by `compare`; `_replay_devices` raises it for the other chains).

Only a 64-bit hash of each row's expected values is kept (memory stays small at 10,000
subjects); on a mismatch the entry is read again to name the first differing column.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from respine_desktop import json_text
from respine_desktop.storage import _row_images as row_images
from respine_desktop.storage._database import plain_rows

_MARK = f'"{row_images.PAYLOAD_KEY}"'
# the tracked tables whose rows the schema's triggers make append-only (`_schema`)
APPEND_ONLY: frozenset[str] = frozenset(
    {"session_choices", "vas_calibrations", "withdrawals", "signatures"}
)
_ABSENT = object()


# What reading a payload or a row image that no version of ours writes raises (a missing key, a
# value of the wrong type or shape, no row of that id, JSON that is not ours, a consistently
# rewritten chain): `verify` names the entry in one line, never a traceback.
UNREADABLE = (KeyError, IndexError, TypeError, ValueError, AttributeError, StopIteration)


class ReplayMismatch(Exception):
    """A table row differs from what the audit log says (one line naming table, row, column)."""


def _old_subject(entity_id: str, p: Mapping[str, Any]) -> tuple[tuple[str, ...], list[Any]]:
    columns = ("id", "code", "site_code", "day0", "year_of_birth")
    return columns, [entity_id, p.get("code"), p.get("site_code"), p.get("day0"),
                     p.get("year_of_birth")]  # fmt: skip


def _old_staff(entity_id: str, p: Mapping[str, Any]) -> tuple[tuple[str, ...], list[Any]]:
    return ("id", "username", "role"), [entity_id, p.get("username"), p.get("role")]


def _old_site(entity_id: str, p: Mapping[str, Any]) -> tuple[tuple[str, ...], list[Any]]:
    return ("code",), [p.get("site_code", entity_id)]


# action -> (table, image from the entity id and an old payload without ``rows_after``)
_OLD_PAYLOADS: Mapping[
    str, tuple[str, Callable[[str, Mapping[str, Any]], tuple[tuple[str, ...], list[Any]]]]
] = {
    "subject.registered": ("subjects", _old_subject),
    "staff.created": ("staff", _old_staff),
    "site.added": ("sites", _old_site),
}


@dataclass
class Coverage:
    """What the replay covered: per table, rows compared and rows no entry describes."""

    strict: bool
    entries: int = 0
    compared: dict[str, int] = field(default_factory=dict)
    uncovered: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        tables = ", ".join(self.compared)
        text = f"{sum(self.compared.values())} rows of {len(self.compared)} tables ({tables}) "
        text += "match the replayed audit log"
        gaps = [
            f"{table} {n} of {self.compared[table] + n}" for table, n in self.uncovered.items() if n
        ]
        if gaps:
            text += "; rows written before full auditing, not covered: " + ", ".join(gaps)
        return text


class Replay:
    """Fed the local chain's entries in seq order (`feed`), then `compare`d with the tables."""

    def __init__(self, conn: sqlite3.Connection, device_id: str) -> None:
        self.conn = conn
        self.device_id = device_id
        self.strict: bool | None = None
        self.colsets: list[tuple[str, ...]] = []
        self._colset_ids: dict[tuple[str, ...], int] = {}
        # table -> key -> (colset id or -1 when deleted, hash of the values, seq of the entry)
        self.state: dict[str, dict[str, tuple[int, int, int]]] = {t: {} for t in row_images.TRACKED}
        self.entries = 0
        self.rewritten: str | None = None  # the first append-only row rewritten or deleted

    def _colset(self, columns: tuple[str, ...]) -> int:
        found = self._colset_ids.get(columns)
        if found is None:
            found = self._colset_ids[columns] = len(self.colsets)
            self.colsets.append(columns)
        return found

    def feed(
        self,
        seq: int,
        action: str,
        entity_id: str | None,
        payload: str,
        parsed: Mapping[str, Any] | None = None,
    ) -> None:
        """One entry of the local chain (in seq order); `parsed`: its payload already decoded
        (the answer entries' check decodes it once for both)."""
        images = _MARK in payload
        if self.strict is None:
            self.strict = images
        if not images:
            old = _OLD_PAYLOADS.get(action)
            if old is None or self.strict or entity_id is None:
                return
            table, build = old
            columns, values = build(entity_id, json_text.loads(payload))
            self.state[table][str(values[0])] = (self._colset(columns), hash(tuple(values)), seq)
            self.entries += 1
            return
        if parsed is None:
            parsed = json_text.loads(payload)
        body = parsed.get(row_images.PAYLOAD_KEY) or {}
        self.entries += 1
        for table, image in body.items():
            rows = self.state.get(table)
            if rows is None:
                continue
            columns = tuple(image.get("columns") or ())
            colset = self._colset(columns)
            append_only = table in APPEND_ONLY
            for values in image.get("values") or ():
                key, digest = str(values[0]), hash(tuple(values))
                if append_only and self.rewritten is None:
                    self._once(table, key, colset, digest, seq, columns, values)
                rows[key] = (colset, digest, seq)
            for key in image.get("deleted") or ():
                if append_only and self.rewritten is None:
                    self.rewritten = (
                        f"table {table} row {key}: append-only, but {self._entry(seq)} deleted it"
                    )
                rows[str(key)] = (-1, 0, seq)

    def _once(
        self,
        table: str,
        key: str,
        colset: int,
        digest: int,
        seq: int,
        columns: tuple[str, ...],
        values: Any,
    ) -> None:
        """An append-only row imaged again: only with the same values, every column of the
        earlier image among them (an image of other columns is compared with the earlier one
        read again, column by column: comparing only images of the same columns let a later
        image leave out the column it changed, the row then compared on the others only)."""
        before = self.state[table].get(key)
        if before is None or before[0] < 0:
            return
        if before[0] == colset:
            same = before[1] == digest
        else:  # (rare: no version of ours images such a row twice)
            try:
                earlier = row_image(*self._entry_payload(before[2]), table, key)
                now = dict(zip(columns, values, strict=True))
            except UNREADABLE:
                same = False
            else:
                same = all(c in now and now[c] == v for c, v in earlier.items())
        if not same:
            self.rewritten = (
                f"table {table} row {key}: append-only, but {self._entry(seq)} rewrote what "
                f"{self._entry(before[2])} recorded"
            )

    def _entry_payload(self, seq: int) -> tuple[dict[str, Any], str, Any]:
        """Entry `seq` of this chain: its payload (decoded), action and entity id."""
        found = self.conn.execute(
            "SELECT action, entity_id, payload FROM audit_log WHERE device_id=? AND seq=?",
            [self.device_id, seq],
        ).fetchone()
        return json_text.loads(found["payload"]), found["action"], found["entity_id"]

    def raise_rewritten(self) -> None:
        if self.rewritten is not None:
            raise ReplayMismatch(self.rewritten)

    def compare(self) -> Coverage:
        """Every tracked table's rows against the replayed state (`ReplayMismatch` at the first
        difference, in table order then row order)."""
        self.raise_rewritten()
        coverage = Coverage(strict=bool(self.strict), entries=self.entries)
        for table in row_images.TRACKED:
            columns = row_images.evidence_columns(self.conn, table)
            if not columns:
                continue
            expected = self.state[table]
            projections: dict[int, tuple[int, ...] | None] = {}
            compared = uncovered = 0
            sql = f"SELECT {', '.join(columns)} FROM main.{table} ORDER BY rowid"
            for row in plain_rows(self.conn, sql):
                if table == "settings" or table in row_images.DIGESTED:
                    row = tuple(row_images.image_values(table, row, columns))
                key = str(row[0])
                want = expected.pop(key, None)
                if want is None:
                    if self.strict:
                        raise ReplayMismatch(f"table {table} row {key}: no audit entry records it")
                    uncovered += 1
                    continue
                colset, digest, seq = want
                if colset < 0:
                    raise ReplayMismatch(
                        f"table {table} row {key}: exists, but {self._entry(seq)} deleted it"
                    )
                if colset not in projections:
                    projections[colset] = self._projection(columns, self.colsets[colset])
                index = projections[colset]
                if index is None:
                    values = row
                else:
                    padded = (*row, _ABSENT)  # a column gone from the table reads as _ABSENT
                    values = tuple(padded[i] for i in index)
                if hash(values) != digest:
                    raise ReplayMismatch(self._difference(table, key, columns, row, seq))
                compared += 1
            for key, (colset, _, seq) in expected.items():
                if colset >= 0:
                    raise ReplayMismatch(
                        f"table {table} row {key}: missing (recorded by {self._entry(seq)})"
                    )
            coverage.compared[table] = compared
            coverage.uncovered[table] = uncovered
        return coverage

    @staticmethod
    def _projection(columns: tuple[str, ...], wanted: tuple[str, ...]) -> tuple[int, ...] | None:
        if wanted == columns:
            return None
        # a column the table no longer has points past the row's end (`_ABSENT`)
        return tuple(columns.index(c) if c in columns else len(columns) for c in wanted)

    def _entry(self, seq: int) -> str:
        return f"audit entry #{seq} of device {self.device_id}"

    def _difference(
        self, table: str, key: str, columns: tuple[str, ...], row: tuple[Any, ...], seq: int
    ) -> str:
        """The first column of `row` that differs from its image in entry `seq`."""
        try:
            image = row_image(*self._entry_payload(seq), table, key)
        except UNREADABLE as exc:
            return unreadable(self._entry(seq), table, key, exc)
        actual = dict(zip(columns, row, strict=True))
        for name, value in image.items():
            if name not in actual:
                return f"table {table} row {key}: column {name} is missing ({self._entry(seq)})"
            if actual[name] != value:
                return (
                    f"table {table} row {key}: column {name} is {_short(actual[name])}, "
                    f"{self._entry(seq)} recorded {_short(value)}"
                )
        return f"table {table} row {key}: differs from {self._entry(seq)}"  # pragma: no cover


def row_image(
    payload: Mapping[str, Any], action: str, entity_id: Any, table: str, key: str
) -> dict[str, Any]:
    """The image of row `key` of `table` in an entry's `payload` (of `action`, on `entity_id`),
    by column: its row images, or what an older entry's payload recorded (`_OLD_PAYLOADS`).
    A payload no version of ours writes raises one of `UNREADABLE`."""
    image = (payload.get(row_images.PAYLOAD_KEY) or {}).get(table)
    if image is None:
        names, values = _OLD_PAYLOADS[action][1](entity_id, payload)
    else:
        names = image["columns"]
        values = next(v for v in image["values"] if str(v[0]) == key)
    return dict(zip(names, values, strict=True))


def unreadable(entry: str, table: str, key: str, exc: Exception) -> str:
    """What `verify` says of an image that `row_image` cannot read."""
    return (
        f"table audit_log: {entry}: its image of table {table} row {key} cannot be read "
        f"({type(exc).__name__}: {exc})"
    )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
