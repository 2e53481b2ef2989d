"""Installed translations offered to patients (issue 11): a synthetic pseudo-language "xx"
(bracketed English, made by the tests, never a licensed text) installed in a real database file,
the real kiosk window offscreen, the answers stored with their language, the CSV and the patient
PDF naming it."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from respine_desktop import exports, reports, storage
from respine_desktop.session import visit_languages
from respine_desktop.translations import activate_installed, not_offered
from tests.support.kiosk import SUBJECT, Kiosk, tap
from tests.support.reports import pdf_text
from tests.support.translation import install_pseudo, no_translation_left, pseudo
from ui.kiosk.item_page import ItemPage
from ui.kiosk.patient_pages import HandoverPage, LanguagePage, ReviewPage, ThanksPage
from ui.kiosk.staff_pages import StaffHomePage
from ui.kiosk.visit_picker import VisitPickerPage

__all__ = ["no_translation_left"]
pytestmark = pytest.mark.usefixtures("no_translation_left")


def texts_on(widget: QWidget) -> str:
    return " ".join(
        w.text()
        for w in widget.findChildren(QLabel) + widget.findChildren(QAbstractButton)
        if w.isVisibleTo(widget)
    )


def with_xx(db_path: Path, instruments: tuple[str, ...]) -> Path:
    with storage.open_database(db_path) as db:
        install_pseudo(db, instruments)
    return db_path


def to_picker(kiosk: Kiosk) -> VisitPickerPage:
    """Unlocked, on the picker with the subject's first visit chosen."""
    kiosk.unlock()
    tap(kiosk.on(StaffHomePage).buttons["start"])
    picker = kiosk.on(VisitPickerPage)
    picker.search.setText(SUBJECT)
    picker.subjects.setCurrentRow(0)
    picker.visits.setCurrentRow(0)
    return picker


def to_handover(kiosk: Kiosk) -> HandoverPage:
    tap(to_picker(kiosk).hand_over_button)
    return kiosk.on(HandoverPage)


