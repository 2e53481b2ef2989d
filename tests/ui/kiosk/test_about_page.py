"""The About screen states the versions and every instrument's licence notice (DESIGN §2)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from respine_desktop.instruments import load_instrument
from tests.support.kiosk import Kiosk, tap
from ui.kiosk.about_page import AboutPage
from ui.kiosk.staff_pages import LockPage, StaffHomePage


def _texts(page: AboutPage) -> str:
    return "\n".join(w.text() for w in page.findChildren(QLabel))


def test_about_shows_versions_checksums_and_the_odi_and_rand_notices(kiosk: Kiosk) -> None:
    tap(kiosk.on(LockPage).unlock_button)
    kiosk.sign_in()
    tap(kiosk.on(StaffHomePage).buttons["about"])
    text = _texts(kiosk.on(AboutPage))
    unbroken = text.replace("\n", "")
    assert "© Jeremy Fairbank" in text and "Mapi Research Trust" in text
    assert "developed at RAND as part of the Medical Outcomes Study" in text
    for instrument_id in ("vas", "odi", "sf36"):
        instrument = load_instrument(instrument_id)
        assert instrument.version in text and instrument.checksum in unbroken
    assert "respine-scoring" in text
    tap(kiosk.on(AboutPage).back_button)
    kiosk.on(StaffHomePage)


def test_a_notice_without_a_translation_says_which_language_it_is_in(qtbot: object) -> None:
    page = AboutPage("fr")
    qtbot.addWidget(page)  # type: ignore[attr-defined]
    text = _texts(page)
    assert "Oswestry Disability Index © Jeremy Fairbank" in text  # only licensed in English
    assert "Mention affichée dans la langue de sa licence (en)." in text
    assert "Sans propriétaire" in text  # the VAS notice exists in French and is shown in French
