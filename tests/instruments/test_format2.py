"""Instrument file format 2: schema, choice lists, group stems, expansion equal to format 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from respine_desktop.instruments import (
    canonical_content,
    instrument_ids,
    load_instrument,
    load_instruments,
    schema,
)
from respine_desktop.paths import resource

FORMAT1 = Path(__file__).resolve().parents[1] / "data" / "instruments" / "format1-expansion.json"


def _raw(instrument_id: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(load_instrument(instrument_id).path.read_bytes())
    return doc


def test_the_instrument_list_is_the_instrument_files() -> None:
    assert instrument_ids() == ("odi", "sf36", "vas")
    files = sorted(p.name for p in resource("instruments").glob("*.json"))
    # The schema and the checksum table live beside the instruments and are not instruments.
    assert files == [
        "format1-checksums.json",
        "instrument.schema.json",
        *(f"{i}.json" for i in instrument_ids()),
    ]
    assert list(load_instruments()) == list(instrument_ids())


def test_the_schema_is_valid_and_every_shipped_file_follows_it() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    for instrument_id in instrument_ids():
        jsonschema.Draft202012Validator(schema()).validate(_raw(instrument_id))


@pytest.mark.parametrize("instrument_id", ["vas", "odi", "sf36"])
def test_the_expansion_equals_the_format_1_one(instrument_id: str) -> None:
    recorded = json.loads(FORMAT1.read_bytes())[instrument_id]
    instrument = load_instrument(instrument_id)
    # Python values, not only the checksum: a difference shows where it is.
    assert json.loads(json.dumps(canonical_content(instrument))) == recorded["content"]
    assert instrument.content_checksum == recorded["content_checksum"]
    assert instrument.checksum == recorded["format1_checksum"]


def test_items_take_their_choices_from_the_named_list() -> None:
    sf36 = load_instrument("sf36")
    raw = _raw("sf36")
    limited = [(c["code"], c["text"]) for c in raw["lists"]["limited"]]
    for n in range(3, 13):
        item = sf36.item(f"sf36_{n:02d}")
        assert [(c.code, dict(c.text)) for c in item.choices] == limited
    assert sf36.item("sf36_13").choices == sf36.item("sf36_19").choices  # yes_no, 4a and 5c
    assert len(raw["lists"]) == 10  # 36 items, 10 distinct choice lists, each written once


def test_group_stems_are_expanded_on_each_item_and_only_there() -> None:
    sf36 = load_instrument("sf36")
    groups = {e["group"]: e for e in _raw("sf36")["items"] if "group" in e}
    assert list(groups) == ["q3", "q4", "q5", "q9", "q11"]
    in_groups = set()
    for group in groups.values():
        for raw_item in group["items"]:
            assert sf36.item(raw_item["id"]).stem == group["stem"]
            in_groups.add(raw_item["id"])
    assert all(not i.stem for i in sf36.items if i.id not in in_groups)
    assert {i.label for i in sf36.items if i.id in in_groups} >= {"3a", "3j", "4a", "11d"}


def test_each_text_is_written_once() -> None:
    text = load_instrument("sf36").path.read_text(encoding="utf-8")
    for once in ('"Yes, limited a lot"', '"Yes"', '"Definitely true"', "typical day"):
        assert text.count(once) == 1, once


def test_source_names_a_publication_not_a_folder() -> None:
    for instrument_id in instrument_ids():
        source = load_instrument(instrument_id).source
        assert "/" not in source and ".json" not in source, source
