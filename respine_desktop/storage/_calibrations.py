"""VAS calibrations: staff measured the drawn 100 mm line with a ruler (append-only, audited).

The kiosk draws the visual analogue scale 100 mm long from the screen's reported DPI times a
per-device factor. A calibration records one measurement: the line was drawn with
``drawn_factor`` and measured ``measured_mm`` long, so the factor that draws it 100 mm long is
``drawn_factor × 100 / measured_mm``. It also keeps what the screen said (geometry, DPI and its
source, device pixel ratio) and the resulting pixels per mm, who measured and when.

The calibration *in force* on a device is its latest one. Every VAS answer drawn on a line
(``vas_line_mm`` given) stores its id in ``answers.vas_calibration``, or `UNCALIBRATED` when the
device has none; the answers' audited digest covers it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from respine_desktop import clock, json_text
from respine_desktop.storage import _audit as audit
from respine_desktop.storage._database import StudyDb, new_id, transaction
from respine_desktop.storage._errors import InvalidInput
from respine_desktop.storage._records import Staff
from respine_desktop.storage._schema import CALIBRATION_ENTRIES_SQL
from respine_desktop.storage._staff import require

UNCALIBRATED = "uncalibrated"
CALIBRATED = "vas.calibrated"  # the audit action recording a calibration
# A line drawn for 100 mm and measured outside this range means a misreading (a ruler in cm or
# inches, a typo), not a screen whose reported size is that wrong.
MEASURED_RANGE_MM = (50.0, 200.0)
# The factor a calibration may produce (the kiosk settings refuse others too).
FACTOR_RANGE = (0.2, 5.0)
MM_PER_INCH = 25.4

_COLUMNS = (
    "id",
    "device_id",
    "measured_mm",
    "drawn_factor",
    "factor",
    "screen_width_px",
    "screen_height_px",
    "dpi",
    "dpi_source",
    "device_pixel_ratio",
    "px_per_mm",
    "calibrated_at",
    "calibrated_by",
)


@dataclass(frozen=True, slots=True)
class ScreenInfo:
    """What the screen reported when the line was drawn (logical pixels, DPI and its source)."""

    width_px: int
    height_px: int
    dpi: float
    dpi_source: str
    device_pixel_ratio: float = 1.0


@dataclass(frozen=True, slots=True)
class VasCalibration:
    """One measurement of the VAS line on one device (see the module docstring)."""

    id: str
    device_id: str
    measured_mm: float
    drawn_factor: float
    factor: float
    screen_width_px: int
    screen_height_px: int
    dpi: float
    dpi_source: str
    device_pixel_ratio: float
    px_per_mm: float
    calibrated_at: str
    calibrated_by: str


def _number(name: str, value: object, low: float, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise InvalidInput(f"{name} {value!r} is outside {low:g}..{high:g}")
    return float(value)


def record_vas_calibration(
    db: StudyDb, *, staff: Staff, measured_mm: float, drawn_factor: float, screen: ScreenInfo
) -> VasCalibration:
    """Store (and audit) a measurement of the line drawn for 100 mm with `drawn_factor`.

    Refuses (InvalidInput, nothing written) a measured length outside `MEASURED_RANGE_MM`, a
    factor outside `FACTOR_RANGE`, or an implausible screen; PermissionDenied for a disabled
    account.
    """
    measured = _number("measured length (mm)", measured_mm, *MEASURED_RANGE_MM)
    drawn = _number("drawn factor", drawn_factor, *FACTOR_RANGE)
    factor = round(drawn * 100.0 / measured, 4)
    _number("resulting factor", factor, *FACTOR_RANGE)
    dpi = _number("screen DPI", screen.dpi, 20.0, 2000.0)
    ratio = _number("device pixel ratio", screen.device_pixel_ratio, 0.25, 16.0)
    for name, px in (("screen width", screen.width_px), ("screen height", screen.height_px)):
        if isinstance(px, bool) or not isinstance(px, int) or not 1 <= px <= 100_000:
            raise InvalidInput(f"{name} {px!r} px is not a screen size")
    if not isinstance(screen.dpi_source, str) or not screen.dpi_source.strip():
        raise InvalidInput("the DPI source is missing")
    with transaction(db):
        actor = require(db, staff, doing="calibrate the VAS line")
        record = VasCalibration(
            id=new_id(),
            device_id=db.device_id,
            measured_mm=measured,
            drawn_factor=drawn,
            factor=factor,
            screen_width_px=screen.width_px,
            screen_height_px=screen.height_px,
            dpi=dpi,
            dpi_source=screen.dpi_source.strip(),
            device_pixel_ratio=ratio,
            px_per_mm=round(dpi / MM_PER_INCH * factor, 4),
            calibrated_at=clock.now_iso(),
            calibrated_by=actor.id,
        )
        values = [getattr(record, c) for c in _COLUMNS]
        db.conn.execute(
            f"INSERT INTO vas_calibrations ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
            values,
        )
        payload = {c: v for c, v in zip(_COLUMNS, values, strict=True) if c != "id"}
        audit.append(
            db,
            action=CALIBRATED,
            entity="vas_calibration",
            entity_id=record.id,
            actor=actor.id,
            payload=payload,
        )
    return record


def _row_to_record(row: object) -> VasCalibration:
    return VasCalibration(**{c: row[c] for c in _COLUMNS})  # type: ignore[index]


def vas_calibrations(db: StudyDb, device_id: str | None = None) -> list[VasCalibration]:
    """Every calibration (of one device when given), oldest first."""
    where, params = ("WHERE device_id=?", [device_id]) if device_id is not None else ("", [])
    rows = db.conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM vas_calibrations {where} ORDER BY calibrated_at, rowid",
        params,
    ).fetchall()
    return [_row_to_record(r) for r in rows]


def vas_calibration_in_force(db: StudyDb) -> VasCalibration | None:
    """This device's latest calibration, or None when its line was never measured."""
    row = db.conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM vas_calibrations WHERE device_id=? "
        "ORDER BY calibrated_at DESC, rowid DESC LIMIT 1",
        [db.device_id],
    ).fetchone()
    return None if row is None else _row_to_record(row)


