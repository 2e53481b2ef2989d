"""visits_wide.csv as `wide_rows.WideRows` makes it is the text of the reference path
(`visit_values` + `wide_head` / `wide_values` through `csv_line`, which REDCap, ODM and the
statistics files still use), byte for byte: on the golden study (a hub with a conflict, a
chosen session, corrections, demo subjects in every visit state), with withdrawals whose
reasons need quoting, and when stored scores cannot stand for the computed ones (another
scoring version, no current row): then the session is scored from its answers, as before.
`fast_endpoints` gives the values of `endpoint_values` on a grid through every threshold."""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import schedule, storage
from respine_desktop.exports import wide_rows
from respine_desktop.exports.codebook import item_instruments, visits_wide_columns
from respine_desktop.exports.csv_export import cell, csv_line, export_csv
from respine_desktop.exports.fast_endpoints import fast_endpoint_values
from respine_desktop.exports.missing_codes import wide_head, wide_values
from respine_desktop.exports.visit_values import (
    ScoreValue,
    endpoint_values,
    score_answers,
    visit_values,
)
from respine_desktop.exports.wide_rows import _current
from respine_desktop.storage import Answer
from respine_desktop.storage.export_reads import iter_subject_records
from respine_desktop.study import Study, load_study
from tests.exports.test_exports_csv_golden import golden_db
from tests.support.exports import TODAY, controlled_clock
from tests.support.storage import inv


def reference_wide(db_path: Path) -> bytes:
    """visits_wide.csv as the export wrote it before `WideRows` (run in a controlled clock)."""
    with storage.open_database(db_path, readonly=True) as db:
        study = db.study
        items = item_instruments(study)
        lines = [csv_line([c.name for c in visits_wide_columns(study)])]
        for record in iter_subject_records(db, on=schedule.today(), history=False):
            for v in visit_values(study, record):
                row = [cell(c) for c in wide_head(study, record, v)]
                row += [cell(c) for c in wide_values(study, items, v)]
                lines.append(csv_line(row))
    return "".join(lines).encode("utf-8")


def exported_wide(db_path: Path, out: Path, workers: int) -> bytes:
    with storage.open_database(db_path, readonly=True) as db:
        export_csv(db, out, workers=workers)
    return (out / "visits_wide.csv").read_bytes()


@pytest.mark.parametrize("workers", [1, 2])
def test_visits_wide_is_the_reference_text_on_the_golden_study(
    tmp_path: Path, workers: int
) -> None:
    db_path = golden_db(tmp_path / "golden.db")
    with controlled_clock():
        want = reference_wide(db_path)
        got = exported_wide(db_path, tmp_path / "csv", workers)
    assert got == want
    text = got.decode("utf-8")
    assert ",conflict," in text  # the merged visit two kiosks did
    assert ".U" in text and ".D" in text and ".M" in text  # reasons of several kinds


def test_withdrawal_reasons_that_need_quoting_and_withdrawn_visits(tmp_path: Path) -> None:
    db_path = golden_db(tmp_path / "golden.db")
    reasons = {
        "RSP-01-109": 'moved away, "far" from the site',
        "RSP-01-110": "=not a formula\nsecond line",
    }
    with controlled_clock():
        with storage.open_database(db_path) as db:
            for code, reason in reasons.items():
                day0 = storage.get_subject(db, code).day0
                on = min(TODAY, day0 + timedelta(days=40))
                storage.withdraw_subject(db, code, staff=inv(db), on=on, reason=reason)
        want = reference_wide(db_path)
        got = exported_wide(db_path, tmp_path / "csv", 1)
    assert got == want
    text = got.decode("utf-8")
    assert ',"moved away, ""far"" from the site",' in text
    assert ",withdrawn," in text


def test_sessions_whose_stored_scores_cannot_stand_are_scored_from_their_answers(
    tmp_path: Path,
) -> None:
    """Stored scores of another scoring version, sessions left without a current score row and
    damaged rows (not JSON, a text for a number) are not used: the visit's scores are computed,
    as the reference path does; were the stored rows used blindly, the changed values would
    show."""
    db_path = golden_db(tmp_path / "golden.db")
    conn = sqlite3.connect(db_path)
    try:
        sessions = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT session_id FROM scores WHERE superseded_at IS NULL "
                "ORDER BY session_id"
            )
        ]
        assert len(sessions) >= 6
        old, gone, damaged = sessions[0::3], sessions[1::3], sessions[2::3]
        with conn:
            for sid in old:
                conn.execute(
                    "UPDATE scores SET scoring_version = 'old', scores = "
                    "replace(scores, ':', ':1') WHERE session_id = ?",
                    [sid],
                )
            for sid in gone:
                conn.execute(
                    "UPDATE scores SET superseded_at = '2026-01-01T00:00:00.000Z' "
                    "WHERE session_id = ? AND instrument_id = 'odi'",
                    [sid],
                )
            for k, sid in enumerate(damaged):
                conn.execute(
                    "UPDATE scores SET scores = ? WHERE session_id = ? AND instrument_id = 'vas'",
                    ['{"VAS": "12"}' if k % 2 else "not JSON", sid],
                )
    finally:
        conn.close()
    with controlled_clock():
        want = reference_wide(db_path)
        got = exported_wide(db_path, tmp_path / "csv", 1)
    assert got == want


