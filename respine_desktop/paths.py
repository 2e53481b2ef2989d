"""Where the project's read-only resources live (the one place that knows), and the user's
data and configuration folders.

They are package data of ``respine_desktop`` (``respine_desktop/resources/``), beside this
module, so a checkout, an installed wheel and a frozen build read them alike.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path
from typing import Literal

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


# -- the user's folders (what `platformdirs` gives, without importing it on Linux) -------------
#
# The kiosk's start needs the user's data folder (the database when no --db is given) and its
# configuration folder (the display settings, the key store). `platformdirs` costs some 8 ms to
# import; on Linux its answer is simple and is computed here (a test compares the two under every
# variant of the variables it reads); elsewhere, and in the rare cases left out here (no or a
# relative HOME, Android), `platformdirs` itself answers.


def user_data_dir(appname: str, appauthor: str | Literal[False] | None = None) -> str:
    """``platformdirs.user_data_dir(appname, appauthor)``."""
    fast = _linux_user_dir("XDG_DATA_HOME", ".local/share", appname)
    if fast is not None:
        return fast
    import platformdirs

    return str(platformdirs.user_data_dir(appname, appauthor))


def user_config_dir(appname: str, appauthor: str | Literal[False] | None = None) -> str:
    """``platformdirs.user_config_dir(appname, appauthor)``."""
    fast = _linux_user_dir("XDG_CONFIG_HOME", ".config", appname)
    if fast is not None:
        return fast
    import platformdirs

    return str(platformdirs.user_config_dir(appname, appauthor))


def _linux_user_dir(variable: str, under_home: str, appname: str) -> str | None:
    """platformdirs' Unix answer: ``$variable/appname`` if the variable holds an absolute path,
    else ``$HOME/under_home/appname``; None where platformdirs must answer (not Linux, Android,
    no HOME or a relative one)."""
    env = os.environ
    android = env.get("ANDROID_DATA") == "/data" and env.get("ANDROID_ROOT") == "/system"
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel") or android:
        return None
    base = env.get(variable, "")
    if not os.path.isabs(base):
        home = env.get("HOME")
        if home is None or not os.path.isabs(home):
            return None
        base = os.path.expanduser(f"~/{under_home}")
    return os.path.join(base, appname)
