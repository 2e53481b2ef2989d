"""What the About screen states: the app and scoring versions and each instrument's notices."""

from __future__ import annotations

from dataclasses import dataclass

from respine_desktop import __version__
from respine_desktop.instruments import load_instruments
from respine_desktop.scoring import SCORING_VERSION
from respine_desktop.study import load_study


@dataclass(frozen=True)
class InstrumentNotice:
    """One instrument's identity and legal notices, in the language asked for when it exists."""

    id: str
    title: str
    version: str
    checksum: str
    licence: str
    credit: str
    language: str


@dataclass(frozen=True)
class About:
    """Everything the About screen shows."""

    app_version: str
    scoring_version: str
    study: str
    protocol: str
    instruments: tuple[InstrumentNotice, ...]


def _text(texts: dict[str, str], lang: str) -> tuple[str, str]:
    # Licence notices are legal text: shown in English when no translation is licensed, and the
    # screen says which language it shows (never a silent substitution).
    if lang in texts:
        return texts[lang], lang
    return texts["en"], "en"


def about(lang: str) -> About:
    """The About screen's content for a staff member reading `lang`."""
    notices = []
    # In the order the study asks them (VAS, ODI, SF-36), any other shipped instrument after.
    order = load_study().instrument_order
    instruments = sorted(
        load_instruments().values(),
        key=lambda i: (order.index(i.id) if i.id in order else len(order), i.id),
    )
    for instrument in instruments:
        title, title_lang = _text(dict(instrument.title), lang)
        licence, licence_lang = _text(dict(instrument.licence), lang)
        credit, _ = _text(dict(instrument.credit), lang)
        notices.append(
            InstrumentNotice(
                id=instrument.id,
                title=title,
                version=instrument.version,
                checksum=instrument.checksum,
                licence=licence,
                credit=credit,
                language=licence_lang if licence_lang != lang else title_lang,
            )
        )
    study = load_study()
    return About(__version__, SCORING_VERSION, study.title, study.protocol, tuple(notices))
