"""Where an unwrapped database key is found when a database is opened, by key id.

In order:

1. this process's keys, registered when a passphrase or recovery code was checked (`register`);
2. the environment variable ``RESPINE_DB_KEY_<key id>`` that `register` sets for the export
   worker processes it spawns (they start fresh and cannot ask again); it is readable only by
   the same operating-system user and root, like the process's memory that holds the key anyway;
3. the operating system's store, filled by ``remember-key`` so that the kiosk starts unattended
   after a power cut: the `keyring` library (Windows Credential Manager, protected by DPAPI
   under the kiosk user's log-on; macOS Keychain), or on Linux a key file readable only by the
   kiosk user (mode 0600 in a 0700 folder). The Linux file is weaker: root, and anyone who
   copies the disk while it is readable, can read it (see docs/security.md).

``RESPINE_KEY_STORE`` chooses the store (``keyring`` or ``file``; default ``file`` on Linux,
``keyring`` elsewhere) and ``RESPINE_KEY_DIR`` the folder of the file store (default: the user's
configuration folder, ``respine-desktop/keys``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from respine_desktop.storage._errors import InvalidInput

SERVICE = "respine-desktop"
ENV_PREFIX = "RESPINE_DB_KEY_"
_registered: dict[str, bytes] = {}


def register(key_id: str, key: bytes) -> None:
    """Remember `key` for this process and the worker processes it spawns."""
    _registered[key_id] = key
    os.environ[ENV_PREFIX + key_id] = key.hex()


def forget_registered(key_id: str) -> None:
    """Drop a key this process registered (a test's clean-up, a changed key)."""
    _registered.pop(key_id, None)
    os.environ.pop(ENV_PREFIX + key_id, None)


def lookup(key_id: str) -> bytes | None:
    """The key with id `key_id` from this process, its parent's environment or the OS store."""
    if key_id in _registered:
        return _registered[key_id]
    text = os.environ.get(ENV_PREFIX + key_id)
    if text:
        try:
            return bytes.fromhex(text)
        except ValueError:
            return None
    return stored(key_id)


def store_kind() -> str:
    """``keyring`` or ``file`` (see the module docstring)."""
    kind = os.environ.get("RESPINE_KEY_STORE") or ("file" if sys.platform == "linux" else "keyring")
    if kind not in ("keyring", "file"):
        raise InvalidInput(f"RESPINE_KEY_STORE={kind!r}: must be keyring or file")
    return kind


def key_dir() -> Path:
    """The folder of the file store."""
    configured = os.environ.get("RESPINE_KEY_DIR")
    if configured:
        return Path(configured)
    from respine_desktop.paths import user_config_dir

    return Path(user_config_dir("respine-desktop")) / "keys"


def _key_path(key_id: str) -> Path:
    return key_dir() / f"{key_id}.key"


def stored(key_id: str) -> bytes | None:
    """The key the OS store holds under `key_id`, or None."""
    if store_kind() == "keyring":
        import keyring
        import keyring.errors

        try:
            text = keyring.get_password(SERVICE, key_id)
        except keyring.errors.KeyringError:
            return None
    else:
        try:
            text = _key_path(key_id).read_text(encoding="ascii").strip()
        except OSError:
            return None
    try:
        return bytes.fromhex(text) if text else None
    except ValueError:
        return None


def store(key_id: str, key: bytes) -> str:
    """Put `key` into the OS store; where it went, in words."""
    if store_kind() == "keyring":
        import keyring
        import keyring.errors

        try:
            keyring.set_password(SERVICE, key_id, key.hex())
        except keyring.errors.KeyringError as exc:
            raise InvalidInput(f"the system's key store refused the key ({exc})") from None
        return f"the system key store ({type(keyring.get_keyring()).__name__})"
    folder = key_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
        path = _key_path(key_id)
        temp = path.with_name(f".{path.name}.tmp")
        temp.unlink(missing_ok=True)
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, key.hex().encode("ascii") + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError as exc:
        raise InvalidInput(f"{folder}: cannot store the key ({exc.strerror})") from None
    return f"{path} (readable by this user only)"


def remove(key_id: str) -> bool:
    """Remove the key `key_id` from the OS store; whether there was one."""
    if store_kind() == "keyring":
        import keyring
        import keyring.errors

        try:
            keyring.delete_password(SERVICE, key_id)
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.KeyringError as exc:
            raise InvalidInput(f"the system's key store refused ({exc})") from None
        return True
    path = _key_path(key_id)
    if not path.exists():
        return False
    path.unlink()
    return True
