"""KioskSettings: this device's display settings (large text, contrast, VAS calibration, idle).

They belong to the tablet, not to the study data, so they live in a small JSON file in the
user's configuration directory (`platformdirs`), not in the database that sites merge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from respine_desktop import files, json_text
from respine_desktop.errors import RespineError
from respine_desktop.i18n import UI_LANGUAGES

DEFAULT_IDLE_TIMEOUT_S = 90


@dataclass(frozen=True)
class KioskSettings:
    large_text: bool = False
    high_contrast: bool = False
    # Factor on the screen's reported physical size so that the VAS line measures 100 mm.
    vas_calibration: float = 1.0
    idle_timeout_s: int = DEFAULT_IDLE_TIMEOUT_S
    staff_language: str = "en"

    def changed(self, **values: object) -> KioskSettings:
        return replace(self, **values)  # type: ignore[arg-type]


def default_settings_path() -> Path:
    from respine_desktop.paths import user_config_dir

    return Path(user_config_dir("respine-desktop", appauthor=False)) / "kiosk.json"


def load_settings(path: Path) -> KioskSettings:
    """The settings in `path`; defaults for a missing file or unknown / malformed values."""
    try:
        raw = json_text.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return KioskSettings()
    if not isinstance(raw, dict):
        return KioskSettings()
    defaults = KioskSettings()
    values: dict[str, object] = {}
    for f in fields(KioskSettings):
        value = raw.get(f.name)
        default = getattr(defaults, f.name)
        if type(value) is type(default):
            values[f.name] = value
        elif type(default) is float and type(value) is int and abs(value) <= 1e308:
            values[f.name] = float(value)
    if values.get("staff_language", "en") not in UI_LANGUAGES:
        del values["staff_language"]
    settings = replace(defaults, **values)  # type: ignore[arg-type]
    if not 0.2 <= settings.vas_calibration <= 5 or settings.idle_timeout_s < 10:
        return replace(
            settings,
            vas_calibration=defaults.vas_calibration,
            idle_timeout_s=max(10, settings.idle_timeout_s),
        )
    return settings


def save_settings(path: Path, settings: KioskSettings) -> None:
    """Write atomically (a power cut leaves the old file or the new one, never half of one);
    `RespineError` in one line if it cannot be written (`_write`)."""
    _write(path, asdict(settings))


def save_changes(path: Path, changes: Mapping[str, object]) -> None:
    """Write only `changes` over what the file holds (a value given for one run, such as
    `--idle-seconds`, lives in memory only and is never written here); `RespineError` in one
    line if the file cannot be written."""
    known = {f.name for f in fields(KioskSettings)}
    unknown = set(changes) - known
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    try:
        raw = json_text.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = {}
    stored = raw if isinstance(raw, dict) else {}
    stored.update(changes)
    _write(path, stored)


def _write(path: Path, data: dict[str, object]) -> None:
    """`data` as the settings file `path` (its folder made if missing): written through a
    temporary file of its own, fsynced, renamed over it (`files.write_json`); `RespineError`
    in one line naming the file if it cannot be (a full disk, a folder that is a file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RespineError(f"{path}: cannot write the kiosk settings ({exc.strerror})") from None
    files.write_json(path, data, "kiosk settings")
