"""One-off: convert the format-1 instrument files to format 2 and prove the expansion equal."""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from respine_desktop import instruments as v2

ROOT = Path(__file__).resolve().parents[1]
DIR = ROOT / "respine_desktop" / "resources" / "instruments"
OLD = Path(sys.argv[1])  # a folder with the format-1 files and the format-1 instruments.py
WIDTH = 100

LIST_NAMES = {
    "odi_01": "pain_intensity",
    "odi_02": "personal_care",
    "odi_03": "lifting",
    "odi_04": "walking",
    "odi_05": "sitting",
    "odi_06": "standing",
    "odi_07": "sleeping",
    "odi_08": "sex_life",
    "odi_09": "social_life",
    "odi_10": "travelling",
    "sf36_01": "health",
    "sf36_02": "health_change",
    "sf36_03": "limited",
    "sf36_13": "yes_no",
    "sf36_20": "extent",
    "sf36_21": "pain_severity",
    "sf36_22": "pain_interference",
    "sf36_23": "time_6",
    "sf36_32": "time_5",
    "sf36_33": "true_false",
}


def dump(value: Any, indent: int = 0, prefix: int = 0) -> str:
    """JSON with each value on one line when it fits in WIDTH columns (with its key and comma)."""
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, dict | list) or not value:
        return compact
    if indent and indent + prefix + len(compact) + 1 <= WIDTH:
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        inner = [
            f"{pad}{json.dumps(k, ensure_ascii=False)}: {dump(v, indent + 2, len(k) + 4)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(inner) + "\n" + " " * indent + "}"
    inner = [pad + dump(v, indent + 2) for v in value]
    return "[\n" + ",\n".join(inner) + "\n" + " " * indent + "]"


def old_module() -> Any:
    spec = importlib.util.spec_from_file_location("instruments_v1", OLD / "instruments_v1.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["instruments_v1"] = module
    spec.loader.exec_module(module)
    return module


def same(a: Any, b: Any, where: str) -> None:
    """a == b, dataclasses compared field by field (format-1 and format-2 classes differ)."""
    if is_dataclass(a):
        for f in fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), where
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{n}]")
    else:
        assert type(a) is type(b) and a == b, (where, a, b)


def convert(raw: dict[str, Any]) -> dict[str, Any]:
    lists: dict[str, list[Any]] = {}
    names: dict[str, str] = {}  # choices JSON -> list name
    out_items: list[dict[str, Any]] = []
    group: dict[str, Any] | None = None
    for it in raw["items"]:
        item: dict[str, Any] = {"id": it["id"], "label": it["label"], "type": it["type"]}
        if it["type"] == "choice":
            key = json.dumps(it["choices"], sort_keys=True)
            if key not in names:
                names[key] = LIST_NAMES[it["id"]]
                lists[names[key]] = it["choices"]
            item["list"] = names[key]
        if it.get("optional"):
            item["optional"] = True
        item["text"] = it["text"]
        for k in ("anchors", "min", "max", "step"):
            if k in it:
                item[k] = it[k]
        stem = it.get("stem")
        if stem:
            if group is None or group["stem"] != stem:
                label = "".join(ch for ch in it["label"] if ch.isdigit())
                group = {"group": f"q{label}", "stem": stem, "items": []}
                out_items.append(group)
            group["items"].append(item)
        else:
            group = None
            out_items.append(item)
    doc: dict[str, Any] = {"format": 2}
    for k in ("id", "version", "title", "short_title", "source", "licence", "credit"):
        doc[k] = raw[k]
    doc["instructions"] = raw["instructions"]
    if lists:
        doc["lists"] = lists
    doc["items"] = out_items
    return doc


def main() -> None:
    old = old_module()
    table = []
    fixture: dict[str, Any] = {}
    before = {}
    for name in ("vas", "odi", "sf36"):
        path = OLD / f"{name}.json"
        before[name] = old.load_instrument_file(path)
        raw = json.loads(path.read_bytes())
        (DIR / f"{name}.json").write_text(dump(convert(raw)) + "\n", encoding="utf-8")
        content = v2.content_checksum(before[name])
        table.append(
            {
                "instrument": name,
                "version": before[name].version,
                "format1": before[name].checksum,
                "content": content,
            }
        )
        fixture[name] = {
            "format1_checksum": before[name].checksum,
            "content_checksum": content,
            "content": v2.canonical_content(before[name]),
        }
    about = (
        "Checksums stored with answers given under instrument file format 1 (SHA-256 of the "
        "whole file), each with the content checksum of the same content. docs/instruments.md"
    )
    (DIR / v2.FORMAT1_FILE).write_text(
        dump({"about": about, "checksums": table}) + "\n", encoding="utf-8"
    )
    data = ROOT / "tests" / "data" / "instruments"
    data.mkdir(exist_ok=True)
    (data / "format1-expansion.json").write_text(
        json.dumps(fixture, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    v2.format1_checksums.cache_clear()
    for name, one in before.items():
        now = v2.load_instrument_file(DIR / f"{name}.json")
        for f in fields(one):
            a, b = getattr(one, f.name), getattr(now, f.name)
            if f.name == "path":
                a, b = a.name, b.name
            same(a, b, f"{name}.{f.name}")
        print(name, "equal field by field; checksum", now.checksum, "content", now.content_checksum)


if __name__ == "__main__":
    main()
