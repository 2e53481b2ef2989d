"""E-signatures in the reports (21 CFR 11.50): the patient PDF lists each signature (username,
role, date and time UTC, meaning, state) and marks signed visits on page 1; a correction after
signing shows BROKEN; the study report counts the subjects whose M12 visit is signed."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import reports, storage
from tests.support.exports import NOW, TODAY, controlled_clock, scenario_db
from tests.support.reports import pdf_pages, pdf_text
from tests.support.storage import ADMIN_PIN, INV_PIN, inv

S1 = "RSP-01-001"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("signed-reports") / "base.db"
    scenario_db(path)
    return path


@pytest.fixture
def db(base: Path, tmp_path: Path) -> Path:
    path = tmp_path / "study.db"
    shutil.copy(base, path)
    return path


@pytest.mark.req("SIG-04", "SIG-03")
def test_the_patient_pdf_shows_each_signature_and_which_visits_are_signed(
    db: Path, tmp_path: Path
) -> None:
    with controlled_clock(NOW), storage.open_database(db) as opened:
        storage.sign(opened, username="inv", pin=INV_PIN, subject_code=S1, visit_code="M12",
                     meaning="approved")  # fmt: skip
        storage.sign(opened, username="inv", pin=INV_PIN, subject_code=S1, visit_code="M6",
                     meaning="reviewed")  # fmt: skip
        storage.sign(opened, username="admin", pin=ADMIN_PIN, subject_code=S1,
                     meaning="responsibility")  # fmt: skip
        unsigned = tmp_path / "before.pdf"
        reports.write_patient_pdf(opened, S1, unsigned, on=TODAY - timedelta(days=1))
        m6 = storage.chosen_session(opened, S1, "M6")
        assert m6 is not None
        storage.correct_answer(opened, m6, "odi_04", 0, staff=inv(opened), reason="misread")
        out = tmp_path / "signed.pdf"
        reports.write_patient_pdf(opened, S1, out, on=TODAY)
    text = pdf_text(out)
    assert "Electronic signatures" in text
    stamp = NOW.strftime("%Y-%m-%d %H:%M")
    assert f"M12 inv investigator {stamp}" in text
    assert "approved: I approve these data as accurate and complete valid" in text
    assert "reviewed: I have reviewed these data BROKEN" in text
    assert f"all visits admin admin {stamp}" in text
    assert "responsibility: I am responsible for these data BROKEN" in text
    page1 = pdf_pages(out)[0]
    visits = page1[page1.index("Visits") :]
    assert "Corrected Signed" in visits
    m12 = visits[visits.index("M12 ") :]
    assert "complete signed" in m12.split("M24")[0], m12
    m6_row = visits[visits.index("M6 ") : visits.index("M12 ")]
    assert "BROKEN" in m6_row, m6_row
    # a cut-off before the signing day: no signature yet
    before = pdf_text(unsigned)
    assert "No electronic signature of this subject's data." in before
    assert "BROKEN" not in before


@pytest.mark.req("SIG-04")
def test_the_study_report_counts_the_subjects_whose_m12_visit_is_signed(
    db: Path, tmp_path: Path
) -> None:
    with controlled_clock(NOW), storage.open_database(db) as opened:
        out = tmp_path / "none.pdf"
        reports.write_study_pdf(opened, out, on=TODAY)
        assert "M12 visits e-signed by an investigator: 0 of 3 subjects (1 with M12 done)." in (
            pdf_text(out)
        )
        storage.sign(opened, username="inv", pin=INV_PIN, subject_code=S1, visit_code="M12",
                     meaning="approved")  # fmt: skip
        reports.write_study_pdf(opened, out, on=TODAY)
        assert "M12 visits e-signed by an investigator: 1 of 3 subjects" in pdf_text(out)
        m12 = storage.chosen_session(opened, S1, "M12")
        assert m12 is not None
        storage.correct_answer(opened, m12, "vas_pain", 25.0, staff=inv(opened), reason="typo")
        reports.write_study_pdf(opened, out, on=TODAY)
        text = pdf_text(out)
    assert "M12 visits e-signed by an investigator: 0 of 3 subjects (1 with M12 done); 1 " in text
    assert "BROKEN (data changed after signing, to sign again)." in text
