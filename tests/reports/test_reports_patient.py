"""The patient summary PDF: the right numbers (recomputed through the scoring API), the footer on
every page, no identifier beyond the pseudonymous code, and corrections shown and applied."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from respine_desktop import __version__, reports, storage
from respine_desktop.scoring import endpoints
from respine_desktop.storage import StudyDb
from respine_desktop.study import load_study
from tests.support.reports import (
    IDENTIFIER_WORDS,
    NOW,
    OLD_DAY0,
    TODAY,
    answers_for_scoring,
    do_visit,
    expected_responder,
    expected_scores,
    fixed_clock,
    new_db,
    of,
    pdf_metadata,
    pdf_pages,
    pdf_text,
    shown,
    visit_answers,
    visit_day,
)
from tests.support.storage import coord, inv

CODE = "RSP-01-001"
YEAR_OF_BIRTH = 1961
MISSED_REASON = "subject was in hospital"
CORRECTION_REASON = "patient reported ticking the wrong statement"
# M12 ODI: 25/50 = 50 % against 60 % at baseline, a 16.7 % relative improvement (not enough);
# correcting section 1 from 3 to 2 gives 24/50 = 48 %, exactly 20 %: a responder.
M12_ODI = [3, 3, 3, 3, 3, 2, 2, 2, 2, 2]


def _subject(db: StudyDb) -> dict[str, str]:
    """RSP-01-001: M0, M1, M6, M12 done, M3 missed, M24 not yet due. Returns session ids."""
    storage.register_subject(db, CODE, day0=OLD_DAY0, staff=coord(db), year_of_birth=YEAR_OF_BIRTH)
    sessions = {}
    plan = {
        "M0": visit_answers(vas=72.5, odi=3, sf36=2),
        "M1": visit_answers(vas=60.0, odi=[3, 3, 3, 3, 3, 2, 2, 2, 2, 2], sf36=1),
        "M6": visit_answers(vas=40.4, odi=[2, 2, None, 2, 1, 1, 1, 1, 1, 1], sf36={1: 3, 21: 2}),
        "M12": visit_answers(vas=65.0, odi=list(M12_ODI), sf36=3),
    }
    for visit in ("M0", "M1"):
        sessions[visit] = do_visit(db, CODE, visit, plan[visit], visit_day(db, OLD_DAY0, visit))
    storage.mark_missed(db, CODE, "M3", staff=coord(db), reason=MISSED_REASON, on=TODAY)
    for visit in ("M6", "M12"):
        sessions[visit] = do_visit(db, CODE, visit, plan[visit], visit_day(db, OLD_DAY0, visit))
    return sessions


@pytest.fixture
def subject_db(tmp_path: Path):  # type: ignore[no-untyped-def]
    with fixed_clock():
        db = new_db(tmp_path / "study.db")
        sessions = _subject(db)
        yield db, sessions
        db.close()


def _write(db: StudyDb, out: Path) -> reports.ReportFile:
    with fixed_clock():
        return reports.write_patient_pdf(db, CODE, out, on=TODAY)


def _row(label: str, cells: list[str]) -> str:
    return " ".join([label, *cells])


def test_score_table_matches_the_scoring_api(subject_db, tmp_path: Path) -> None:
    db, _ = subject_db
    out = _write(db, tmp_path / "patient.pdf").path
    text = pdf_text(out)
    expected = expected_scores(db, CODE)
    visits = db.study.visit_codes

    def cells(key: str, places: int) -> list[str]:
        return [shown(expected[v][key], places) if v in expected else "\u2013" for v in visits]

    # VAS to 0.1 mm (the precision its 20 mm rule is applied to): 72.5 stays 72.5.
    assert _row("Pain VAS (mm)", cells("VAS", 1)) in text
    assert "Pain VAS (mm) 72.5 60.0 \u2013 40.4 65.0 \u2013" in text
    assert _row("ODI (%)", cells("ODI", 1)) in text
    assert "ODI (%) 60.0 50.0 \u2013" in text
    assert _row("PCS (physical summary)", cells("PCS", 1)) in text
    assert _row("MCS (mental summary)", cells("MCS", 1)) in text
    assert _row("Physical functioning", cells("PF", 1)) in text
    assert _row("Bodily pain", cells("BP", 1)) in text
    assert "SF-36 v1 standard scoring, US 1990 norms" in text


def test_changes_mcid_and_responder_at_every_follow_up(subject_db, tmp_path: Path) -> None:
    db, _ = subject_db
    text = pdf_text(_write(db, tmp_path / "patient.pdf").path)
    expected = expected_scores(db, CODE)
    follow = [v for v in db.study.visit_codes if v != "M0"]
    m = db.study.mcid
    base = expected["M0"]
    for measure, places in (("VAS", 1), ("ODI", 1), ("PCS", 1), ("MCS", 1)):
        changes = []
        flags = []
        for visit in follow:
            if visit not in expected:
                changes.append("\u2013")
                flags.append("\u2013")
                continue
            value = expected[visit][measure]
            change = endpoints.change_from_baseline(measure, base[measure], value)
            text_change = shown(change, places)
            unsigned = text_change.startswith("-") or float(text_change) == 0
            changes.append(text_change if unsigned else "+" + text_change)
            mcid = endpoints.mcid_attained(
                measure,
                base[measure],
                value,
                points={
                    "VAS": m.vas_points,
                    "ODI": m.odi_points,
                    "PCS": m.pcs_points,
                    "MCS": m.mcs_points,
                }[measure],
                percent={"VAS": m.vas_percent, "ODI": m.odi_percent}.get(measure),
            )
            flags.append({True: "yes", False: "no", None: "undetermined"}[mcid])
        assert _row(f"{measure} change", changes) in text
        assert _row(f"{measure} MCID reached", flags) in text
    # Responder at M12 (primary) and at every follow-up, labelled.
    assert expected_responder(db, expected, "M12") is False
    assert "Responder at M12 (primary endpoint): no" in text
    assert "M12 primary" in text
    assert "M1 secondary (follow-up)" in text
    assert "M3 secondary (follow-up) \u2013 \u2013 \u2013 \u2013 no data" in text
    assert "M24 secondary (follow-up)" in text
    # M1: VAS 72.5 -> 60 = 12.5 mm (17.2 %), ODI 60 -> 50 = 10 points (16.7 %).
    assert "12.5 mm (17.2 %) not met 10.0 points (16.7 %) not met no" in text


def test_visits_with_dates_status_and_missed_reason(subject_db, tmp_path: Path) -> None:
    db, _ = subject_db
    text = pdf_text(_write(db, tmp_path / "patient.pdf").path)
    for record in storage.subject_visits(db, CODE, TODAY):
        w = record.window
        done = record.actual_date.isoformat() if record.actual_date else "\u2013"
        status = record.status.replace("_", " ")
        label = db.study.visit(record.code).label["en"]
        line = f"{record.code} {label} {w.target} {w.opens} to {w.closes} {done} {status}"
        assert line in text
    assert f"missed {MISSED_REASON}" in text
    assert f"Subject {CODE} Site 01" in text
    assert f"Day 0 (injection) {OLD_DAY0.isoformat()}" in text


@pytest.mark.req("REP-01")
def test_footer_on_every_page(subject_db, tmp_path: Path) -> None:
    db, _ = subject_db
    written = _write(db, tmp_path / "patient.pdf")
    head = storage.audit_chain_head(db).hash
    assert written.chain_head == head
    pages = pdf_pages(written.path)
    assert len(pages) == written.pages >= 2
    generated = NOW.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert f"Audit chain head: {head}" in page
        assert f"generated {generated}" in page
        assert f"RESPINE Desktop {__version__}" in page


@pytest.mark.req("REP-02")
def test_no_identifier_beyond_the_pseudonymous_code(subject_db, tmp_path: Path) -> None:
    db, _ = subject_db
    out = _write(db, tmp_path / "patient.pdf").path
    text = pdf_text(out)
    assert CODE in text
    # The footer's chain head is 64 random hex digits that may hold "1961" by chance.
    assert str(YEAR_OF_BIRTH) not in text.replace(storage.audit_chain_head(db).hash, "")
    assert not IDENTIFIER_WORDS.search(text), IDENTIFIER_WORDS.search(text)
    meta = pdf_metadata(out)
    assert meta.get("/Author") == "RESPINE Desktop"
    for value in meta.values():
        assert not IDENTIFIER_WORDS.search(value)
        assert str(YEAR_OF_BIRTH) not in value
    # No other subject code, and no staff or device UUIDs.
    assert re.findall(r"RSP-\d\d-\d+", text) == [CODE] * text.count(CODE)
    assert db.device_id not in text


def test_correction_shows_old_new_who_why_and_changes_the_report(
    subject_db, tmp_path: Path
) -> None:
    db, sessions = subject_db
    before = pdf_text(_write(db, tmp_path / "before.pdf").path)
    assert "No answer of this subject was corrected after submission." in before
    assert "ODI (%) 60.0 50.0 \u2013 " in before
    assert "Responder at M12 (primary endpoint): no" in before
    fixed = datetime(2026, 3, 2, 11, 15, tzinfo=UTC)
    with fixed_clock(fixed):
        storage.correct_answer(
            db, sessions["M12"], "odi_01", 2, staff=inv(db), reason=CORRECTION_REASON
        )
    after_path = _write(db, tmp_path / "after.pdf").path
    after = pdf_text(after_path)
    expected = expected_scores(db, CODE)
    assert expected["M12"]["ODI"] == 48.0
    assert expected_responder(db, expected, "M12") is True
    # The correction: visit, item, old value, new value, who, when, why.
    assert f"M12 ODI section 1 3 2 inv 2026-03-02 11:15:00.000Z {CORRECTION_REASON}" in after
    # The report's numbers follow the corrected answer.
    assert f"ODI (%) 60.0 50.0 \u2013 {shown(expected['M6']['ODI'])} 48.0 \u2013" in after
    assert "Responder at M12 (primary endpoint): yes" in after
    assert "M12 primary 7.5 mm (10.3 %) not met 12.0 points (20.0 %) met yes" in after
    # The footer cites the new head of the audit chain.
    assert storage.audit_chain_head(db).hash in pdf_pages(after_path)[0]
    assert storage.audit_chain_head(db).hash not in before


def test_instruments_and_scoring_rules(subject_db, tmp_path: Path) -> None:
    db, _ = subject_db
    text = pdf_text(_write(db, tmp_path / "patient.pdf").path)
    from respine_desktop import scoring
    from respine_desktop.instruments import load_instruments

    for inst in load_instruments().values():
        assert f"{inst.version} {inst.checksum}" in text
    assert f"Scores as stored: {scoring.SCORING_VERSION}." in text
    assert "SF-36: SF-36 v1 standard scoring, US 1990 norms." in text
    assert "at least 9 of 10 sections" in text
    assert "Jeremy Fairbank" in text  # the ODI licence notice


def test_rand_reporting_switch(tmp_path: Path) -> None:
    """sf36_reported = "rand": the RAND-36 scales (and HT), no PCS/MCS rows."""
    rand_study = replace(load_study(), sf36_reported="rand")
    with fixed_clock():
        db = new_db(tmp_path / "study.db")
        _subject(db)
        db.close()
        db = storage.open_database(tmp_path / "study.db", study=rand_study)
        out = reports.write_patient_pdf(db, CODE, tmp_path / "rand.pdf", on=TODAY).path
    text = pdf_text(out)
    from respine_desktop import scoring

    expected = {
        v: scoring.score("sf36", of(answers, "sf36"), "rand")
        for v, answers in _scoring_answers(db).items()
    }
    assert "RAND 36-Item Health Survey 1.0" in text
    assert "PCS (physical summary)" not in text and "PCS change" not in text
    assert "MCS (mental summary)" not in text and "MCS change" not in text
    row = [shown(expected[v]["VT"]) if v in expected else "\u2013" for v in db.study.visit_codes]
    assert _row("Energy/fatigue (VT)", row) in text
    assert "Health change (HT)" in text
    db.close()


def _scoring_answers(db: StudyDb) -> dict[str, dict[str, object]]:

    return {
        r.code: answers_for_scoring(db, r.session_id)
        for r in storage.subject_visits(db, CODE, TODAY)
        if r.status == "complete" and r.session_id
    }


def test_unknown_subject_and_bad_output(subject_db, tmp_path: Path) -> None:
    db, _ = subject_db
    with pytest.raises(storage.UnknownSubject):
        reports.write_patient_pdf(db, "RSP-01-999", tmp_path / "x.pdf", on=TODAY)
    with pytest.raises(reports.ReportOutputError, match="no such directory"):
        reports.write_patient_pdf(db, CODE, tmp_path / "nope" / "x.pdf", on=TODAY)
    assert not (tmp_path / "x.pdf").exists()


def test_summary_data_for_the_console(subject_db) -> None:
    db, _ = subject_db
    summary = reports.patient_summary(db, CODE, on=TODAY)
    expected = expected_scores(db, CODE)
    assert [v.code for v in summary.visits] == list(db.study.visit_codes)
    assert summary.visit("M3").status == "missed"
    assert summary.visit("M3").missed_reason == MISSED_REASON
    assert summary.visit("M12").value("ODI") == expected["M12"]["ODI"]
    assert summary.primary is not None and summary.primary.visit == "M12"
    assert summary.primary.responder is False
    change = summary.change("M1", "VAS")
    assert change is not None and change.change == -12.5
    assert [m.key for m in summary.chart_measures] == ["VAS", "ODI", "PCS", "MCS"]
