"""A key per device: this device's key pairs, the devices a hub enrolled, the hub's public key.

Each database (kiosk or hub) has its own Ed25519 signing key pair and X25519 encryption key pair
(``cryptography``), made at first use (`ensure_device_keys`, audited ``device_key.created``).
The private keys (64 bytes: signing then encryption) are a *wrapped* setting
(``device_private_keys``, `storage._key_wrap`), never plaintext; the public keys are the
``device_keys`` row of role ``own``.

The ``device_keys`` table (migration ``0008_device_keys``) also holds the public keys this
database trusts: on a hub, each kiosk enrolled with `enrol_device` (role ``enrolled``; a revoked
one keeps its row with ``revoked_at``); on a kiosk, the hub its bundles are encrypted to
(`install_hub_key`, role ``hub``, one at a time). Every change is audited (``device.enrolled``,
``device.revoked``, ``hub_key.installed``/``hub_key.replaced``, ``bundle_hmac.refused``/
``bundle_hmac.accepted``) with the fingerprint.

A fingerprint is what people compare by eye: SHA-256 over a label and both public keys, its
first 80 bits in base32, as 4 groups of 4 characters (``ABCD-EFGH-JKLM-NPQR``).

`has_audit_entry`: what the import of a device-signed bundle asks of another device's entries.

`hmac_bundles_accepted` / `set_hmac_bundles`: the transition setting (``bundle_hmac``) that ends
the acceptance of site-key HMAC bundles (formats 1 and 2) on a hub.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from dataclasses import dataclass, field
from typing import Literal

from respine_desktop import clock
from respine_desktop.storage import _audit as audit
from respine_desktop.storage import _key_wrap as wrapping
from respine_desktop.storage._database import StudyDb, setting, transaction
from respine_desktop.storage._errors import AlreadyExists, InvalidInput, NotFound

DeviceRole = Literal["own", "enrolled", "hub"]
PRIVATE_SETTING = "device_private_keys"
HMAC_SETTING = "bundle_hmac"
PUBLIC_KEY_BYTES = 32


class UnknownDevice(NotFound):
    """No enrolled device with this id."""


@dataclass(frozen=True)
class DeviceKey:
    """The public keys of one device, and whom they belong to."""

    device_id: str
    label: str
    site_code: str
    sign_public: bytes
    box_public: bytes
    # where this database stands with the key: not part of the key's identity
    added_at: str = field(default="", compare=False)
    revoked_at: str | None = field(default=None, compare=False)

    @property
    def fingerprint(self) -> str:
        return device_fingerprint(self.sign_public, self.box_public)


@dataclass(frozen=True)
class DevicePrivateKeys:
    """This device's private keys (raw bytes); never stored unwrapped."""

    sign_private: bytes
    box_private: bytes


def device_fingerprint(sign_public: bytes, box_public: bytes) -> str:
    """``XXXX-XXXX-XXXX-XXXX``: the first 80 bits of SHA-256 over both public keys, in base32."""
    digest = hashlib.sha256(b"respine-device-key\0" + sign_public + box_public).digest()
    text = base64.b32encode(digest[:10]).decode()
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def _row(row: sqlite3.Row) -> DeviceKey:
    return DeviceKey(
        device_id=row["device_id"],
        label=row["label"],
        site_code=row["site_code"],
        sign_public=bytes.fromhex(row["sign_public"]),
        box_public=bytes.fromhex(row["box_public"]),
        added_at=row["added_at"],
        revoked_at=row["revoked_at"],
    )


def _keys(db: StudyDb, role: DeviceRole) -> list[DeviceKey]:
    rows = db.conn.execute(
        "SELECT * FROM device_keys WHERE role=? ORDER BY added_at, device_id", [role]
    )
    return [_row(r) for r in rows]


def _insert(db: StudyDb, role: DeviceRole, key: DeviceKey) -> None:
    db.conn.execute(
        "INSERT INTO device_keys (role, device_id, label, site_code, sign_public, box_public, "
        "fingerprint, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            role,
            key.device_id,
            key.label,
            key.site_code,
            key.sign_public.hex(),
            key.box_public.hex(),
            key.fingerprint,
            clock.now_iso(),
        ],
    )


