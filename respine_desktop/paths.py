"""Where the project's read-only resources live (the one place that knows).

They are package data of ``respine_desktop`` (``respine_desktop/resources/``), beside this
module, so a checkout, an installed wheel and a frozen build read them alike.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

# The package's folder: what `importlib.resources.files("respine_desktop")` gives for a package
# installed as files (a test checks that they agree), found without importing
# `importlib.resources` (some 8 ms of the kiosk's start-up). The package is never zipped (a
# checkout, a wheel, PyInstaller's one-folder build, which sets `__file__` inside its folder),
# and Qt's style sheets need file paths anyway.
_PACKAGE_DIR = Path(__file__).parent


def resources_dir() -> Path:
    """The `resources/` folder shipped inside the ``respine_desktop`` package."""
    return _PACKAGE_DIR / "resources"


def resource(*parts: str) -> Path:
    """A path inside `resources/`, e.g. ``resource("instruments", "odi.json")``."""
    return resources_dir().joinpath(*parts)


RESOURCE_MANIFEST = "MANIFEST.sha256"


def parse_manifest(text: str) -> dict[str, str]:
    """``<sha256>  <path>`` lines (a SHA-256 manifest) as {path: sha256}."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        entries[name] = digest
    return entries


@cache
def shipped_digests() -> dict[str, str]:
    """The SHA-256 of every resource as released (``resources/MANIFEST.sha256``), by its path
    inside `resources/` ("instruments/odi.json"); empty if the manifest is missing."""
    try:
        text = resource(RESOURCE_MANIFEST).read_text(encoding="utf-8")
    except OSError:
        return {}
    return parse_manifest(text)
