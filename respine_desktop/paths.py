"""Where the project's read-only resources live (the one place that knows)."""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The `resources/` folder shipped beside the packages."""
    return _ROOT / "resources"


def resource(*parts: str) -> Path:
    """A path inside `resources/`, e.g. ``resource("instruments", "odi.json")``."""
    return resources_dir().joinpath(*parts)
