"""Where the project's read-only resources live (the one place that knows).

They are package data of ``respine_desktop`` (``respine_desktop/resources/``), found through
`importlib.resources`, so a checkout, an installed wheel and a frozen build read them alike.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path


def resources_dir() -> Path:
    """The `resources/` folder shipped inside the ``respine_desktop`` package."""
    # Installed as files (wheel, checkout, PyInstaller's one-folder build), never zipped: the
    # Traversable is a real directory, and Qt's style sheets need file paths.
    return Path(str(files("respine_desktop").joinpath("resources")))


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