def _check(key: DeviceKey) -> None:
    if len(key.sign_public) != PUBLIC_KEY_BYTES or len(key.box_public) != PUBLIC_KEY_BYTES:
        raise InvalidInput(f"a device's public keys have {PUBLIC_KEY_BYTES} bytes each")


def own_device_key(db: StudyDb) -> DeviceKey | None:
    """This device's public keys (read without unwrapping anything), or None before first use."""
    found = _keys(db, "own")
    return found[0] if found else None


def _label(db: StudyDb) -> str:
    row = db.conn.execute("SELECT label FROM devices WHERE id=?", [db.device_id]).fetchone()
    return str(row["label"]) if row else "device"


def ensure_device_keys(db: StudyDb) -> DeviceKey:
    """This device's public keys; both key pairs are made now (and audited) at first use."""
    key = own_device_key(db)
    if key is not None:
        return key
    # imported here: most commands never touch a key (start-up stays light)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    with transaction(db):
        key = own_device_key(db)
        if key is not None:  # pragma: no cover - another process made them meanwhile
            return key
        sign = Ed25519PrivateKey.generate()
        box = X25519PrivateKey.generate()
        private = sign.private_bytes_raw() + box.private_bytes_raw()
        key = DeviceKey(
            device_id=db.device_id,
            label=_label(db),
            site_code=db.site_code,
            sign_public=sign.public_key().public_bytes_raw(),
            box_public=box.public_key().public_bytes_raw(),
        )
        db.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)",
            [PRIVATE_SETTING, wrapping.wrap(db, PRIVATE_SETTING, private)],
        )
        _insert(db, "own", key)
        audit.append(
            db,
            action="device_key.created",
            entity="devices",
            entity_id=db.device_id,
            payload={"fingerprint": key.fingerprint},
        )
    return key


def device_private_keys(db: StudyDb) -> DevicePrivateKeys:
    """This device's private keys, unwrapped (made at first use); KeyUnavailable if this
    computer cannot unwrap them."""
    ensure_device_keys(db)
    wrapping.rewrap_secrets(db)  # an encrypted database's old key-file layout: moved now
    private = wrapping.unwrap(db, PRIVATE_SETTING, str(setting(db, PRIVATE_SETTING)))
    return DevicePrivateKeys(private[:32], private[32:])


def enrol_device(db: StudyDb, key: DeviceKey, *, actor: str | None = None) -> bool:
    """Enrol a kiosk's public keys on this hub. False if enrolled already with these keys.

    Refused (AlreadyExists): this database's own id, or another key under an enrolled id (a
    device with new keys is revoked first, then enrolled again under its new keys)."""
    _check(key)
    if key.device_id == db.device_id:
        raise InvalidInput("this is this database's own device: enrol another device's file")
    with transaction(db):
        current = db.conn.execute(
            "SELECT * FROM device_keys WHERE role='enrolled' AND device_id=?", [key.device_id]
        ).fetchone()
        if current is not None:
            known = _row(current)
            if known.fingerprint == key.fingerprint and known.revoked_at is None:
                return False
            if known.revoked_at is None:
                raise AlreadyExists(
                    f"device {key.device_id} is enrolled with other keys ({known.fingerprint}): "
                    "revoke it first ('device revoke') if its keys really changed"
                )
            if known.fingerprint == key.fingerprint:
                raise InvalidInput(
                    f"device {key.device_id} was revoked with these very keys "
                    f"({key.fingerprint}): a revoked key is not enrolled again"
                )
            db.conn.execute(
                "DELETE FROM device_keys WHERE role='enrolled' AND device_id=?", [key.device_id]
            )
        _insert(db, "enrolled", key)
        audit.append(
            db,
            action="device.enrolled",
            entity="devices",
            entity_id=key.device_id,
            actor=actor,
            payload={
                "fingerprint": key.fingerprint,
                "label": key.label,
                "site_code": key.site_code,
            },
        )
    return True


