"""The audit_trail.csv lines of the CSV export as SQLite builds them, in two parts per entry.

The export formatted every entry in Python from its ten fields (its details, the payload's JSON
text of about 1 kB, quoted with its quotes doubled): about 1 s of CPU for the 232,000 entries of
a 10,000-subject study, beside the 1.6 s of the read. SQLite builds the same text here, read in
about the time of the fields alone. The CSV rules stay the export's (`exports.audit_trail`,
which checks every part before using it):

* ``head``: the eight short fields (sequence ... subject_id) joined by commas, not quoted:
  the export checks that they hold no quote, comma or line break (7 commas a head); a
  sequence that is not an integer is a line feed (which fails the check);
* ``tail``: ``,reason,details`` and the line end, as `csv_export.free_text` and RFC 4180 have
  them (details always quoted: the JSON text of an object, whose keys are quoted strings;
  the export takes the empty object ``{}``, which needs no quotes, from the Python path);
  NULL (the Python path) for an entry whose payload is not a JSON object, or whose reason is
  neither text nor an integer (a double's text is Python's to write).

Texts are joined byte for byte (``concat_ws``, ``replace`` and ``||`` keep a NUL). The fields
are those of `export_reads.iter_audit_rows`, in its order; each entry comes with its rowid, for
`export_reads.audit_row` to read one the export writes by the Python path.

Reads only.
"""

from __future__ import annotations

from functools import cache

__all__ = ["AUDIT_ORDER", "AUDIT_WITH", "SUBJECT_CODE", "audit_lines_sql"]

_REASON = "json_extract(a.payload, '$.reason')"


def _free_text(text: str) -> str:
    return (
        f"CASE WHEN substr({text}, 1, 1) IN ('=', '+', '-', '@', char(9), char(13)) "
        f"THEN '''' || {text} ELSE {text} END"
    )


def _quoted(text: str) -> str:
    needs = " OR ".join(f"instr({text}, {c}) > 0" for c in ("'\"'", "','", "char(10)", "char(13)"))
    return f"CASE WHEN {needs} THEN '\"' || replace({text}, '\"', '\"\"') || '\"' ELSE {text} END"


# The pieces of `export_reads._AUDIT_SQL` these lines share with it: the subject map of the
# bundle imports (bound to the one parameter, materialised once so that SQLite indexes it), the
# code of an entry's subject through it, and the order of the entries.
AUDIT_WITH = "WITH alias(kiosk, hub) AS MATERIALIZED (SELECT key, value FROM json_each(?)) "
SUBJECT_CODE = (
    "CASE WHEN a.subject_id IS NOT NULL THEN (SELECT s.code FROM subjects s WHERE s.id = "
    "coalesce((SELECT hub FROM alias WHERE kiosk = a.subject_id), a.subject_id)) END"
)
AUDIT_ORDER = "ORDER BY a.at, a.device_id, a.seq"


@cache
def audit_lines_sql() -> str:
    """(rowid, head, tail) of every audit entry, in the order of `iter_audit_rows` (see the
    module); its one parameter is the subject map's JSON object."""
    reason = f"CAST({_REASON} AS TEXT)"
    head = (
        "concat_ws(',', CASE WHEN typeof(a.seq) = 'integer' THEN a.seq ELSE char(10) END, "
        "a.device_id, a.at, coalesce(a.actor, ''), a.action, a.entity, "
        f"coalesce(a.entity_id, ''), coalesce({SUBJECT_CODE}, ''))"
    )
    tail = (
        "CASE WHEN NOT (json_valid(a.payload) AND json_type(a.payload) = 'object') "
        f"OR typeof({_REASON}) IN ('real', 'blob') THEN NULL "
        f"ELSE ',' || CASE WHEN {_REASON} IS NULL THEN '' "
        f"ELSE {_quoted(_free_text(reason))} END "
        "|| ',\"' || replace(json_remove(a.payload, '$.rows_after'), '\"', '\"\"') "
        "|| '\"' || char(13, 10) END"
    )
    # Only the keys are sorted (materialised in order, which SQLite then reads without sorting
    # again), the texts made after: a sort of the whole lines held them all in memory (SQLite's
    # temporary store is memory here), 35 MB more than the fields the Python path sorted.
    keys = (
        "k AS MATERIALIZED (SELECT a.rowid AS r, a.at, a.device_id, a.seq FROM audit_log a "
        f"{AUDIT_ORDER}) "
    )
    return (
        f"{AUDIT_WITH.rstrip()}, {keys}SELECT a.rowid, {head}, {tail} "
        "FROM k CROSS JOIN audit_log a ON a.rowid = k.r ORDER BY k.at, k.device_id, k.seq"
    )
