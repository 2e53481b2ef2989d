"""A kiosk that showed another questionnaire: its answers store that content's version and
checksum (docs/instruments.md). The hub merges them (they are what the patient answered) and
flags each session and instrument concerned for review (a ``bundle.mismatch``, field
``instrument``: in the import's result, the mismatch list, the console); a second import flags
nothing new, the hub verifies, and a bundle given on the shipped content flags nothing."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.instruments import load_instrument
from respine_desktop.storage import _sessions
from tests.support.exports import TODAY, do_visit, export, hub_and_kiosks, merge
from tests.support.storage import coord
from ui.console.mismatches import field_text, value_text

OTHER = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The hub after kiosk a's bundle: RSP-01-050's baseline given on an ODI of another
    version and content (an edited file), RSP-01-051's on the shipped one."""
    root = tmp_path_factory.mktemp("content")
    odi = load_instrument("odi")
    edited = dataclasses.replace(odi, version="ODI v9", checksum=OTHER)
    index = dict(_sessions.item_index())
    with hub_and_kiosks(root) as (hub, a, _b, c):
        with storage.open_database(a) as db:
            for code in ("RSP-01-050", "RSP-01-051"):
                storage.register_subject(db, code, day0=TODAY, staff=coord(db))
            with pytest.MonkeyPatch.context() as m:
                changed = {k: (edited, item) if i.id == "odi" else (i, item)
                           for k, (i, item) in index.items()}  # fmt: skip
                m.setattr(_sessions, "item_index", lambda: changed)
                do_visit(db, c, "RSP-01-050", "M0", TODAY, vas=30.0, odi=2, sf36=2)
            do_visit(db, c, "RSP-01-051", "M0", TODAY, vas=40.0, odi=1, sf36=3)
        export(a, root / "a.1")
        summary = merge(hub, root / "a.1")
        (root / "mismatches.json").write_text(json.dumps(summary.result.mismatches))
        yield hub


def test_the_answers_are_merged_and_flagged_once_per_session_and_instrument(hub: Path) -> None:
    (flagged,) = json.loads((hub.parent / "mismatches.json").read_text())
    odi = load_instrument("odi")
    assert "10 answers of odi given on version 'ODI v9'" in flagged, flagged
    assert f"({OTHER}), not the content this program shows ('{odi.version}'" in flagged
    with storage.open_database(hub, readonly=True) as db:
        (listed,) = storage.list_mismatches(db)
        assert listed.subject_code == "RSP-01-050" and listed.visit_code == "M0"
        assert (listed.field, listed.hub_value, listed.bundle_value) == (
            "instrument",
            f"{odi.version} {odi.checksum}",
            f"ODI v9 {OTHER}",
        )
        assert field_text(db, "en", listed) == "Questionnaire shown, visit Baseline"
        assert field_text(db, "fr", listed) == "Questionnaire affiché, visite Inclusion"
        shown = (
            value_text("en", listed, listed.hub_value),
            value_text("en", listed, listed.bundle_value),
        )
        assert shown == (f"{odi.version} ({odi.checksum[:15]}…)", "ODI v9 (sha256:abababab…)")
        kept = db.conn.execute(
            "SELECT count(*) FROM answers WHERE instrument_checksum = ?", [OTHER]
        ).fetchone()[0]
    assert kept == 10
    result = storage.verify_database(hub)
    assert result.ok, result.message


def test_importing_the_bundle_again_flags_nothing_new(hub: Path, tmp_path: Path) -> None:
    shutil.copy(hub, tmp_path / "hub.db")
    again = merge(tmp_path / "hub.db", hub.parent / "a.1")
    assert again.result.new_mismatches == 0
    assert not again.result.changed
