"""Database keys: made at random, wrapped by the site passphrase, written down on a recovery sheet.

A database key is 32 random bytes (``secrets``) given to SQLCipher as a raw key, so opening a
file costs no key derivation. It is never stored in the clear beside the database: the *key
file* ``<database>.key`` holds it wrapped (JSON, see `wrap`):

- a memory-hard KDF turns the site passphrase into a wrapping key: scrypt with N=2**17, r=8,
  p=1 (128 MiB, the OWASP minimum) and a random 16-byte salt, parameters stored in the file;
- AES-256-GCM encrypts the database key under it with a random 12-byte nonce; the file's other
  fields (format, key id, KDF parameters) are the associated data, so changing any of them (to
  weaken the KDF, say) makes unwrapping fail like a wrong passphrase.

The *key id* (16 hex digits of SHA-256 over a label and the key) names a key without revealing
it: in the key file, the OS store and ``status``. The *recovery code* is the key itself in 16
groups of 4 hex digits plus a 4-digit check group, as printed on the recovery sheet once at
``init``/``encrypt``: with it a lost passphrase or key file is replaced (``rekey --recovery``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, NamedTuple

from respine_desktop import json_text
from respine_desktop.files import no_folder, sync_directory
from respine_desktop.storage._errors import AlreadyExists, InvalidInput, StorageError

KEY_BYTES = 32
KEY_FILE_FORMAT = "respine-database-key/1"
SCRYPT = {"n": 2**17, "r": 8, "p": 1}
MIN_PASSPHRASE = 12
_SALT_BYTES = 16
_NONCE_BYTES = 12
_GROUPS = re.compile(r"[^0-9a-f]")


class WrongKey(StorageError):
    """The passphrase or key does not open this database (nothing was created or changed)."""


class KeyUnavailable(StorageError):
    """The database is encrypted and no key for it is at hand (no passphrase, nothing stored)."""


class KeyFile(NamedTuple):
    """What a key file says: its path, the key id, and the JSON fields (the wrapped key).

    (A named tuple, not a dataclass: some 1.5 ms less to define when a database is opened.)
    """

    path: Path
    key_id: str
    fields: dict[str, Any]


def generate_key() -> bytes:
    """A new random database key."""
    import secrets

    return secrets.token_bytes(KEY_BYTES)


def key_id(key: bytes) -> str:
    """The public id of a database key (16 hex digits)."""
    return _sha256(b"respine-database-key\0" + key)[:16]


def _sha256(data: bytes) -> str:
    # hashlib (some 4 ms to import) only when asked: opening a database never needs it.
    import hashlib

    return hashlib.sha256(data).hexdigest()


def key_file_path(db_path: Path) -> Path:
    """Where the wrapped key of the database at `db_path` is kept."""
    return db_path.with_name(db_path.name + ".key")


def check_passphrase(passphrase: str) -> str:
    """`passphrase` if it is acceptable as a site passphrase, else InvalidInput."""
    if len(passphrase.strip()) < MIN_PASSPHRASE:
        raise InvalidInput(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    return passphrase


def _wrapping_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _associated(fields: dict[str, Any]) -> bytes:
    signed = {k: fields[k] for k in ("format", "key_id", "kdf")}
    return json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()


def wrap(key: bytes, passphrase: str) -> dict[str, Any]:
    """The JSON fields of a key file holding `key` wrapped by `passphrase`."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(_SALT_BYTES), os.urandom(_NONCE_BYTES)
    fields: dict[str, Any] = {
        "format": KEY_FILE_FORMAT,
        "key_id": key_id(key),
        "kdf": {"name": "scrypt", **SCRYPT, "salt": salt.hex()},
    }
    wrapping = _wrapping_key(passphrase, salt, **SCRYPT)
    sealed = AESGCM(wrapping).encrypt(nonce, key, _associated(fields))
    fields["aead"] = {"name": "AES-256-GCM", "nonce": nonce.hex()}
    fields["wrapped_key"] = sealed.hex()
    from respine_desktop import clock

    fields["wrapped_at"] = clock.now_iso()
    fields["cipher"] = "SQLCipher 4 (AES-256-CBC, HMAC-SHA512 per page), raw 256-bit key"
    return fields


