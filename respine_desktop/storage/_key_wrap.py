"""Secrets a database keeps (the site key, the device's private keys), wrapped: never plaintext.

A secret is stored as ``<prefix><nonce hex>:<ciphertext hex>``: AES-256-GCM under the *wrapping
key*, with the secret's purpose and the device id as associated data (a wrapped value copied to
another setting or another database does not unwrap). Two layouts:

* ``respine-wrap-v2:`` (an encrypted database): the wrapping key is derived from the database
  key (HKDF-SHA256, info ``respine-wrap-v2\0<device id>``, a label used for nothing else), so
  no wrapping key exists outside the database and its key; whoever can open the file can unwrap
  its secrets, and nobody else.
* ``respine-wrap-v1:`` (a plaintext demo/test database, and the layout of encrypted databases
  made before v2): a key file of 32 random bytes, one per device id, in
  ``<data dir>/keys/<device id>.key``, created with permissions 0600 in a folder of 0700.
  ``<data dir>`` is ``$RESPINE_KEY_DIR`` when set (tests, a kiosk account's own folder), else
  ``platformdirs.user_data_dir("respine-desktop")``.

`rewrap_secrets` moves an encrypted database's v1 secrets to v2 at first use (audited
``device_key.rewrapped``), then zeroes and removes the device's key file. Inside
`keys_read_only` it does nothing (the v1 values are read as they are): a bundle is checked there,
so that one refused leaves the database and the key file as they were; the import rewraps once
the bundle is merged.

A plaintext database restored on another computer (or for another account) cannot unwrap its
secrets: the site key is installed again from its key file, and device keys are made anew and
enrolled again (docs/security-bundles.md).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from respine_desktop.storage._database import StudyDb

# One error for a key not at hand: a wrapped secret of this database that cannot be unwrapped
# here (no wrapping key, or another), as for the database key itself.
from respine_desktop.storage._keys import KeyUnavailable

PREFIX = "respine-wrap-v1:"
PREFIX_V2 = "respine-wrap-v2:"
# The settings holding wrapped secrets (`_site_key.SETTING`, `_device_keys.PRIVATE_SETTING`).
WRAPPED_SETTINGS = ("site_key", "device_private_keys")
_KEY_BYTES = 32
_NONCE_BYTES = 12
ENV_DIR = "RESPINE_KEY_DIR"
_READ_ONLY: ContextVar[bool] = ContextVar("respine_keys_read_only", default=False)


@contextmanager
def keys_read_only() -> Iterator[None]:
    """Within the block, using a key writes nothing: an old layout's secrets are read as they
    are, their rewrap left to the next use outside (a bundle being checked, maybe refused)."""
    token = _READ_ONLY.set(True)
    try:
        yield
    finally:
        _READ_ONLY.reset(token)


def key_dir() -> Path:
    """The folder of wrapping-key files (``$RESPINE_KEY_DIR`` or the user's data dir)."""
    configured = os.environ.get(ENV_DIR)
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_data_dir("respine-desktop", appauthor=False)) / "keys"


def _wrapping_key(db: StudyDb, *, create: bool) -> bytes | None:
    """The key wrapping this database's secrets; made now (0600 file) when `create`.

    The one place that knows where the wrapping key lives (see the module docstring).
    """
    path = key_dir() / f"{db.device_id}.key"
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        if not create:
            return None
    except (OSError, ValueError) as exc:
        raise KeyUnavailable(f"{path}: the wrapping key cannot be read ({exc})") from None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_bytes(_KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # pragma: no cover - another process made it between two lines
        return _wrapping_key(db, create=False)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return key


def _derived_key(db: StudyDb) -> bytes:
    """The v2 wrapping key: HKDF-SHA256 of the database key with this layout's own label."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    assert db.sql_key is not None
    info = b"respine-wrap-v2\0" + db.device_id.encode()
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=info).derive(
        db.sql_key
    )


def _aad(db: StudyDb, purpose: str) -> bytes:
    return f"respine-wrap\0{purpose}\0{db.device_id}".encode()


def wrap(db: StudyDb, purpose: str, secret: bytes) -> str:
    """`secret` as stored text, wrapped for `purpose`: under the database key's derived key
    when the database is encrypted (v2), else under the key file (v1, made at first use)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only when a key is used

    if db.sql_key is not None:
        key, prefix = _derived_key(db), PREFIX_V2
    else:
        made = _wrapping_key(db, create=True)
        assert made is not None
        key, prefix = made, PREFIX
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, secret, _aad(db, purpose))
    return f"{prefix}{nonce.hex()}:{sealed.hex()}"


