"""UI texts: en.json and fr.json are complete, non-empty, and hold every key the ui/ code uses."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from respine_desktop.i18n import UI_LANGUAGES, missing_keys, texts
from respine_desktop.paths import resource

ROOT = Path(__file__).resolve().parents[2]


KEY_IN_CODE = re.compile(r"""\bt\(\s*[\w.]+,\s*f?["']([a-z0-9_.{}]+)["']""")


@pytest.mark.req("I18N-01")
def test_every_language_has_the_same_keys_with_non_empty_values() -> None:
    assert missing_keys() == {lang: set() for lang in UI_LANGUAGES}
    for lang in UI_LANGUAGES:
        raw = json.loads(resource("i18n", f"{lang}.json").read_text(encoding="utf-8"))
        empty = sorted(k for k, v in raw.items() if not isinstance(v, str) or not v.strip())
        assert not empty, f"{lang}.json: empty texts {empty}"


@pytest.mark.req("I18N-01")
def test_placeholders_are_the_same_in_every_language() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    en = texts("en")
    for lang in UI_LANGUAGES:
        for key, text in texts(lang).items():
            assert fields(text) == fields(en[key]), f"{lang}.json {key}: placeholders differ"


def test_every_key_the_ui_code_names_exists() -> None:
    used: set[str] = set()
    for path in [*(ROOT / "ui").rglob("*.py"), *(ROOT / "tools").rglob("*.py")]:
        used |= set(KEY_IN_CODE.findall(path.read_text(encoding="utf-8")))
    assert used, "the pattern found no t(...) call in ui/"
    known = set(texts("en"))
    for key in sorted(used):
        if "{" in key:  # an f-string key: its fixed prefix must exist
            prefix = key.split("{", 1)[0]
            assert any(k.startswith(prefix) for k in known), key
        else:
            assert key in known, f"ui/ uses the text {key!r}, missing from en.json"


def test_kiosk_keys_use_the_agreed_prefixes() -> None:
    ours = [k for k in texts("en") if not k.startswith("console.")]
    assert all(k.split(".", 1)[0] in ("kiosk", "common", "staff") for k in ours), ours
