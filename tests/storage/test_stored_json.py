"""JSON stored in the file and edited behind the program's back (a word, a nesting too deep
for Python's parser, an object of the wrong shape): every reader that uses it names the row in
one line (`TamperedValue`, exit 2 on the command line), never a traceback, and writes nothing.

A score row's values, also a number no scorer writes (NaN, an infinity, an integer no double
holds, a VAS off 0..100: the endpoints ended the reports in a traceback), read by the patient
and study reports and ODM ``--history`` (`verify`'s recomputation is `test_verify_inspector`'s);
the hub's own audit payloads it reads back (the subject maps of its imports, read by every
export of the audit trail; its conflict and mismatch entries, read by the console's review lists
and by an import looking for its earlier flags); and the answer entries a bundle cut with
--since reads through SQLite's JSON functions. The CSV export recomputes a score whose row it
cannot read from the session's answers (`exports.wide_rows`): it is not refused for a score.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from respine_desktop import exports, storage
from respine_desktop.storage.stored_values import TamperedValue, score_number, score_values
from tests.cli.test_cli_db import main, one_line_error
from tests.cli.test_cli_hostile_paths import refused
from tests.storage.test_verify_devices import one
from tests.storage.test_verify_inspector import edit_behind_the_app
from tests.support.exports import (
    conflicted_hub,
    demo_db,
    hub_and_kiosks,
    merge,
    mismatched_hub,
    table_digest,
)

# A JSON text of 3,000 nested lists, in SQL: Python's parser stops at its recursion limit.
NESTED = "replace(hex(zeroblob(3000)), '00', '[') || replace(hex(zeroblob(3000)), '00', ']')"
BROKEN = {"a word": "'total: 0'", "nested too deeply": NESTED, "a list": "'[1, 2]'"}
# A score row's values also hold only the numbers the scorers write: the endpoints refused these
# with a traceback (review18).
SCORES = {
    **BROKEN,
    "NaN": "'{\"VAS\":NaN}'",
    "an infinity": "'{\"PCS\":-Infinity}'",
    "an integer no double holds": "'{\"PCS\":' || replace(hex(zeroblob(200)), '00', '11') || '}'",
    "a VAS off its range": "'{\"VAS\":1e308}'",
}


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scores") / "kiosk.db"
    demo_db(path, subjects=3)
    return path


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two hubs of two kiosks: one flagged a conflict (RSP-01-030's M1 on both), the other two
    mismatches and matched a subject by code (RSP-01-041 on both: its import's subject map)."""
    made = {}
    for name, make in (("conflict", conflicted_hub), ("mismatch", mismatched_hub)):
        root = tmp_path_factory.mktemp(name)
        with hub_and_kiosks(root) as (hub, a, b, c):
            make(hub, a, b, c)
        made[name] = hub
    return made


def _score_row(path: Path) -> tuple[str, str]:
    """(the id of a current score row, its subject's code)."""
    row = one(
        path,
        "SELECT c.id || ' ' || j.code FROM scores c JOIN sessions s ON s.id = c.session_id "
        "JOIN subjects j ON j.id = s.subject_id WHERE c.superseded_at IS NULL "
        "ORDER BY c.rowid LIMIT 1",
    )
    score_id, code = row.split(" ")
    return score_id, code


def test_score_values_read_only_what_the_scorers_write() -> None:
    assert score_values("s", '{"VAS":72.5,"n":3,"x":null}') == {"VAS": 72.5, "n": 3, "x": None}
    assert score_values("s", '{"ODI":0,"PCS":-12.5}') == {"ODI": 0, "PCS": -12.5}
    huge = "1" * 400
    for text in ('{"VAS":NaN}', '{"PCS":Infinity}', f'{{"PCS":{huge}}}', '{"ODI":100.5}'):
        with pytest.raises(TamperedValue, match="scores row s"):
            score_values("s", text)
    assert not score_number("PCS", True)
    assert score_number("PCS", 10**300) and not score_number("PCS", 2**1024)


@pytest.mark.parametrize("broken", sorted(SCORES))
def test_a_score_row_that_is_no_object_of_numbers_is_named(
    kiosk: Path, tmp_path: Path, broken: str
) -> None:
    path = tmp_path / "kiosk.db"
    shutil.copy(kiosk, path)
    score_id, code = _score_row(path)
    edit_behind_the_app(path, [f"UPDATE scores SET scores={SCORES[broken]} WHERE id='{score_id}'"])
    said = f"scores row {score_id}: its values are not a JSON object of numbers"
    with storage.open_database(path, readonly=True) as db:
        session = one(path, f"SELECT session_id FROM scores WHERE id='{score_id}'")
        with pytest.raises(TamperedValue, match=said):
            storage.session_scores(db, session)
    for args, out in (
        (("report", "patient", "--subject", code), tmp_path / "patient.pdf"),
        (("report", "study"), tmp_path / "study.pdf"),
        (("export", "odm", "--history"), tmp_path / "history.xml"),
    ):
        result = main(*args, "--db", str(path), "--out", str(out))
        refused(result, said)  # (after the progress lines of a report)
        assert not out.exists()
    # the CSV export scores that session from its answers instead (its own rule)
    result = main("export", "csv", "--db", str(path), "--out", str(tmp_path / "csv"))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("broken", sorted(BROKEN))
