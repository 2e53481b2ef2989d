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

from collections.abc import Iterable, Sequence
from itertools import islice
from operator import add
from typing import IO

from respine_desktop.exports.codebook import AUDIT_TRAIL, audit_trail_columns
from respine_desktop.storage.export_reads import AuditLines, AuditRow

__all__ = ["AUDIT_TRAIL", "write_audit_lines", "write_audit_trail"]


def _line(row: AuditRow) -> str:
    """One entry's record: the eight short fields checked at once and quoted one by one only
    when one needs it, the reason and the details quoted as `csv_line` would."""
    from respine_desktop.exports.csv_export import _NEEDS_QUOTES, _quoted, free_text

    device, seq, at, actor, action, entity, entity_id, code, details, reason = row
    short = (str(seq), device, at, actor or "", action, entity, entity_id or "", code or "")
    head = ",".join(short)
    if head.count(",") != 7 or _NEEDS_QUOTES.search(head) is not None:
        head = ",".join(map(_quoted, short))
    why = "" if reason is None else _quoted(free_text(str(reason)))
    return f"{head},{why},{_quoted(free_text(details))}\r\n"


def write_audit_trail(f: IO[str], rows: Iterable[AuditRow]) -> int:
    """Write the header and every row; how many rows.

    Lines are made here rather than by `csv.writer` (which scans each character in Python's C
    loop: the long details made it most of the file's time), with the same RFC 4180 text
    (`_line`). Written in batches."""
    from respine_desktop.exports.csv_export import csv_line

    f.write(csv_line([c.name for c in audit_trail_columns()]))
    n = 0
    batch: list[str] = []
    for row in rows:
        batch.append(_line(row))
        if len(batch) == _BATCH:
            f.write("".join(batch))
            n += len(batch)
            batch.clear()
    f.write("".join(batch))
    return n + len(batch)


_BATCH = 4096
_EMPTY_DETAILS = ',"{}"\r\n'


def write_audit_lines(f: IO[str], lines: AuditLines) -> int:
    """`write_audit_trail` of every entry, from the lines SQLite makes (`AuditLines`); the
    same text. A batch's heads are checked at once (their quotes, commas, carriage returns and
    line feeds are their 7 commas each, or one needs quoting); an entry whose head needs
    quoting, whose tail SQLite left to Python (None) or whose details are the empty object
    ``{}`` (no quotes, where SQLite quotes every object) is read again and made by `_line`."""
    from respine_desktop.exports.csv_export import csv_line, csv_marks

    f.write(csv_line([c.name for c in audit_trail_columns()]))
    n = 0
    entries = iter(lines)
    while batch := list(islice(entries, _BATCH)):
        keys, heads, tails = zip(*batch, strict=True)
        data = "".join(heads).encode("utf-8")
        clean = csv_marks(data) == 7 * len(heads)
        if clean and None not in tails and _EMPTY_DETAILS not in "".join(tails):
            f.write("".join(map(add, heads, tails)))
        else:
            f.write("".join(_checked(lines, keys, heads, tails)))
        n += len(batch)
    return n


def _checked(
    lines: AuditLines, keys: Sequence[int], heads: Sequence[str], tails: Sequence[str | None]
) -> list[str]:
    """A batch's records, entry by entry (see `write_audit_lines`)."""
    from respine_desktop.exports.csv_export import csv_marks

    out: list[str | None] = []
    redo: list[int] = []
    for key, head, tail in zip(keys, heads, tails, strict=True):
        data = head.encode("utf-8")
        if tail is None or tail.endswith(_EMPTY_DETAILS) or csv_marks(data) != 7:
            out.append(None)
            redo.append(key)
        else:
            out.append(head + tail)
    rows = lines.rows(redo) if redo else {}
    return [_line(rows[key]) if line is None else line for key, line in zip(keys, out, strict=True)]
