"""The patient PDF for source data verification: page 1, the item appendix, the embedded font
and the metadata (values written by hand below, not taken from the scoring API)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from respine_desktop import reports, storage
from tests.support.reports import (
    NOW,
    OLD_DAY0,
    TODAY,
    do_visit,
    fixed_clock,
    new_db,
    pdf_metadata,
    pdf_pages,
    visit_answers,
    visit_day,
)
from tests.support.storage import coord, inv

REASON = "patient misread the line — Łódź ő ğ"


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("sdv")
    with fixed_clock():
        db = new_db(folder / "sdv.db")
        storage.register_subject(db, "RSP-01-001", day0=OLD_DAY0, staff=coord(db))
        m0 = visit_answers(vas=72.5, odi=[2, 2, None, 2, 2, 2, 2, 2, 2, 2])
        session = do_visit(db, "RSP-01-001", "M0", m0, OLD_DAY0)
        do_visit(
            db,
            "RSP-01-001",
            "M12",
            visit_answers(vas=52.6, odi=2),
            visit_day(db, OLD_DAY0, "M12"),
        )
        storage.correct_answer(db, session, "vas_pain", 72.4, staff=inv(db), reason=REASON)
        storage.withdraw_subject(
            db, "RSP-01-001", staff=coord(db), on=OLD_DAY0 + timedelta(days=390), reason="moved"
        )
        out = folder / "patient.pdf"
        reports.write_patient_pdf(db, "RSP-01-001", out, on=TODAY)
        db.close()
    yield out


def test_page_one_has_the_primary_endpoint_row_and_a_correction_flag(pdf: Path) -> None:
    first = pdf_pages(pdf)[0]
    # 72.4 -> 52.6 mm: improvement 19.8 mm (< 20): VAS criterion not met, to 0.1 mm.
    assert "M12 (complete) 72.4 → 52.6 (−19.8) not met" in first
    # ODI 2/2/skip/... = 18 of 45 = 40.0 % -> 40.0 % (no change): not met, so not a responder.
    assert "40.0 → 40.0 not met no" in first
    assert "Endpoint values corrected: 1 answer(s)" in first
    assert "Withdrawn on " + (OLD_DAY0 + timedelta(days=390)).isoformat() + ": moved" in first
    assert "Data cut-off " + TODAY.isoformat() in first


def test_item_appendix_lists_every_answer(pdf: Path) -> None:
    text = " ".join(pdf_pages(pdf))
    assert "Appendix: item-level answers" in text
    assert "ODI: 10 items, 1 skipped" in text
    assert "ODI section 3 skipped skipped" in text
    assert "Pain VAS 72.4 72.4 mm" in text
    assert "inv, " + NOW.isoformat()[:10] in text
    assert "SF-36 item 1 2 Very good" in text


def test_embedded_unicode_font_and_reason_intact(pdf: Path) -> None:
    reader = PdfReader(pdf)
    fonts = set()
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendant = font.get("/DescendantFonts")
            target = descendant[0].get_object() if descendant else font
            descriptor = target["/FontDescriptor"].get_object()
            if "/FontFile2" in descriptor:
                fonts.add(str(font["/BaseFont"]).split("+")[-1])
            else:
                fonts.add("not embedded: " + str(font["/BaseFont"]))
    assert fonts == {"DejaVuSans", "DejaVuSans-Bold"}
    assert REASON in " ".join(pdf_pages(pdf))


def test_metadata_from_our_clock(pdf: Path) -> None:
    meta = pdf_metadata(pdf)
    assert meta["/Title"] == "RESPINE patient summary RSP-01-001, data cut-off " + TODAY.isoformat()
    assert meta["/Subject"] == "RESPINE patient summary (pseudonymous)"
    assert meta["/Producer"] == "RESPINE Desktop (ReportLab)"
    assert meta["/CreationDate"] == "D:" + NOW.strftime("%Y%m%d%H%M%S") + "+00'00'"
