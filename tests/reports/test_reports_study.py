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
    expected_responder,
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


def test_mean_sd_per_visit_matches_the_scoring_api(study, tmp_path: Path) -> None:
    db, plan = study
    text = pdf_text(_write(db, tmp_path / "study.pdf").path)
    scores = _expected(db, plan)
    for visit in db.study.visit_codes:
        assert f"{visit} {_stats_row(visit, scores, plan.subjects)}" in text, visit


def test_flow_and_completeness(study, tmp_path: Path) -> None:
    db, plan = study
    text = pdf_text(_write(db, tmp_path / "study.pdf").path)
    assert f"Subjects registered: {len(plan.subjects)}" in text
    lines = {
        (e.subject_code, e.visit_code): e for e in storage.worklist(db, on=TODAY, statuses=None)
    }
    for visit in db.study.visits:
        entries = [e for (_, v), e in lines.items() if v == visit.code]
        by = {s: sum(1 for e in entries if e.status == s) for s in storage.VISIT_STATUSES}
        expected_n = len([e for e in entries if e.status == "complete" or e.window_closes < TODAY])
        complete = by["complete"]
        opened = len(entries) - by["not_yet_due"]
        rate = f"{complete}/{expected_n}"
        if expected_n:
            rate += f" ({shown(complete * 100 / expected_n)} %)"
        row = (
            f"{visit.code} {visit.label['en']} {opened} {complete} {by['missed']} {by['overdue']} "
            f"{by['in_progress'] + by['parked']} {by['due']} {by['not_yet_due']} {rate}"
        )
        assert row in text, row
        if visit.code == "M1":  # the plan has one M1 parked and one due today
            assert by["parked"] == 1 and by["due"] == 1
    missed_m3 = sum(1 for (_, v) in plan.missed if v == "M3")
    assert missed_m3 >= 1  # the plan exercises missed visits


def test_responder_rate_with_its_denominator(study, tmp_path: Path) -> None:
    db, plan = study
    text = pdf_text(_write(db, tmp_path / "study.pdf").path)
    scores = _expected(db, plan)
    for visit in ("M1", "M3", "M6", "M12"):
        with_data = [c for c in plan.subjects if visit in scores[c]]
        results = [expected_responder(db, scores[c], visit) for c in with_data]
        yes, no, undetermined = results.count(True), results.count(False), results.count(None)
        rate = f"{yes}/{yes + no}" + (f" ({shown(yes * 100 / (yes + no))} %)" if yes + no else "")
        role = "primary" if visit == "M12" else "secondary"
        assert f"{visit} {role} {len(with_data)} {yes} {no} {undetermined} {rate}" in text
        if visit == "M12":
            assert f"Responder rate at M12: {rate} \u2014 denominator: {yes + no} subjects" in text
            assert yes + no > 0


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


def _arms_file(path: Path, plan: StudyPlan, *, leave_out: int = 1, extra: int = 2) -> Path:
    lines = ["subject_id,arm"]
    for n, code in enumerate(plan.subjects[:-leave_out] if leave_out else plan.subjects):
        lines.append(f"{code},{'MSC' if n % 2 == 0 else 'Sham'}")
    lines += [f"RSP-02-{900 + i},Sham" for i in range(extra)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_split_by_arm(study, tmp_path: Path) -> None:
    db, plan = study
    arms = reports.read_arms(_arms_file(tmp_path / "arms.csv", plan))
    text = pdf_text(_write(db, tmp_path / "study.pdf", arms=arms).path)
    scores = _expected(db, plan)
    groups = {
        "MSC": [c for c in plan.subjects[:-1] if arms.arm(c) == "MSC"],
        "Sham": [c for c in plan.subjects[:-1] if arms.arm(c) == "Sham"],
        "(not in arms file)": plan.subjects[-1:],
    }
    for visit in db.study.visit_codes:
        for arm, codes in groups.items():
            assert f"{visit} {arm} {_stats_row(visit, scores, codes)}" in text, (visit, arm)
    for arm, codes in groups.items():
        with_data = [c for c in codes if "M12" in scores[c]]
        results = [expected_responder(db, scores[c], "M12") for c in with_data]
        yes, no, und = results.count(True), results.count(False), results.count(None)
        rate = f"{yes}/{yes + no}" + (f" ({shown(yes * 100 / (yes + no))} %)" if yes + no else "")
        assert f"M12 {arm} primary {len(with_data)} {yes} {no} {und} {rate}" in text, arm
        assert f"Responder rate at M12 ({arm}): {rate}" in text
    listed = len(plan.subjects) - 1 + 2
    assert (
        f"{listed} subjects listed, {len(plan.subjects) - 1} found in this database, 2 not" in text
    )
    assert arms.sha256 in text
    summary = reports.study_summary(db, arms=arms, on=TODAY)
    assert [g.name for g in summary.groups] == ["MSC", "Sham", "(not in arms file)"]
    assert summary.overall.subjects == len(plan.subjects)
    assert sum(g.subjects for g in summary.arms) == len(plan.subjects)


def test_unsplit_report_says_allocation_is_not_stored(study, tmp_path: Path) -> None:
    db, _ = study
    text = pdf_text(_write(db, tmp_path / "study.pdf").path)
    assert "never stores treatment allocation" in text
    assert "(not in arms file)" not in text


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
    assert "Subjects registered: 0" in text
    assert "Responder rate at M12: 0/0 \u2014 denominator: 0 subjects" in text
    assert "Page 1 of" in text
    db.close()
