"""The answer an answer supersedes is checked by identity: one of its own session and item.

The current answer of an item is the row no row of its session supersedes. The merge checked
that ``supersedes`` named some answer (a foreign key), not the right one: a signed bundle (the
answer entry's digest fixed, the score rows and their images recomputed, the chain re-hashed:
a consistent forgery by a key holder) whose answer "supersedes" an answer of another visit was
imported (the other visit's readers ignore the link, readers of the whole table count its
answer as replaced), and one superseding an answer of another item, or itself, made that item
lose its current answer. Each is refused naming the row and the field, the hub byte-identical.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from respine_desktop.storage import _scores as scores
from respine_desktop.storage._answers import digest
from respine_desktop.storage._audit import entry_hash
from respine_desktop.study import load_study
from tests.exports.test_bundle_forged import Tables, col, forge, hub0, refused, rows_where, site
from tests.support.merge_modes import merge_mode

__all__ = ["hub0", "merge_mode", "site"]  # fixtures

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

IMAGES = "rows_after"


def _answer(tables: Tables, visit: str, item: str) -> list[Any]:
    session = rows_where(tables, "sessions", visit_code=visit)[0][0]
    return rows_where(tables, "answers", session_id=session, item_id=item)[0]


def _rescore(tables: Tables, session_id: str) -> None:
    """The session's current score rows (and their images in the chain) recomputed from its
    current answers as the bundle now has them (the rows of the session, as written)."""
    rows = rows_where(tables, "answers", session_id=session_id)
    superseded = {r[col("answers", "supersedes")] for r in rows}
    given = scores.scoring_input(
        (
            r[col("answers", "instrument_id")],
            r[col("answers", "item_id")],
            r[col("answers", "value")],
        )
        for r in rows
        if r[0] not in superseded
    )
    texts: dict[str, str] = {}
    for row in rows_where(tables, "scores", session_id=session_id, superseded_by=None):
        instrument, method = row[col("scores", "instrument_id")], row[col("scores", "method")]
        computed = scores.compute(
            instrument, given.get(instrument, {}), min_sections=load_study().odi_min_sections
        )
        row[col("scores", "scores")] = texts[row[0]] = scores.dumps(computed[method])
    for entry in tables["audit_log"]:
        payload = json.loads(entry[col("audit_log", "payload")])
        image = (payload.get(IMAGES) or {}).get("scores")
        if image is None:
            continue
        where = image["columns"].index("scores")
        for values in image["values"]:
            if values[0] in texts:
                values[where] = texts[values[0]]
        entry[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)


def _relink(pick: Callable[[Tables], tuple[list[Any], str]]) -> Callable[[Tables], None]:
    """`pick` returns an answer row and the id its ``supersedes`` is set to: the entry that
    records the row gets its digest fixed, the session its scores, the chain its hashes."""

    def edit(tables: Tables) -> None:
        row, target = pick(tables)
        row[col("answers", "supersedes")] = target
        by_id = {r[0]: r for r in tables["answers"]}
        for entry in tables["audit_log"]:
            payload = json.loads(entry[col("audit_log", "payload")])
            ids = [a[0] for a in payload.get("answers") or []]
            if row[0] in ids:
                payload["digest"] = digest([by_id[i] for i in ids])
                entry[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
        _rescore(tables, row[col("answers", "session_id")])
        prev = "0" * 64
        for entry in sorted(tables["audit_log"], key=lambda e: e[col("audit_log", "seq")]):
            entry[col("audit_log", "prev_hash")] = prev
            entry[col("audit_log", "hash")] = prev = entry_hash(prev, *entry[:10])

    return edit


def _other_visit(tables: Tables) -> tuple[list[Any], str]:
    """M1's first ODI answer supersedes M0's: M0 keeps its answer for its own readers."""
    return _answer(tables, "M1", "odi_01"), _answer(tables, "M0", "odi_01")[0]


def _other_item(tables: Tables) -> tuple[list[Any], str]:
    """M0's second ODI answer supersedes its first: odi_01 loses its current answer."""
    return _answer(tables, "M0", "odi_02"), _answer(tables, "M0", "odi_01")[0]


def _itself(tables: Tables) -> tuple[list[Any], str]:
    row = _answer(tables, "M0", "odi_01")
    return row, row[0]


def _nothing(tables: Tables) -> tuple[list[Any], str]:
    return _answer(tables, "M0", "odi_01"), "0190aaaa-0000-7000-8000-0000000000cc"


@pytest.mark.parametrize(
    ("pick", "problem"),
    [
        (_other_visit, "which is not an answer of its session"),
        (_other_item, "an answer of odi odi_01, not of odi odi_02"),
        (_itself, "supersedes itself"),
        (_nothing, "which is not an answer of its session"),
    ],
    ids=["another visit", "another item", "itself", "no answer"],
)
def test_an_answer_superseding_the_wrong_row_is_refused(
    site: Path, hub0: Path, tmp_path: Path, pick: Any, problem: str
) -> None:
    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", _relink(pick))
    refused(hub0, forged, "bundle answers row ", "field supersedes", problem)
