"""Instrument files: structure, ids and codes exactly as SCORING.md, errors naming file and item."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from respine_desktop.instruments import (
    InstrumentError,
    load_instrument,
    load_instrument_file,
    load_instruments,
)


def test_sf36_has_36_items_with_rand_precodes() -> None:
    sf36 = load_instrument("sf36")
    assert sf36.item_ids == tuple(f"sf36_{n:02d}" for n in range(1, 37))
    sizes = {i.id: len(i.choices) for i in sf36.items}
    # Option counts per SCORING.md recode table.
    for n in (1, 2, 20, 22, 32, 33, 34, 35, 36):
        assert sizes[f"sf36_{n:02d}"] == 5
    for n in range(3, 13):
        assert sizes[f"sf36_{n:02d}"] == 3
    for n in range(13, 20):
        assert sizes[f"sf36_{n:02d}"] == 2
    for n in (21, *range(23, 32)):
        assert sizes[f"sf36_{n:02d}"] == 6
    assert all(i.codes == tuple(range(1, len(i.choices) + 1)) for i in sf36.items)
    assert "developed at RAND as part of the Medical Outcomes Study" in sf36.credit["en"]


def test_odi_has_ten_sections_scored_0_to_5_and_licence() -> None:
    odi = load_instrument("odi")
    assert odi.item_ids == tuple(f"odi_{n:02d}" for n in range(1, 11))
    assert all(i.codes == (0, 1, 2, 3, 4, 5) for i in odi.items)
    assert "Fairbank" in odi.licence["en"] and "Mapi Research Trust" in odi.licence["en"]
    assert odi.item("odi_08").optional  # sex life: "if applicable"


def test_vas_is_one_item_0_to_100_with_anchors() -> None:
    vas = load_instrument("vas")
    (item,) = vas.items
    assert item.id == "vas_pain" and item.type == "vas"
    assert item.anchors["en"] == ("No pain", "Worst imaginable pain")
    assert item.validate(0) == 0 and item.validate(100) == 100
    assert item.validate(33.3) == 33.3 and item.validate(70.000000000001) == 70.0
    with pytest.raises(ValueError, match=r"vas_pain: answer 33.34 is finer than the step 0.1"):
        item.validate(33.34)
    for bad in (-0.1, 100.1, float("nan"), "50", True, None):
        with pytest.raises(ValueError, match="vas_pain"):
            item.validate(bad)


def test_choice_validation_rejects_floats_bools_and_out_of_range() -> None:
    item = load_instrument("odi").item("odi_03")
    assert item.validate(5) == 5
    for bad in (6, -1, 2.0, True, "2", None):
        with pytest.raises(ValueError, match="odi_03"):
            item.validate(bad)


def test_languages_are_only_complete_ones() -> None:
    langs = {i.id: i.languages() for i in load_instruments().values()}
    assert langs["vas"] == {"en", "fr"}
    assert langs["odi"] == {"en"}  # no licensed French translation is shipped
    assert langs["sf36"] == {"en"}


def test_checksum_changes_with_content(tmp_path: Path) -> None:
    original = load_instrument("vas")
    doc = json.loads(original.path.read_text(encoding="utf-8"))
    doc["items"][0]["text"]["en"] = "Changed wording"
    copy = tmp_path / "vas.json"
    copy.write_text(json.dumps(doc), encoding="utf-8")
    assert load_instrument_file(copy).checksum != original.checksum
    assert original.checksum.startswith("sha256:")


def _odi_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(load_instrument("odi").path.read_text(encoding="utf-8"))
    return doc


def _item(doc: dict[str, Any], item_id: str) -> dict[str, Any]:
    for entry in doc["items"]:
        for item in entry.get("items", [entry]):
            if item.get("id") == item_id:
                return item  # the very object: the tests mutate it
    raise KeyError(item_id)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        # schema errors
        (
            lambda d: _item(d, "odi_02").update(type="slider"),
            r"odi.json, item odi_02, type: 'slider'",
        ),
        (
            lambda d: _item(d, "odi_05")["text"].update(en=""),
            r"odi.json, item odi_05, text, en: text is empty",
        ),
        (lambda d: _item(d, "odi_06").pop("list"), r"odi.json, item odi_06: 'list' is a required"),
        (
            lambda d: _item(d, "odi_07").update(stem={"en": "x"}),
            r"odi.json, item odi_07: Additional",
        ),
        (lambda d: d["lists"]["lifting"][2].pop("code"), r"odi.json, list lifting \(item odi_03\)"),
        (lambda d: d.pop("version"), r"odi.json: missing 'version' \(at top level\)"),
        (lambda d: d.update(format=3), r"odi.json: file format 3; this version reads format 2"),
        # semantic errors (what a schema cannot say)
        (
            lambda d: d["lists"]["lifting"][1].update(code=0),
            r"list lifting \(item odi_03\): duplicate choice codes",
        ),
        (
            lambda d: d["lists"]["walking"][0].update(code=1.0),
            r"list walking \(item odi_04\): choice code 1.0 is not an integer",
        ),
        (
            lambda d: _item(d, "odi_09").update(list="social"),
            r"odi.json, item odi_09: list 'social' is not defined",
        ),
        (
            lambda d: d["lists"].update(spare=d["lists"]["lifting"]),
            r"odi.json: lists \['spare'\] are used by no item",
        ),
        (
            lambda d: d["items"].append(dict(d["items"][0])),
            r"odi.json: duplicate item ids \['odi_01'\]",
        ),
    ],
)
def test_errors_name_file_and_item(tmp_path: Path, mutate: Any, message: str) -> None:
    doc = _odi_doc()
    mutate(doc)
    bad = tmp_path / "odi.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InstrumentError, match=message):
        load_instrument_file(bad)


def test_group_and_vas_errors_name_file_and_item(tmp_path: Path) -> None:
    sf36: dict[str, Any] = json.loads(load_instrument("sf36").path.read_text(encoding="utf-8"))
    group = next(e for e in sf36["items"] if e.get("group") == "q9")
    group["stem"] = {}
    bad = tmp_path / "sf36.json"
    bad.write_text(json.dumps(sf36), encoding="utf-8")
    with pytest.raises(
        InstrumentError, match=r"sf36.json, group q9, stem: \{\} should be non-empty"
    ):
        load_instrument_file(bad)
    vas: dict[str, Any] = json.loads(load_instrument("vas").path.read_text(encoding="utf-8"))
    vas["items"][0].update(min=100, max=0)
    bad = tmp_path / "vas.json"
    bad.write_text(json.dumps(vas), encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"vas.json, item vas_pain: needs min < max"):
        load_instrument_file(bad)
    del vas["items"][0]["anchors"]["fr"]["high"]
    bad.write_text(json.dumps(vas), encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"vas.json, item vas_pain, anchors, fr: 'high'"):
        load_instrument_file(bad)


def test_a_format_1_file_is_refused_with_a_pointer_to_the_docs(tmp_path: Path) -> None:
    old = tmp_path / "vas.json"
    old.write_text(json.dumps({"id": "vas", "version": "1.0", "items": []}), encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"vas.json: file format 1; .*docs/instruments.md"):
        load_instrument_file(old)


def test_not_json_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "sf36.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"sf36.json: not valid JSON"):
        load_instrument_file(bad)


def test_unknown_instrument() -> None:
    with pytest.raises(ValueError, match="unknown instrument 'eq5d'"):
        load_instrument("eq5d")
