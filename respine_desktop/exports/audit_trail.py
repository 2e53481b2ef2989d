"""``audit_trail.csv``: every entry of every device's audit log, for a monitor.

One row per entry, in time order (then device and sequence): ``sequence`` (the entry's number in
its device's hash chain), ``device``, ``time``, ``actor`` (staff id; empty for the patient at the
kiosk or the system), ``action`` (``session.submitted``, ``answer.corrected``,
``visit.missed``, ``conflict.resolved``, ``bundle.conflict`` ...), ``table`` and ``row`` (the
record it is about), ``subject_id`` (its code), ``reason`` (a correction's, a missed visit's or
a conflict choice's) and ``details`` (the entry's JSON payload, e.g. the session a conflict
choice made count, without its row images: ``rows_after`` holds the full rows a transaction
wrote, the evidence `verify` replays from the database; in a CSV they more than doubled the file
and read as noise). Free text gets the CSV export's formula guard (`free_text`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from respine_desktop.exports.codebook import AUDIT_TRAIL, audit_trail_columns
from respine_desktop.storage.export_reads import AuditRow

__all__ = ["AUDIT_TRAIL", "write_audit_trail"]


def write_audit_trail(f: IO[str], rows: Iterable[AuditRow]) -> int:
    """Write the header and every row; how many rows.

    Lines are made here rather than by `csv.writer` (which scans each character in Python's C
    loop: the long details made it most of the file's time), with the same RFC 4180 text: the
    eight short fields checked at once and quoted one by one only when one needs it, the
    reason and the details quoted as `csv_line` would. Written in batches."""
    from respine_desktop.exports.csv_export import _NEEDS_QUOTES, _quoted, csv_line, free_text

    f.write(csv_line([c.name for c in audit_trail_columns()]))
    n = 0
    batch: list[str] = []
    for device, seq, at, actor, action, entity, entity_id, code, details, reason in rows:
        short = (str(seq), device, at, actor or "", action, entity, entity_id or "", code or "")
        head = ",".join(short)
        if head.count(",") != 7 or _NEEDS_QUOTES.search(head) is not None:
            head = ",".join(map(_quoted, short))
        why = "" if reason is None else _quoted(free_text(str(reason)))
        batch.append(f"{head},{why},{_quoted(free_text(details))}\r\n")
        if len(batch) == 4096:
            f.write("".join(batch))
            n += len(batch)
            batch.clear()
    f.write("".join(batch))
    return n + len(batch)
