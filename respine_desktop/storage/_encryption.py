"""The key on a connection: how every connection to an encrypted database is keyed.

SQLCipher 4 encrypts each 4096-byte page with AES-256-CBC and authenticates it with
HMAC-SHA512; the WAL file holds the same encrypted pages, so it reveals nothing either. Every
connection `connect` makes goes through `apply_key`, which (before anything is read):

- silences SQLCipher's own log (it would write lines on stderr; errors reach us as exceptions);
- gives the key as a raw 256-bit key (``PRAGMA key = "x'...'"``: no key derivation per open,
  the key was derived once from the passphrase when it was unwrapped);
- pins the cipher settings to SQLCipher 4's (``PRAGMA cipher_compatibility = 4``), so a later
  library with other defaults still opens the files;
- gives the connection a page cache of up to 64 MiB (`CACHE_KIB`), since every page read
  from the file is decrypted and authenticated.

A file is taken as encrypted when it does not start with SQLite's plaintext header and a key
file (``<database>.key``) is beside it; `key_for` finds its key (see `_key_store`).
"""

from __future__ import annotations

from pathlib import Path

from respine_desktop.storage import _key_store as key_store
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage._keys import KeyUnavailable, WrongKey, key_id, read_key_file

PLAINTEXT_HEADER = b"SQLite format 3\x00"
_SQLITE_NOTADB = 26

# The ``encryption`` setting a database records at creation.
ENCRYPTED = "sqlcipher4"
PLAINTEXT_PURPOSES = ("test", "demo")
CACHE_KIB = 65536


def apply_key(conn: sqlite3.Connection, key: bytes | None) -> None:
    """Key the fresh connection `conn` with `key` (None: a plaintext database)."""
    conn.execute("PRAGMA cipher_log_level = NONE")
    if key is None:
        return
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("PRAGMA cipher_compatibility = 4")
    # Each page read from the file is decrypted and its HMAC checked: a larger page cache (up to
    # 64 MiB, taken only as used) keeps a long read (verify, exports) from decrypting a page twice.
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")


def has_plaintext_header(path: Path) -> bool:
    """Whether the file at `path` starts like a plaintext SQLite database (or is too short)."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(PLAINTEXT_HEADER))
    except OSError:
        return True
    return len(head) < len(PLAINTEXT_HEADER) or head == PLAINTEXT_HEADER


def is_encrypted(path: str | Path) -> bool:
    """Whether the file at `path` is an encrypted RESPINE database (header and key file)."""
    path = Path(path)
    return path.is_file() and not has_plaintext_header(path) and read_key_file(path) is not None


def key_for(path: Path) -> bytes | None:
    """The key that opens the database at `path`: None for a plaintext file, else the key found
    by its key file's id (`KeyUnavailable` when none is at hand)."""
    if not path.is_file() or has_plaintext_header(path):
        return None
    key_file = read_key_file(path)
    if key_file is None:
        return None  # not ours, or its key file is lost: inspect_database says which
    key = key_store.lookup(key_file.key_id)
    if key is None:
        raise KeyUnavailable(
            f"cannot open {path}: it is encrypted and its key is not unlocked on this machine; "
            "give the site passphrase (terminal or --passphrase-stdin) or store the key with "
            "`remember-key`"
        )
    return key


def is_wrong_key(exc: BaseException) -> bool:
    """Whether SQLite refused a keyed file as not a database (a wrong key)."""
    return getattr(exc, "sqlite_errorcode", None) == _SQLITE_NOTADB


def wrong_key(path: Path) -> WrongKey:
    return WrongKey(f"cannot open {path}: wrong passphrase or key")


def register(key: bytes) -> str:
    """Make `key` available to every open in this process (and its export workers); its id."""
    kid = key_id(key)
    key_store.register(kid, key)
    return kid
