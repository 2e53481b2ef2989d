"""`import translation FILE`: a synthetic pseudo-language (bracketed English, made here; never
a licensed text) is checked against the masters and installed; a bad file is refused with one
line, exit 2, nothing installed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.i18n import patient_texts
from respine_desktop.translations import (
    TranslationError,
    complete_for,
    master_texts,
    parse_translation,
)
from tests.support.cli import main_py
from tests.support.storage import new_db
from tests.support.translation import pseudo as pseudo_file


def pseudo() -> dict[str, Any]:
    """The pseudo-language "xx" of VAS and ODI, with every UI text (as files were made when all
    were required: such a file still installs)."""
    return pseudo_file(("vas", "odi"), every_text=True)


def main(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python main.py ...` as a child process, signed in as the administrator."""
    return main_py(*args, timeout=120)


def write(path: Path, content: object) -> Path:
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    new_db(tmp_path / "study.db").close()
    return tmp_path / "study.db"


def test_a_complete_translation_is_installed_once(db_path: Path, tmp_path: Path) -> None:
    done = main("import", "translation", "--db", db_path, write(tmp_path / "xx.json", pseudo()))
    assert done.returncode == 0, done.stderr
    assert "installed the xx (Pseudo (test)) translation: UI texts and odi, vas" in done.stdout
    with storage.open_database(db_path) as db:
        (language,) = storage.installed_translations(db)
        installed = parse_translation(json.loads(storage.installed_translations(db)["xx"]))
        (entry,) = storage.audit_entries(db, action="translation.installed")
    assert language == "xx" and entry.payload["language"] == "xx"
    assert installed.ui["common.next"] == "[Next]"
    assert complete_for(installed, ("vas", "odi")) and not complete_for(installed, ("sf36",))
    again = main("import", "translation", "--db", db_path, tmp_path / "xx.json")
    assert again.returncode == 0 and "installed already" in again.stdout
    changed = pseudo()
    changed["ui"]["common.next"] = "[Next!]"
    refused = main("import", "translation", "--db", db_path, write(tmp_path / "x2.json", changed))
    assert refused.returncode == 2 and "--replace" in refused.stderr
    replaced = main("import", "translation", "--db", db_path, tmp_path / "x2.json", "--replace")
    assert replaced.returncode == 0, replaced.stderr


@pytest.mark.req("I18N-03")
def test_a_file_of_another_release_installs_without_its_staff_and_console_texts(
    db_path: Path, tmp_path: Path
) -> None:
    content = pseudo()
    # made for a release with a console text this one removed and a staff text whose
    # placeholders changed since, and without a staff text this one added
    content["ui"]["console.removed_long_ago"] = "[Gone]"
    content["ui"]["staff.home.title"] = "[Signed in]"
    del content["ui"]["staff.home.role"]
    done = main("import", "translation", "--db", db_path, write(tmp_path / "xx.json", content))
    assert done.returncode == 0, done.stderr
    assert "left out 2 texts that this release does not need or has in another form" in done.stdout
    with storage.open_database(db_path) as db:
        installed = parse_translation(json.loads(storage.installed_translations(db)["xx"]))
    assert "console.removed_long_ago" not in installed.ui
    assert "staff.home.title" not in installed.ui and installed.left_out == ()


@pytest.mark.req("I18N-03")
def test_a_translation_of_the_patient_texts_alone_is_installed(
    db_path: Path, tmp_path: Path
) -> None:
    content = pseudo_file(("vas", "odi"))
    assert set(content["ui"]) == set(patient_texts())
    done = main("import", "translation", "--db", db_path, write(tmp_path / "xx.json", content))
    assert done.returncode == 0, done.stderr
    with storage.open_database(db_path) as db:
        installed = parse_translation(json.loads(storage.installed_translations(db)["xx"]))
    assert installed.ui == content["ui"]


def _edit(content: dict[str, Any], how: str) -> None:
    odi = content["instruments"]["odi"]
    first = next(iter(odi["texts"]))
    if how == "missing item text":
        del odi["texts"][first]
    elif how == "extra code":
        odi["texts"]["items/odi_01/choices/9/text"] = "[extra]"
    elif how == "empty text":
        odi["texts"][first] = " "
    elif how == "placeholder lost":
        content["ui"]["kiosk.item.progress"] = "[Question]"
    elif how == "missing ui key":
        del content["ui"]["common.next"]
    elif how == "misspelt ui key":  # the text it meant is then missing
        content["ui"]["kiosk.item.skp"] = content["ui"].pop("kiosk.item.skip")
    elif how == "wrong schema":
        content["format"] = "respine-translation/0"
    elif how == "another instrument's id":
        content["instruments"]["eq5d"] = odi
    elif how == "another version":
        odi["checksum"] = "sha256:" + "0" * 64
    elif how == "shipped language":
        content["language"] = "fr"
    elif how == "no instrument":
        content["instruments"] = {}


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("missing item text", "is missing"),
        ("extra code", "is not a text of the master"),
        ("empty text", "is empty"),
        ("placeholder lost", "'kiosk.item.progress' must keep the placeholders {number}, {total}"),
        ("missing ui key", "'common.next' is missing"),
        ("misspelt ui key", "'kiosk.item.skip' is missing"),
        ("wrong schema", "format must be"),
        ("another instrument's id", "'eq5d' is not an instrument"),
        ("another version", "not the shipped"),
        ("shipped language", "ships with the application"),
        ("no instrument", "at least one instrument"),
    ],
)
def test_a_bad_translation_is_refused_and_nothing_installed(
    db_path: Path, tmp_path: Path, how: str, says: str
) -> None:
    content = pseudo()
    _edit(content, how)
    done = main("import", "translation", "--db", db_path, write(tmp_path / "bad.json", content))
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr
    with storage.open_database(db_path) as db:
        assert storage.installed_translations(db) == {}


