"""The site key: the secret a site's kiosks and hub share to sign and check HMAC bundles.

Bundles of format 3 are signed by their device's own key (`storage._device_keys`); the site key
signs the format 1/2 bundles still accepted during the transition (docs/security-bundles.md).

32 random bytes, created at first use (``secrets.token_bytes``) and kept in the ``settings``
table (``site_key``) *wrapped* (`storage._key_wrap`: AES-GCM under a key held outside the
database), so a copied database file does not reveal it; ``site_key_id`` holds its public id. A
database of an older version keeps it as plaintext hex: it is read as such and wrapped at the
next `ensure_site_key` (any bundle export). It is shared by copying a key file from one database
to the others of the site (`export key` / `import key`); it never travels inside a bundle. Only
its *id* (the first 16 hex digits of SHA-256 over a label and the key) is shown or written into
bundles and the audit log. Creating, installing, wrapping and replacing the key are audit
entries (a replacement names the previous key id, and the key file's name and SHA-256 when given).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping

from respine_desktop.storage import _audit as audit
from respine_desktop.storage import _key_wrap as wrapping
from respine_desktop.storage._database import StudyDb, setting, transaction
from respine_desktop.storage._errors import AlreadyExists, InvalidInput

SETTING = "site_key"
ID_SETTING = "site_key_id"
SITE_KEY_BYTES = 32


def site_key_id(key: bytes) -> str:
    """The public id of a key (16 hex digits)."""
    return hashlib.sha256(b"respine-site-key\0" + key).hexdigest()[:16]


def get_site_key(db: StudyDb) -> bytes | None:
    """The site key of this database, or None if none was created or installed yet.

    KeyUnavailable when it is wrapped with a key this computer does not hold."""
    wrapping.rewrap_secrets(db)
    text = setting(db, SETTING)
    if not text:
        return None
    if wrapping.is_wrapped(text):
        return wrapping.unwrap(db, SETTING, text)
    return bytes.fromhex(text)  # an older version's plaintext key, wrapped by ensure_site_key


def installed_site_key_id(db: StudyDb) -> str | None:
    """The id of the installed site key, read without unwrapping it (None if none)."""
    known = setting(db, ID_SETTING)
    if known:
        return known
    key = setting(db, SETTING)
    return site_key_id(bytes.fromhex(key)) if key and not wrapping.is_wrapped(key) else None


def _store(db: StudyDb, key: bytes) -> None:
    for name, value in ((SETTING, wrapping.wrap(db, SETTING, key)), (ID_SETTING, site_key_id(key))):
        db.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value=excluded.value",
            [name, value],
        )


def ensure_site_key(db: StudyDb) -> bytes:
    """The site key, created now (and audited) if this database has none yet; an older
    version's plaintext key is wrapped now (audited ``site_key.wrapped``)."""
    wrapping.rewrap_secrets(db)
    text = setting(db, SETTING)
    if text and wrapping.is_wrapped(text):
        return wrapping.unwrap(db, SETTING, text)
    with transaction(db):
        key = get_site_key(db)
        if key is not None and not wrapping.is_wrapped(str(setting(db, SETTING))):
            _store(db, key)
            audit.append(
                db,
                action="site_key.wrapped",
                entity="settings",
                entity_id=SETTING,
                payload={"key_id": site_key_id(key)},
            )
            return key
        if key is not None:  # pragma: no cover - another process made it meanwhile
            return key
        key = secrets.token_bytes(SITE_KEY_BYTES)
        _store(db, key)
        audit.append(
            db,
            action="site_key.created",
            entity="settings",
            entity_id=SETTING,
            payload={"key_id": site_key_id(key)},
        )
    return key


def install_site_key(
    db: StudyDb,
    key: bytes,
    *,
    replace: bool = False,
    source: Mapping[str, str] | None = None,
    actor: str | None = None,
) -> bool:
    """Install the site key received from another database of the site.

    Returns False when this key is installed already. A different existing key (or one this
    computer cannot unwrap) is replaced only with `replace` (bundles signed with the old key are
    then refused); otherwise AlreadyExists. `source` (e.g. the key file's name and SHA-256) and
    `actor` (a staff id) go into the audit entry.
    """
    if len(key) != SITE_KEY_BYTES:
        raise InvalidInput(f"a site key has {SITE_KEY_BYTES} bytes, not {len(key)}")
    with transaction(db):
        present = setting(db, SETTING) is not None
        current_id = installed_site_key_id(db)
        if current_id == site_key_id(key):
            if wrapping.is_wrapped(str(setting(db, SETTING))):
                return False
            _store(db, key)  # an older version's plaintext copy of the same key: wrap it
            return True
        if present and not replace:
            raise AlreadyExists(
                f"this database has another site key ({current_id or 'unreadable here'}): "
                "replace it only on purpose (--replace)"
            )
        _store(db, key)
        audit.append(
            db,
            action="site_key.replaced" if present else "site_key.installed",
            entity="settings",
            entity_id=SETTING,
            actor=actor,
            payload={
                "key_id": site_key_id(key),
                "previous_key_id": current_id if present else None,
                **(dict(source) if source else {}),
            },
        )
    return True
