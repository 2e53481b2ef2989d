"""Patient-facing names of the questionnaires ("Your back pain today"), never abbreviations.

The names are UI texts (`kiosk.instrument.<id>` in resources/i18n), not instrument content: the
instrument files, whose checksum is stored with every answer, stay unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respine_desktop.i18n import texts

if TYPE_CHECKING:
    from respine_desktop.instruments import Instrument


def instrument_title(lang: str, instrument: Instrument) -> str:
    """The patient's name for `instrument` in `lang`; an instrument without one (a new
    questionnaire) shows its full title from its file."""
    name = texts(lang).get(f"kiosk.instrument.{instrument.id}")
    if name:
        return name
    return instrument.title.get(lang) or instrument.title.get("en") or instrument.id
