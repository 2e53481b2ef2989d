"""A kiosk settings file whose VAS calibration is an integer no double holds (hand-edited) is
read as the defaults, not an OverflowError that stops the kiosk at its start."""

from __future__ import annotations

from pathlib import Path

from ui.kiosk.settings import KioskSettings, load_settings


def test_an_integer_no_double_holds_is_the_default(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.json"
    path.write_text('{"vas_calibration": ' + "1" * 400 + "}", encoding="utf-8")
    assert load_settings(path) == KioskSettings()
    path.write_text('{"vas_calibration": 2}', encoding="utf-8")
    assert load_settings(path).vas_calibration == 2.0
