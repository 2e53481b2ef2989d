"""An installed translation across an upgrade: a release that adds, removes or changes a staff
or console text leaves it usable (those are shown in a shipped language only); one whose patient
texts it lacks makes it unusable, and staff are told which text. The translation is the tests'
pseudo-language "xx" (bracketed English), stored as an earlier build would have stored it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from respine_desktop.i18n import is_patient_text, patient_texts, t, texts
from respine_desktop.instruments import load_instrument
from respine_desktop.session import visit_languages
from respine_desktop.translations import (
    TranslationError,
    activate_installed,
    not_offered,
    parse_translation,
)
from tests.support.translation import no_translation_left, pseudo

__all__ = ["no_translation_left"]
pytestmark = pytest.mark.usefixtures("no_translation_left")


def stored(content: dict[str, Any]) -> dict[str, str]:
    """`storage.installed_translations` of a database holding `content` as installed."""
    return {"xx": json.dumps(content)}


def test_patient_texts_are_the_kiosk_texts_and_back_and_next() -> None:
    keys = set(patient_texts())
    assert {"common.next", "common.back", "kiosk.item.skip", "kiosk.thanks.title"} <= keys
    assert all(k.startswith("kiosk.") for k in keys - {"common.next", "common.back"})
    assert all(is_patient_text(k) == (k in keys) for k in texts("en"))


@pytest.mark.req("I18N-03")
def test_staff_and_console_texts_an_earlier_build_lacked_or_had_do_not_matter() -> None:
    content = pseudo(("vas", "odi"), every_text=True)
    # Installed under an earlier build: it lacks texts this build added for staff and the
    # console, has one this build removed, and one whose placeholders this build changed.
    del content["ui"]["staff.home.title"]
    del content["ui"]["console.worklist.title"]
    content["ui"]["console.removed_long_ago"] = "[Gone]"
    content["ui"]["staff.home.role"] = "[no placeholder any more]"
    installed = activate_installed(stored(content))
    assert installed.unusable == {}
    assert visit_languages(("vas", "odi")) == ("en", "xx")
    assert t("xx", "common.next") == "[Next]"
    # What this build does not have, or has in another form, is dropped, never shown.
    assert "console.removed_long_ago" not in texts("xx")
    assert "staff.home.role" not in texts("xx")
    # A file installed now leaves the same texts out, and a patient text this release removed
    # too: the file installs on a new kiosk as it stays usable on an upgraded one.
    assert parse_translation(content).left_out == ("console.removed_long_ago", "staff.home.role")
    content["ui"]["kiosk.removed_long_ago"] = "[Gone]"
    assert "kiosk.removed_long_ago" in parse_translation(content).left_out
    assert activate_installed(stored(content)).unusable == {}
    # A name this release would refuse at import (too long, two lines) stays as installed.
    content["name"] = "Pseudo\n" + "x" * 50
    assert activate_installed(stored(content)).unusable == {}
    with pytest.raises(TranslationError, match="name is longer than 40 characters"):
        parse_translation(content)


@pytest.mark.req("I18N-03")
def test_a_patient_text_an_earlier_build_lacked_makes_it_unusable_and_staff_see_which() -> None:
    content = pseudo(("vas", "odi"))
    del content["ui"]["kiosk.review.submit"]
    installed = activate_installed(stored(content))
    assert visit_languages(("vas",)) == ("en", "fr")
    (line,) = not_offered(installed, ("vas",), "en")
    assert line == (
        "xx: not offered (its text kiosk.review.submit is missing: install its translation for "
        "this version)"
    )
    (ligne,) = not_offered(installed, ("vas",), "fr")
    assert ligne.startswith("xx : non proposée (son texte kiosk.review.submit manque : ")
    assert str(installed.unusable["xx"]).startswith("installed xx ui: text 'kiosk.review.submit'")
    # A patient text whose placeholders this build changed: the same.
    content = pseudo(("vas", "odi"))
    content["ui"]["kiosk.item.progress"] = "[no placeholder]"
    installed = activate_installed(stored(content))
    (line,) = not_offered(installed, ("vas",), "en")
    assert "its text kiosk.item.progress must keep the placeholders {number}, {total}" in line
    # and one that has none, in French
    content = pseudo(("vas", "odi"))
    content["ui"]["kiosk.review.submit"] = "[{what}]"
    (ligne,) = not_offered(activate_installed(stored(content)), ("vas",), "fr")
    assert "son texte kiosk.review.submit ne doit contenir aucune variable" in ligne


@pytest.mark.req("I18N-03")
def test_a_translation_of_an_older_master_is_named_with_its_version() -> None:
    content = pseudo(("vas", "odi"))
    content["instruments"]["odi"]["version"] = "0.9"
    installed = activate_installed(stored(content))
    shipped = load_instrument("odi").version
    (line,) = not_offered(installed, ("vas",), "en")
    assert line == (
        f"xx: not offered (it translates ODI version 0.9, not the shipped {shipped}: install its "
        "translation for this version)"
    )
    (ligne,) = not_offered(installed, ("vas",), "fr")
    assert f"elle traduit ODI version 0.9, pas la version livrée {shipped}" in ligne


def test_a_language_this_release_ships_is_not_said_to_be_set_aside() -> None:
    content = {**pseudo(("vas", "odi")), "language": "fr"}  # installed before "fr" shipped
    installed = activate_installed({"fr": json.dumps(content)})
    assert installed.unusable == {} and installed.translations == ()
    assert not_offered(installed, ("vas",), "en") == []