def is_wrapped(text: str) -> bool:
    return text.startswith((PREFIX, PREFIX_V2))


def unwrap(db: StudyDb, purpose: str, text: str) -> bytes:
    """The secret of a `wrap` text; KeyUnavailable when this computer cannot unwrap it."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    what = purpose.replace("_", " ")
    if text.startswith(PREFIX_V2):
        if db.sql_key is None:
            raise KeyUnavailable(
                f"{db.path}: the {what} is wrapped under a database key, but this database is "
                "not encrypted (a copied setting)"
            )
        key, body = _derived_key(db), text[len(PREFIX_V2) :]
    else:
        found = _wrapping_key(db, create=False)
        if found is None:
            raise KeyUnavailable(
                f"{db.path}: the {what} is wrapped with a key this computer does not hold "
                f"({key_dir() / (db.device_id + '.key')}): a database copied from another "
                "computer; install the site key again ('import key --replace') or see "
                "docs/security-bundles.md"
            )
        key, body = found, text[len(PREFIX) :]
    try:
        nonce_hex, sealed_hex = body.split(":")
        return AESGCM(key).decrypt(
            bytes.fromhex(nonce_hex), bytes.fromhex(sealed_hex), _aad(db, purpose)
        )
    except (ValueError, InvalidTag):
        raise KeyUnavailable(
            f"{db.path}: the {what} does not unwrap with this computer's wrapping key "
            "(another computer's or database's, or damaged)"
        ) from None


def rewrap_secrets(db: StudyDb) -> list[str]:
    """Move an encrypted database's v1 secrets (key file) under its database key (v2).

    Done at first use of a secret (`_site_key`, `_device_keys`); nothing for a plaintext or
    read-only database or when nothing is v1. Each rewrapped value is unwrapped again before the
    transaction commits (audited ``device_key.rewrapped`` with the settings' names); only then is
    the key file overwritten with zeros, synced and removed. Returns the settings rewrapped.
    KeyUnavailable (nothing changed) when the key file is missing or another computer's.
    """
    if db.sql_key is None or db.readonly or db.conn.in_transaction or _READ_ONLY.get():
        return []  # (inside another transaction, or `keys_read_only`: the next use rewraps)
    from respine_desktop.storage import _audit as audit
    from respine_desktop.storage._database import transaction

    marks = ",".join("?" * len(WRAPPED_SETTINGS))
    query = f"SELECT key, value FROM settings WHERE key IN ({marks}) AND value LIKE ?"
    if not db.conn.execute(query, [*WRAPPED_SETTINGS, PREFIX + "%"]).fetchall():
        return []
    with transaction(db):
        rows = db.conn.execute(query, [*WRAPPED_SETTINGS, PREFIX + "%"]).fetchall()
        done: list[str] = []
        for row in rows:
            name = str(row["key"])
            secret = unwrap(db, name, str(row["value"]))
            text = wrap(db, name, secret)
            if unwrap(db, name, text) != secret:  # pragma: no cover - AES-GCM round trip
                raise KeyUnavailable(f"{db.path}: the {name} did not rewrap")
            db.conn.execute("UPDATE settings SET value=? WHERE key=?", [text, name])
            done.append(name)
        if done:
            audit.append(
                db,
                action="device_key.rewrapped",
                entity="settings",
                entity_id=db.device_id,
                payload={"settings": sorted(done), "layout": "respine-wrap-v2"},
            )
    _remove_key_file(key_dir() / f"{db.device_id}.key")
    return sorted(done)


def _remove_key_file(path: Path) -> None:
    """Overwrite the key file with zeros, sync it, then remove it (missing: nothing to do)."""
    try:
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.write(b"\0" * size)
            f.flush()
            os.fsync(f.fileno())
        path.unlink()
    except FileNotFoundError:
        return