@pytest.mark.req("I18N-02")
def test_a_translation_covering_the_visit_is_offered_and_used(
    start_kiosk: Callable[[Path], Kiosk], db_path: Path, tmp_path: Path
) -> None:
    kiosk = start_kiosk(with_xx(db_path, ("vas", "odi", "sf36")))
    handover = to_handover(kiosk)
    assert handover.not_offered == []
    tap(handover.start_button)
    choice = kiosk.on(LanguagePage)
    # SF-36 ships in English only: without "xx" this visit offers no choice at all.
    assert list(choice.buttons) == ["en", "xx"]
    assert choice.buttons["xx"].text() == "Pseudo (test)"
    tap(choice.buttons["xx"])
    page = kiosk.on(ItemPage)
    shown = texts_on(page)
    # The installed texts: the item, its anchors or options, the title and the buttons.
    assert "[Please mark on the line how intense your low back pain is today.]" in shown
    assert "[Next]" in shown and "Next" not in shown.replace("[Next]", "")
    seen = 0
    while isinstance(kiosk.page(), ItemPage):
        page = kiosk.item()
        seen += 1
        if page.step.item.type == "choice":
            assert page.choices is not None
            assert all(b.text().startswith("[") for b in page.choices.buttons)
        kiosk.answer(choice=1)
        kiosk.next()
    assert seen == 47
    review = kiosk.on(ReviewPage)
    tap(review.submit_button)
    tap(review.confirm_yes)
    kiosk.on(ThanksPage)
    db = kiosk.flow.db
    assert db is not None
    (session,) = storage.subject_sessions(db, SUBJECT)
    assert session.state == "submitted" and session.language == "xx"
    stored = storage.current_answers(db, session.id)
    assert len(stored) == 47 and {a.language for a in stored.values()} == {"xx"}
    exports.export_csv(db, tmp_path / "csv")
    pdf = reports.write_patient_pdf(db, SUBJECT, tmp_path / "p.pdf", on=date.today()).path
    with open(tmp_path / "csv" / "answers_long.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["language"] for r in rows} == {"xx"}
    assert "language xx" in pdf_text(pdf)
    # The export does not depend on the process writing it: the labels are the shipped texts.
    (odi_01,) = [r for r in rows if r["item"] == "odi_01"]
    assert odi_01["label"] and not odi_01["label"].startswith("[")
    exports.export_odm(db, tmp_path / "odm.xml")
    odm = (tmp_path / "odm.xml").read_text(encoding="utf-8")
    assert 'xml:lang="en"' in odm and 'xml:lang="xx"' not in odm


@pytest.mark.req("I18N-02")
def test_a_translation_missing_an_instrument_is_not_offered_and_staff_see_why(
    start_kiosk: Callable[[Path], Kiosk], db_path: Path
) -> None:
    kiosk = start_kiosk(with_xx(db_path, ("vas", "odi")))
    handover = to_handover(kiosk)
    assert [line.text() for line in handover.not_offered] == ["xx: SF-36 missing"]
    tap(handover.start_button)
    # English alone covers the visit: no language page, the first item in English.
    page = kiosk.on(ItemPage)
    assert "Pseudo" not in texts_on(page) and "[" not in texts_on(page)


@pytest.mark.req("I18N-03")
def test_a_visit_parked_in_a_translation_set_aside_waits_until_it_is_installed_again(
    start_kiosk: Callable[[Path], Kiosk], db_path: Path
) -> None:
    kiosk = start_kiosk(with_xx(db_path, ("vas", "odi", "sf36")))
    tap(to_handover(kiosk).start_button)
    tap(kiosk.on(LanguagePage).buttons["xx"])
    kiosk.answer()
    kiosk.next()
    kiosk.flow.release()  # parked in "xx"
    # An upgrade that adds a patient text: the stored "xx" lacks it, this build sets it aside.
    good = pseudo(("vas", "odi", "sf36"))
    stale = {**good, "ui": {k: v for k, v in good["ui"].items() if k != "kiosk.review.submit"}}
    with storage.open_database(db_path) as db:
        storage.install_translation(db, "xx", json.dumps(stale), replace=True)
    upgraded = start_kiosk(db_path)
    picker = to_picker(upgraded)
    with storage.open_database(db_path) as db:
        before = storage.audit_entries(db)
    tap(picker.hand_over_button)
    # Refused on the picker, staff still signed in, nothing written: the visit stays parked.
    assert upgraded.page() is picker and picker.error.isVisibleTo(picker)
    assert "started in the language 'xx', which this kiosk cannot show now" in picker.error.text()
    assert upgraded.flow.staff is not None and not upgraded.flow.patient_mode
    with storage.open_database(db_path) as db:
        (session,) = storage.subject_sessions(db, SUBJECT)
        assert session.state == "parked" and storage.audit_entries(db) == before
        # The translation for this version installed (`import translation`, another process)
        # while this kiosk runs: the visit resumes where it was, in "xx", without a restart.
        storage.install_translation(db, "xx", json.dumps(good), replace=True)
    tap(picker.hand_over_button)
    tap(upgraded.on(HandoverPage).start_button)
    page = upgraded.item()
    assert page.step.item.id == "odi_01" and "[Next]" in texts_on(page)


def test_only_visits_it_covers_offer_it_and_a_stale_translation_is_named(db_path: Path) -> None:
    with storage.open_database(db_path) as db:
        install_pseudo(db, ("vas", "odi"))
        installed = activate_installed(storage.installed_translations(db))
    assert visit_languages(("vas",)) == ("en", "fr", "xx")  # the shipped ones first
    assert visit_languages(("vas", "odi")) == ("en", "xx")
    assert visit_languages(("vas", "odi", "sf36")) == ("en",)
    assert not_offered(installed, ("vas", "odi", "sf36"), "fr") == ["xx : SF-36 manquant"]
    # A translation stored for an older master (after an upgrade) is neither offered nor hidden.
    stale = activate_installed({"xx": '{"format": "respine-translation/0"}'})
    assert visit_languages(("vas",)) == ("en", "fr")
    (line,) = not_offered(stale, ("vas",), "en")
    assert line.startswith("xx: not offered (installed xx: format must be")


def test_screenshots_render_an_installed_language_and_it_fits(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.support.kiosk import make_database
    from tests.ui.kiosk.test_kiosk_process import ENV, ROOT

    def screenshots(*args: str | Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(ROOT / "main.py"), "screenshots", *map(str, args)]
        return subprocess.run(
            command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300
        )

    db_path = with_xx(make_database(tmp_path / "shots.db"), ("vas", "odi", "sf36"))
    out = tmp_path / "out"
    done = screenshots("--db", db_path, "--out", out, "--lang", "xx", "--check-fit")
    assert done.returncode == 0, done.stdout + done.stderr
    # the language page's shot (its number depends on how many screens come before it)
    assert "FAIL" not in done.stdout and len(list(out.glob("[0-9][0-9][0-9]-language.png"))) == 1
    # A language installed but not covering the visit, and one not installed: one line, exit 2.
    partial = with_xx(make_database(tmp_path / "partial.db"), ("vas", "odi"))
    for db, lang in ((partial, "xx"), (db_path, "yy")):
        refused = screenshots("--db", db, "--out", tmp_path / "none", "--lang", lang)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1
        assert f"--lang {lang}: the visit's questionnaires exist only in en" in refused.stderr
    assert not (tmp_path / "none").exists() or not any((tmp_path / "none").iterdir())