def enrolled_devices(db: StudyDb) -> list[DeviceKey]:
    """Every device enrolled on this database, revoked ones included, oldest first."""
    return _keys(db, "enrolled")


def enrolled_device(db: StudyDb, device_id: str) -> DeviceKey | None:
    row = db.conn.execute(
        "SELECT * FROM device_keys WHERE role='enrolled' AND device_id=?", [device_id]
    ).fetchone()
    return _row(row) if row else None


def revoke_device(db: StudyDb, device_id: str, *, reason: str, actor: str | None = None) -> None:
    """Stop accepting bundles signed by an enrolled device (lost, stolen, replaced)."""
    if not reason.strip():
        raise InvalidInput("revoking a device needs a reason")
    with transaction(db):
        key = enrolled_device(db, device_id)
        if key is None:
            raise UnknownDevice(f"no device {device_id!r} is enrolled on {db.path.name}")
        if key.revoked_at is not None:
            raise AlreadyExists(f"device {device_id} was revoked already ({key.revoked_at})")
        db.conn.execute(
            "UPDATE device_keys SET revoked_at=? WHERE role='enrolled' AND device_id=?",
            [clock.now_iso(), device_id],
        )
        audit.append(
            db,
            action="device.revoked",
            entity="devices",
            entity_id=device_id,
            actor=actor,
            payload={"fingerprint": key.fingerprint, "reason": reason},
        )


def hub_key(db: StudyDb) -> DeviceKey | None:
    """The hub this kiosk encrypts its bundles to, or None (bundles then use the site key)."""
    found = _keys(db, "hub")
    return found[0] if found else None


def install_hub_key(
    db: StudyDb, key: DeviceKey, *, replace: bool = False, actor: str | None = None
) -> bool:
    """Install the hub's public keys on this kiosk. False if installed already; another hub's
    keys are replaced only with `replace` (AlreadyExists otherwise)."""
    _check(key)
    if key.device_id == db.device_id:
        raise InvalidInput("this is this database's own key: install the hub's file")
    with transaction(db):
        current = hub_key(db)
        if current is not None and current.fingerprint == key.fingerprint:
            return False
        if current is not None and not replace:
            raise AlreadyExists(
                f"this database encrypts to hub {current.device_id} ({current.fingerprint}): "
                "replace it only on purpose (--replace)"
            )
        db.conn.execute("DELETE FROM device_keys WHERE role='hub'")
        _insert(db, "hub", key)
        audit.append(
            db,
            action="hub_key.replaced" if current is not None else "hub_key.installed",
            entity="devices",
            entity_id=key.device_id,
            actor=actor,
            payload={
                "fingerprint": key.fingerprint,
                "previous_fingerprint": current.fingerprint if current else None,
            },
        )
    return True


def hmac_bundles_accepted(db: StudyDb) -> bool:
    """Whether site-key HMAC bundles (formats 1 and 2) still import here (the transition)."""
    return setting(db, HMAC_SETTING, "accepted") != "refused"


def set_hmac_bundles(db: StudyDb, *, accepted: bool, actor: str | None = None) -> bool:
    """End (or reopen) the transition; False if it was so already."""
    value = "accepted" if accepted else "refused"
    with transaction(db):
        if setting(db, HMAC_SETTING, "accepted") == value:
            return False
        db.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value=excluded.value",
            [HMAC_SETTING, value],
        )
        audit.append(
            db,
            action=f"bundle_hmac.{value}",
            entity="settings",
            entity_id=HMAC_SETTING,
            actor=actor,
        )
    return True


def has_audit_entry(db: StudyDb, entry_id: str, entry_hash: str) -> bool:
    """Whether this database holds the audit entry `entry_id` with this hash (a device-signed
    bundle may carry another device's entries only when the hub has them already)."""
    row = db.conn.execute("SELECT hash FROM audit_log WHERE id=?", [entry_id]).fetchone()
    return row is not None and row["hash"] == entry_hash