def answer(id_: str, item: str, supersedes: str | None = None) -> Answer:
    return Answer(
        id_, "s", "odi", "1", "c", item, 1, "answered", "en", "1", "d", "t", None, supersedes
    )


def test_a_fork_is_seen_so_that_its_session_is_scored_from_its_answers() -> None:
    plain = [answer("a", "odi_01"), answer("b", "odi_01", supersedes="a"), answer("c", "odi_02")]
    current, forked = _current(plain)
    assert (sorted(a.id for a in current.values()), forked) == (["b", "c"], False)
    fork = [*plain, answer("d", "odi_01", supersedes="a")]  # two rows supersede "a"
    current, forked = _current(fork)
    assert (current["odi_01"].id, forked) == ("d", True)


def grid(measure: str) -> list[float | None]:
    if measure in ("VAS", "ODI"):
        return [None, 0.0, 0, 5.0, 10.0, 12.5, 15.0, 20, 22.222222222222221, 30.0, 42.5, 50.0]
    return [None, 30.0, 35.0, 35.000000000000004, 40.1, 45.123456789, 50]


@pytest.mark.parametrize("odi_rule", ["relative", "points"])
def test_fast_endpoints_are_the_scoring_modules(odi_rule: str) -> None:
    shipped = load_study()
    study = dataclasses.replace(
        shipped, endpoint=dataclasses.replace(shipped.endpoint, odi_rule=odi_rule)
    )
    met = 0
    for b_vas, f_vas, b_odi, f_odi in itertools.product(grid("VAS"), repeat=4):
        b = {"VAS": b_vas, "ODI": b_odi, "SF36_PCS": 40.1, "SF36_MCS": None}
        f = {"VAS": f_vas, "ODI": f_odi, "SF36_PCS": 45.1, "SF36_MCS": 50.0}
        want, got = endpoint_values(study, b, f), fast_endpoint_values(study, b, f)
        assert got == want, (b, f)
        assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}
        met += want["RESPONDER"] is True
    assert met > 0  # the grid reaches the thresholds, on both sides
    for b_pcs, f_pcs, b_mcs, f_mcs in itertools.product(grid("PCS"), repeat=4):
        b = {"VAS": 50.0, "ODI": 40.0, "SF36_PCS": b_pcs, "SF36_MCS": b_mcs}
        f = {"VAS": None, "ODI": 30.0, "SF36_PCS": f_pcs, "SF36_MCS": f_mcs}
        assert fast_endpoint_values(study, b, f) == endpoint_values(study, b, f), (b, f)


@pytest.mark.parametrize(
    ("baseline", "followup"),
    [
        ({"VAS": 100.5}, {"VAS": 10.0}),
        ({"ODI": 10.0}, {"ODI": -1.0}),
        ({"VAS": True}, {"VAS": 10.0}),
        ({"SF36_PCS": float("nan")}, {"SF36_PCS": 10.0}),
    ],
)
def test_fast_endpoints_refuse_what_the_scoring_module_refuses(
    baseline: dict[str, float], followup: dict[str, float]
) -> None:
    study = load_study()
    with pytest.raises(ValueError) as want:
        endpoint_values(study, baseline, followup)
    with pytest.raises(ValueError) as got:
        fast_endpoint_values(study, baseline, followup)
    assert str(got.value) == str(want.value)


def test_stored_scores_stand_for_the_sessions_beyond_doubt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an intact study every submitted session's scores are read, none computed again (the
    point of reading them), and the text is still the reference's."""
    db_path = golden_db(tmp_path / "golden.db")
    computed: list[int] = []

    def counted(study: Study, answers: Mapping[str, Answer]) -> dict[str, ScoreValue]:
        computed.append(len(answers))
        return score_answers(study, answers)

    monkeypatch.setattr(wide_rows, "score_answers", counted)
    with controlled_clock():
        want = reference_wide(db_path)
        got = exported_wide(db_path, tmp_path / "csv", 1)
    assert got == want
    assert computed == []


def test_equal_numbers_of_two_texts_keep_their_own_cell_texts() -> None:
    """`_Cells` keys texts by value, exact below 10**15 only: 10**16 and 1e16 are equal and
    written "10000000000000000" and "1e+16" (found by tests/exports/test_exports_csv_lines_fuzz.py,
    where a subject's text depended on another subject's rows)."""
    from respine_desktop.exports.csv_export import _Cells, cell

    cells = _Cells()
    for first, second in ((10**16, 1e16), (1e16, 10**16), (10**15, 1e15), (-(10**17), -1e17)):
        assert cells[first] == cell(first) and cells[second] == cell(second)
        assert cell(first) != cell(second)
    assert cells[1] == cells[1.0] == "1" and cells[72.5] == "72.5"
