"""The study summary PDF: flow per visit, mean ± SD per visit (recomputed through the scoring API),
responder rate with its denominator, completeness, the split by arm, progress and the footer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import reports, storage
from respine_desktop.storage import StudyDb
from tests.support.reports import (
    IDENTIFIER_WORDS,
    TODAY,
    StudyPlan,
    build_study,
    expected_scores,
    fixed_clock,
    mean_sd,
    new_db,
    pdf_pages,
    pdf_text,
    shown,
)

MEASURE_COLUMNS = ("VAS", "ODI", "PCS", "MCS")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StudyDb, StudyPlan]]:
    path = tmp_path_factory.mktemp("study") / "study.db"
    with fixed_clock():
        db = new_db(path)
        plan = build_study(db, n=14)
    yield db, plan
    db.close()


def _expected(db: StudyDb, plan: StudyPlan) -> dict[str, dict[str, dict[str, float | None]]]:
    return {code: expected_scores(db, code) for code in plan.subjects}


def _write(db: StudyDb, out: Path, **kwargs: object) -> reports.ReportFile:
    with fixed_clock():
        return reports.write_study_pdf(db, out, on=TODAY, **kwargs)  # type: ignore[arg-type]


def _stats_row(
    visit: str, scores: dict[str, dict[str, dict[str, float | None]]], codes: list[str]
) -> str:
    cells = []
    for key in MEASURE_COLUMNS:
        values = [v for code in codes if (v := scores[code].get(visit, {}).get(key)) is not None]
        cells.append(mean_sd(values) if values else "\u2013 (n=0)")
    return " ".join(cells)


def test_flow_and_completeness(study, tmp_path: Path) -> None:
    db, plan = study
    text = pdf_text(_write(db, tmp_path / "study.pdf").path)
    n = len(plan.subjects)
    assert f"Subjects registered by {TODAY.isoformat()}: {n}" in text
    entries = storage.worklist(db, on=TODAY, statuses=None)
    status = {(e.subject_code, e.visit_code): e.status for e in entries}
    codes = db.study.visit_codes
    for index, visit in enumerate(codes):
        by = {s: 0 for s in storage.VISIT_STATUSES}
        lost = 0
        for subject in plan.subjects:
            st = status[(subject, visit)]
            by[st] += 1
            later = [status[(subject, v)] for v in codes[index + 1 :]]
            if st == "overdue" and "complete" not in later:
                lost += 1
        opened = by["in_progress"] + by["parked"] + by["due"]
        due = n - opened - by["not_yet_due"]
        rate = f"{by['complete']}/{due}"
        if due:
            rate += f" ({shown(by['complete'] * 100 / due)} %)"
        row = (
            f"{visit} {n} {by['complete']} {by['missed']} 0 {lost} {by['overdue'] - lost} "
            f"{opened} {by['not_yet_due']} {due} {rate}"
        )
        assert row in text, row
        if visit == "M1":  # the plan has one M1 parked and one due today
            assert by["parked"] == 1 and by["due"] == 1
    missed_m3 = sum(1 for (_, v) in plan.missed if v == "M3")
    assert missed_m3 >= 1  # the plan exercises missed visits
    assert f"subject did not attend {len(plan.missed)}" in text


def test_footer_on_every_page_and_no_identifiers(study, tmp_path: Path) -> None:
    db, plan = study
    written = _write(db, tmp_path / "study.pdf")
    pages = pdf_pages(written.path)
    head = storage.audit_chain_head(db).hash
    assert len(pages) == written.pages
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert f"Audit chain head: {head}" in page
    text = " ".join(pages)
    assert not IDENTIFIER_WORDS.search(text)
    assert not any(code in text for code in plan.subjects)  # aggregates only
    # The chain head is 64 random hex digits: it may hold "1953" by chance, so it is left out
    # of the search for years of birth (it was checked above, on every page).
    no_hash = text.replace(head, "")
    assert not any(str(1950 + i) in no_hash for i in range(1, len(plan.subjects) + 1))


def _arms_file(path: Path, codes: list[str]) -> Path:
    lines = ["subject_id,arm"]
    for n, code in enumerate(codes):
        lines.append(f"{code},{'MSC' if n % 2 == 0 else 'Sham'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_split_by_arm(study, tmp_path: Path) -> None:
    db, plan = study
    arms = reports.read_arms(_arms_file(tmp_path / "arms.csv", plan.subjects))
    text = pdf_text(_write(db, tmp_path / "study.pdf", arms=arms).path)
    assert "Responder rate at M12 (MSC):" in text and "Responder rate at M12 (Sham):" in text
    assert "MSC − Sham" in text and "Newcombe" in text
    assert arms.sha256 in text
    summary = reports.study_summary(db, arms=arms, on=TODAY)
    assert [g.name for g in summary.groups] == ["MSC", "Sham"]
    assert summary.overall.subjects == len(plan.subjects)
    assert sum(g.subjects for g in summary.arms) == len(plan.subjects)
    for visit in db.study.visit_codes:
        for key in ("VAS", "ODI"):
            assert sum(g.stat(visit, key).n for g in summary.arms) == (
                summary.overall.stat(visit, key).n
            )


def test_arms_that_do_not_match_are_refused(study, tmp_path: Path) -> None:
    db, plan = study
    arms = reports.read_arms(_arms_file(tmp_path / "arms.csv", plan.subjects[:-1]))
    with pytest.raises(
        reports.ArmsFileError, match=f"missing from the file \\({plan.subjects[-1]}\\)"
    ):
        _write(db, tmp_path / "study.pdf", arms=arms)
    assert not (tmp_path / "study.pdf").exists()


def test_unsplit_report_says_allocation_is_not_stored(study, tmp_path: Path) -> None:
    db, _ = study
    text = pdf_text(_write(db, tmp_path / "study.pdf").path)
    assert "never stores treatment allocation" in text
    assert "Between-arm difference in responder rate" not in text


def test_progress_goes_from_0_to_1(study, tmp_path: Path) -> None:
    db, plan = study
    seen: list[tuple[float, str]] = []
    _write(db, tmp_path / "study.pdf", progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert any(f"{len(plan.subjects)}/{len(plan.subjects)} subjects" in m for _, m in seen)


def test_raising_from_progress_cancels_without_writing(study, tmp_path: Path) -> None:
    db, _ = study
    out = tmp_path / "study.pdf"

    class Cancelled(Exception):
        pass

    def cancel(fraction: float, message: str) -> None:
        if fraction > 0.5:
            raise Cancelled

    with pytest.raises(Cancelled):
        _write(db, out, progress=cancel)
    assert list(tmp_path.iterdir()) == []


def test_empty_study(tmp_path: Path) -> None:
    with fixed_clock():
        db = new_db(tmp_path / "empty.db")
        written = reports.write_study_pdf(db, tmp_path / "study.pdf", on=TODAY)
    text = pdf_text(written.path)
    assert f"Subjects registered by {TODAY.isoformat()}: 0" in text
    assert "Responder rate at M12: 0/0; missing as non-responder: 0/0" in text
    assert "Page 1 of" in text
    db.close()