@pytest.mark.parametrize("action", ["bundle.conflict", "bundle.mismatch"])
def test_a_flag_the_review_lists_read_is_named(
    hubs: dict[str, Path], tmp_path: Path, action: str, broken: str
) -> None:
    kind = action.split(".")[1]
    path = tmp_path / "hub.db"
    shutil.copy(hubs[kind], path)
    entry = one(path, f"SELECT id FROM audit_log WHERE action='{action}' ORDER BY rowid LIMIT 1")
    edit_behind_the_app(path, [f"UPDATE audit_log SET payload={BROKEN[broken]} WHERE id='{entry}'"])
    read = storage.list_mismatches if kind == "mismatch" else exports.list_conflicts
    with (
        storage.open_database(path, readonly=True) as db,
        pytest.raises(TamperedValue, match=f"audit_log row {entry}: its payload"),
    ):
        read(db)


# The exports find an import's subject map by its key as written (``"subject_map":{"``).
MAPS = {
    "nested too deeply": '\'{"subject_map":{"\' || ' + NESTED,
    "a list": '\'{"subject_map":{"x":1}, "subject_map": [1]}\'',
    "ids that are numbers": '\'{"subject_map":{"a": 1}}\'',
}


@pytest.mark.parametrize("broken", sorted(MAPS))
def test_an_import_whose_subject_map_is_damaged_is_named_by_its_readers(
    hubs: dict[str, Path], tmp_path: Path, broken: str
) -> None:
    path = tmp_path / "hub.db"
    shutil.copy(hubs["mismatch"], path)
    entry = one(
        path,
        "SELECT id FROM audit_log WHERE action='bundle.imported' "
        'AND payload LIKE \'%"subject_map":{"%\' ORDER BY rowid LIMIT 1',
    )
    edit_behind_the_app(path, [f"UPDATE audit_log SET payload={MAPS[broken]} WHERE id='{entry}'"])
    said = f"audit_log row {entry}: its "
    with (
        storage.open_database(path, readonly=True) as db,
        pytest.raises(TamperedValue, match=said),
    ):
        storage.audit_entries(db, subject_code="RSP-01-041")
    result = main("export", "csv", "--db", str(path), "--out", str(tmp_path / "csv"))
    one_line_error(result, 2, said)
    assert not (tmp_path / "csv").exists()


def test_a_flag_edited_in_the_hub_is_named_when_an_import_looks_for_it(
    hubs: dict[str, Path], tmp_path: Path
) -> None:
    """An import looks for the flag of a disagreement it finds again (SQLite's JSON functions
    over the hub's entries): a flag whose payload is no JSON is named, the hub left as it was
    (it said "could not write, nothing was saved (malformed JSON)")."""
    path = tmp_path / "hub.db"
    shutil.copy(hubs["mismatch"], path)
    flags = "SELECT group_concat(id, ' ') FROM audit_log WHERE action='bundle.mismatch'"
    entries = one(path, flags).split()
    edit_behind_the_app(path, ["UPDATE audit_log SET payload='x' WHERE action='bundle.mismatch'"])
    before = table_digest(path)
    with pytest.raises(
        exports.BundleError, match=r"refused: audit_log row \S+: its payload is not JSON"
    ) as caught:
        merge(path, hubs["mismatch"].parent / "b.1")
    assert any(f"audit_log row {e}: " in str(caught.value) for e in entries)
    assert table_digest(path) == before


def test_a_bundle_since_a_day_names_an_answer_entry_edited_in_the_file(
    kiosk: Path, tmp_path: Path
) -> None:
    """The answers of a bundle cut with --since are found through their entries' payloads
    (SQLite's JSON functions): one that is no JSON is named, no bundle written."""
    path = tmp_path / "kiosk.db"
    shutil.copy(kiosk, path)
    entry = one(
        path, "SELECT id FROM audit_log WHERE action='answer.recorded' ORDER BY rowid LIMIT 1"
    )
    edit_behind_the_app(path, [f"UPDATE audit_log SET payload='x' WHERE id='{entry}'"])
    out = tmp_path / "since.bundle"
    result = main("export", "bundle", "--since", "2000-01-01", "--db", str(path), "--out", str(out))
    refused(result, f"audit_log row {entry}: its payload is not JSON")
    assert not out.exists() and list(tmp_path.iterdir()) == [path]