def unwrap(key_file: KeyFile, passphrase: str) -> bytes:
    """The database key of `key_file` (`WrongKey` if `passphrase` is not the one it was wrapped
    with, or if the file was altered)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    fields = key_file.fields
    try:
        kdf, aead = fields["kdf"], fields["aead"]
        if kdf["name"] != "scrypt" or aead["name"] != "AES-256-GCM":
            raise ValueError("unknown algorithm")
        wrapping = _wrapping_key(
            passphrase, bytes.fromhex(kdf["salt"]), int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
        )
        key = AESGCM(wrapping).decrypt(
            bytes.fromhex(aead["nonce"]), bytes.fromhex(fields["wrapped_key"]), _associated(fields)
        )
    except InvalidTag:
        raise WrongKey(f"cannot open {_db_of(key_file.path)}: wrong passphrase or key") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{key_file.path}: not a RESPINE key file ({exc})") from None
    if key_id(key) != key_file.key_id:  # pragma: no cover - the tag covers the key id
        raise WrongKey(f"cannot open {_db_of(key_file.path)}: wrong passphrase or key")
    return key


def _db_of(key_path: Path) -> Path:
    return key_path.with_name(key_path.name.removesuffix(".key"))


def read_key_file(db_path: Path) -> KeyFile | None:
    """The key file beside the database at `db_path`, or None if there is none."""
    path = key_file_path(db_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from None
    try:
        fields = json_text.loads(text)
        if fields.get("format") != KEY_FILE_FORMAT:
            raise ValueError("unknown format")
        return KeyFile(path, str(fields["key_id"]), fields)
    except (ValueError, KeyError, AttributeError) as exc:
        raise InvalidInput(f"{path}: not a RESPINE key file ({exc})") from None


def write_key_file(db_path: Path, fields: dict[str, Any], *, replace: bool = False) -> Path:
    """Write `fields` as the key file of `db_path`: complete or not at all (temporary file,
    fsync, rename, folder fsync). Refuses an existing key file unless `replace`."""
    path = key_file_path(db_path)
    if path.exists() and not replace:
        raise AlreadyExists(f"{path}: the file exists already")
    temp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    data = (json.dumps(fields, indent=2, sort_keys=True) + "\n").encode()
    try:
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InvalidInput(f"{path}: cannot write ({exc.strerror})") from None
    sync_directory(path.parent)
    return path


def recovery_code(key: bytes) -> str:
    """The key as 16 groups of 4 hex digits and a check group, separated by dashes."""
    text = key.hex() + _sha256(key)[:4]
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_recovery_code(text: str) -> bytes:
    """The key a recovery code stands for (spaces, dashes and case ignored), else InvalidInput."""
    digits = _GROUPS.sub("", text.lower())
    if len(digits) != 2 * KEY_BYTES + 4:
        raise InvalidInput("the recovery code must have 17 groups of 4 hex digits")
    key = bytes.fromhex(digits[: 2 * KEY_BYTES])
    if _sha256(key)[:4] != digits[2 * KEY_BYTES :]:
        raise InvalidInput("the recovery code is mistyped (its check group does not match)")
    return key


def recovery_sheet(db_path: Path, key: bytes) -> str:
    """The text of the recovery sheet of the database at `db_path`."""
    from respine_desktop import clock

    code = recovery_code(key).split("-")
    lines = "\n".join("    " + "-".join(code[i : i + 4]) for i in range(0, len(code), 4))
    return (
        "RESPINE Desktop - database recovery sheet\n"
        "==========================================\n\n"
        f"Database:  {db_path.resolve()}\n"
        f"Key id:    {key_id(key)}\n"
        f"Written:   {clock.now_iso()}\n\n"
        "Recovery code (the database key itself):\n\n"
        f"{lines}\n\n"
        "Whoever holds this code and a copy of the database, its WAL file or a backup can read\n"
        "every answer in it. Print this sheet, keep it sealed in the site's safe (not with the\n"
        "tablet), then delete this file and empty the trash.\n\n"
        "If the site passphrase is forgotten or the key file (.key beside the database) is lost:\n"
        f"    respine rekey --db {db_path.name} --recovery\n"
        "then type this code and choose a new passphrase.\n"
    )


def write_recovery_sheet(out: Path, text: str) -> None:
    """Write the recovery sheet to the new file `out` (0600; refuses an existing file)."""
    try:
        fd = os.open(out, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise AlreadyExists(f"{out}: the file exists already") from None
    except OSError as exc:
        why = no_folder(out.parent) if not out.parent.is_dir() else exc.strerror
        raise InvalidInput(f"{out}: cannot write the recovery sheet ({why})") from None
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