def get_vas_calibration(db: StudyDb, calibration_id: str) -> VasCalibration | None:
    """One calibration by id (an answer's ``vas_calibration``), or None if this file has
    neither its row nor the audit entry recording it. A hub holds no kiosk's calibration rows
    (a bundle does not carry them) but each one's ``vas.calibrated`` entry, whose payload is the
    row (`record_vas_calibration`): read from there (its latest such entry whose payload is the
    row of a calibration of the entry's own device, `from_entry`; another is not read)."""
    row = db.conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM vas_calibrations WHERE id=?", [calibration_id]
    ).fetchone()
    if row is not None:
        return _row_to_record(row)
    entries = db.conn.execute(
        f"SELECT device_id, payload FROM audit_log WHERE {CALIBRATION_ENTRIES_SQL} "
        "AND entity_id=? ORDER BY rowid DESC",
        [calibration_id],
    ).fetchall()
    for entry in entries:
        found = from_entry(calibration_id, entry[0], entry[1])
        if found is not None:
            return found
    return None


_TEXTS = frozenset({"device_id", "dpi_source", "calibrated_at", "calibrated_by"})
_INTEGERS = frozenset({"screen_width_px", "screen_height_px"})


def from_entry(calibration_id: str, device_id: str, payload: str) -> VasCalibration | None:
    """The calibration a ``vas.calibrated`` entry of `device_id` records (`payload`: its JSON
    text), or None when the payload is not the row (`record_vas_calibration`): an object of
    the columns (among the audit's own keys), each of its type, naming the entry's own
    device."""
    try:
        fields = json_text.loads(payload)
    except (ValueError, TypeError):
        return None
    if not isinstance(fields, dict) or not fields.keys() >= set(_COLUMNS[1:]):
        return None
    fields = {c: fields[c] for c in _COLUMNS[1:]}  # (the audit's own keys beside them)
    for name, value in fields.items():
        if name in _TEXTS:
            good = isinstance(value, str)
        elif name in _INTEGERS:
            good = isinstance(value, int) and not isinstance(value, bool)
        else:
            good = (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
            )
        if not good:
            return None
    if fields["device_id"] != device_id:
        return None
    return VasCalibration(id=calibration_id, **fields)


def calibration_reference(db: StudyDb) -> str:
    """What a VAS answer drawn now stores: the id of the calibration in force, or
    `UNCALIBRATED`."""
    row = db.conn.execute(
        "SELECT id FROM vas_calibrations WHERE device_id=? "
        "ORDER BY calibrated_at DESC, rowid DESC LIMIT 1",
        [db.device_id],
    ).fetchone()
    return UNCALIBRATED if row is None else str(row["id"])
