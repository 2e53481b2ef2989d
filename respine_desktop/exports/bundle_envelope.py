"""Bundle format 3's envelope: encrypted to the hub, signed by the device that wrote it.

File layout (docs/security-bundles.md)::

    RESPINE-SEALED-BUNDLE v3\\n
    <header: one line of JSON>\\n
    <ciphertext: the format-3 ZIP (`exports.bundle`) in chunks of 1 MiB>
    \\nRESPINE-BUNDLE-SIGNATURE v3 Ed25519 sig=<128 hex>\\n

The header holds no study data: the format, the sender's device id and key fingerprint, the
recipient hub's device id and fingerprint, the ephemeral X25519 public key and the algorithms.

Encryption (a sealed box, streamed): an ephemeral X25519 key pair per bundle; its shared secret
with the hub's X25519 key, through HKDF-SHA256 (salt: both public keys; info: a label and the
SHA-256 of the header line), gives a 256-bit AES-GCM key used only for this bundle. The ZIP is
cut into chunks of `CHUNK` bytes, each sealed with AES-256-GCM under the nonce (chunk number,
11 bytes big-endian; 1 for the last chunk, else 0), so chunks cannot be reordered, dropped or the
stream cut short; the last chunk is shorter than `CHUNK` (empty when the ZIP fills the chunks
exactly). Only the hub's private key opens it.

Signature: Ed25519 by the sender's device key over a label and the SHA-512 of every byte before
the signature line (magic, header, ciphertext), like the HMAC trailer of formats 1 and 2. The hub
checks it with the key it enrolled for the device the header names, before decrypting anything.

Refused, each as a one-line `BundleError`, nothing written: a damaged header; a bundle for
another hub (recipient fingerprint); a bundle larger than `MAX_SEALED_BYTES`, before anything
else is read; a sender not enrolled, or revoked; a header naming a key other than the enrolled
one; a signature that does not verify (tampered bytes, or signed by another device's key); a
chunk that does not decrypt.

The plaintext ZIP lives in memory only, on both sides (`open_sealed` decrypts into a buffer; a
kiosk builds the ZIP it seals in one): it is never written to a file, not even an unnamed
temporary one whose blocks would stay readable on the disk of a lost laptop, as the encrypted
database keeps its own temporary tables in memory. The memory is small beside the merge's own
(every row of the bundle held as Python values: about 65 times the ZIP), and bounded by the cap.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from respine_desktop import json_text
from respine_desktop.exports.errors import BundleError
from respine_desktop.storage import (
    DeviceKey,
    DevicePrivateKeys,
    StudyDb,
    device_private_keys,
    enrolled_device,
    own_device_key,
)

MAGIC = b"RESPINE-SEALED-BUNDLE v3\n"
FORMAT = "respine-sealed-bundle"
FORMAT_VERSION = 3
CHUNK = 1 << 20
_TAG = 16
_MAX_HEADER = 4096
_SIGNATURE_PREFIX = b"\nRESPINE-BUNDLE-SIGNATURE v3 Ed25519 sig="
_SIGNATURE = re.compile(rb"\nRESPINE-BUNDLE-SIGNATURE v3 Ed25519 sig=([0-9a-f]{128})\n")
SIGNATURE_LENGTH = len(_SIGNATURE_PREFIX) + 128 + 1
_SIGN_LABEL = b"respine-bundle-v3-signature\0"
_KDF_LABEL = b"respine-bundle-v3-key\0"
# The largest sealed bundle opened: its ZIP is held in memory. A ZIP's members may inflate to 2 GiB
# in all (`bundle.MAX_TOTAL_BYTES`), and deflate never grows data by more than a few bytes per
# 16 KiB block: a bundle any larger cannot be one the import accepts (a 1,000-subject kiosk's is
# about 14 MB).
MAX_SEALED_BYTES = (2 << 30) + (2 << 30) // 100
_READ = 1 << 16


@dataclass(frozen=True)
class Sender:
    """Who signed a verified sealed bundle: the enrolled device."""

    key: DeviceKey


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\1" if final else b"\0")


def _aead(shared: bytes, ephemeral: bytes, recipient: bytes, header_line: bytes) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral + recipient,
        info=_KDF_LABEL + hashlib.sha256(header_line).digest(),
    ).derive(shared)
    return AESGCM(key)


def seal(
    plain: IO[bytes],
    out: IO[bytes],
    *,
    sender: DeviceKey,
    private: DevicePrivateKeys,
    recipient: DeviceKey,
) -> None:
    """Write `plain` (read from its start) to `out` encrypted to `recipient`, signed."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sender": sender.device_id,
        "sender_fingerprint": sender.fingerprint,
        "recipient": recipient.device_id,
        "recipient_fingerprint": recipient.fingerprint,
        "ephemeral": ephemeral_public.hex(),
        "kem": "X25519-HKDF-SHA256",
        "aead": "AES-256-GCM",
        "chunk": CHUNK,
        "signature": "Ed25519 over SHA-512 of every byte before the signature line",
    }
    header_line = json.dumps(header, sort_keys=True).encode("ascii") + b"\n"
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient.box_public))
    aead = _aead(shared, ephemeral_public, recipient.box_public, header_line)
    digest = hashlib.sha512()

    def write(data: bytes) -> None:
        digest.update(data)
        out.write(data)

    write(MAGIC + header_line)
    plain.seek(0)
    index = 0
    while True:
        chunk = plain.read(CHUNK)
        final = len(chunk) < CHUNK
        write(aead.encrypt(_nonce(index, final), chunk, None))
        index += 1
        if final:
            break
    signing = Ed25519PrivateKey.from_private_bytes(private.sign_private)
    signature = signing.sign(_SIGN_LABEL + digest.digest())
    out.write(_SIGNATURE_PREFIX + signature.hex().encode() + b"\n")


