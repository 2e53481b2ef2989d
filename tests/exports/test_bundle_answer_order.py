"""Two current answers of one item (a fork, or a second first answer): the later *written* row
wins, for the merge's score check as for `verify` and the application (`answers.current_rows`,
rows in written order, docs/audit.md: "never by their clock times").

The merge recomputed the scores with the answers ordered by their clock times (``given_at``)
while `verify` orders them as written: a signed bundle whose second answer of an item was given
*earlier* by its clock than the first, listed after it (its entry and the chain re-hashed
consistently), was checked against the first answer's value by the merge and imported, and the
hub's own `verify` then recomputed the other value and failed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from respine_desktop.storage._answers import digest
from respine_desktop.storage._audit import entry_hash
from tests.exports.test_bundle_forged import Tables, col, forge, hub0, refused, rows_where, site
from tests.support.merge_modes import merge_mode

__all__ = ["hub0", "merge_mode", "site"]  # fixtures

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

SECOND_ID = "0190aaaa-0000-7000-8000-0000000000ee"


def _second_answer_given_earlier(tables: Tables) -> None:
    """M0's VAS answered again (12.5, superseding nothing, as the first), given by the clock
    before the first but listed after it, recorded by an answer entry appended to the chain."""
    first = next(
        r
        for r in rows_where(tables, "answers", item_id="vas_pain")
        if r[col("answers", "value")] == 67.6
    )
    session = next(r for r in tables["sessions"] if r[0] == first[col("answers", "session_id")])
    second = list(first)
    second[0] = SECOND_ID
    second[col("answers", "value")] = 12.5
    second[col("answers", "given_at")] = session[col("sessions", "started_at")]
    assert second[col("answers", "given_at")] < first[col("answers", "given_at")]
    tables["answers"].append(second)
    entries = tables["audit_log"]
    recording = next(e for e in entries if e[col("audit_log", "action")] == "answer.recorded")
    last = max(entries, key=lambda e: e[col("audit_log", "seq")])
    payload = json.loads(recording[col("audit_log", "payload")])
    payload.pop("rows_after", None)
    payload["answers"] = [[SECOND_ID, "vas_pain", 12.5]]
    payload["digest"] = digest([second])
    entry = list(recording)
    entry[0] = "0190aaaa-0000-7000-8000-0000000000ef"
    entry[col("audit_log", "seq")] = last[col("audit_log", "seq")] + 1
    entry[col("audit_log", "at")] = last[col("audit_log", "at")]
    entry[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
    entry[col("audit_log", "prev_hash")] = last[col("audit_log", "hash")]
    entry[col("audit_log", "hash")] = entry_hash(last[col("audit_log", "hash")], *entry[:10])
    entries.append(entry)


def test_the_later_written_answer_counts_for_the_merges_score_check(
    site: Path, hub0: Path, tmp_path: Path
) -> None:
    """The bundle's VAS score (67.6) is that of the first answer, which its clock says came
    last; written after it, the second (12.5) is the current one, as `verify` counts it: the
    score differs from the hub's recomputation, refused (it was imported, and the hub then
    failed its own `verify` on that score)."""
    forged = forge(
        site / "a.1", site / "site.key", tmp_path / "x.bundle", _second_answer_given_earlier
    )
    refused(hub0, forged, "scores row", "field scores", "recomputation from the merged answers")