@pytest.mark.parametrize("content", ["{not json", "[1]", "\xff"])
def test_a_file_that_is_not_a_translation_is_refused(
    db_path: Path, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content.encode("latin-1"))
    done = main("import", "translation", "--db", db_path, path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    missing = main("import", "translation", "--db", db_path, tmp_path / "none.json")
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_the_checks_in_process() -> None:
    with pytest.raises(TranslationError, match="expected a JSON object"):
        parse_translation([])
    bad = pseudo()
    bad["language"] = "Klingon"
    with pytest.raises(TranslationError, match="ISO 639"):
        parse_translation(bad)
    bad = pseudo()
    bad["name"] = ""
    with pytest.raises(TranslationError, match="name is missing"):
        parse_translation(bad)
    bad = pseudo()
    bad["name"] = "x" * 41
    with pytest.raises(TranslationError, match="name is longer than 40 characters"):
        parse_translation(bad)
    for name, code in (
        ("Deutsch\nEnglish", "000A"),
        ("Deutsch\u202e", "202E"),
        ("\u2067עברית", "2067"),
    ):
        bad = pseudo()
        bad["name"] = name
        with pytest.raises(TranslationError, match=f"name holds U\\+{code}, a line break, control"):
            parse_translation(bad)
    # real names pass: accents, other scripts, a right-to-left mark, a joiner, a no-break space
    for name in ("Norsk bokmål", "Português (Brasil)", "中文", "العربية (مصر)\u200f", "فارسی",
                 "සිංහල\u200d", "Français\u00a0(Canada)", "x" * 40):  # fmt: skip
        good = pseudo()
        good["name"] = name
        assert parse_translation(good).name == name
    bad = pseudo()
    bad["colour"] = "red"
    with pytest.raises(TranslationError, match="unknown field"):
        parse_translation(bad)
    bad = pseudo()
    bad["ui"]["common.next"] = "[{oops]"
    with pytest.raises(TranslationError, match="placeholders"):
        parse_translation(bad)
    bad = pseudo()
    bad["instruments"]["odi"] = {"texts": {}}
    with pytest.raises(TranslationError, match="exactly version"):
        parse_translation(bad)


def test_storage_refuses_a_bad_language_or_an_empty_text(db_path: Path) -> None:
    with storage.open_database(db_path) as db:
        with pytest.raises(storage.InvalidInput):
            storage.install_translation(db, "XX", "{}")
        with pytest.raises(storage.InvalidInput):
            storage.install_translation(db, "xx", " ")
        admin = storage.get_staff(db, "admin")
        assert storage.install_translation(db, "xx", "{}", staff=admin)
        (entry,) = storage.audit_entries(db, action="translation.installed")
        assert entry.actor == admin.id


@pytest.mark.req("I18N-03")
def test_the_template_filled_in_is_installed(db_path: Path, tmp_path: Path) -> None:
    template = tmp_path / "template.json"
    done = main("export", "translation-template", "--out", template)
    assert done.returncode == 0, done.stderr
    assert f"wrote {template}: {len(patient_texts())} screen texts" in done.stdout
    content = json.loads(template.read_text(encoding="utf-8"))
    assert content["ui"] == patient_texts() and content["language"] == content["name"] == ""
    assert set(content["instruments"]) == {"vas", "odi", "sf36"}
    assert content["instruments"]["odi"]["texts"] == master_texts("odi")
    assert "Français" not in template.read_text(encoding="utf-8")  # (no language's name in it)
    # Unfilled, it is refused: nothing installed.
    refused = main("import", "translation", "--db", db_path, template)
    assert refused.returncode == 2 and "'' is not an ISO 639 code" in refused.stderr
    # Filled in (here bracketed English), without the instrument the site holds no licence for.
    content.update(language="xx", name="Pseudo (test)")
    content["ui"] = {k: f"[{v}]" for k, v in content["ui"].items()}
    del content["instruments"]["sf36"]
    for instrument in content["instruments"].values():
        instrument["texts"] = {k: f"[{v}]" for k, v in instrument["texts"].items()}
    done = main("import", "translation", "--db", db_path, write(template, content))
    assert done.returncode == 0, done.stderr
    with storage.open_database(db_path) as db:
        installed = parse_translation(json.loads(storage.installed_translations(db)["xx"]))
    assert complete_for(installed, ("vas", "odi")) and installed.ui["common.next"] == "[Next]"


@pytest.mark.parametrize("where", ["folder", "device", "no folder", "a file", "its temporary"])
def test_the_template_is_refused_a_place_it_cannot_be_written(tmp_path: Path, where: str) -> None:
    out = {"folder": tmp_path, "device": Path("/dev/null"), "no folder": tmp_path / "x" / "t.json"}
    out["a file"] = out["its temporary"] = tmp_path / "t.json"
    if where == "a file":  # a translation in progress: never overwritten
        out[where].write_text("{...}", encoding="utf-8")
    if where == "its temporary":  # a folder where the file is written first
        (tmp_path / ".t.json.writing").mkdir()
    before = sorted(tmp_path.rglob("*"))
    done = main("export", "translation-template", "--out", out[where])
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
    assert sorted(tmp_path.rglob("*")) == before and Path("/dev/null").is_char_device()
    if where == "a file":
        assert out[where].read_text(encoding="utf-8") == "{...}"
    if where == "its temporary":
        assert "cannot write the translation template" in done.stderr
        assert "is a directory" in done.stderr and "None" not in done.stderr
