"""Secrets a database keeps (the site key, the device's private keys), wrapped: never plaintext.

A secret is stored as ``respine-wrap-v1:<nonce hex>:<ciphertext hex>``: AES-256-GCM under the
*wrapping key*, with the secret's purpose and the device id as associated data (a wrapped value
copied to another setting or another database does not unwrap).

The wrapping key is held outside the database, so a copied database file (a lost tablet's disk,
a stolen backup) does not reveal the secrets. Until the database-key / operating-system-store
mechanism of the encryption-at-rest work (`storage._encryption`) is merged, it is a key file of
32 random bytes, one per device id, in ``<data dir>/keys/<device id>.key``, created with
permissions 0600 in a folder of 0700. ``<data dir>`` is ``$RESPINE_KEY_DIR`` when set (tests,
a kiosk account's own folder), else ``platformdirs.user_data_dir("respine-desktop")``.
`_wrapping_key` is the one function to swap for that mechanism; nothing else knows where the
key lives.

A backup restored on another computer (or for another account) therefore cannot unwrap its
secrets: the site key is installed again from its key file, and device keys are made anew and
enrolled again (docs/security-bundles.md).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from respine_desktop.storage._database import StudyDb

# One error for a key not at hand: a wrapped secret of this database that cannot be unwrapped
# here (no wrapping key, or another), as for the database key itself.
from respine_desktop.storage._keys import KeyUnavailable

PREFIX = "respine-wrap-v1:"
_KEY_BYTES = 32
_NONCE_BYTES = 12
ENV_DIR = "RESPINE_KEY_DIR"


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


def _aad(db: StudyDb, purpose: str) -> bytes:
    return f"respine-wrap\0{purpose}\0{db.device_id}".encode()


def wrap(db: StudyDb, purpose: str, secret: bytes) -> str:
    """`secret` as stored text, wrapped for `purpose` (the wrapping key made at first use)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only when a key is used

    key = _wrapping_key(db, create=True)
    assert key is not None
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, secret, _aad(db, purpose))
    return f"{PREFIX}{nonce.hex()}:{sealed.hex()}"


def is_wrapped(text: str) -> bool:
    return text.startswith(PREFIX)


def unwrap(db: StudyDb, purpose: str, text: str) -> bytes:
    """The secret of a `wrap` text; KeyUnavailable when this computer cannot unwrap it."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = _wrapping_key(db, create=False)
    if key is None:
        raise KeyUnavailable(
            f"{db.path}: the {purpose.replace('_', ' ')} is wrapped with a key this computer does "
            f"not hold ({key_dir() / (db.device_id + '.key')}): a database copied from another "
            "computer; install the site key again ('import key --replace') or see "
            "docs/security-bundles.md"
        )
    try:
        nonce_hex, sealed_hex = text[len(PREFIX) :].split(":")
        return AESGCM(key).decrypt(
            bytes.fromhex(nonce_hex), bytes.fromhex(sealed_hex), _aad(db, purpose)
        )
    except (ValueError, InvalidTag):
        raise KeyUnavailable(
            f"{db.path}: the {purpose.replace('_', ' ')} does not unwrap with this computer's "
            "wrapping key (another computer's, or damaged)"
        ) from None
