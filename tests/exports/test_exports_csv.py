"""CSV export: the long file keeps every answer version, the wide file's scores are the scoring
API's, endpoints follow the study configuration, and the codebook describes every column."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import exports, scoring, storage
from respine_desktop.exports.csv_export import csv_line
from respine_desktop.instruments import load_instrument
from respine_desktop.scoring import endpoints
from respine_desktop.study import load_study
from tests.support.exports import controlled_clock, scenario_db

SF36_KEYS = ("PF", "RP", "RE", "VT", "MH", "SF", "BP", "GH")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("csv")
    scenario_db(root / "study.db")
    with controlled_clock(), storage.open_database(root / "study.db", readonly=True) as db:
        calls: list[tuple[float, str]] = []
        result = exports.export_csv(db, root / "out", progress=lambda f, m: calls.append((f, m)))
        assert result.subjects == 3
        assert [f for f, _ in calls] == sorted(f for f, _ in calls) and calls[-1][0] == 1.0
    yield root


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


def num(text: str) -> float | None:
    return None if text == "" else float(text)


def flag(text: str) -> bool | None:
    return None if text == "" else text == "1"


def test_long_file_has_the_listed_columns_and_every_answer_version(out: Path) -> None:
    assert header(out / "out" / "answers_long.csv") == [
        "subject_id", "visit", "visit_number", "instrument", "instrument_version",
        "instrument_checksum", "item", "code", "label", "language", "device", "session",
        "given_at", "superseded_by", "counts", "reason", "answer_id", "status", "given_by",
        "vas_calibration",
    ]  # fmt: skip
    long = rows(out / "out" / "answers_long.csv")
    with storage.open_database(out / "study.db", readonly=True) as db:
        assert len(long) == storage.counts(db).answers
        assert {r["answer_id"] for r in long} == {
            r[0] for r in db.conn.execute("SELECT id FROM answers")
        }
    odi = load_instrument("odi")
    assert all(r["instrument_checksum"] == odi.checksum for r in long if r["instrument"] == "odi")


def test_a_correction_keeps_the_old_row_linked_to_the_new_one_with_its_reason(out: Path) -> None:
    long = rows(out / "out" / "answers_long.csv")
    versions = [
        r
        for r in long
        if (r["subject_id"], r["visit"], r["item"]) == ("RSP-01-001", "M1", "odi_03")
    ]
    assert len(versions) == 2
    old, new = versions
    assert old["superseded_by"] == new["answer_id"] and new["superseded_by"] == ""
    assert (old["code"], new["code"]) == ("2", "4")
    assert new["reason"] == "patient ticked the wrong statement" and new["given_by"]
    assert new["label"] == load_instrument("odi").item("odi_03").choice(4).text["en"]


def test_skipped_items_are_marked_in_long_and_coded_in_wide(out: Path) -> None:
    long = rows(out / "out" / "answers_long.csv")
    skipped = [r for r in long if r["subject_id"] == "RSP-01-001" and r["visit"] == "M0"]
    skipped = [r for r in skipped if r["status"] == "skipped"]
    assert {r["item"] for r in skipped} == {"odi_08", "sf36_05"}
    assert all(r["code"] == "" and r["label"] == "" for r in skipped)
    wide = rows(out / "out" / "visits_wide.csv")
    m0 = next(r for r in wide if r["subject_id"] == "RSP-01-001" and r["visit"] == "M0")
    assert m0["odi_08"] == ".S" and m0["sf36_05"] == ".S" and m0["odi_01"] == "3"


def test_wide_header_is_items_then_scores_then_endpoints() -> None:
    study = load_study()
    items = [i.id for inst in study.instrument_order for i in load_instrument(inst).items]
    expected = [
        "subject_id", "site", "visit", "visit_number", "day0", "year_of_birth", "visit_date",
        "study_day", "session_id", "session_date", "status", "withdrawn_on", "withdrawal_reason",
        *items, "VAS", "ODI",
        *(f"SF36_{k}" for k in SF36_KEYS), "SF36_PCS", "SF36_MCS",
        *(f"RAND36_{k}" for k in SF36_KEYS), "RAND36_HT",
        "VAS_CHG", "ODI_CHG", "SF36_PCS_CHG", "SF36_MCS_CHG",
        "VAS_MCID", "ODI_MCID", "SF36_PCS_MCID", "SF36_MCS_MCID", "RESPONDER",
    ]  # fmt: skip
    from respine_desktop.exports.codebook import visits_wide_columns

    assert [c.name for c in visits_wide_columns(study)] == expected


def test_one_wide_row_per_subject_and_scheduled_visit_with_its_status(out: Path) -> None:
    wide = rows(out / "out" / "visits_wide.csv")
    assert header(out / "out" / "visits_wide.csv")[:11] == [
        "subject_id", "site", "visit", "visit_number", "day0", "year_of_birth", "visit_date",
        "study_day", "session_id", "session_date", "status",
    ]  # fmt: skip
    assert len(wide) == 3 * len(load_study().visits)
    status = {(r["subject_id"], r["visit"]): r["status"] for r in wide}
    assert status["RSP-01-001", "M3"] == "missed"
    assert status["RSP-01-001", "M24"] == "not_yet_due"
    assert status["RSP-01-002", "M3"] == "parked"
    assert status["RSP-01-003", "M0"] == "due"
    assert status["RSP-01-001", "M12"] == "complete"


def test_wide_scores_are_the_scoring_apis_on_the_current_answers(out: Path) -> None:
    """Rule: scores = scoring.score(instrument, current answers, method) for submitted sessions,
    SF-36 standard under SF36_*, RAND-36 under RAND36_*; the correction counts (current rows)."""
    wide = rows(out / "out" / "visits_wide.csv")
    study = load_study()
    checked = 0
    with storage.open_database(out / "study.db", readonly=True) as db:
        for r in wide:
            sessions = [
                s
                for s in storage.subject_sessions(db, r["subject_id"])
                if s.visit_code == r["visit"] and s.state == "submitted"
            ]
            if not sessions:
                assert all(r[k].startswith(".") for k in ("VAS", "ODI", "SF36_PCS", "RAND36_HT"))
                continue
            current = storage.current_answers(db, sessions[0].id)
            given: dict[str, dict[str, object]] = {}
            for a in current.values():
                given.setdefault(a.instrument_id, {})[a.item_id] = a.value
            odi = scoring.score("odi", given["odi"], min_sections=study.odi_min_sections)
            expected = {"VAS": scoring.score("vas", given["vas"])["VAS"], "ODI": odi["ODI"]}
            for k, v in scoring.score("sf36", given["sf36"]).items():
                expected[f"SF36_{k}"] = v
            for k, v in scoring.score("sf36", given["sf36"], "rand").items():
                expected[f"RAND36_{k}"] = v
            for column, value in expected.items():
                assert num(r[column]) == value, (r["subject_id"], r["visit"], column)
            checked += 1
    assert checked == 6


def test_change_mcid_and_responder_follow_the_endpoint_rules(out: Path) -> None:
    """Rule (SCORING.md §5): improvement against M0; responder = VAS (>= 20 mm and >= 20 %) or
    ODI >= 20 % relative; MCID VAS 15 mm or 30 %, ODI 10 points or 30 %, PCS/MCS 5 points."""
    wide = rows(out / "out" / "visits_wide.csv")
    by = {(r["subject_id"], r["visit"]): r for r in wide}
    base = by["RSP-01-001", "M0"]
    assert all(base[k] == ".N" for k in ("VAS_CHG", "VAS_MCID", "RESPONDER"))
    for visit in ("M1", "M6", "M12"):
        f = by["RSP-01-001", visit]
        b_vas, f_vas, b_odi, f_odi = (
            num(base["VAS"]), num(f["VAS"]), num(base["ODI"]), num(f["ODI"]),
        )  # fmt: skip
        assert num(f["VAS_CHG"]) == endpoints.change_from_baseline("VAS", b_vas, f_vas)
        assert num(f["ODI_CHG"]) == endpoints.change_from_baseline("ODI", b_odi, f_odi)
        assert flag(f["RESPONDER"]) == endpoints.is_responder(b_vas, f_vas, b_odi, f_odi)
        assert flag(f["VAS_MCID"]) == endpoints.vas_mcid(b_vas, f_vas)
        assert flag(f["ODI_MCID"]) == endpoints.odi_mcid(b_odi, f_odi)
        pcs = endpoints.pcs_mcid(num(base["SF36_PCS"]), num(f["SF36_PCS"]))
        assert flag(f["SF36_PCS_MCID"]) == pcs
    m12 = by["RSP-01-001", "M12"]
    assert m12["RESPONDER"] == "1" and math.isclose(float(m12["VAS_CHG"]), 20.4 - 72.5)
    assert by["RSP-01-001", "M3"]["RESPONDER"] == ".M"  # missed


@pytest.mark.req("EXP-02")
def test_codebook_describes_every_column_and_every_code(out: Path) -> None:
    book = rows(out / "out" / "codebook.csv")
    assert header(out / "out" / "codebook.csv") == [
        "file", "column", "description", "type", "unit", "code", "code_label",
    ]  # fmt: skip
    for name in ("answers_long.csv", "visits_wide.csv"):
        described = [r["column"] for r in book if r["file"] == name and r["code"] == ""]
        assert described == header(out / "out" / name)
        assert all(r["description"] for r in book if r["file"] == name and r["code"] == "")
    codes = {
        (r["column"], r["code"]): r["code_label"] for r in book if r["file"] == "visits_wide.csv"
    }
    for inst in ("odi", "sf36"):
        for item in load_instrument(inst).items:
            for choice in item.choices:
                assert codes[item.id, str(choice.code)] == choice.text["en"]
    assert "conflict" in {c for col, c in codes if col == "status"}
    assert codes["RESPONDER", "1"] == "yes"


def test_an_export_into_a_missing_parent_directory_is_refused(tmp_path: Path) -> None:
    scenario_db(tmp_path / "s.db")
    with (
        storage.open_database(tmp_path / "s.db", readonly=True) as db,
        pytest.raises(exports.ExportError, match="no such directory"),
    ):
        exports.export_csv(db, tmp_path / "missing" / "out")
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    "fields",
    [
        ("a", "b", ""),
        ("with, comma", 'a "quote"', "plain"),
        ("line\nbreak", "carriage\rreturn", ""),
        ("", "", ""),
        ("é ü — 中文", ",", '"'),
    ],
)
def test_csv_line_is_what_the_csv_module_writes(fields: tuple[str, ...]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(fields)
    assert csv_line(fields) == buffer.getvalue()
    assert next(csv.reader(io.StringIO(csv_line(fields), newline=""))) == list(fields)


# Worked out by hand from the scenario (tests/support/exports.py), not through the scoring API:
# ODI codes 0-5 per section, ODI % = sum / (5 x sections answered) x 100; M0 = 9 sections of 3
# (odi_08 skipped) = 27/45 = 60 %; M1 = 9 sections of 2 + odi_03 corrected to 4 = 22/50 = 44 %;
# M6 and M12 = 10 sections of 1 = 20 %. VAS as given. Responder (VAS >= 20 mm and >= 20 %, or
# ODI >= 20 % relative improvement); MCID VAS 15 mm or 30 %, ODI 10 points or 30 %.
HAND = {
    # visit: (VAS, ODI, VAS_CHG, ODI_CHG, VAS_MCID, ODI_MCID, RESPONDER)
    "M1": (60.1, 44.0, 60.1 - 72.5, -16.0, "0", "1", "1"),
    "M6": (30.0, 20.0, 30.0 - 72.5, -40.0, "1", "1", "1"),
    "M12": (20.4, 20.0, 20.4 - 72.5, -40.0, "1", "1", "1"),
}


def test_scores_and_endpoints_equal_values_worked_out_by_hand(out: Path) -> None:
    by = {(r["subject_id"], r["visit"]): r for r in rows(out / "out" / "visits_wide.csv")}
    base = by["RSP-01-001", "M0"]
    assert float(base["VAS"]) == 72.5 and math.isclose(float(base["ODI"]), 60.0)
    for visit, (vas, odi, d_vas, d_odi, m_vas, m_odi, resp) in HAND.items():
        r = by["RSP-01-001", visit]
        assert math.isclose(float(r["VAS"]), vas) and math.isclose(float(r["ODI"]), odi), visit
        assert math.isclose(float(r["VAS_CHG"]), d_vas), visit
        assert math.isclose(float(r["ODI_CHG"]), d_odi), visit
        assert (r["VAS_MCID"], r["ODI_MCID"], r["RESPONDER"]) == (m_vas, m_odi, resp), visit


def test_visit_number_day0_study_day_and_session_columns(out: Path) -> None:
    wide = rows(out / "out" / "visits_wide.csv")
    by = {(r["subject_id"], r["visit"]): r for r in wide}
    numbers = {r["visit"]: r["visit_number"] for r in wide if r["subject_id"] == "RSP-01-001"}
    assert numbers == {"M0": "1", "M1": "2", "M3": "3", "M6": "4", "M12": "5", "M24": "6"}
    ordered = sorted(numbers, key=lambda v: int(numbers[v]))
    assert ordered == ["M0", "M1", "M3", "M6", "M12", "M24"]
    m6 = by["RSP-01-001", "M6"]
    # day 0 = 2026-03-02 - 400 days = 2025-01-26; M6 done on day 0 + 182
    assert (m6["day0"], m6["year_of_birth"]) == ("2025-01-26", "1961")
    assert (m6["visit_date"], m6["study_day"], m6["session_date"]) == (
        "2025-07-27", "182", "2025-07-27",
    )  # fmt: skip
    assert m6["session_id"]
    parked = by["RSP-01-002", "M3"]  # parked on 2026-02-25, day 0 = 2026-03-02 - 100 days
    assert (parked["visit_date"], parked["session_date"], parked["study_day"]) == (
        "", "2026-02-25", "95",
    )  # fmt: skip
    assert by["RSP-01-002", "M0"]["year_of_birth"] == ""


def test_each_missing_cell_says_why(out: Path) -> None:
    by = {(r["subject_id"], r["visit"]): r for r in rows(out / "out" / "visits_wide.csv")}
    assert by["RSP-01-001", "M24"]["odi_01"] == ".N"  # not yet due
    assert by["RSP-01-001", "M24"]["VAS"] == ".N"
    assert by["RSP-01-001", "M3"]["odi_01"] == ".M"  # marked missed
    assert by["RSP-01-001", "M3"]["VAS_CHG"] == ".M"
    parked = by["RSP-01-002", "M3"]
    assert parked["vas_pain"] == "75.5" and parked["odi_01"] == "3" and parked["VAS"] == ".I"
    assert by["RSP-01-003", "M0"]["VAS"] == ".N"  # due today, not done
    # RSP-01-002 has no SF-36 item skipped: every score computes; RSP-01-001 M0 skipped one
    # SF-36 PF item (sf36_05 is PF): PF still computes (half-scale rule)
    assert by["RSP-01-001", "M0"]["SF36_PF"] not in ("", ".U")


def test_answers_long_counts_only_the_current_rows(out: Path) -> None:
    long = rows(out / "out" / "answers_long.csv")
    versions = [
        r
        for r in long
        if (r["subject_id"], r["visit"], r["item"]) == ("RSP-01-001", "M1", "odi_03")
    ]
    assert [r["counts"] for r in versions] == ["0", "1"]
    assert {r["visit_number"] for r in long if r["visit"] == "M12"} == {"5"}
    assert sum(r["counts"] == "0" for r in long) == 1
