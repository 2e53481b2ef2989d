"""The study report against values worked out by hand for a 7-subject, 2-arm study.

Arm A: A1 VAS 80→50, ODI 60→60 (responder by VAS); A2 VAS 70→60, ODI 60→40 (responder by
ODI, 33 % better); A3 VAS 60→55, ODI 40→40 (non-responder); A4 VAS 50, M12 marked missed.
Arm B: B1 VAS 80→75, ODI 60→60 (non-responder); B2 VAS 70→45, ODI 60→60 (responder by VAS);
B3 VAS 65, withdrawn on day 200 (before M12). Nobody did M1, M3 or M6.

Every expected string below was computed by hand (arithmetic in the comments), not through the
scoring API: a changed ODI formula or responder rule breaks these tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import reports, storage
from respine_desktop.storage import StudyDb
from tests.support.reports import (
    OLD_DAY0,
    TODAY,
    do_visit,
    fixed_clock,
    new_db,
    pdf_pages,
    pdf_text,
    visit_answers,
    visit_day,
)
from tests.support.storage import coord

ARMS = "subject_id,arm\n" + "".join(
    f"RSP-01-00{n},{'Arm A' if n <= 4 else 'Arm B'}\n" for n in range(1, 8)
)
# (M0 VAS, M0 ODI section code, M12 VAS or None, M12 ODI section code)
PLAN = {
    1: (80.0, 3, 50.0, 3),
    2: (70.0, 3, 60.0, 2),
    3: (60.0, 2, 55.0, 2),
    4: (50.0, 2, None, 0),
    5: (80.0, 3, 75.0, 3),
    6: (70.0, 3, 45.0, 3),
    7: (65.0, 2, None, 0),
}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StudyDb, Path]]:
    folder = tmp_path_factory.mktemp("fixed")
    with fixed_clock():
        db = new_db(folder / "fixed.db")
        for n, (vas0, odi0, vas12, odi12) in PLAN.items():
            code = f"RSP-01-00{n}"
            storage.register_subject(db, code, day0=OLD_DAY0, staff=coord(db))
            do_visit(db, code, "M0", visit_answers(vas=vas0, odi=odi0), OLD_DAY0)
            if vas12 is not None:
                day = visit_day(db, OLD_DAY0, "M12")
                do_visit(db, code, "M12", visit_answers(vas=vas12, odi=odi12), day)
        storage.mark_missed(db, "RSP-01-004", "M12", staff=coord(db), reason="moved away")
        storage.withdraw_subject(
            db,
            "RSP-01-007",
            staff=coord(db),
            on=OLD_DAY0 + timedelta(days=200),
            reason="adverse event, Łódź ő ğ",
        )
    arms = folder / "arms.csv"
    arms.write_text(ARMS, encoding="utf-8")
    yield db, arms
    db.close()


@pytest.fixture(scope="module")
def text(study: tuple[StudyDb, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    db, arms = study
    out = tmp_path_factory.mktemp("fixed-pdf") / "study.pdf"
    with fixed_clock():
        reports.write_study_pdf(db, out, arms=reports.read_arms(arms), on=TODAY)
    return pdf_text(out)


def test_flow_by_arm_adds_up(text: str) -> None:
    # Columns: registered, done, missed, withdrawn, lost, overdue, open, not due, due, done/due.
    # A at M1: A1-A3 did M12 later (overdue), A4 did nothing later (lost).
    assert "M1 Arm A 4 0 0 0 1 3 0 0 4 0/4 (0.0 %)" in text
    # B at M1: B3's M1 window closed long before the withdrawal (lost), B1 and B2 overdue.
    assert "M1 Arm B 3 0 0 0 1 2 0 0 3 0/3 (0.0 %)" in text
    assert "M12 Arm A 4 3 1 0 0 0 0 0 4 3/4 (75.0 %)" in text
    assert "M12 Arm B 3 2 0 1 0 0 0 0 3 2/3 (66.7 %)" in text
    assert "M24 Arm A 4 0 0 0 0 0 0 4 0 0/0" in text
    assert "Subjects registered by 2026-03-02: 7 (Arm A: 4; Arm B: 3)" in text


def test_missed_reasons_are_tabulated(text: str) -> None:
    assert "moved away 1 0 1" in text


def test_responder_rates_with_wilson_intervals(text: str) -> None:
    # A: 2/3 determined; Wilson(2, 3) = 0.2077 to 0.9385. Due 4 (A4 missed): 2/4, Wilson 0.150
    # to 0.850. B: 1/2, Wilson 0.0945 to 0.9055; due 3 (B3 withdrawn): 1/3, Wilson 0.0615 to
    # 0.7923.
    assert (
        "Responder rate at M12 (Arm A): 2/3 (66.7 %; CI 20.8 to 93.9 %); missing as "
        "non-responder: 2/4 (50.0 %; CI 15.0 to 85.0 %)"
    ) in text
    assert (
        "Responder rate at M12 (Arm B): 1/2 (50.0 %; CI 9.5 to 90.5 %); missing as "
        "non-responder: 1/3 (33.3 %; CI 6.1 to 79.2 %)"
    ) in text


def test_between_arm_difference_with_newcombe_and_fisher(text: str) -> None:
    # 2/3 - 1/2 = +16.7 points. Newcombe: l1, u1 = 0.2077, 0.9385; l2, u2 = 0.0945, 0.9055;
    # low = 0.1667 - sqrt((0.6667-0.2077)^2 + (0.9055-0.5)^2) = 0.1667 - 0.6125 = -0.4458
    # high = 0.1667 + sqrt((0.9385-0.6667)^2 + (0.5-0.0945)^2) = 0.1667 + 0.4882 = 0.6548.
    # Fisher on [[2, 1], [1, 1]]: every table with these margins is as likely or less: p = 1.
    assert "M12 Arm A − Arm B observed +16.7 points -44.6 to 65.5 1.000" in text


def test_means_with_t_intervals(text: str) -> None:
    # Arm A M0 VAS 80, 70, 60, 50: mean 65, SD sqrt(500/3) = 12.91; t(3) = 3.1824:
    # half-width 3.1824 * 12.91 / 2 = 20.54 -> 44.5 to 85.5.
    assert "Pain VAS M0 Arm A 4 65.0 ± 12.9 44.5 to 85.5 0" in text
    # Arm A M0 ODI 60, 60, 40, 40 %: mean 50, SD sqrt(400/3) = 11.55: 50 -/+ 18.4.
    assert "ODI M0 Arm A 4 50.0 ± 11.5 31.6 to 68.4 0" in text


def test_change_from_baseline_and_mcid(text: str) -> None:
    # Arm A M12 VAS change: -30, -10, -5: mean -15, SD sqrt(175) = 13.23; t(2) = 4.3027:
    # half-width 32.86 -> -47.9 to 17.9. MCID (15 mm or 30 %): A1 yes (30 mm), A2 no (10 mm,
    # 14 %), A3 no: 1/3, Wilson 0.0615 to 0.7923.
    assert "VAS M12 Arm A 3 -15.0 ± 13.2 -47.9 to 17.9 1/3 (33.3 %; CI 6.1 to 79.2 %)" in text


def test_methods_are_named(text: str) -> None:
    for method in ("Student's t", "Wilson score interval", "Newcombe", "Fisher's exact"):
        assert method in text
    assert "Statistical appendix" in text and "Physical functioning" in text


def test_cut_off_on_every_page(study: tuple[StudyDb, Path], tmp_path: Path) -> None:
    db, _ = study
    with fixed_clock():
        written = reports.write_study_pdf(db, tmp_path / "s.pdf", on=TODAY)
    for page in pdf_pages(written.path):
        assert "data cut-off 2026-03-02" in page


def test_withdrawal_is_stored_and_audited(study: tuple[StudyDb, Path]) -> None:
    db, _ = study
    found = storage.get_withdrawal(db, "RSP-01-007")
    assert found is not None and found.reason == "adverse event, Łódź ő ğ"
    assert found.withdrawn_on == OLD_DAY0 + timedelta(days=200)
    assert [w.subject_code for w in storage.list_withdrawals(db)] == ["RSP-01-007"]
    entries = storage.audit_entries(db, subject_code="RSP-01-007", action="subject.withdrawn")
    assert len(entries) == 1
    assert storage.get_withdrawal(db, "RSP-01-001") is None


def test_withdrawal_refusals(study: tuple[StudyDb, Path]) -> None:
    db, _ = study
    with fixed_clock():
        with pytest.raises(storage.AlreadyExists):
            storage.withdraw_subject(db, "RSP-01-007", staff=coord(db), on=TODAY, reason="again")
        with pytest.raises(storage.InvalidInput, match="reason is required"):
            storage.withdraw_subject(db, "RSP-01-001", staff=coord(db), on=TODAY, reason="  ")
        with pytest.raises(storage.InvalidInput, match="longer than"):
            storage.withdraw_subject(db, "RSP-01-001", staff=coord(db), on=TODAY, reason="x" * 501)
        with pytest.raises(storage.InvalidInput, match="between day 0"):
            storage.withdraw_subject(
                db, "RSP-01-001", staff=coord(db), on=TODAY + timedelta(days=1), reason="r"
            )
    assert storage.get_withdrawal(db, "RSP-01-001") is None


def test_a_file_without_the_withdrawal_table_is_read_as_is(tmp_path: Path) -> None:
    from tests.support.storage import old_schema_db

    path = old_schema_db(tmp_path / "old.db", before="0010_withdrawal")
    before = path.read_bytes()
    with storage.open_database(path, readonly=True) as db:
        assert "0010_withdrawal" not in db.info.migrations
        assert storage.list_withdrawals(db) == []
        assert storage.get_withdrawal(db, "RSP-01-001") is None
        summary = reports.study_summary(db, on=TODAY)
        assert summary.overall.flow_count("M0", "withdrawn") == 0
    assert path.read_bytes() == before
