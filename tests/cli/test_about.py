"""The About content comes from the instrument files, the scoring module and the study file."""

from __future__ import annotations

from respine_desktop import __version__
from respine_desktop.about import about
from respine_desktop.instruments import load_instruments
from respine_desktop.scoring import SCORING_VERSION


def test_about_lists_every_instrument_with_its_notices_and_checksum() -> None:
    info = about("en")
    assert (info.app_version, info.scoring_version) == (__version__, SCORING_VERSION)
    shipped = load_instruments()
    assert sorted(n.id for n in info.instruments) == sorted(shipped)
    # In the order a patient meets them, as the study asks them.
    assert [n.id for n in info.instruments] == ["vas", "odi", "sf36"]
    for notice in info.instruments:
        instrument = shipped[notice.id]
        assert notice.checksum == instrument.checksum and notice.version == instrument.version
        assert notice.licence == instrument.licence["en"] and notice.language == "en"


def test_untranslated_notices_are_marked_as_english() -> None:
    by_id = {n.id: n for n in about("fr").instruments}
    assert by_id["odi"].language == "en" and "Fairbank" in by_id["odi"].licence
    assert by_id["vas"].language == "fr" and by_id["vas"].licence.startswith("Sans propriétaire")
