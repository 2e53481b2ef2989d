"""The site key: the secret a site's kiosks and hub share to sign and check their bundles.

32 random bytes, created at first use (``secrets.token_bytes``) and kept in the ``settings`` table
(``site_key``, hex), so a backup of the database keeps it. It is shared by copying a key file from
one database to the others of the site (`export key` / `import key`); it never travels inside a
bundle. Only its *id* (the first 16 hex digits of SHA-256 over a label and the key) is shown or
written into bundles and the audit log, so a bundle names the key it was signed with without
revealing it. Creating, installing and replacing the key are audit entries.
"""

from __future__ import annotations

import hashlib
import secrets

from respine_desktop.storage import _audit as audit
from respine_desktop.storage._database import StudyDb, setting, transaction
from respine_desktop.storage._errors import AlreadyExists, InvalidInput

SETTING = "site_key"
SITE_KEY_BYTES = 32


def site_key_id(key: bytes) -> str:
    """The public id of a key (16 hex digits)."""
    return hashlib.sha256(b"respine-site-key\0" + key).hexdigest()[:16]


def get_site_key(db: StudyDb) -> bytes | None:
    """The site key of this database, or None if none was created or installed yet."""
    text = setting(db, SETTING)
    return bytes.fromhex(text) if text else None


def ensure_site_key(db: StudyDb) -> bytes:
    """The site key, created now (and audited) if this database has none yet."""
    key = get_site_key(db)
    if key is not None:
        return key
    with transaction(db):
        key = get_site_key(db)
        if key is not None:
            return key
        key = secrets.token_bytes(SITE_KEY_BYTES)
        db.conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)", [SETTING, key.hex()])
        audit.append(
            db,
            action="site_key.created",
            entity="settings",
            entity_id=SETTING,
            payload={"key_id": site_key_id(key)},
        )
    return key


def install_site_key(db: StudyDb, key: bytes, *, replace: bool = False) -> bool:
    """Install the site key received from another database of the site.

    Returns False when this key is installed already. A different existing key is replaced only
    with `replace` (bundles signed with the old key are then refused); otherwise AlreadyExists.
    """
    if len(key) != SITE_KEY_BYTES:
        raise InvalidInput(f"a site key has {SITE_KEY_BYTES} bytes, not {len(key)}")
    with transaction(db):
        current = get_site_key(db)
        if current == key:
            return False
        if current is not None and not replace:
            raise AlreadyExists(
                f"this database has another site key ({site_key_id(current)}): "
                "replace it only on purpose (--replace)"
            )
        db.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value=excluded.value",
            [SETTING, key.hex()],
        )
        audit.append(
            db,
            action="site_key.replaced" if current is not None else "site_key.installed",
            entity="settings",
            entity_id=SETTING,
            payload={
                "key_id": site_key_id(key),
                "previous_key_id": site_key_id(current) if current is not None else None,
            },
        )
    return True
