"""`json_text.loads`: Python's parser, a text nested too deeply for it made a JSON error (no
RecursionError), wherever the program reads JSON; and the small files read as JSON refuse it
in their own words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from respine_desktop import exports, json_text, storage
from respine_desktop.storage import _keys
from tests.support.storage import new_db

NESTED = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize("text", [NESTED, NESTED.encode(), '{"a":' * 3000 + "1" + "}" * 3000])
def test_a_text_nested_too_deeply_is_a_json_error(text: str | bytes) -> None:
    with pytest.raises(json_text.NestedTooDeeply, match="nested too deeply") as caught:
        json_text.loads(text)
    assert isinstance(caught.value, json.JSONDecodeError) and isinstance(caught.value, ValueError)
    with pytest.raises(RecursionError):
        json.loads(text)  # (what every reader met before)


def test_anything_else_reads_as_json_loads_reads_it() -> None:
    for text in ('{"a": [1, 2.5, null, "\\u00e9"]}', "[" * 200 + "]" * 200, b'{"b": true}', "7"):
        assert json_text.loads(text) == json.loads(text)
    with pytest.raises(json.JSONDecodeError) as caught:
        json_text.loads("not json")
    assert not isinstance(caught.value, json_text.NestedTooDeeply)


def test_a_site_key_file_nested_too_deeply_is_not_a_key_file(tmp_path: Path) -> None:
    (tmp_path / "nested.key").write_text(NESTED)
    with pytest.raises(exports.ExportError, match="not a RESPINE site key file"):
        exports.read_key_file(tmp_path / "nested.key")


def test_a_database_key_file_nested_too_deeply_is_refused(tmp_path: Path) -> None:
    new_db(tmp_path / "k.db").close()
    _keys.key_file_path(tmp_path / "k.db").write_text(NESTED)
    with pytest.raises(storage.InvalidInput, match="not a RESPINE key file"):
        _keys.read_key_file(tmp_path / "k.db")


def test_an_integer_too_long_to_convert_is_a_json_error() -> None:
    """``json.loads`` refuses an integer of more than 4,300 digits with a plain ValueError,
    which readers catching ``json.JSONDecodeError`` let through: a JSON error here."""
    text = "[" + "7" * 5000 + "]"
    with pytest.raises(ValueError) as plain:
        json.loads(text)
    assert not isinstance(plain.value, json.JSONDecodeError)
    with pytest.raises(json.JSONDecodeError, match="Exceeds the limit"):
        json_text.loads(text)
    with pytest.raises(json.JSONDecodeError, match="Exceeds the limit"):
        json_text.loads(text.encode())
