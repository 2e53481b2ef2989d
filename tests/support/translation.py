"""A synthetic pseudo-language "xx" for tests: every English text of the masters in brackets.

Never a licensed text: it is made here from the shipped English masters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.i18n import patient_texts, texts
from respine_desktop.instruments import load_instrument
from respine_desktop.storage import StudyDb
from respine_desktop.translations import FORMAT, deactivate_all, master_texts, parse_translation


def bracketed(text: str) -> str:
    return f"[{text}]"


def pseudo(
    instruments: tuple[str, ...] = ("vas", "odi", "sf36"), *, every_text: bool = False
) -> dict[str, Any]:
    """The translation file (parsed JSON) of "xx" for `instruments`: the texts a patient's
    screens show (`patient_texts`, all a translation needs), or with `every_text` every UI
    text (a file made when all were required)."""
    ui = texts("en") if every_text else patient_texts()
    return {
        "format": FORMAT,
        "language": "xx",
        "name": "Pseudo (test)",
        "ui": {k: bracketed(v) for k, v in ui.items()},
        "instruments": {
            i: {
                "version": load_instrument(i).version,
                "checksum": load_instrument(i).checksum,
                "texts": {p: bracketed(v) for p, v in master_texts(i).items()},
            }
            for i in instruments
        },
    }


def install_pseudo(db: StudyDb, instruments: tuple[str, ...] = ("vas", "odi", "sf36")) -> None:
    """Install "xx" in `db` as `import translation` does (checked first)."""
    storage.install_translation(db, "xx", parse_translation(pseudo(instruments)).to_json())


@pytest.fixture
def no_translation_left() -> Iterator[None]:
    """Forget every activated translation after the test (they are process-wide)."""
    yield
    deactivate_all()