def _header(f: IO[bytes]) -> tuple[dict[str, Any], bytes]:
    f.seek(len(MAGIC))
    line = f.readline(_MAX_HEADER)
    try:
        header = json_text.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError("the bundle's header is damaged") from None
    fields = ("sender", "sender_fingerprint", "recipient", "recipient_fingerprint", "ephemeral")
    if (
        not line.endswith(b"\n")
        or not isinstance(header, dict)
        or header.get("format") != FORMAT
        or not all(isinstance(header.get(k), str) for k in fields)
    ):
        raise BundleError("the bundle's header is damaged")
    if header.get("format_version") != FORMAT_VERSION or header.get("chunk") != CHUNK:
        raise BundleError(
            f"sealed bundle format {header.get('format_version')!r} is not supported here"
        )
    return header, line


def _recipient(db: StudyDb, header: dict[str, Any]) -> DeviceKey:
    own = own_device_key(db)
    if own is None or own.fingerprint != header["recipient_fingerprint"]:
        mine = f"{db.device_id} ({own.fingerprint})" if own else f"{db.device_id} (no device key)"
        raise BundleError(
            f"the bundle is encrypted to hub {header['recipient']} "
            f"({header['recipient_fingerprint']}), this database is {mine}: wrong hub"
        )
    return own


def _sender(db: StudyDb, header: dict[str, Any]) -> DeviceKey:
    key = enrolled_device(db, header["sender"])
    if key is None:
        raise BundleError(
            f"the bundle comes from device {header['sender']} "
            f"({header['sender_fingerprint']}), which is not enrolled here: check it and enrol "
            "its device file first ('import device')"
        )
    if key.revoked_at is not None:
        raise BundleError(
            f"device {key.device_id} ({key.label}, {key.fingerprint}) was revoked on "
            f"{key.revoked_at}: its bundles are refused"
        )
    if key.fingerprint != header["sender_fingerprint"]:
        raise BundleError(
            f"the bundle names key {header['sender_fingerprint']} for device {key.device_id}, "
            f"enrolled with key {key.fingerprint}: forged or re-keyed, refused"
        )
    return key


def _verify_signature(f: IO[bytes], sender: DeviceKey, body: int, signature: bytes) -> None:
    digest = hashlib.sha512()
    f.seek(0)
    left = body
    while left > 0:
        data = f.read(min(_READ, left))
        if not data:  # pragma: no cover - the file shrank while being read
            break
        digest.update(data)
        left -= len(data)
    try:
        Ed25519PublicKey.from_public_bytes(sender.sign_public).verify(
            signature, _SIGN_LABEL + digest.digest()
        )
    except InvalidSignature:
        raise BundleError(
            f"the bundle's signature does not verify with device {sender.device_id}'s key "
            f"({sender.fingerprint}): tampered, or signed by another device"
        ) from None


def _decrypt(f: IO[bytes], out: IO[bytes], aead: AESGCM, start: int, body: int) -> None:
    f.seek(start)
    index, position = 0, start
    while True:
        left = body - position
        if left <= 0:
            raise BundleError("the bundle's ciphertext ends before its last chunk: truncated")
        size = min(CHUNK + _TAG, left)
        final = left < CHUNK + _TAG
        data = f.read(size)
        try:
            out.write(aead.decrypt(_nonce(index, final), data, None))
        except InvalidTag:
            raise BundleError(
                f"chunk {index} of the bundle does not decrypt: tampered ciphertext, or not "
                "encrypted to this hub's key"
            ) from None
        index, position = index + 1, position + size
        if final:
            return


@contextlib.contextmanager
def open_sealed(
    db: StudyDb, source: str | os.PathLike[str] | IO[bytes]
) -> Iterator[tuple[IO[bytes], Sender]]:
    """Check a sealed bundle's header, recipient, sender and signature, then decrypt it.

    `source`: the bundle's file name, or the file already open (every check and the decryption
    then read that one open file: a file renamed over the name meanwhile is never read).
    Yields the plaintext ZIP (in memory) and its verified sender."""
    with contextlib.ExitStack() as stack:
        f: IO[bytes] = (
            stack.enter_context(open(source, "rb"))
            if isinstance(source, (str, os.PathLike))
            else source
        )
        f.seek(0, io.SEEK_END)
        size = f.tell()
        if size > MAX_SEALED_BYTES:
            raise BundleError(
                f"the bundle is {size / 1e6:,.0f} MB, more than a sealed bundle can hold "
                f"({MAX_SEALED_BYTES / 1e6:,.0f} MB): damaged, or not a bundle"
            )
        f.seek(0)
        header, line = _header(f)
        start = len(MAGIC) + len(line)
        f.seek(max(start, size - SIGNATURE_LENGTH))
        found = _SIGNATURE.fullmatch(f.read())
        if found is None:
            raise BundleError("the bundle is truncated or damaged (its signature line is missing)")
        own = _recipient(db, header)
        sender = _sender(db, header)
        body = size - SIGNATURE_LENGTH
        _verify_signature(f, sender, body, bytes.fromhex(found.group(1).decode()))
        try:
            ephemeral = bytes.fromhex(header["ephemeral"])
            private = device_private_keys(db).box_private
            shared = X25519PrivateKey.from_private_bytes(private).exchange(
                X25519PublicKey.from_public_bytes(ephemeral)
            )
        except ValueError:
            raise BundleError("the bundle's ephemeral key is damaged") from None
        aead = _aead(shared, ephemeral, own.box_public, line)
        with io.BytesIO() as plain:
            _decrypt(f, plain, aead, start, body)
            plain.seek(0)
            yield plain, Sender(sender)
